import Testing
import TestSupport
@testable import IOMMUCore

/// Pinned-page accounting against RLIMIT_MEMLOCK (pages.c) and the host memory cap.
@Suite struct MemoryLimitsTests {
    static let readWrite = IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue

    /// An Arm host with two SMMUs and a device behind each (bound, so that attaching both to
    /// one IOAS gives it two automatic domains), and an IOAS, under `limits`.
    private func host(_ limits: MemoryLimits, rlimitMode: UInt64 = 0) throws -> (Machine, IOMMUFD, ioas: UInt32, device: UInt32, other: UInt32) {
        let arm = UnitConfiguration.armSMMUv3(ArmSMMUv3.Configuration())
        let machine = try Machine(platform: PlatformDescription(
            units: [IOMMUUnit(name: "smmu0", configuration: arm), IOMMUUnit(name: "smmu1", configuration: arm)],
            groups: [IOMMUGroup(id: 0), IOMMUGroup(id: 1)],
            devices: [DeviceDescription(name: "dev0", requesterID: .streamID(1), unit: "smmu0", group: 0),
                      DeviceDescription(name: "dev1", requesterID: .streamID(1), unit: "smmu1", group: 1)]), limits: limits)
        let fd = IOMMUFD(machine: machine)
        _ = try fd.option(optionID: OptionID.rlimitMode.rawValue, op: OptionOp.set.rawValue, objectID: 0, val64: rlimitMode)
        let device = try fd.bind(machine.devices[0]).rawValue, other = try fd.bind(machine.devices[1]).rawValue
        return (machine, fd, try fd.ioasAlloc().rawValue, device, other)
    }

