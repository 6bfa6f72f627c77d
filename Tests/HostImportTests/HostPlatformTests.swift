import IOMMUCore
import Testing
import TestSupport
@testable import HostImport

/// Snapshots as the host readers produce them, built by hand from the shared samples' values.
enum HostFixtures {
    static func region(_ start: UInt64, _ last: UInt64, _ type: HostReservedRegionType) -> HostReservedRegion {
        HostReservedRegion(range: IOVARange(start: start, last: last), type: type)
    }

    static func device(_ name: String, group: UInt32?, iommu: String?) -> HostDevice {
        var device = HostDevice(name: name)
        device.group = group
        device.iommu = iommu
        return device
    }

    static func group(_ id: UInt32, _ type: String?, _ devices: [String], _ regions: [HostReservedRegion]) -> HostGroup {
        var group = HostGroup(id: id)
        group.type = type
        group.devices = devices
        group.reservedRegions = regions
        return group
    }

    /// One unit with one device alone in its group.
    static func single(unit: String, _ architecture: IOMMUArchitecture, device: String = "0000:01:00.0", group: UInt32,
                       regions: [HostReservedRegion] = []) -> HostSnapshot {
        var snapshot = HostSnapshot()
        snapshot.iommus = [HostIOMMU(name: unit, architecture: architecture)]
        snapshot.groups = [Self.group(group, "DMA", [device], regions)]
        snapshot.devices = [Self.device(device, group: group, iommu: unit)]
        return snapshot
    }

    /// The Sunrise Point-LP laptop of `reserved-regions-intel-isa-floppy-wa.txt`: group 9 holds
    /// the ISA bridge with the floppy workaround's RMRR (`direct` 0-16M) and the MSI window;
    /// the GPU is in an identity group of its own.
    static var vtd: HostSnapshot {
        var snapshot = HostSnapshot()
        snapshot.kernel = "5.4.0"
        var unit = HostIOMMU(name: "dmar0", architecture: .intelVTd)
        unit.devices = ["0000:00:02.0", "0000:00:1f.0", "0000:00:1f.3"]
        snapshot.iommus = [unit]
        let msi = region(0xfee0_0000, 0xfeef_ffff, .msi)
        snapshot.groups = [
            group(1, "identity", ["0000:00:02.0"], [msi]),
            group(9, "DMA", ["0000:00:1f.0", "0000:00:1f.3"], [region(0, 0xff_ffff, .direct), msi]),
            group(10, "DMA-FQ", ["0000:03:00.0"], [msi]),
        ]
        snapshot.devices = [
            device("0000:00:02.0", group: 1, iommu: "dmar0"), device("0000:00:1f.0", group: 9, iommu: "dmar0"),
            device("0000:00:1f.3", group: 9, iommu: "dmar0"), device("0000:03:00.0", group: 10, iommu: "dmar0"),
        ]
        return snapshot
    }
}

@Suite struct HostPlatformTests {
    @Test func vtdHostBecomesAValidPlatform() throws {
        let (platform, notes) = HostPlatform.description(of: HostFixtures.vtd)
        try platform.validate()
        #expect(platform.units.map(\.name) == ["dmar0"])
        #expect(platform.units[0].architecture == .intelVTd)
        #expect(platform.groups.map(\.defaultDomain) == [.identity, .dma, .dmaFQ])
        #expect(platform.devices.map(\.name) == ["0000:00:02.0", "0000:00:1f.0", "0000:00:1f.3", "0000:03:00.0"])
        let isa = try #require(platform.devices.first { $0.name == "0000:00:1f.0" })
        #expect(isa.requesterID == .requesterID(0xf8))
        #expect(isa.group == 9 && isa.unit == "dmar0")
        // The RMRR is firmware's; the MSI window is the VT-d driver's own (IOAPIC range).
        #expect(isa.firmwareRegions == [ReservedRegion(range: IOVARange(start: 0, last: 0xff_ffff), type: .direct)])
        #expect(isa.driverRegions == [ReservedRegion(range: IntelVTd.msiWindow, type: .msi)])
        // The unit had no registers: the defaults, said so.
        #expect(notes.contains { $0.hasPrefix("dmar0: no ID registers") })
        // The device dmar0/devices omits is still found through its group and device link.
        #expect(platform.devices.last?.unit == "dmar0")
    }

