import Testing
import TestSupport
@testable import IOMMUCore

/// The refusals of the IOAS ioctls, IOMMU_DESTROY, accesses and pinning name the kernel check
/// that refused and what it looked at: the reserved range and its owner, the aperture, the
/// area in the way, the users of an object. Each test drives the real ioctls into one rule.
@Suite struct RefusalIOASTests {
    static let map = IOASMapFlags([.readable, .writeable]).rawValue
    static let fixed = IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue
    typealias Object = Refusal.InvolvedObject
    typealias Range = Refusal.InvolvedRange
    typealias Value = Refusal.InvolvedValue

    /// An Arm host whose one device (its SMMU reserves the SW_MSI window) is bound, an IOAS,
    /// and 1 MiB of user memory.
    private func arm(limits: MemoryLimits = MemoryLimits()) throws -> (fd: IOMMUFD, device: ObjectID, ioas: UInt32, buffer: UInt64) {
        let machine = try Machine(platform: PlatformDescription(
            units: [IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(ArmSMMUv3.Configuration()))],
            groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "dev0", requesterID: .streamID(1), unit: "smmu0", group: 0)]), limits: limits)
        let fd = IOMMUFD(machine: machine)
        let device = try fd.bind(machine.devices[0])
        return (fd, device, try fd.ioasAlloc().rawValue, try machine.mmap(length: 1 << 20, alignment: pageSize))
    }

    /// An IOAS with the selftest's mock domain attached (aperture `MockIOMMU.aperture`).
    private func mock() throws -> (fd: IOMMUFD, ioas: UInt32, domain: IOMMUFD.MockDomain, buffer: UInt64) {
        let fd = IOMMUFD(machine: Machine())
        let ioas = try fd.ioasAlloc().rawValue
        let domain = try fd.testMockDomain(ptID: ioas, deviceFlags: 0, iommu: MockIOMMU(name: "mock"))
        return (fd, ioas, domain, try fd.machine.mmap(length: 1 << 20, alignment: pageSize))
    }

    // MARK: Reservations and apertures

    @Test func fixedMapOutsideTheDomainsApertureNamesTheApertureAndTheHWPT() throws {
        let (fd, ioas, domain, buffer) = try mock()
        let requested = IOVARange(start: 0x1000, length: 0x2000)!
        let error = try #require(refusal { try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x2000, iova: 0x1000) })
        #expect(error.errno == .EINVAL)
        #expect(error.rule == .checkIOVAOutsideAperture)
        #expect(error.objects == [Object(domain.hwptID, .hwptPaging, .owner)])
        #expect(error.ranges == [Range(requested, .requested), Range(MockIOMMU.aperture, .aperture)])
        #expect(error.description == "EINVAL (the range falls outside the aperture of an attached domain: owner HWPT_PAGING \(domain.hwptID), "
                + "requested \(requested), aperture \(MockIOMMU.aperture))")
    }

    @Test func fixedMapInADevicesSWMSIWindowNamesTheDeviceAndTheRegion() throws {
        let (fd, device, ioas, buffer) = try arm()
        _ = try fd.attach(deviceID: device.rawValue, ptID: ioas)
        let window = ArmSMMUv3.swMSIWindow
        let error = try #require(refusal { try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x1000, iova: window.start) })
        #expect(error.errno == .EINVAL)
        #expect(error.rule == .checkIOVAReserved)
        #expect(error.objects == [Object(device, .device, .owner)])
        #expect(error.ranges == [Range(IOVARange(start: window.start, length: 0x1000)!, .requested), Range(window, .reserved, note: "sw_msi")])
    }

    /// The attach-time path: the device's SW_MSI region cannot be reserved over an area.
    @Test func attachingOverAnAreaNamesTheRegionItsDeviceAndTheArea() throws {
        let (fd, device, ioas, buffer) = try arm()
        let window = ArmSMMUv3.swMSIWindow
        let area = IOVARange(start: window.start + 0x4000, length: 0x2000)!
        _ = try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x2000, iova: area.start)
        let error = try #require(refusal { try fd.attach(deviceID: device.rawValue, ptID: ioas) })
        #expect(error.errno == .EADDRINUSE)
        #expect(error.rule == .reserveIOVAMapped)
        // The device whose region it is, and the IOAS the attach named.
        #expect(error.objects == [Object(device, .device, .owner), Object(ObjectID(ioas), .ioas, .requested)])
        #expect(error.ranges == [Range(window, .requested, note: "sw_msi"), Range(area, .area)])
    }

    @Test func attachingOverAnAllowedRangeNamesTheAllowedRange() throws {
        let (fd, device, ioas, _) = try arm()
        try fd.ioasAllowIOVAs(ioasID: ioas, ranges: [(start: 0, last: 0xffff_ffff)])
        let error = try #require(refusal { try fd.attach(deviceID: device.rawValue, ptID: ioas) })
        #expect(error.errno == .EADDRINUSE)
        #expect(error.rule == .reserveIOVAAllowed)
        // The device whose region it is, and the IOAS the attach named.
        #expect(error.objects == [Object(device, .device, .owner), Object(ObjectID(ioas), .ioas, .requested)])
        #expect(error.ranges == [Range(ArmSMMUv3.swMSIWindow, .requested, note: "sw_msi"),
                                 Range(IOVARange(start: 0, last: 0xffff_ffff), .existing, note: "allowed")])
    }

    @Test func allowingOverAReservationNamesTheReservedRangeAndItsOwner() throws {
        let (fd, ioas, domain, _) = try mock()
        let allowed = IOVARange(start: 0x10_0000, last: 0x1ff_ffff)
        let error = try #require(refusal { try fd.ioasAllowIOVAs(ioasID: ioas, ranges: [(start: allowed.start, last: allowed.last)]) })
        #expect(error.errno == .EADDRINUSE)
        #expect(error.rule == .setAllowIOVAReserved)
        #expect(error.objects == [Object(domain.hwptID, .hwptPaging, .owner)])
        #expect(error.ranges == [Range(allowed, .requested),
                                 Range(IOVARange(start: 0, last: MockIOMMU.aperture.start - 1), .reserved, note: "outside the aperture")])
        // Two ranges of one call that overlap: both are named.
        let overlap = try #require(refusal { try fd.ioasAllowIOVAs(ioasID: ioas, ranges: [(start: 0x100_0000, last: 0x100_ffff),
                                                                                          (start: 0x100_8000, last: 0x101_ffff)]) })
        #expect(overlap.errno == .EINVAL && overlap.rule == .allowIOVAsOverlap)
        #expect(overlap.ranges.map(\.range) == [IOVARange(start: 0x100_8000, last: 0x101_ffff), IOVARange(start: 0x100_0000, last: 0x100_ffff)])
    }

    // MARK: Map and unmap

    @Test func fixedMapOverAnAreaNamesTheArea() throws {
        let (fd, ioas, _, buffer) = try mock()
        let start = MockIOMMU.aperture.start
        _ = try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x4000, iova: start)
        let error = try #require(refusal { try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x2000, iova: start + 0x3000) })
        #expect(error.errno == .EEXIST)
        #expect(error.rule == .checkIOVAMapped)
        #expect(error.ranges == [Range(IOVARange(start: start + 0x3000, length: 0x2000)!, .requested),
                                 Range(IOVARange(start: start, length: 0x4000)!, .area)])
    }

    @Test func unalignedFixedIOVANamesTheIOVAAndTheAlignment() throws {
        let (fd, ioas, _, buffer) = try mock()
        _ = try fd.option(optionID: OptionID.hugePages.rawValue, op: OptionOp.set.rawValue, objectID: ioas, val64: 0)
        let iova = MockIOMMU.aperture.start + 0x800
        let error = try #require(refusal { try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: pageSize, iova: iova) })
        #expect(error.errno == .EINVAL)
        #expect(error.rule == .checkIOVAUnaligned)
        #expect(error.values == [Value("iova", iova, .requested), Value("iova_alignment", pageSize, .limit)])
    }

    @Test func mapWithoutReadOrWriteNamesTheFlags() throws {
        let (fd, ioas, _, buffer) = try mock()
        let flags = IOASMapFlags.fixedIOVA.rawValue
        let error = try #require(refusal { try fd.ioasMap(flags: flags, ioasID: ioas, userVA: buffer, length: pageSize, iova: 0) })
        #expect(error.errno == .EINVAL)
        #expect(error.rule == .ioasMapNoAccess)
        #expect(error.values.first == Value("flags", UInt64(flags), .requested))
        let huge = try #require(refusal { try fd.ioasMap(flags: Self.map, ioasID: ioas, userVA: buffer, length: .max, iova: 0) })
        #expect(huge.errno == .EOVERFLOW && huge.rule == .ioasULongMax)
        #expect(huge.values == [Value("length", UInt64.max, .requested)])
    }

    @Test func noRoomInTheAllowedRangesNamesThem() throws {
        let (fd, _, ioas, buffer) = try arm()
        let allowed = IOVARange(start: 0x1000_0000, last: 0x1000_ffff)
        try fd.ioasAllowIOVAs(ioasID: ioas, ranges: [(start: allowed.start, last: allowed.last)])
        let error = try #require(refusal { try fd.ioasMap(flags: Self.map, ioasID: ioas, userVA: buffer, length: 0x2_0000, iova: 0) })
        #expect(error.errno == .ENOSPC)
        #expect(error.rule == .allocIOVANoSpace)
        #expect(error.ranges == [Range(allowed, .existing, note: "allowed")])
        #expect(error.values.first == Value("length", 0x2_0000, .requested))
    }

    @Test func unmapNamesTheAreaThatWouldBeSplitOrNothingMapped() throws {
        let (fd, ioas, _, buffer) = try mock()
        let area = IOVARange(start: MockIOMMU.aperture.start, length: 0x4000)!
        _ = try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x4000, iova: area.start)
        let partial = try #require(refusal { try fd.ioasUnmap(ioasID: ioas, iova: area.start, length: 0x1000) })
        #expect(partial.errno == .ENOENT)
        #expect(partial.rule == .unmapPartialArea)
        #expect(partial.ranges == [Range(IOVARange(start: area.start, length: 0x1000)!, .requested), Range(area, .area)])
        let nothing = try #require(refusal { try fd.ioasUnmap(ioasID: ioas, iova: 1 << 30, length: 0x1000) })
        #expect(nothing.errno == .ENOENT)
        #expect(nothing.rule == .unmapNotMapped)
        #expect(nothing.ranges == [Range(IOVARange(start: 1 << 30, length: 0x1000)!, .requested)])
        let zero = try #require(refusal { try fd.ioasUnmap(ioasID: ioas, iova: area.start, length: 0) })
        #expect(zero.errno == .EINVAL && zero.rule == .ioptZeroLength)
    }

    @Test func copyOfAGapNamesTheFirstUnmappedIOVA() throws {
        let (fd, ioas, _, buffer) = try mock()
        let start = MockIOMMU.aperture.start
        _ = try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: 0x2000, iova: start)
        let destination = try fd.ioasAlloc().rawValue
        let error = try #require(refusal {
            try fd.ioasCopy(flags: Self.map, dstIOASID: destination, srcIOASID: ioas, length: 0x4000, dstIOVA: 0, srcIOVA: start)
        })
        #expect(error.errno == .ENOENT)
        #expect(error.rule == .areaContigGap)
        #expect(error.objects == [Object(ObjectID(ioas), .ioas, .requested)])
        #expect(error.values == [Value("unmapped_iova", start + 0x2000, .requested)])
    }

    // MARK: IOMMU_DESTROY

    @Test func destroyingAnIOASWithAnHWPTNamesTheHWPT() throws {
        let (fd, ioas, domain, _) = try mock()
        let error = try #require(refusal { try fd.destroy(id: ioas) })
        #expect(error.errno == .EBUSY)
        #expect(error.rule == .destroyBusy)
        #expect(error.objects == [Object(ObjectID(ioas), .ioas, .requested), Object(domain.hwptID, .hwptPaging, .user)])
        #expect(error.values == [Value("users", 2, .existing)])
    }

    @Test func destroyingAnAttachedDeviceNamesItsHWPTAndBinding() throws {
        let (fd, device, ioas, _) = try arm()
        let hwpt = try fd.attach(deviceID: device.rawValue, ptID: ioas)
        let error = try #require(refusal { try fd.destroy(id: device.rawValue) })
        #expect(error.errno == .EBUSY)
        #expect(error.objects == [Object(device, .device, .requested), Object(hwpt, .hwptPaging, .user)])
        #expect(error.values == [Value("users", 3, .existing), Value("VFIO binding", nil, .user)])
    }

    @Test func destroyingAnAccessNamesItsOpenFile() throws {
        let (fd, ioas, _, _) = try mock()
        let access = try fd.testCreateAccess(ioasID: ioas, flags: 0)
        let error = try #require(refusal { try fd.destroy(id: access.id.rawValue) })
        #expect(error.errno == .EBUSY)
        #expect(error.objects == [Object(access.id, .access, .requested)])
        #expect(error.values == [Value("users", 2, .existing), Value("fd", UInt64(access.fd), .user)])
        // The IOAS the access holds names it as a user.
        #expect(refusal { try fd.destroy(id: ioas) }?.objects.contains(Object(access.id, .access, .user)) == true)
        let pages = try #require(refusal {
            try fd.testAccessPages(accessFD: UInt32(access.fd), iova: MockIOMMU.aperture.start, length: pageSize, flags: 0, uptr: nil)
        })
        #expect(pages.errno == .EOPNOTSUPP && pages.rule == .testAccessNoPinPages)
        #expect(pages.objects == [Object(access.id, .access, .requested)])
    }

    // MARK: Options and pinning

    @Test func optionRefusalsNameTheirValues() throws {
        let (fd, ioas, domain, buffer) = try mock()
        let busy = try #require(refusal { try fd.option(optionID: OptionID.rlimitMode.rawValue, op: OptionOp.set.rawValue, objectID: 0, val64: 1) })
        #expect(busy.errno == .EBUSY && busy.rule == .optionRLimitModeObjects)
        let value = try #require(refusal { try fd.option(optionID: OptionID.hugePages.rawValue, op: OptionOp.set.rawValue, objectID: ioas, val64: 2) })
        #expect(value.errno == .EINVAL && value.rule == .optionValue && value.values == [Value("val64", 2, .requested)])
        _ = try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: pageSize, iova: MockIOMMU.aperture.start)
        let mapped = try #require(refusal { try fd.option(optionID: OptionID.hugePages.rawValue, op: OptionOp.set.rawValue, objectID: ioas, val64: 0) })
        #expect(mapped.errno == .EINVAL && mapped.rule == .disableLargePagesMapped)
        #expect(mapped.objects == [Object(ObjectID(ioas), .ioas, .requested), Object(domain.hwptID, .hwptPaging, .existing)])
    }

    @Test func pinningPastRLimitMemlockNamesTheCounterAndTheLimit() throws {
        let (fd, device, ioas, buffer) = try arm(limits: MemoryLimits(memlock: 2 * pageSize, capIPCLock: false))
        _ = try fd.attach(deviceID: device.rawValue, ptID: ioas)
        let error = try #require(refusal { try fd.ioasMap(flags: Self.map, ioasID: ioas, userVA: buffer, length: 4 * pageSize, iova: 0) })
        #expect(error.errno == .ENOMEM)
        #expect(error.rule == .lockedVMLimit)
        #expect(error.values == [Value("npages", 4, .requested), Value("user->locked_vm", 0, .existing), Value("RLIMIT_MEMLOCK pages", 2, .limit)])
    }

    @Test func unbackedUserMemoryNamesTheAddress() throws {
        let (fd, ioas, _, _) = try mock()
        let unbacked: UInt64 = 0x10_0000_0000
        let error = try #require(refusal {
            try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: unbacked, length: pageSize, iova: MockIOMMU.aperture.start)
        })
        #expect(error.errno == .EFAULT)
        #expect(error.rule == .userPagesUnbacked)
        #expect(error.values.first == Value("user_va", unbacked, .requested))
    }

    // MARK: Dirty tracking and the selftest's checks

    @Test func dirtyTrackingRefusalsNameTheHWPTAndTheRange() throws {
        let (fd, ioas, domain, _) = try mock()
        let hwpt = domain.hwptID
        let untracked = try #require(refusal { try fd.hwptSetDirtyTracking(flags: IOMMUFD.dirtyTrackingEnable, hwptID: hwpt.rawValue) })
        #expect(untracked.errno == .EOPNOTSUPP && untracked.rule == .noDirtyOps)
        #expect(untracked.objects == [Object(hwpt, .hwptPaging, .requested)])
        #expect(refusal { try fd.testDirty(hwptID: hwpt.rawValue, iova: 0, length: pageSize, pageSize: pageSize, bitmap: [1]) }?.rule
                == .testDirtyNotTracking)
        let unaligned = try #require(refusal {
            try fd.hwptGetDirtyBitmap(hwptID: hwpt.rawValue, flags: 0, iova: 0x400, length: pageSize, pageSize: pageSize)
        })
        #expect(unaligned.errno == .EINVAL && unaligned.rule == .dirtyRangeUnaligned)
        #expect(unaligned.objects == [Object(ObjectID(ioas), .ioas, .requested)])
        #expect(unaligned.ranges == [Range(IOVARange(start: 0x400, length: pageSize)!, .requested)])
        #expect(unaligned.values == [Value("iova_alignment", MockIOMMU.ioPageSize, .limit)])
        let zero = try #require(refusal { try fd.hwptGetDirtyBitmap(hwptID: hwpt.rawValue, flags: 0, iova: 0, length: pageSize, pageSize: 0) })
        #expect(zero.errno == .EINVAL && zero.rule == .dirtyZeroPageSize)
    }

    @Test func checkMapNamesTheIOVAAndThePages() throws {
        let (fd, ioas, domain, buffer) = try mock()
        let iova = MockIOMMU.aperture.start
        _ = try fd.ioasMap(flags: Self.fixed, ioasID: ioas, userVA: buffer, length: pageSize, iova: iova)
        let other = buffer + pageSize
        let error = try #require(refusal { try fd.testCheckMap(hwptID: domain.hwptID.rawValue, iova: iova, length: pageSize, userVA: other) })
        #expect(error.errno == .EINVAL && error.rule == .testCheckMapMismatch)
        #expect(error.objects == [Object(domain.hwptID, .hwptPaging, .requested)])
        #expect(error.values == [Value("iova", iova, .requested), Value("expected", try #require(fd.machine.memory.physicalAddress(of: other)), .requested),
                                 Value("mapped", try #require(fd.machine.memory.physicalAddress(of: buffer)), .existing)])
        let odd = try #require(refusal { try fd.testCheckMap(hwptID: domain.hwptID.rawValue, iova: iova + 1, length: pageSize, userVA: nil) })
        #expect(odd.rule == .testCheckMapArguments && odd.values.first == Value("iova", iova + 1, .requested))
    }
}
