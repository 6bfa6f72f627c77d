import Foundation
import Testing
@testable import IOMMUCore

/// The platform description: its validation, its round trip through JSON, and the machine
/// built from it.
@Suite struct PlatformDescriptionTests {
    static func arm(_ name: String = "smmu0", _ change: (inout ArmSMMUv3.Configuration) -> Void = { _ in }) -> IOMMUUnit {
        var configuration = ArmSMMUv3.Configuration()
        change(&configuration)
        return IOMMUUnit(name: name, configuration: .armSMMUv3(configuration))
    }

    static func device(_ name: String, unit: String = "smmu0", group: UInt32 = 0, sid: UInt32 = 1,
                       flags: MockDeviceFlags = []) -> DeviceDescription {
        DeviceDescription(name: name, requesterID: .streamID(sid), unit: unit, group: group, mockFlags: flags)
    }

    /// A host with two SMMUs, a two-function group, an RMRR-style direct region and a mock.
    static let host = PlatformDescription(
        units: [arm(), arm("smmu1") { $0.oas = 44; $0.granules = [4096] },
                IOMMUUnit(name: "dmar0", configuration: .intelVTd(IntelVTd.Configuration()),
                          registers: .intelVTd(cap: 0xd2008c40660462, ecap: 0xf050da)),
                IOMMUUnit(name: "mock", configuration: .mock)],
        groups: [IOMMUGroup(id: 0), IOMMUGroup(id: 1, defaultDomain: .identity), IOMMUGroup(id: 2, defaultDomain: .dmaFQ),
                 IOMMUGroup(id: 3, defaultDomain: .unmanaged)],
        devices: [device("fn0"), device("fn1", sid: 2), device("nic", unit: "smmu1", group: 1, sid: 0x100),
                  DeviceDescription(name: "gpu", requesterID: .requesterID(0x0100), unit: "dmar0", group: 2, maxPASIDLog2: 20,
                                    firmwareRegions: [ReservedRegion(range: IOVARange(start: 0x7c00_0000, last: 0x7fff_ffff), type: .directRelaxable)]),
                  device("m0", unit: "mock", group: 3, flags: [.hugeIOVA, .pasid])])

