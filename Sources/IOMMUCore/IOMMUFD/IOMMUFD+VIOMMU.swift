/// vIOMMU and vDEVICE ioctls (`viommu.c`).
extension IOMMUFD {
    /// What refusals involve, by their short names.
    // MARK: IOMMU_VIOMMU_ALLOC

    /// `IOMMU_VIOMMU_ALLOC`: a virtual IOMMU on a nest-parent HWPT for the device's IOMMU.
    public func viommuAlloc(flags: UInt32, type: UInt32, deviceID: UInt32, hwptID: UInt32,
                            userData: UserData? = nil) throws(Refusal) -> VIOMMU {
        beginMutation()
        guard flags == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        guard type != VIOMMUType.default.rawValue else {
            throw Refusal(.EOPNOTSUPP, .defaultVIOMMUType, values: [InvolvedValue("type", UInt64(type), .requested)])
        }
        let device = try object(deviceID, as: Device.self)
        let driver = device.platform.iommu
        try driver.checkVIOMMU(type: type, device: device.platform)
        let parent = try object(hwptID, as: HWPTPaging.self)
        guard parent.isNestParent else {
            throw Refusal(.EINVAL, .viommuOnNonNestParent, objects: [InvolvedObject(parent, .parent), InvolvedObject(device, .requested)],
                          values: [.flag(.nestParent)])
        }
        return try allocate { id throws(Refusal) -> VIOMMU in
            let outData = try driver.initializeVIOMMU(type: type, parent: parent.domain, userData: userData)
            return VIOMMU(id: id, type: type, parent: parent, driver: driver, outData: outData)
        }
    }

    // MARK: IOMMU_VDEVICE_ALLOC

    /// `IOMMU_VDEVICE_ALLOC`: names a device on a vIOMMU by its guest-visible id.
    public func vdeviceAlloc(viommuID: UInt32, deviceID: UInt32, virtualID: UInt64) throws(Refusal) -> ObjectID {
        beginMutation()
        let viommu = try object(viommuID, as: VIOMMU.self)
        let device = try object(deviceID, as: Device.self)
        guard device.platform.iommu === viommu.driver else {
            throw Refusal(.EINVAL, .viommuOfOtherIOMMU, objects: [InvolvedObject(viommu, .parent), InvolvedObject(device, .requested)])
        }
        if let existing = device.vdevice {
            throw Refusal(.EEXIST, .deviceHasVDevice, objects: [InvolvedObject(device, .requested), InvolvedObject(existing, .existing)])
        }
        return try allocate { id throws(Refusal) -> VDevice in
            // xa_cmpxchg on viommu->vdevs.
            if let existing = viommu.vdevices[virtualID] {
                throw Refusal(.EEXIST, .virtualIDTaken, objects: [InvolvedObject(viommu, .parent), InvolvedObject(existing, .existing)],
                              values: [InvolvedValue("virt_id", virtualID, .requested)])
            }
            try viommu.driver.checkVDevice(virtualID: virtualID, viommu: viommu)
            return VDevice(id: id, viommu: viommu, device: device, virtualID: virtualID)
        }.id
    }
}
