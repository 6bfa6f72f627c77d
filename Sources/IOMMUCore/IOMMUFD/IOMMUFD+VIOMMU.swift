/// vIOMMU and vDEVICE ioctls (`viommu.c`).
extension IOMMUFD {
    // MARK: IOMMU_VIOMMU_ALLOC

    /// `IOMMU_VIOMMU_ALLOC`: a virtual IOMMU on a nest-parent HWPT for the device's IOMMU.
    public func viommuAlloc(flags: UInt32, type: UInt32, deviceID: UInt32, hwptID: UInt32,
                            userData: UserData? = nil) throws(Refusal) -> VIOMMU {
        beginMutation()
        guard flags == 0, type != VIOMMUType.default.rawValue else { throw .EOPNOTSUPP }
        let device = try object(deviceID, as: Device.self)
        let driver = device.platform.iommu
        try driver.checkVIOMMU(type: type, device: device.platform)
        let parent = try object(hwptID, as: HWPTPaging.self)
        guard parent.isNestParent else { throw .EINVAL }
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
        guard device.platform.iommu === viommu.driver else { throw .EINVAL }
        if device.vdevice != nil { throw .EEXIST }
        return try allocate { id throws(Refusal) -> VDevice in
            // xa_cmpxchg on viommu->vdevs.
            if viommu.vdevices[virtualID] != nil { throw .EEXIST }
            try viommu.driver.checkVDevice(virtualID: virtualID, viommu: viommu)
            return VDevice(id: id, viommu: viommu, device: device, virtualID: virtualID)
        }.id
    }
}