    @Test func roundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(Self.host)
        #expect(try JSONDecoder().decode(PlatformDescription.self, from: data) == Self.host)
    }

    @Test func buildsTheMachineItDescribes() throws {
        let machine = try Machine(platform: Self.host)
        #expect(machine.iommus.map(\.name) == ["smmu0", "smmu1", "dmar0", "mock"])
        #expect(machine.iommus.map(\.architecture) == [.armSMMUv3, .armSMMUv3, .intelVTd, .mock])
        let smmu1 = try #require(machine.iommu(named: "smmu1") as? ArmSMMUv3)
        #expect(smmu1.configuration.oas == 44 && smmu1.configuration.granules == [4096])
        let gpu = try #require(machine.device(named: "gpu"))
        #expect(gpu.streamID == 0x100 && gpu.group == 2 && gpu.maxPASIDLog2 == 20 && gpu.iommu === machine.iommu(named: "dmar0"))
        #expect(machine.device(named: "m0")?.mockFlags == [.hugeIOVA, .pasid])
        // The description read back: what was given, with the regions each driver adds.
        let described = machine.platform
        #expect(described.units == Self.host.units && described.groups == Self.host.groups)
        #expect(described.devices.map(\.name) == Self.host.devices.map(\.name))
        #expect(described.devices.first { $0.name == "fn0" }?.driverRegions == [ReservedRegion(range: ArmSMMUv3.swMSIWindow, type: .swMSI)])
        #expect(described.devices.first { $0.name == "gpu" }?.driverRegions == [ReservedRegion(range: IntelVTd.msiWindow, type: .msi)])
        #expect(described.devices.first { $0.name == "gpu" }?.firmwareRegions.map(\.type) == [.directRelaxable])
        #expect(described.devices(in: 0).map(\.name) == ["fn0", "fn1"])
    }

    @Test func extendingAMachineKeepsWhatItHas() throws {
        let machine = try Machine(platform: PlatformDescription(units: [Self.arm()]))
        try machine.add(PlatformDescription(groups: [IOMMUGroup(id: 0)], devices: [Self.device("late")]))
        #expect(machine.device(named: "late")?.iommu === machine.iommus[0])
        // A failed addition adds nothing.
        #expect(throws: PlatformDescriptionError.self) {
            try machine.add(PlatformDescription(units: [Self.arm("smmu9")], devices: [Self.device("orphan", unit: "nowhere")]))
        }
        #expect(machine.iommus.count == 1 && machine.devices.count == 1 && machine.platform.units.count == 1)
    }

    static let invalid: [(PlatformDescription, PlatformDescriptionError)] = [
        (PlatformDescription(units: [arm { $0.oas = 47 }]),
         PlatformDescriptionError(.unit("smmu0"), "oas", "oas= is one of 32, 36, 40, 42, 44, 48, 52")),
        (PlatformDescription(units: [arm { $0.ias = 53 }]), PlatformDescriptionError(.unit("smmu0"), "ias", "ias= is from 32 to 52 bits")),
        (PlatformDescription(units: [arm { $0.granules = [8192] }]),
         PlatformDescriptionError(.unit("smmu0"), "granules", "granules= lists 4K, 16K and 64K")),
        (PlatformDescription(units: [arm { $0.granules = [] }]),
         PlatformDescriptionError(.unit("smmu0"), "granules", "granules= lists 4K, 16K and 64K")),
        (PlatformDescription(units: [arm { $0.stage1 = false; $0.stage2 = false }]),
         PlatformDescriptionError(.unit("smmu0"), "stages", "stages= lists 1 and 2")),
        (PlatformDescription(units: [IOMMUUnit(name: "d", configuration: .intelVTd({ var c = IntelVTd.Configuration(); c.addressWidth = 39; return c }()))]),
         PlatformDescriptionError(.unit("d"), "aw", "aw= is 48 or 57")),
        (PlatformDescription(units: [IOMMUUnit(name: "a", configuration: .amdVi({ var c = AMDVi.Configuration(); c.levels = 3; return c }()))]),
         PlatformDescriptionError(.unit("a"), "levels", "levels= is 4, 5 or 6")),
        (PlatformDescription(units: [IOMMUUnit(name: "s", configuration: .mock, registers: .intelVTd(cap: 0, ecap: 0))]),
         PlatformDescriptionError(.unit("s"), "registers", "registers of intel-vtd on a type=mock unit")),
        (PlatformDescription(units: [arm(), arm()]),
         PlatformDescriptionError(.unit("smmu0"), nil, "an IOMMU named 'smmu0' is already declared")),
        (PlatformDescription(units: [arm()], groups: [IOMMUGroup(id: 4), IOMMUGroup(id: 4)]),
         PlatformDescriptionError(.group(4), nil, "iommu group 4 is already declared")),
        (PlatformDescription(units: [arm()], groups: [IOMMUGroup(id: 0)], devices: [device("a"), device("a")]),
         PlatformDescriptionError(.device("a"), nil, "a device named 'a' is already declared")),
        (PlatformDescription(units: [arm()], groups: [IOMMUGroup(id: 0)], devices: [device("a", unit: "smmu7")]),
         PlatformDescriptionError(.device("a"), "iommu", "no IOMMU named 'smmu7' was declared (declared: smmu0)")),
        (PlatformDescription(units: [arm()], devices: [device("a", group: 3)]),
         PlatformDescriptionError(.device("a"), "group", "iommu group 3 is not declared")),
        (PlatformDescription(units: [arm(), arm("smmu1")], groups: [IOMMUGroup(id: 0)], devices: [device("a"), device("b", unit: "smmu1")]),
         PlatformDescriptionError(.device("b"), "group", "iommu group 0 is behind smmu0: a group's devices share one IOMMU")),
        (PlatformDescription(units: [arm()], groups: [IOMMUGroup(id: 0)], devices: [device("a", flags: .pasid)]),
         PlatformDescriptionError(.device("a"), "dev_flags", "dev_flags= applies to type=mock IOMMUs")),
        (PlatformDescription(units: [IOMMUUnit(name: "smmu0", configuration: .mock)], groups: [IOMMUGroup(id: 0)],
                             devices: [device("a", flags: MockDeviceFlags(rawValue: 8))]),
         PlatformDescriptionError(.device("a"), "dev_flags", "dev_flags= are no_dirty, huge_iova and pasid")),
    ]

    @Test(arguments: invalid.indices)
    func validationNamesTheEntryAndOption(_ index: Int) {
        let (description, expected) = Self.invalid[index]
        #expect(throws: expected) { try description.validate() }
        #expect(throws: expected) { try Machine(platform: description) }
    }

    @Test func validHostValidates() throws {
        try Self.host.validate()
        #expect(try Machine(platform: Self.host).nextGroupID == 4)
        #expect(Machine().nextGroupID == 0)
        #expect(try Machine(platform: Self.host).hasGroup(3))
        #expect(try !Machine(platform: Self.host).hasGroup(4))
    }

    /// The next group id never wraps onto a taken one: one above the largest, then (after
    /// 4294967295) the lowest id no group holds.
    @Test func nextGroupIDSkipsTakenIDs() throws {
        let machine = Machine()
        try machine.add(PlatformDescription(units: [Self.arm()], groups: [IOMMUGroup(id: 0), IOMMUGroup(id: 1)],
                                            devices: [Self.device("a"), Self.device("b", group: 1, sid: 2)]))
        #expect(machine.nextGroupID == 2)
        try machine.add(PlatformDescription(groups: [IOMMUGroup(id: .max)], devices: [Self.device("c", group: .max, sid: 3)]))
        #expect(machine.nextGroupID == 2)
        try machine.add(PlatformDescription(groups: [IOMMUGroup(id: 2), IOMMUGroup(id: 3)]))
        #expect(machine.nextGroupID == 4)
    }
}
