import Testing
import TestSupport
@testable import IOMMUCore

/// Edge cases of the event queues and of partial munmap that scenarios cannot reach: the
/// vEVENT sequence wrap at INT_MAX (iommufd_vevent_handler), the lost-events header staying
/// last, fault cookies (an ALLOC1 xarray), and the physical layout of split mappings.
struct EventQueueTests {
    /// A selftest vIOMMU on a mock device, with a device attached to its nested HWPT.
    static func mockVIOMMU() throws -> (fd: IOMMUFD, viommu: VIOMMU, device: Device) {
        let fd = IOMMUFD(machine: Machine())
        let mock = MockIOMMU(name: "mock")
        let ioas = try fd.ioasAlloc()
        let domain = try fd.testMockDomain(ptID: ioas.rawValue, deviceFlags: 0, iommu: mock)
        let parent = try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: domain.idevID.rawValue,
                                      ptID: ioas.rawValue, userData: UserData(type: 0, buffer: UserBuffer(length: 0, bytes: [])))
        let viommu = try fd.viommuAlloc(flags: 0, type: VIOMMUType.selftest.rawValue, deviceID: domain.idevID.rawValue,
                                        hwptID: parent.rawValue)
        let device = try fd.object(domain.idevID.rawValue, as: Device.self)
        return (fd, viommu, device)
    }

    @Test func sequenceWrapsFromIntMaxToZero() throws {
        let (fd, viommu, _) = try Self.mockVIOMMU()
        let queue = try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: VEventQueueType.selftest.rawValue, depth: 4)
        queue.sequence = UInt32(Int32.max)
        try fd.reportVEvent(viommu, type: .selftest, data: [1, 0, 0, 0])
        try fd.reportVEvent(viommu, type: .selftest, data: [2, 0, 0, 0])
        #expect(queue.deliver.map(\.sequence) == [UInt32(Int32.max), 0])
        #expect(queue.sequence == 1)
    }

    @Test func lostEventsHeaderStaysLastWithAFreshSequence() throws {
        let (fd, viommu, _) = try Self.mockVIOMMU()
        let queue = try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: VEventQueueType.selftest.rawValue, depth: 1)
        for value in UInt8(1)...3 { try fd.reportVEvent(viommu, type: .selftest, data: [value, 0, 0, 0]) }
        // One event kept, the two lost ones one header, renumbered by the second loss.
        #expect(queue.deliver.map(\.flags) == [0, VEvent.lostEventsFlag])
        #expect(queue.deliver.map(\.sequence) == [0, 2])
        #expect(queue.eventCount == 1)
        // A buffer of one record takes the event, not the header behind it; then the header.
        #expect(try fd.veventqRead(veventqID: queue.id.rawValue, count: 1).map(\.sequence) == [0])
        #expect(try fd.veventqRead(veventqID: queue.id.rawValue, count: 1).map(\.flags) == [VEvent.lostEventsFlag])
        #expect(queue.deliver.isEmpty && queue.eventCount == 0)
        #expect(refusal { try fd.reportVEvent(viommu, type: .armSMMUv3, data: Array(repeating: 0, count: 32)) }?.errno == .EOPNOTSUPP)
    }

    @Test func readBudgetNeverOverflows() throws {
        let (fd, viommu, _) = try Self.mockVIOMMU()
        let queue = try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: 0x1234, depth: 2)
        #expect(try fd.veventqRead(veventqID: queue.id.rawValue, count: .max).isEmpty)
        #expect(try fd.faultRead(faultID: fd.faultQueueAlloc(flags: 0).id.rawValue, count: .max).isEmpty)
    }

    @Test func cookiesAreTheLowestFreeFromOne() throws {
        let (fd, viommu, device) = try Self.mockVIOMMU()
        let fault = try fd.faultQueueAlloc(flags: 0)
        let nested = try fd.hwptAlloc(flags: HWPTAllocFlags.faultIDValid.rawValue, deviceID: device.id.rawValue, ptID: viommu.id.rawValue,
                                      userData: UserData(type: HWPTDataType.selftest.rawValue, buffer: UserBuffer(length: 4, bytes: [0, 0, 0, 0])),
                                      faultID: fault.id.rawValue)
        _ = try fd.vdeviceAlloc(viommuID: viommu.id.rawValue, deviceID: device.id.rawValue, virtualID: 5)
        _ = try fd.replace(deviceID: device.id.rawValue, ptID: nested.rawValue)
        for group in UInt32(0)..<3 { try fd.testTriggerIOPF(deviceID: device.id.rawValue, pasid: 0, grpid: group, perm: 1, addr: 0) }
        #expect(try fd.faultRead(faultID: fault.id.rawValue, count: 3).map(\.cookie) == [1, 2, 3])
        try fd.faultRespond(faultID: fault.id.rawValue, cookie: 2, code: PageResponseCode.success.rawValue)
        try fd.testTriggerIOPF(deviceID: device.id.rawValue, pasid: 0, grpid: 9, perm: 1, addr: 0)
        #expect(try fd.faultRead(faultID: fault.id.rawValue, count: 1).map(\.cookie) == [2])
        #expect(refusal { try fd.faultRespond(faultID: fault.id.rawValue, cookie: 1, code: PageResponseCode.failure.rawValue) }?.errno == .EINVAL)
        // A partial request waits for its group's last one, then both are read as one group.
        device.partialPageRequests.append(PageRequest(flags: [], pasid: 0, grpid: 4, perm: .read, addr: 0x1000))
        try fd.testTriggerIOPF(deviceID: device.id.rawValue, pasid: 0, grpid: 4, perm: 1, addr: 0x2000)
        #expect(try fd.faultRead(faultID: fault.id.rawValue, count: 1).isEmpty)
        #expect(try fd.faultRead(faultID: fault.id.rawValue, count: 2).map(\.addr) == [0x1000, 0x2000])
    }

    /// Descriptors are the lowest free from 4; past RLIMIT_NOFILE the allocation is EMFILE and
    /// leaves no object behind.
    @Test func eventFilesStopAtTheDescriptorLimit() throws {
        let fd = IOMMUFD(machine: Machine())
        for expected in EventFiles.first..<EventFiles.limit { #expect(try fd.faultQueueAlloc(flags: 0).fd == expected) }
        let objects = fd.objects.count
        #expect(refusal { try fd.faultQueueAlloc(flags: 0) }?.errno == .EMFILE)
        #expect(fd.objects.count == objects)
        try fd.close(fd: 9)
        #expect(try fd.faultQueueAlloc(flags: 0).fd == 9)
    }

    @Test func munmapSplitsAMappingAndKeepsItsPages() throws {
        let machine = Machine()
        let start = try machine.mmap(length: 4 << 20, alignment: 2 << 20)
        let before = (0..<8).map { machine.memory.physicalAddress(of: start + UInt64($0) * 0x80000) }
        try machine.memory.munmap(start: start + 0x100000, length: 0x200000)
        #expect(machine.memory.physicalAddress(of: start) == before[0])
        #expect(machine.memory.physicalAddress(of: start + 0x100000) == nil)
        #expect(machine.memory.physicalAddress(of: start + 0x300000) == before[6])
        #expect(machine.memory.pinnedPhysicalAddress(of: start + 0x100000) == before[2])
        // A run ends at a chunk's end and at the piece's end, whichever comes first.
        #expect(machine.memory.contiguousLength(at: start, limit: .max) == 0x100000)
        #expect(machine.memory.contiguousLength(at: start + 0x300000, limit: .max) == 0x100000)
        #expect(machine.memory.contiguousLength(at: start + 0x100000, limit: .max, pinned: true) == 0x100000)
        #expect(refusal { try machine.memory.munmap(start: start + 1, length: 1) }?.errno == .EINVAL)
    }
}
