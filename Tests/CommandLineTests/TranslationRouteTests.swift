@testable import Benchmarks
@testable import IOMMUCore
import Testing

/// `IOMMUFD.translate` answers a warm hit through the device's route exactly as the SMMU
/// would, and goes back to the SMMU as soon as its caches change: a CFGI of the stream (the
/// STE is fetched again, and says so), an invalidated IOTLB (the walk reads the guest's
/// edited table), a detach.
@Suite struct TranslationRouteTests {
    /// The SMMU's own answer, without the IOMMUFD's route.
    static func driverAnswer(_ rig: NestedRig, _ device: String, _ iova: UInt64,
                             access: AccessRights = .read) throws -> Result<Translation, TranslationFault>? {
        let platform = try #require(rig.fd.machine.device(named: device))
        return rig.smmu.translate(platform, iova: iova, pasid: nil, access: access, caches: .lookupOnly,
                                  memory: rig.fd.machine.physical, detail: .steps)
    }

    @Test func routedHitsAnswerAsTheDriver() throws {
        let rig = try NestedRig(pages: 64)
        for (device, name) in [(rig.stage2Device, "dev0"), (rig.nestedDevice, "dev1")] {
            for iova in rig.iovas(for: device) { _ = try rig.translate(device: device, iova: iova) }
            #expect(rig.fd.routes[device] != nil)
            for iova in rig.iovas(for: device).map({ $0 + 0x18 }) {
                let routed = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read)
                #expect(routed == (try Self.driverAnswer(rig, name, iova)))
                guard case .success(let translation)? = routed else { continue }
                #expect(translation.iotlbHit && translation.steps.isEmpty && translation.configurationFetches.isEmpty)
            }
            // Writes and PASID-less reads past the mapping answer as the driver's too.
            let iova = try #require(rig.iovas(for: device).first)
            #expect(try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .write)
                == (try Self.driverAnswer(rig, name, iova, access: .write)))
            let past = iova + UInt64(rig.pages) * pageSize
            #expect(try rig.fd.translate(deviceID: device, iova: past, pasid: nil, access: .read)
                == (try Self.driverAnswer(rig, name, past)))
        }
    }

    /// VT-d and AMD-Vi route their hits too: a device attached to an IOAS's automatic domain,
    /// translated cold and then warm, answers as its driver does, and a detach (which
    /// rewrites and invalidates its configuration) leaves the route behind.
    @Test(arguments: [UnitConfiguration.intelVTd(IntelVTd.Configuration()), .amdVi(AMDVi.Configuration())])
    func everyDriversRoutedHitsAnswerAsIt(_ configuration: UnitConfiguration) throws {
        let platform = PlatformDescription(
            units: [IOMMUUnit(name: "iommu0", configuration: configuration)], groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "dev0", requesterID: .requesterID(0x100), unit: "iommu0", group: 0)])
        let machine = try Machine(platform: platform, limits: .unlimited)
        let fd = IOMMUFD(machine: machine)
        let platformDevice = try #require(machine.device(named: "dev0"))
        let device = try fd.bind(platformDevice).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        let length = 64 * pageSize, base: UInt64 = 0x10_0000
        let ram = try machine.mmap(length: length, alignment: pageSize)
        _ = try fd.ioasMap(flags: IOASMapFlags([.fixedIOVA, .readable]).rawValue, ioasID: ioas, userVA: ram, length: length, iova: base)
        _ = try fd.attach(deviceID: device, ptID: ioas)
        let iovas = (0..<64).map { base + UInt64($0) * pageSize + 0x40 }
        for iova in iovas { _ = try fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) }
        #expect(fd.routes[device] != nil)
        let driver = { (iova: UInt64, access: AccessRights) in
            platformDevice.iommu.translate(platformDevice, iova: iova, pasid: nil, access: access, caches: .lookupOnly,
                                           memory: machine.physical, detail: .steps)
        }
        for iova in iovas + [base + length, 0xfee0_0000] {
            for access in [AccessRights.read, .write] {
                // The driver's answer first: it fills nothing the IOMMUFD's could then find.
                let expected = driver(iova, access)
                #expect(try fd.translate(deviceID: device, iova: iova, pasid: nil, access: access) == expected, "\(iova.hex) \(access)")
            }
        }
        guard case .success(let hit)? = try fd.translate(deviceID: device, iova: iovas[0], pasid: nil, access: .read) else {
            Issue.record("a mapped page did not translate")
            return
        }
        #expect(hit.iotlbHit)
        try fd.detach(deviceID: device)
        let blocked = driver(iovas[0], .read)
        #expect(try fd.translate(deviceID: device, iova: iovas[0], pasid: nil, access: .read) == blocked)
        guard case .failure? = blocked else {
            Issue.record("a detached device translated")
            return
        }
    }

    @Test func aChangedCacheSendsTheNextTransactionToTheDriver() throws {
        let rig = try NestedRig(pages: 8)
        let device = rig.nestedDevice, iova: UInt64 = 0x3000
        let first = try rig.translate(device: device, iova: iova)
        let pageZero = try rig.translate(device: device, iova: 0).output
        // CFGI_STE: the STE is read again, before the IOTLB answers.
        rig.smmu.forgetConfiguration(of: 2)
        let refetched = try rig.translate(device: device, iova: iova)
        #expect(refetched.iotlbHit && !refetched.configurationFetches.isEmpty)
        #expect(refetched.output == first.output)
        // The guest points the leaf at page 0's without invalidating: the IOTLB keeps the
        // old translation until it is invalidated, then the walk reads the new leaf.
        let ioas = try #require(rig.fd.objects.first { $0.type == .ioas }).id.rawValue
        // The CD, L0, L1 and L2 come before the one leaf table.
        let leaf = NestedRig.guestRAM + 4 * pageSize + (iova / pageSize) * 8
        let pageZeroIPA = NestedRig.guestRAM + UInt64(rig.tablePages) * pageSize
        try rig.fd.guestWrite(ioasID: ioas, gpa: leaf, values: [pageZeroIPA | 0xf43])
        #expect(try rig.translate(device: device, iova: iova).output == first.output)
        rig.smmu.iotlb.invalidateAll()
        #expect(try rig.translate(device: device, iova: iova).output == pageZero)
        // Detached, the device's transactions are the blocking domain's aborts.
        try rig.fd.detach(deviceID: device)
        guard case .failure? = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) else {
            Issue.record("a detached device translated through its old route")
            return
        }
    }
}