    @Test func amdDriverRegionsAndExclusionRanges() throws {
        let snapshot = HostFixtures.single(unit: "ivhd0", .amdVi, group: 4, regions: [
            HostFixtures.region(0xa000_0000, 0xa00f_ffff, .reserved),
            HostFixtures.region(0xfee0_0000, 0xfeef_ffff, .msi),
            HostFixtures.region(0xfd_0000_0000, 0xff_ffff_ffff, .reserved),
        ])
        let (platform, _) = HostPlatform.description(of: snapshot)
        try platform.validate()
        let device = try #require(platform.devices.first)
        #expect(device.requesterID == .requesterID(0x100))
        // The HyperTransport window is the driver's; an exclusion range (IVMD) is firmware's.
        #expect(device.firmwareRegions == [ReservedRegion(range: IOVARange(start: 0xa000_0000, last: 0xa00f_ffff), type: .reserved)])
        #expect(device.driverRegions == [ReservedRegion(range: AMDVi.msiWindow, type: .msi),
                                         ReservedRegion(range: AMDVi.hyperTransportWindow, type: .reserved)])
    }

    /// A host that does not list the HyperTransport window the model's AMD-Vi driver adds.
    @Test func driverWindowsTheHostLacksAreNoted() throws {
        let snapshot = HostFixtures.single(unit: "ivhd0", .amdVi, group: 4, regions: [HostFixtures.region(0xfee0_0000, 0xfeef_ffff, .msi)])
        let (_, notes) = HostPlatform.description(of: snapshot)
        #expect(notes.contains("0000:01:00.0: the model's driver reserves 0xfd00000000-0xffffffffff (reserved), which the host does not list"))
        #expect(!notes.contains { $0.contains("0xfee00000-0xfeefffff (msi), which") })
    }

    /// `reserved-regions-arm-smmuv3-iort-rmr.txt`: four IORT RMRs and the SW_MSI window.
    @Test func smmuV3UnitsKeepTheirSysfsNameAndAssumeStreamIDs() throws {
        let name = "smmu3.0x0000000005000000"
        let snapshot = HostFixtures.single(unit: name, .armSMMUv3, group: 0, regions: [
            HostFixtures.region(0x100_0000, 0x10ff_ffff, .directRelaxable),
            HostFixtures.region(0x800_0000, 0x80f_ffff, .msi),
            HostFixtures.region(0x8_0c00_0000, 0x8_1bff_ffff, .directRelaxable),
        ])
        let (platform, notes) = HostPlatform.description(of: snapshot)
        try platform.validate()
        #expect(platform.units.map(\.name) == [name])
        let device = try #require(platform.devices.first)
        #expect(device.requesterID == .streamID(0x100))
        #expect(device.firmwareRegions.map(\.type) == [.directRelaxable, .directRelaxable])
        #expect(device.driverRegions == [ReservedRegion(range: ArmSMMUv3.swMSIWindow, type: .swMSI)])
        #expect(notes.contains { $0.contains("StreamIDs are platform-defined") })
    }

    @Test func oddDevicesBecomeNotes() throws {
        var snapshot = HostFixtures.vtd
        snapshot.iommus.append(HostIOMMU(name: "dmar1", architecture: .intelVTd))
        snapshot.groups.append(HostFixtures.group(20, nil, ["0000:05:00.0", "0000:05:00.1"], []))
        snapshot.groups.append(HostFixtures.group(21, "DMA", ["ACPI0007:00"], []))
        snapshot.cmdline = "BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt"
        snapshot.devices += [
            HostFixtures.device("0000:05:00.0", group: 20, iommu: "dmar1"),
            HostFixtures.device("0000:05:00.1", group: 20, iommu: "dmar0"),   // a group across two units
            HostFixtures.device("0000:06:00.0", group: nil, iommu: "dmar0"),  // no group
            HostFixtures.device("0000:07:00.0", group: 10, iommu: "ipmmu0"),  // a unit the model lacks
            HostFixtures.device("ACPI0007:00", group: 21, iommu: "dmar0"),     // not a PCI function
            HostFixtures.device("0000:08:00.0", group: 99, iommu: "dmar0"),   // a group not read
        ]
        let (platform, notes) = HostPlatform.description(of: snapshot)
        try platform.validate()
        let names = Set(platform.devices.map(\.name))
        #expect(names.contains("0000:05:00.0"))
        for absent in ["0000:05:00.1", "0000:06:00.0", "0000:07:00.0", "ACPI0007:00", "0000:08:00.0"] {
            #expect(!names.contains(absent), "\(absent)")
            #expect(notes.contains { $0.hasPrefix(absent) }, "\(absent)")
        }
        // No type file: iommu=pt on the command line makes the default identity.
        #expect(platform.groups.first { $0.id == 20 }?.defaultDomain == .identity)
        #expect(notes.contains { $0.hasPrefix("group 20: no type file") })
    }

    @Test func commandLineDefaults() {
        #expect(HostPlatformTestAccess.commandLineDefault("quiet iommu=pt") == .identity)
        #expect(HostPlatformTestAccess.commandLineDefault("iommu.passthrough=1") == .identity)
        #expect(HostPlatformTestAccess.commandLineDefault("iommu=pt iommu.passthrough=0") == .dma)
        #expect(HostPlatformTestAccess.commandLineDefault(nil) == .dma)
    }

    /// A what-if mapping at the MSI window fails as on the machine. `iopt_reserve_iova`: a
    /// device attached to an IOAS that already maps 0xfee00000 fails with EADDRINUSE; once
    /// attached, the window is reserved and `iopt_check_iova` refuses a fixed map there (EINVAL).
    @Test func theMSIWindowIsTheMachines() throws {
        let machine = try Machine(platform: HostPlatform.description(of: HostFixtures.vtd).platform)
        let iommufd = IOMMUFD(machine: machine)
        let device = try iommufd.bind(#require(machine.device(named: "0000:03:00.0")))
        let ioas = try iommufd.ioasAlloc()
        let va = try machine.mmap(length: 0x1000, alignment: 0x1000)
        let flags = (IOASMapFlags.fixedIOVA.rawValue | IOASMapFlags.readable.rawValue | IOASMapFlags.writeable.rawValue)
        #expect(try iommufd.ioasMap(flags: flags, ioasID: ioas.rawValue, userVA: va, length: 0x1000, iova: 0xfee0_0000) == 0xfee0_0000)
        #expect(refusal { try iommufd.attach(deviceID: device.rawValue, ptID: ioas.rawValue) }?.errno == .EADDRINUSE)
        #expect(try iommufd.ioasUnmap(ioasID: ioas.rawValue, iova: 0xfee0_0000, length: 0x1000) == 0x1000)
        _ = try iommufd.attach(deviceID: device.rawValue, ptID: ioas.rawValue)
        #expect(refusal {
            try iommufd.ioasMap(flags: flags, ioasID: ioas.rawValue, userVA: va, length: 0x1000, iova: 0xfee0_0000)
        }?.errno == .EINVAL)
        #expect(try iommufd.ioasMap(flags: flags, ioasID: ioas.rawValue, userVA: va, length: 0x1000, iova: 0x10_0000) == 0x10_0000)
    }

    /// A `direct` region (an RMRR) sets `require_direct`: binding the device for DMA ownership
    /// fails, as `iommufd_device_bind` does through `iommu_device_claim_dma_owner`.
    @Test func directRegionRefusesBinding() throws {
        let machine = try Machine(platform: HostPlatform.description(of: HostFixtures.vtd).platform)
        let iommufd = IOMMUFD(machine: machine)
        let isa = try #require(machine.device(named: "0000:00:1f.0"))
        #expect(isa.requiresDirect)
        #expect(refusal { try iommufd.bind(isa) }?.errno == .EINVAL)
        #expect(throws: Never.self) { try iommufd.bind(#require(machine.device(named: "0000:00:02.0"))) }
    }

    /// Random snapshots (names, groups, units, regions, duplicates) never trap and always give
    /// a platform the core accepts.
    @Test func randomSnapshotsGiveValidPlatforms() throws {
        var random = SplitMix64(seed: 0x9_1057)
        let architectures: [IOMMUArchitecture] = [.intelVTd, .amdVi, .armSMMUv3, .mock]
        let types: [String?] = [nil, "DMA", "DMA-FQ", "identity", "blocked", "unmanaged", "unknown", "\u{1b}[2J"]
        for _ in 0..<200 {
            var snapshot = HostSnapshot()
            let unitNames = (0..<random.below(4)).map { "u\($0 % 3)" }
            snapshot.iommus = unitNames.map { HostIOMMU(name: $0, architecture: random.pick(architectures)) }
            for id in 0..<random.below(5) {
                let members = (0..<random.below(4)).map { _ in "0000:0\(random.below(3)):00.\(random.below(9))" }
                let regions = (0..<random.below(3)).map { _ in
                    let start = random.next() >> 20
                    return HostFixtures.region(start, start + (random.next() >> 40), random.pick(HostReservedRegionType.allCases))
                }
                snapshot.groups.append(HostFixtures.group(UInt32(id % 4), random.pick(types), members, regions))
            }
            for name in snapshot.groups.flatMap(\.devices) + ["junk\u{7}", "0000:ff:1f.7"] {
                snapshot.devices.append(HostFixtures.device(name, group: random.chance(1, in: 5) ? nil : UInt32(random.below(5)),
                                                            iommu: unitNames.isEmpty || random.chance(1, in: 6) ? "nope" : random.pick(unitNames)))
            }
            let (platform, notes) = HostPlatform.description(of: snapshot)
            #expect(!notes.contains { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } })
            #expect(throws: Never.self) { try platform.validate() }
            #expect(throws: Never.self) { try Machine(platform: platform) }
        }
    }
}

/// The builder's command-line rule, reachable from tests.
enum HostPlatformTestAccess {
    static func commandLineDefault(_ cmdline: String?) -> DefaultDomainType {
        var snapshot = HostSnapshot()
        snapshot.cmdline = cmdline
        snapshot.iommus = [HostIOMMU(name: "dmar0", architecture: .intelVTd)]
        snapshot.groups = [HostFixtures.group(0, nil, [], [])]
        return HostPlatform.description(of: snapshot).platform.groups[0].defaultDomain
    }
}
