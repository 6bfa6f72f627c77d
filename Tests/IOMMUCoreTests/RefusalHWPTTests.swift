import Testing
import TestSupport
@testable import IOMMUCore

/// The rules behind the errnos of HWPT and vIOMMU allocation, device attach and replace,
/// the event queues, guest memory and the mock driver: each refusal a user hits names its
/// check and what the check looked at (the flag a parent lacked and the parent, the device,
/// the HWPT and the attachment in the way).
struct RefusalHWPTTests {
    typealias Object = Refusal.InvolvedObject
    typealias Value = Refusal.InvolvedValue

    let fd = IOMMUFD(machine: Machine())
    let mock = MockIOMMU(name: "mock")
    static let noData = UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 0))
    /// `struct iommu_hwpt_selftest` with iotlb 0.
    static let selftestData = UserData(type: HWPTDataType.selftest.rawValue, buffer: UserBuffer(length: 4, bytes: [0, 0, 0, 0]))
    /// Type NONE with four bytes of data.
    static let noneWithData = UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 4, bytes: [0, 0, 0, 0]))

    /// A bound, unattached mock device.
    func bound(_ flags: MockDeviceFlags = []) throws -> Device {
        try fd.object(fd.bind(mock.createDevice(flags: flags)).rawValue, as: Device.self)
    }

    func paging(_ flags: HWPTAllocFlags, on ioas: ObjectID, for device: Device) throws -> HWPTPaging {
        let id = try fd.hwptAlloc(flags: flags.rawValue, deviceID: device.id.rawValue, ptID: ioas.rawValue, userData: Self.noData)
        return try fd.object(id.rawValue, as: HWPTPaging.self)
    }

    func hwpt(_ id: ObjectID) throws -> HWPT { try fd.object(id.rawValue, as: HWPT.self) }

    // MARK: IOMMU_HWPT_ALLOC and IOMMU_VIOMMU_ALLOC

    @Test func nestedHWPTOnAParentWithoutNestParentNamesTheFlagAndTheParent() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound()
        let parent = try paging([], on: ioas, for: device)
        let r = refusal { try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: parent.id.rawValue, userData: Self.selftestData) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .nestedOnNonNestParent)
        #expect(r?.objects == [Object(parent, .parent), Object(device, .requested)])
        #expect(r?.values == [Value("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag)])
        #expect(r?.description == "EINVAL (the parent HWPT was not allocated with IOMMU_HWPT_ALLOC_NEST_PARENT: "
            + "parent HWPT_PAGING \(parent.id), requested DEVICE \(device.id), IOMMU_HWPT_ALLOC_NEST_PARENT)")
    }

    @Test func viommuOnAParentWithoutNestParentNamesTheFlagAndTheParent() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound()
        let parent = try paging(.dirtyTracking, on: ioas, for: device)
        let r = refusal {
            try fd.viommuAlloc(flags: 0, type: VIOMMUType.selftest.rawValue, deviceID: device.id.rawValue, hwptID: parent.id.rawValue)
        }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .viommuOnNonNestParent)
        #expect(r?.objects == [Object(parent, .parent), Object(device, .requested)])
        #expect(r?.values == [Value("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag)])
    }

    @Test func nestedHWPTOnAnAutomaticDomainIsRefusedForBeingAutomatic() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound()
        let automatic = try hwpt(fd.attach(deviceID: device.id.rawValue, ptID: ioas.rawValue))
        let r = refusal { try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: automatic.id.rawValue, userData: Self.selftestData) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .automaticParent)
        #expect(r?.objects.first == Object(automatic, .parent))
    }

    @Test func dirtyTrackingWithoutTheCapabilityNamesTheFlag() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.noDirty)
        let r = refusal {
            try fd.hwptAlloc(flags: HWPTAllocFlags.dirtyTracking.rawValue, deviceID: device.id.rawValue, ptID: ioas.rawValue, userData: Self.noData)
        }
        #expect(r?.errno == .EOPNOTSUPP)
        #expect(r?.rule == .dirtyTrackingIncapable)
        #expect(r?.objects == [Object(device, .requested)])
        #expect(r?.values == [Value("IOMMU_HWPT_ALLOC_DIRTY_TRACKING", nil, .flag), Value("IOMMU_CAP_DIRTY_TRACKING", nil, .flag)])
    }

    @Test func flagsTheAllocationDoesNotTakeAreNamedByTheirBits() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound()
        let unknown = refusal { try fd.hwptAlloc(flags: 1 << 7 | 1, deviceID: device.id.rawValue, ptID: ioas.rawValue, userData: Self.noData) }
        #expect(unknown?.errno == .EOPNOTSUPP)
        #expect(unknown?.rule == .unsupportedFlags)
        #expect(unknown?.values == [Value("flags", 0x80, .flag)])
        // A nested HWPT takes only FAULT_ID_VALID and PASID: NEST_PARENT is the bad bit.
        let parent = try paging(.nestParent, on: ioas, for: device)
        let nested = refusal {
            try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: device.id.rawValue, ptID: parent.id.rawValue,
                             userData: Self.selftestData)
        }
        #expect(nested?.rule == .unsupportedFlags)
        #expect(nested?.values == [Value("flags", 1, .flag)])
        // No stage-1 data for a nested HWPT.
        let noData = refusal { try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: parent.id.rawValue, userData: Self.noData) }
        #expect(noData?.errno == .EOPNOTSUPP)
        #expect(noData?.rule == .nestedWithoutData)
        let faulting = refusal {
            try fd.hwptAlloc(flags: HWPTAllocFlags([.nestParent, .faultIDValid]).rawValue, deviceID: device.id.rawValue,
                             ptID: ioas.rawValue, userData: Self.noData)
        }
        #expect(faulting?.errno == .EOPNOTSUPP)
        #expect(faulting?.rule == .faultOnNestParent)
        #expect(faulting?.values == [Value("IOMMU_HWPT_FAULT_ID_VALID", nil, .flag), Value("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag)])
    }

    @Test func aPageTableIdThatNamesNothingOrTheWrongKindIsEINVAL() throws {
        let device = try bound()
        let missing = refusal { try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: 99, userData: Self.noData) }
        #expect(missing?.errno == .EINVAL)
        #expect(missing?.rule == .noPageTable)
        #expect(missing?.objects == [Object(ObjectID(rawValue: 99), nil, .requested)])
        let wrongKind = refusal { try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: device.id.rawValue, userData: Self.noData) }
        #expect(wrongKind?.errno == .EINVAL)
        #expect(wrongKind?.rule == .notAllocationParent)
        #expect(wrongKind?.objects == [Object(device, .requested)])
        let ioas = try fd.ioasAlloc()
        let mismatch = refusal { try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: ioas.rawValue, userData: Self.noneWithData) }
        #expect(mismatch?.errno == .EINVAL)
        #expect(mismatch?.rule == .dataTypeLength)
        #expect(mismatch?.values == [Value("data_type", 0, .requested), Value("data_len", 4, .requested)])
    }

    // MARK: Attach and replace

    @Test func aPASIDAttachToAnHWPTWithoutPASIDNamesTheDeviceTheHWPTAndTheFlag() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.pasid)
        let plain = try paging([], on: ioas, for: device)
        let r = refusal { try fd.attach(deviceID: device.id.rawValue, ptID: plain.id.rawValue, pasid: 5) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .pasidWithoutPASIDCompat)
        #expect(r?.objects == [Object(plain, .requested), Object(device, .requested)])
        #expect(r?.values == [Value("pasid", 5, .requested), Value("IOMMU_HWPT_ALLOC_PASID", nil, .flag)])
    }

    @Test func aPASIDAttachBesideARIDHWPTWithoutPASIDNamesTheRIDAttachment() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.pasid)
        let rid = try hwpt(fd.attach(deviceID: device.id.rawValue, ptID: ioas.rawValue))
        let capable = try paging(.pasid, on: ioas, for: device)
        let r = refusal { try fd.attach(deviceID: device.id.rawValue, ptID: capable.id.rawValue, pasid: 5) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .ridHWPTWithoutPASIDCompat)
        #expect(r?.objects == [Object(rid, .existing), Object(device, .requested), Object(capable, .requested)])
    }

    @Test func aRIDReplaceWithoutPASIDWhilePASIDsAreAttachedNamesThem() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.pasid)
        let rid = try paging(.pasid, on: ioas, for: device)
        let atPASID = try paging(.pasid, on: ioas, for: device)
        let plain = try paging([], on: ioas, for: device)
        _ = try fd.attach(deviceID: device.id.rawValue, ptID: rid.id.rawValue)
        _ = try fd.attach(deviceID: device.id.rawValue, ptID: atPASID.id.rawValue, pasid: 7)
        let r = refusal { try fd.replace(deviceID: device.id.rawValue, ptID: plain.id.rawValue) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .ridWithoutPASIDCompat)
        #expect(r?.objects == [Object(plain, .requested), Object(atPASID, .existing), Object(device, .requested), Object(rid, .existing)])
        #expect(r?.values.contains(Value("attached pasid", 7, .existing)) == true)
    }

    @Test func anIOASAttachedAtAPASIDNamesTheIOAS() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.pasid)
        let r = refusal { try fd.attach(deviceID: device.id.rawValue, ptID: ioas.rawValue, pasid: 1) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .pasidWithoutPASIDCompat)
        // The automatic HWPT the attach allocated is released again, so it is not named.
        #expect(r?.objects == [Object(device, .requested), Object(try fd.object(ioas.rawValue), .requested)])
    }

    @Test func aFaultCapableAttachOfAVTdDeviceWithoutPRINamesTheDeviceAndTheHWPT() throws {
        let vtd = IntelVTd(name: "dmar0")
        let device = try fd.object(fd.bind(PlatformDevice(name: "nic0", iommu: vtd, streamID: 0x100)).rawValue, as: Device.self)
        let ioas = try fd.ioasAlloc()
        let fault = try fd.faultQueueAlloc(flags: 0)
        let hwpt = try hwpt(fd.hwptAlloc(flags: HWPTAllocFlags.faultIDValid.rawValue, deviceID: device.id.rawValue, ptID: ioas.rawValue,
                                         userData: Self.noData, faultID: fault.id.rawValue))
        let r = refusal { try fd.attach(deviceID: device.id.rawValue, ptID: hwpt.id.rawValue) }
        #expect(r?.errno == .ENODEV)
        #expect(r?.rule == .iopfWithoutPRI)
        #expect(r?.objects == [Object(device, .requested), Object(hwpt, .requested)])
    }

    @Test func reservedRegionsTheCoreRefusesNameTheRegions() throws {
        let msi = ReservedRegion(range: IOVARange(start: 0x800_0000, last: 0x80f_ffff), type: .swMSI)
        let hardware = ReservedRegion(range: IOVARange(start: 0xfee0_0000, last: 0xfeef_ffff), type: .msi)
        let mixed = try fd.object(fd.bind(PlatformDevice(name: "mixed", iommu: mock, streamID: 9, firmwareRegions: [msi, hardware])).rawValue,
                                  as: Device.self)
        let r = refusal { try fd.attach(deviceID: mixed.id.rawValue, ptID: fd.ioasAlloc().rawValue) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .msiRegionMix)
        #expect(r?.ranges == [Refusal.InvolvedRange(msi.range, .reserved, note: "sw_msi"), Refusal.InvolvedRange(hardware.range, .reserved, note: "msi")])
        #expect(r?.objects.first == Object(mixed, .owner))
        let direct = ReservedRegion(range: IOVARange(start: 0x9000_0000, last: 0x9000_ffff), type: .direct)
        let bind = refusal { try fd.bind(PlatformDevice(name: "rmrr", iommu: mock, streamID: 10, firmwareRegions: [direct])) }
        #expect(bind?.errno == .EINVAL)
        #expect(bind?.rule == .requiresDirect)
        #expect(bind?.ranges == [Refusal.InvolvedRange(direct.range, .reserved, note: "direct")])
    }

    @Test func aPASIDBeyondTheDeviceNamesTheLimit() throws {
        let ioas = try fd.ioasAlloc()
        let none = try bound()
        let r = refusal { try fd.attach(deviceID: none.id.rawValue, ptID: ioas.rawValue, pasid: 1) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .pasidOutOfRange)
        #expect(r?.objects == [Object(none, .requested), Object(try fd.object(ioas.rawValue), .requested)])
        #expect(r?.values == [Value("pasid", 1, .requested), Value("max_pasids", 0, .limit)])
        let capable = try bound(.pasid)
        let beyond = refusal { try fd.attach(deviceID: capable.id.rawValue, ptID: ioas.rawValue, pasid: 1 << 20) }
        #expect(beyond?.values == [Value("pasid", 1 << 20, .requested), Value("max_pasids", 1 << 20, .limit)])
    }

    @Test func replacingWhereNothingIsAttachedIsNotAttached() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.pasid)
        let target = try paging(.pasid, on: ioas, for: device)
        let r = refusal { try fd.replace(deviceID: device.id.rawValue, ptID: target.id.rawValue, pasid: 3) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .notAttached)
        #expect(r?.objects == [Object(device, .requested), Object(target, .requested)])
    }

    /// A driver's refusal (here the mock's no-dirty attach) gains the device, the HWPT and
    /// the attachment it was to replace.
    @Test func aDriverAttachRefusalNamesTheDeviceTheHWPTAndTheExistingAttachment() throws {
        let ioas = try fd.ioasAlloc()
        let device = try bound(.noDirty)
        let current = try hwpt(fd.attach(deviceID: device.id.rawValue, ptID: ioas.rawValue))
        let dirty = try paging(.dirtyTracking, on: ioas, for: bound())
        let r = refusal { try fd.replace(deviceID: device.id.rawValue, ptID: dirty.id.rawValue) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .mockNoDirtyAttach)
        #expect(r?.objects == [Object(device, .requested), Object(dirty, .requested), Object(current, .existing)])
        #expect(r?.values.contains(Value("MOCK_FLAGS_DEVICE_NO_DIRTY", nil, .flag)) == true)
    }

    @Test func aNestedAttachWithoutAVDeviceNamesTheVIOMMU() throws {
        let (fd, viommu, device) = try EventQueueTests.mockVIOMMU()
        let current = try fd.object(#require(device.attachments[noPASID]).id.rawValue)
        let nested = try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: viommu.id.rawValue, userData: Self.selftestData)
        let r = refusal { try fd.replace(deviceID: device.id.rawValue, ptID: nested.rawValue) }
        #expect(r?.errno == .ENOENT)
        #expect(r?.rule == .missingVDevice)
        #expect(r?.objects == [Object(viommu, .parent), Object(device, .requested), Object(try fd.object(nested.rawValue), .requested),
                               Object(current, .existing)])
    }

    @Test func attachingToAnObjectThatIsNoPageTableNamesIt() throws {
        let (fd, viommu, device) = try EventQueueTests.mockVIOMMU()
        let r = refusal { try fd.attach(deviceID: device.id.rawValue, ptID: viommu.id.rawValue) }
        #expect(r?.errno == .EINVAL)
        #expect(r?.rule == .notPageTable)
        let current = try fd.object(#require(device.attachments[noPASID]).id.rawValue)
        #expect(r?.objects == [Object(device, .requested), Object(viommu, .requested), Object(current, .existing)])
    }

    @Test func bindingTwiceAndUnbindingAHeldDeviceNameTheOtherObject() throws {
        let platform = mock.createDevice(flags: [])
        let id = try fd.bind(platform)
        let twice = refusal { try fd.bind(platform) }
        #expect(twice?.errno == .EINVAL)
        #expect(twice?.rule == .alreadyBound)
        #expect(twice?.objects == [Object(try fd.object(id.rawValue), .existing)])
        let domain = try fd.testMockDomain(ptID: fd.ioasAlloc().rawValue, deviceFlags: 0, iommu: mock)
        let held = refusal { try fd.unbind(deviceID: domain.idevID.rawValue) }
        #expect(held?.errno == .EBUSY)
        #expect(held?.rule == .deviceInUse)
        #expect(held?.objects.last == Object(try fd.object(domain.stdevID.rawValue), .user))
    }

    // MARK: vDEVICE, vEVENTQ, FAULT

    @Test func vdevicesNameTheOneInTheWay() throws {
        let (fd, viommu, device) = try EventQueueTests.mockVIOMMU()
        let first = try fd.vdeviceAlloc(viommuID: viommu.id.rawValue, deviceID: device.id.rawValue, virtualID: 5)
        let again = refusal { try fd.vdeviceAlloc(viommuID: viommu.id.rawValue, deviceID: device.id.rawValue, virtualID: 6) }
        #expect(again?.errno == .EEXIST)
        #expect(again?.rule == .deviceHasVDevice)
        #expect(again?.objects == [Object(device, .requested), Object(try fd.object(first.rawValue), .existing)])
        let other = try fd.object(fd.bind(mock.createDevice(flags: [])).rawValue, as: Device.self)
        let foreign = refusal { try fd.vdeviceAlloc(viommuID: viommu.id.rawValue, deviceID: other.id.rawValue, virtualID: 5) }
        #expect(foreign?.rule == .viommuOfOtherIOMMU)
        let sameIOMMU = try #require(device.platform.iommu as? MockIOMMU)
        let sibling = try fd.object(fd.bind(sameIOMMU.createDevice(flags: [])).rawValue, as: Device.self)
        let taken = refusal { try fd.vdeviceAlloc(viommuID: viommu.id.rawValue, deviceID: sibling.id.rawValue, virtualID: 5) }
        #expect(taken?.errno == .EEXIST)
        #expect(taken?.rule == .virtualIDTaken)
        #expect(taken?.objects == [Object(viommu, .parent), Object(try fd.object(first.rawValue), .existing)])
        #expect(taken?.values == [Value("virt_id", 5, .requested)])
    }

    @Test func veventqAllocationNamesTheQueueOfTheSameType() throws {
        let (fd, viommu, _) = try EventQueueTests.mockVIOMMU()
        let type = VEventQueueType.selftest.rawValue
        let queue = try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: type, depth: 2)
        let r = refusal { try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: type, depth: 2) }
        #expect(r?.errno == .EEXIST)
        #expect(r?.rule == .vEventQueueTypeTaken)
        #expect(r?.objects == [Object(viommu, .parent), Object(queue, .existing)])
        #expect(refusal { try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: 0x42, depth: 0) }?.rule == .zeroVEventQueueDepth)
        #expect(refusal { try fd.veventqAlloc(flags: 0, viommuID: viommu.id.rawValue, type: 0, depth: 1) }?.rule == .defaultVEventQueueType)
        let noQueue = refusal { try fd.reportVEvent(viommu, type: .armSMMUv3, data: []) }
        #expect(noQueue?.errno == .EOPNOTSUPP)
        #expect(noQueue?.rule == .noVEventQueue)
    }

    @Test func faultResponsesAndClosedFilesNameTheirValues() throws {
        let fault = try fd.faultQueueAlloc(flags: 0)
        let badCode = refusal { try fd.faultRespond(faultID: fault.id.rawValue, cookie: 1, code: PageResponseCode.failure.rawValue) }
        #expect(badCode?.errno == .EINVAL)
        #expect(badCode?.rule == .pageResponseCode)
        #expect(badCode?.values == [Value("code", 2, .requested)])
        let cookie = refusal { try fd.faultRespond(faultID: fault.id.rawValue, cookie: 9, code: PageResponseCode.success.rawValue) }
        #expect(cookie?.errno == .EINVAL)
        #expect(cookie?.rule == .unknownCookie)
        #expect(cookie?.values == [Value("cookie", 9, .requested)])
        try fd.close(fd: fault.fd)
        let closed = refusal { try fd.faultRead(faultID: fault.id.rawValue, count: 1) }
        #expect(closed?.errno == .EBADF)
        #expect(closed?.rule == .closedFile)
        #expect(closed?.objects == [Object(fault, .requested)])
        #expect(closed?.values == [Value("fd", UInt64(fault.fd), .requested)])
        #expect(refusal { try fd.close(fd: fault.fd) }?.rule == .closedFile)
    }

    // MARK: IOMMU_HWPT_INVALIDATE

    @Test func invalidationNamesTheTargetTheArrayAndTheMockLimit() throws {
        let (fd, viommu, device) = try EventQueueTests.mockVIOMMU()
        let selftest = InvalidateDataType.selftest.rawValue
        let paging = try #require(device.attachments[noPASID])
        let wrong = fd.hwptInvalidate(hwptID: paging.id.rawValue, dataType: selftest, entryLength: 8, entryCount: 0, entries: [])
        #expect(wrong.error?.errno == .EINVAL)
        #expect(wrong.error?.rule == .notInvalidationTarget)
        #expect(wrong.error?.objects == [Object(paging, .requested)])
        let noArray = fd.hwptInvalidate(hwptID: paging.id.rawValue, dataType: selftest, entryLength: 0, entryCount: 2, entries: nil)
        #expect(noArray.error?.rule == .invalidationWithoutArray)
        #expect(noArray.error?.values == [Value("entry_num", 2, .requested), Value("entry_len", 0, .requested), Value("data_uptr", 0, .requested)])
        #expect(fd.hwptInvalidate(hwptID: 99, dataType: selftest, entryLength: 8, entryCount: 0, entries: []).error?.rule == .noSuchObject)
        let nested = try fd.hwptAlloc(flags: 0, deviceID: device.id.rawValue, ptID: viommu.id.rawValue, userData: Self.selftestData)
        let entries = [UserBuffer(length: 8, bytes: [0, 0, 0, 0, 0, 0, 0, 0]), UserBuffer(length: 8, bytes: [0, 0, 0, 0, 4, 0, 0, 0])]
        let beyond = fd.hwptInvalidate(hwptID: nested.rawValue, dataType: selftest, entryLength: 8, entryCount: 2, entries: entries)
        #expect(beyond.handled == 1)
        #expect(beyond.error?.errno == .EINVAL)
        #expect(beyond.error?.rule == .mockIOTLBID)
        #expect(beyond.error?.values == [Value("iotlb_id", 4, .requested), Value("MOCK_NESTED_DOMAIN_IOTLB_ID_MAX", 3, .limit)])
        let vdev = fd.hwptInvalidate(hwptID: viommu.id.rawValue, dataType: selftest, entryLength: 12, entryCount: 1,
                                     entries: [UserBuffer(length: 12, bytes: [0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0])])
        #expect(vdev.error?.rule == .mockVDevID)
        #expect(vdev.error?.values == [Value("vdev_id", 8, .requested)])
    }

    // MARK: Guest memory

    @Test func guestAccessesNameTheAddress() throws {
        let ioas = try fd.ioasAlloc()
        let unmapped = refusal { try fd.guestRead(ioasID: ioas.rawValue, gpa: 0x1000, count: 1) }
        #expect(unmapped?.errno == .ENOENT)
        #expect(unmapped?.rule == .guestUnmapped)
        #expect(unmapped?.values == [Value("gpa", 0x1000, .requested)])
        #expect(refusal { try fd.guestRead(ioasID: ioas.rawValue, gpa: 0x1004, count: 1) }?.rule == .guestUnaligned)
        #expect(refusal { try fd.guestWrite(ioasID: ioas.rawValue, gpa: 0x1000, values: []) }?.rule == .guestNoWords)
    }
}
