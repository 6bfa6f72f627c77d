/// HWPT allocation, cache invalidation and GET_HW_INFO (`hw_pagetable.c`, `device.c`).
extension IOMMUFD {
    /// What refusals involve, by their short names.
    /// What `IOMMU_GET_HW_INFO` writes back.
    public struct HWInfoResult: Sendable, Equatable {
        public var info: HWInfo
        /// The bytes of the user's buffer the kernel filled: `min(data_len, sizeof)`.
        public var copiedLength: UInt32
        public var capabilities: HWCapabilities
        public var maxPASIDLog2: UInt8
    }

    // MARK: IOMMU_HWPT_ALLOC

    /// `IOMMU_HWPT_ALLOC`: a paging HWPT on an IOAS, or a nested HWPT on a nest parent or a vIOMMU.
    public func hwptAlloc(flags rawFlags: UInt32, deviceID: UInt32, ptID: UInt32, userData: UserData,
                          faultID: UInt32 = 0) throws(Refusal) -> ObjectID {
        beginMutation()
        let flags = HWPTAllocFlags(rawValue: rawFlags)
        if (userData.type == HWPTDataType.none.rawValue) != (userData.length == 0) {
            throw Refusal(.EINVAL, .dataTypeLength, values: [InvolvedValue("data_type", UInt64(userData.type), .requested),
                                                             InvolvedValue("data_len", UInt64(userData.length), .requested)])
        }
        let device = try object(deviceID, as: Device.self)
        guard let pt = try? kind(ptID) else {
            throw Refusal(.EINVAL, .noPageTable, objects: [InvolvedObject(ObjectID(rawValue: ptID), nil, .requested)])
        }
        let driver = device.platform.iommu
        let hwpt: HWPT
        switch pt {
        case .ioas(let ioas):
            let valid: HWPTAllocFlags = [.nestParent, .dirtyTracking, .faultIDValid, .pasid]
            guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
            if flags.contains(.dirtyTracking) && !driver.capabilities(for: device.platform).contains(.dirtyTracking) {
                throw Refusal(.EOPNOTSUPP, .dirtyTrackingIncapable, objects: [InvolvedObject(device, .requested)],
                              values: [.flag(.dirtyTracking), InvolvedValue("IOMMU_CAP_DIRTY_TRACKING", nil, .flag)])
            }
            if flags.isSuperset(of: [.faultIDValid, .nestParent]) {
                throw Refusal(.EOPNOTSUPP, .faultOnNestParent, values: [.flag(.faultIDValid), .flag(.nestParent)])
            }
            hwpt = try allocate { id throws(Refusal) -> HWPTPaging in
                let domain = try driver.allocatePagingDomain(
                    for: device.platform, flags: flags.subtracting(.faultIDValid),
                    userData: userData.length == 0 ? nil : userData, memory: machine.physical)
                domain.enforcesCacheCoherency = driver.canEnforceCacheCoherency(for: device.platform)
                let hwpt = HWPTPaging(id: id, ioas: ioas, domain: domain, isAutomatic: false, flags: flags)
                try addDomain(hwpt)
                do throws(Refusal) { hwpt.fault = try faultQueue(flags, faultID) } catch { removeDomain(hwpt); throw error }
                return hwpt
            }
        case .hwptPaging(let parent):
            let valid: HWPTAllocFlags = [.faultIDValid, .pasid]
            guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
            guard userData.length > 0 else {
                throw Refusal(.EOPNOTSUPP, .nestedWithoutData, values: [InvolvedValue("data_len", 0, .requested)])
            }
            guard driver.allocatesNestedDomains else {
                throw Refusal(.EOPNOTSUPP, .driverCannotNest, objects: [InvolvedObject(device, .requested)])
            }
            let objects = [InvolvedObject(parent, .parent), InvolvedObject(device, .requested)]
            if parent.isAutomatic { throw Refusal(.EINVAL, .automaticParent, objects: objects) }
            if !parent.isNestParent { throw Refusal(.EINVAL, .nestedOnNonNestParent, objects: objects, values: [.flag(.nestParent)]) }
            if parent.domain.driver.architecture != driver.architecture {
                throw Refusal(.EINVAL, .parentOfOtherDriver, objects: objects)
            }
            hwpt = try allocate { id throws(Refusal) -> HWPTNested in
                let domain = try driver.allocateNestedDomain(for: device.platform, parent: parent.domain,
                                                             flags: flags.subtracting(.faultIDValid), userData: userData)
                let hwpt = HWPTNested(id: id, parent: .hwpt(parent), domain: domain, pasidCompatible: flags.contains(.pasid))
                hwpt.fault = try faultQueue(flags, faultID)
                return hwpt
            }
        case .viommu(let viommu):
            guard viommu.driver === driver else {
                throw Refusal(.EINVAL, .viommuOfOtherIOMMU, objects: [InvolvedObject(viommu, .parent), InvolvedObject(device, .requested)])
            }
            let valid: HWPTAllocFlags = [.faultIDValid, .pasid]
            guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
            guard userData.length > 0 else {
                throw Refusal(.EOPNOTSUPP, .nestedWithoutData, values: [InvolvedValue("data_len", 0, .requested)])
            }
            hwpt = try allocate { id throws(Refusal) -> HWPTNested in
                let domain = try driver.allocateNestedDomain(on: viommu, for: device.platform,
                                                             flags: flags.subtracting(.faultIDValid), userData: userData)
                let hwpt = HWPTNested(id: id, parent: .viommu(viommu), domain: domain, pasidCompatible: flags.contains(.pasid))
                hwpt.fault = try faultQueue(flags, faultID)
                return hwpt
            }
        case .hwptNested, .device, .vdevice, .selftest, .fault, .veventq, .access:
            throw Refusal(.EINVAL, .notAllocationParent, objects: [InvolvedObject(pt.object, .requested)])
        }
        return hwpt.id
    }

