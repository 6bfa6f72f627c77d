import IOMMUCore
import Testing

/// The reader answers without changing the model: its probes fill no IOTLB entry and no
/// configuration cache, and its queries begin no mutation.
@Suite struct ModelReaderTests {
    static let iova: UInt64 = 0x1_0000_0123

    /// An Arm SMMUv3 device attached to an IOAS with one page mapped at 4G.
    static func rig() throws -> (fd: IOMMUFD, smmu: ArmSMMUv3, device: Device) {
        let machine = Machine(limits: .unlimited)
        try machine.add(PlatformDescription(
            units: [IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(ArmSMMUv3.Configuration()))], groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "dev0", requesterID: .streamID(1), unit: "smmu0", group: 0)]))
        let fd = IOMMUFD(machine: machine)
        let platform = try #require(machine.device(named: "dev0"))
        let smmu = try #require(platform.iommu as? ArmSMMUv3)
        let id = try fd.bind(platform)
        let ioas = try fd.ioasAlloc().rawValue
        _ = try fd.attach(deviceID: id.rawValue, ptID: ioas)
        let memory = try machine.mmap(length: 4096, alignment: 4096)
        _ = try fd.ioasMap(flags: IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue, ioasID: ioas, userVA: memory,
                           length: 4096, iova: iova & ~0xfff)
        guard case .device(let device)? = ModelReader(fd).object(id) else { throw Errno.ENOENT }
        return (fd, smmu, device)
    }

    @Test func probesFillNoCache() throws {
        let (fd, smmu, device) = try Self.rig()
        let reader = ModelReader(fd)
        let generation = reader.generation
        for caches in [ModelReader.ProbeCaches.bypass, .lookupOnly, .lookupOnly] {
            guard case .success(let translation)? = try reader.probe(deviceID: device.id, iova: Self.iova, pasid: nil, access: .read,
                                                                       caches: caches) else {
                Issue.record("the probe did not translate")
                return
            }
            #expect(!translation.iotlbHit)
            // The configuration cache stays cold: every probe reads the STE and CD again.
            #expect(!translation.configurationFetches.isEmpty)
        }
        #expect(smmu.iotlb.count == 0)
        #expect(!reader.configurationStructures(of: device).isEmpty)
        #expect(reader.platform.devices.map(\.name) == ["dev0"])
        #expect(reader.device(boundTo: "dev0") === device)
        #expect(reader.generation == generation)

        // The hardware's translate fills the IOTLB; a look-up-only probe then hits, a bypass walks.
        _ = try fd.translate(deviceID: device.id.rawValue, iova: Self.iova, pasid: nil, access: .read)
        #expect(smmu.iotlb.count == 1)
        guard case .success(let cached)? = try reader.probe(deviceID: device.id, iova: Self.iova, pasid: nil, access: .read,
                                                             caches: .lookupOnly),
              case .success(let walked)? = try reader.probe(deviceID: device.id, iova: Self.iova, pasid: nil, access: .read,
                                                             caches: .bypass) else {
            Issue.record("the probe did not translate")
            return
        }
        #expect(cached.iotlbHit && cached.steps.isEmpty)
        #expect(!walked.iotlbHit && !walked.steps.isEmpty && walked.output == cached.output)
        #expect(smmu.iotlb.count == 1)
    }
}
