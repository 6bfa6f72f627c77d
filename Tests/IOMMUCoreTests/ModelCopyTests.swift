import Testing
@testable import IOMMUCore

/// `ModelCopy`: one copy per object with every reference between objects pointing at the
/// copies, and host memory shared frame by frame until either side writes.
@Suite struct ModelCopyTests {
    /// Words written before the copy are in both; words written after, and frames freed
    /// after, are each side's own.
    @Test func memoryFramesAreCopiedOnWrite() throws {
        let memory = PhysicalMemory()
        let first = try memory.allocate(length: 0x2000)
        try memory.write64(first, 0x1111)
        try memory.write64(first + 0x1000, 0x2222)
        let copy = ModelCopy.copying { $0.copy(memory) }
        #expect(copy.residentFrames == memory.residentFrames)
        #expect(copy.peek64(first) == 0x1111 && copy.peek64(first + 0x1000) == 0x2222)

        try copy.write64(first, 0xaaaa)
        #expect(memory.peek64(first) == 0x1111)
        #expect(copy.peek64(first) == 0xaaaa)
        try memory.write64(first + 0x1000, 0xbbbb)
        #expect(copy.peek64(first + 0x1000) == 0x2222)

        memory.free(first)
        #expect(copy.peek64(first) == 0xaaaa && copy.isBacked(first))
        #expect(!memory.isBacked(first))
        // Allocation continues where the original's had got to, on each side alone.
        #expect(try copy.allocate(length: 0x1000) == (try memory.allocate(length: 0x1000)))
    }

    /// An iommufd copy: the same ids and kinds, no object shared with the original, and the
    /// copies' references (HWPT to IOAS and domain, device to HWPT and platform device,
    /// domain to driver) point at copies.
    @Test func objectReferencesPointAtTheCopies() throws {
        let unit = IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(ArmSMMUv3.Configuration()))
        let machine = try Machine(platform: PlatformDescription(
            units: [unit], groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "dev0", requesterID: .streamID(1), unit: "smmu0", group: 0)]))
        let fd = IOMMUFD(machine: machine)
        let device = try fd.bind(#require(machine.device(named: "dev0"))).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        let hwpt = try fd.hwptAlloc(flags: 0, deviceID: device, ptID: ioas,
                                    userData: UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 0))).rawValue
        _ = try fd.attach(deviceID: device, ptID: hwpt)

        let copy = ModelCopy.copying { $0.copy(fd) }
        #expect(copy !== fd && copy.machine !== machine && copy.machine.physical !== machine.physical)
        #expect(copy.objects.map(\.id) == fd.objects.map(\.id))
        #expect(copy.objects.map(\.type) == fd.objects.map(\.type))
        #expect(zip(copy.objects, fd.objects).allSatisfy { $0 !== $1 })
        #expect(copy.generation == fd.generation)

        let paging = try #require(try copy.object(hwpt) as? HWPTPaging)
        #expect(paging.ioas === (try copy.object(ioas)))
        #expect(paging.ioas.hwpts.first === paging)
        #expect(paging.domain.driver === copy.machine.iommus[0])
        let table = try #require(paging.domain.table as? DescriptorPageTable)
        #expect(table.memory === copy.machine.physical)
        let bound = try #require(try copy.object(device) as? Device)
        #expect(bound.attachments[noPASID] === paging)
        #expect(bound.platform === copy.machine.device(named: "dev0"))
        #expect(bound.platform.iommu === copy.machine.iommus[0])
        #expect(copy.device(boundTo: bound.platform) === bound)
        #expect(copy.users(of: paging) == fd.users(of: try fd.object(hwpt)))
    }
}