    // MARK: IOMMU_HWPT_INVALIDATE

    /// `IOMMU_HWPT_INVALIDATE` on a nested HWPT or a vIOMMU. `entries == nil` models a NULL
    /// `data_uptr`. The outcome's `handled` is the `entry_num` written back: 0 when the core
    /// fails before the driver runs, else what the driver reports.
    public func hwptInvalidate(hwptID: UInt32, dataType: UInt32, entryLength: UInt32, entryCount: UInt32,
                               entries: [InvalidationEntry]?) -> InvalidationOutcome {
        beginMutation()
        if entryCount > 0 && (entries == nil || entryLength == 0) {
            return InvalidationOutcome(handled: 0, error: Refusal(.EINVAL, .invalidationWithoutArray, values: [
                InvolvedValue("entry_num", UInt64(entryCount), .requested), InvolvedValue("entry_len", UInt64(entryLength), .requested),
            ] + (entries == nil ? [InvolvedValue("data_uptr", 0, .requested)] : [])))
        }
        let request = InvalidationArray(type: dataType, entryLength: entryLength, entries: entries ?? [])
        let target = try? kind(hwptID)
        switch target {
        case nil:
            return InvalidationOutcome(handled: 0, error: .noSuchObject(hwptID))
        case .hwptNested(let nested):
            return nested.domain.driver.invalidate(nested.domain, request)
        case .viommu(let viommu):
            return viommu.driver.invalidate(viommu, request)
        case .ioas, .hwptPaging, .device, .vdevice, .selftest, .fault, .veventq, .access:
            return InvalidationOutcome(handled: 0, error: Refusal(.EINVAL, .notInvalidationTarget,
                                                                  objects: target.map { [InvolvedObject($0.object, .requested)] } ?? []))
        }
    }

    // MARK: IOMMU_GET_HW_INFO

    /// `IOMMU_GET_HW_INFO` for a bound device. `dataLength` is the user's buffer size.
    public func getHWInfo(flags rawFlags: UInt32, deviceID: UInt32, dataLength: UInt32,
                          inDataType: UInt32) throws(Refusal) -> HWInfoResult {
        let flags = HWInfoFlags(rawValue: rawFlags)
        guard flags.isSubset(of: .inputType) else {
            throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags.subtracting(.inputType).rawValue))
        }
        let requested = flags.contains(.inputType) ? inDataType : HWInfoType.default.rawValue
        let device = try object(deviceID, as: Device.self)
        let driver = device.platform.iommu
        let info = try driver.hardwareInfo(for: device.platform, type: requested)
        return HWInfoResult(info: info, copiedLength: min(dataLength, info.length),
                            capabilities: driver.capabilities(for: device.platform),
                            maxPASIDLog2: device.platform.maxPASIDLog2)
    }
}
