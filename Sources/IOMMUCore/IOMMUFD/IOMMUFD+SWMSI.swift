/// One doorbell page mapped in a software-managed MSI window (`struct iommufd_sw_msi_map`):
/// shared by every device that signals that doorbell through that window.
public struct SWMSIMap: Sendable, Equatable {
    /// The doorbell's physical page (the ITS GITS_TRANSLATER page on Arm).
    public var doorbell: UInt64
    /// The window's start (`MSI_IOVA_BASE`).
    public var windowStart: UInt64
    /// The page offset inside the window: the doorbell's IOVA is `windowStart + pgoff * 4K`.
    public var pageOffset: UInt64
    /// `id`: the bit the device group and the HWPTs record.
    public var id: Int

    public var iova: UInt64 { windowStart + pageOffset * pageSize }
}

/// `iommufd_sw_msi` (drivers/iommu/iommufd/driver.c, v6.15+): when the IRQ layer composes an
/// MSI for a device whose group has a SW_MSI window, the doorbell page is mapped into the
/// device's paging HWPT (the parent of a nested one) at the window, once per HWPT, and
/// remembered for the group so that every later attach installs it too.
extension IOMMUFD {
    /// More doorbell maps than this per iommufd fail with EOVERFLOW.
    public static let maximumSWMSIMaps = 64

    /// `VFIO_DEVICE_SET_IRQS` enabling MSI: composes the device's MSI message.
    public func setIRQs(deviceID: UInt32, count: UInt32) throws(Refusal) {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        guard count > 0 else { return }
        guard let window = device.platform.reservedRegions.first(where: { $0.type == .swMSI }),
              let doorbell = device.platform.iommu.msiDoorbell else {
            // Hardware MSI (interrupt remapping): the message is left alone, nothing is mapped.
            return
        }
        let page = doorbell.alignedDown(to: pageSize)
        let map = try swMSIMap(doorbell: page, windowStart: window.range.start)
        device.requiredSWMSI.insert(map.id)
        if let hwpt = device.attachments[noPASID] { try installSWMSI(map, into: stage2(of: hwpt)) }
    }

    /// `iommufd_sw_msi_get_map`: the existing entry, or a new one at the next page offset.
    private func swMSIMap(doorbell: UInt64, windowStart: UInt64) throws(Refusal) -> SWMSIMap {
        if let existing = swMSIMaps.first(where: { $0.doorbell == doorbell && $0.windowStart == windowStart }) { return existing }
        guard swMSIMaps.count < Self.maximumSWMSIMaps else {
            throw Refusal(.EOVERFLOW, .swMSIMapsFull, values: [InvolvedValue("doorbell", doorbell, .requested),
                                                               InvolvedValue("sw_msi_id", UInt64(Self.maximumSWMSIMaps), .limit)])
        }
        let offsets = swMSIMaps.filter { $0.windowStart == windowStart }.map(\.pageOffset)
        let map = SWMSIMap(doorbell: doorbell, windowStart: windowStart, pageOffset: offsets.max().map { $0 + 1 } ?? 0,
                           id: swMSIMaps.count)
        swMSIMaps.append(map)
        machine.physical.addDeviceRange(IOVARange(start: doorbell, length: pageSize)!)
        return map
    }

    /// `iommufd_sw_msi_install`: `iommu_map(IOMMU_READ | IOMMU_WRITE | IOMMU_MMIO)` of one page.
    func installSWMSI(_ map: SWMSIMap, into hwpt: HWPTPaging) throws(Refusal) {
        guard !hwpt.presentSWMSI.contains(map.id) else { return }
        try hwpt.domain.table.map(iova: map.iova, output: map.doorbell, length: pageSize, prot: [.read, .write, .mmio])
        hwpt.presentSWMSI.insert(map.id)
    }

    /// `iommufd_group_setup_msi`: on attach or replace, every doorbell the device needs goes
    /// into the new paging HWPT before the device can use it.
    func setupSWMSI(for device: Device, in hwpt: HWPTPaging) throws(Refusal) {
        for map in swMSIMaps where device.requiredSWMSI.contains(map.id) { try installSWMSI(map, into: hwpt) }
    }
}