    @Test func userAccountingChargesPinnedPagesAndRefusesPastTheLimit() throws {
        let (machine, fd, ioas, device, _) = try host(MemoryLimits(memlock: 16 * pageSize, capIPCLock: false))
        let buffer = try machine.mmap(length: 64 * pageSize, alignment: pageSize)
        // Lazy: nothing is pinned without a domain.
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 8 * pageSize, iova: 1 << 32)
        #expect(machine.pinned.userLockedVM == 0)
        _ = try fd.attach(deviceID: device, ptID: ioas)
        #expect(machine.pinned.userLockedVM == 8 && machine.pinned.pinnedVM == 8)
        _ = try fd.ioasMap(flags: IOASMapFlags([.readable]).rawValue, ioasID: ioas, userVA: buffer, length: 3 * pageSize, iova: 0)
        #expect(machine.pinned.userLockedVM == 11)
        #expect(refusal {
            try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 6 * pageSize, iova: 1 << 33)
        }?.errno == .ENOMEM)
        #expect(machine.pinned.userLockedVM == 11)
        #expect(refusal { try fd.ioasUnmap(ioasID: ioas, iova: 1 << 33, length: 6 * pageSize) }?.errno == .ENOENT)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 5 * pageSize, iova: 1 << 33)
        #expect(machine.pinned.userLockedVM == 16)
        _ = try fd.ioasUnmap(ioasID: ioas, iova: 0, length: .max)
        #expect(machine.pinned == PinnedPageAccounting())
    }

    /// `DIV_ROUND_UP(length + (uptr - ALIGN_DOWN(uptr)), PAGE_SIZE)`: a 4K map from the middle
    /// of a page (the mock's 2K alignment allows it) pins both pages it touches.
    @Test func subPageOffsetsPinEveryPageTouched() throws {
        let machine = Machine(limits: MemoryLimits(capIPCLock: false))
        let fd = IOMMUFD(machine: machine)
        let ioas = try fd.ioasAlloc().rawValue
        _ = try fd.testMockDomain(ptID: ioas, deviceFlags: 0, iommu: MockIOMMU(name: "mock"))
        let buffer = try machine.mmap(length: 4 * pageSize, alignment: pageSize)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer + 0x800, length: pageSize, iova: MockIOMMU.aperture.start)
        #expect(machine.pinned.userLockedVM == 2)
    }

    /// IOAS_COPY shares the source's `iopt_pages`: a page held by both IOASes' domains is
    /// charged once, and stays charged while either holds it; two MAPs of the same memory
    /// are two `iopt_pages` and charge twice.
    @Test func copiesShareTheSourcePages() throws {
        let (machine, fd, ioas, device, second) = try host(MemoryLimits(memlock: 8 * pageSize, capIPCLock: false))
        let buffer = try machine.mmap(length: 16 * pageSize, alignment: pageSize)
        _ = try fd.attach(deviceID: device, ptID: ioas)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 6 * pageSize, iova: 1 << 32)
        let other = try fd.ioasAlloc().rawValue
        _ = try fd.attach(deviceID: second, ptID: other)
        _ = try fd.ioasCopy(flags: Self.readWrite, dstIOASID: other, srcIOASID: ioas, length: 6 * pageSize,
                            dstIOVA: 1 << 32, srcIOVA: 1 << 32)
        #expect(machine.pinned.userLockedVM == 6)
        // A part of it, copied again: still the same pages.
        _ = try fd.ioasCopy(flags: Self.readWrite, dstIOASID: other, srcIOASID: other, length: 2 * pageSize,
                            dstIOVA: 1 << 33, srcIOVA: (1 << 32) + 4 * pageSize)
        #expect(machine.pinned.userLockedVM == 6)
        #expect(refusal {
            try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 3 * pageSize, iova: 1 << 34)
        }?.errno == .ENOMEM)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 2 * pageSize, iova: 1 << 34)
        #expect(machine.pinned.userLockedVM == 8)
        // The source's area goes: the copies still hold all six pages.
        _ = try fd.ioasUnmap(ioasID: ioas, iova: 1 << 32, length: 6 * pageSize)
        #expect(machine.pinned.userLockedVM == 8)
        // The whole copy goes: only the two pages of the partial copy stay.
        _ = try fd.ioasUnmap(ioasID: other, iova: 1 << 32, length: 6 * pageSize)
        #expect(machine.pinned.userLockedVM == 4)
        _ = try fd.ioasUnmap(ioasID: other, iova: 0, length: .max)
        _ = try fd.ioasUnmap(ioasID: ioas, iova: 0, length: .max)
        #expect(machine.pinned.userLockedVM == 0 && machine.pinned.isEmpty)
    }

    /// A copy into an IOAS without a domain pins nothing until the copy's IOAS gets one, and
    /// then only what the source did not already pin.
    @Test func copiesPinLazily() throws {
        let (machine, fd, ioas, device, second) = try host(MemoryLimits(memlock: 8 * pageSize, capIPCLock: false))
        let buffer = try machine.mmap(length: 16 * pageSize, alignment: pageSize)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 4 * pageSize, iova: 1 << 32)
        let other = try fd.ioasAlloc().rawValue
        _ = try fd.ioasCopy(flags: Self.readWrite, dstIOASID: other, srcIOASID: ioas, length: 4 * pageSize,
                            dstIOVA: 1 << 32, srcIOVA: 1 << 32)
        #expect(machine.pinned.userLockedVM == 0)
        _ = try fd.attach(deviceID: device, ptID: other)
        #expect(machine.pinned.userLockedVM == 4)
        _ = try fd.attach(deviceID: second, ptID: ioas)
        #expect(machine.pinned.userLockedVM == 4)
    }

    @Test func mmAccountingChargesTheMM() throws {
        let (machine, fd, ioas, device, _) = try host(MemoryLimits(memlock: 4 * pageSize, capIPCLock: false), rlimitMode: 1)
        let buffer = try machine.mmap(length: 8 * pageSize, alignment: pageSize)
        _ = try fd.attach(deviceID: device, ptID: ioas)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 4 * pageSize, iova: 1 << 32)
        #expect(machine.pinned.mmLockedVM == 4 && machine.pinned.userLockedVM == 0 && machine.pinned.pinnedVM == 4)
        #expect(refusal {
            try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: pageSize, iova: 1 << 33)
        }?.errno == .ENOMEM)
    }

    /// CAP_IPC_LOCK (the default, as the selftests run as root) bypasses the limit; the
    /// pages still count in `mm->pinned_vm`.
    @Test func capIPCLockBypassesTheLimit() throws {
        let (machine, fd, ioas, device, _) = try host(MemoryLimits(memlock: 0))
        let buffer = try machine.mmap(length: 8 * pageSize, alignment: pageSize)
        _ = try fd.attach(deviceID: device, ptID: ioas)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 8 * pageSize, iova: 1 << 32)
        #expect(machine.pinned.userLockedVM == 0 && machine.pinned.mmLockedVM == 0 && machine.pinned.pinnedVM == 8)
    }

    /// The first domain pins and charges; a failed attach over the limit leaves nothing
    /// charged; the last domain's removal releases the charge.
    @Test func domainsPinOnceAndReleaseWithTheLast() throws {
        let (machine, fd, ioas, device, second) = try host(MemoryLimits(memlock: 4 * pageSize, capIPCLock: false))
        let buffer = try machine.mmap(length: 8 * pageSize, alignment: pageSize)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 8 * pageSize, iova: 1 << 32)
        #expect(refusal { try fd.attach(deviceID: device, ptID: ioas) }?.errno == .ENOMEM)
        #expect(machine.pinned == PinnedPageAccounting())
        _ = try fd.ioasUnmap(ioasID: ioas, iova: 0, length: .max)
        _ = try fd.ioasMap(flags: Self.readWrite, ioasID: ioas, userVA: buffer, length: 4 * pageSize, iova: 1 << 32)
        _ = try fd.attach(deviceID: device, ptID: ioas)
        // A second domain (the other SMMU's) reads the pages from the first: no new charge.
        _ = try fd.attach(deviceID: second, ptID: ioas)
        #expect(machine.pinned.userLockedVM == 4)
        try fd.detach(deviceID: device)
        #expect(machine.pinned.userLockedVM == 4)
        try fd.detach(deviceID: second)
        #expect(machine.pinned == PinnedPageAccounting())
    }

    @Test func hostMemoryCapsAllocation() throws {
        let physical = PhysicalMemory()
        physical.capacity = 16 * pageSize
        let first = try physical.allocate(length: 12 * pageSize)
        #expect(physical.allocatedBytes == 12 * pageSize)
        #expect(refusal { try physical.allocate(length: 8 * pageSize) }?.errno == .ENOMEM)
        physical.free(first)
        #expect(physical.allocatedBytes == 0)
        _ = try physical.allocate(length: 16 * pageSize)
    }

    /// The default host refuses a terabyte of 4K-backed memory at `mmap`.
    @Test func defaultHostRefusesATerabyte() throws {
        let machine = Machine()
        #expect(refusal { try machine.mmap(length: 1 << 40, alignment: pageSize) }?.errno == .ENOMEM)
        #expect(try machine.mmap(length: 1 << 30, alignment: pageSize) == ProcessMemory.base)
    }

    @Test func coversFindsGaps() throws {
        let machine = Machine()
        let a = try machine.mmap(length: 2 * pageSize, alignment: pageSize)
        _ = try machine.mmap(length: pageSize, alignment: pageSize)
        #expect(machine.memory.covers(IOVARange(start: a, length: 3 * pageSize)!))
        #expect(!machine.memory.covers(IOVARange(start: a, length: 4 * pageSize)!))
        try machine.memory.munmap(start: a + pageSize, length: pageSize)
        #expect(!machine.memory.covers(IOVARange(start: a, length: 2 * pageSize)!))
    }
}
