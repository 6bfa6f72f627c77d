/// The selftest mock driver's own checks (`drivers/iommu/iommufd/selftest.c`).
extension Refusal.Rule {
    /// `mock_domain_alloc_paging_flags`: IOMMU_HWPT_ALLOC_DIRTY_TRACKING for a device with MOCK_FLAGS_DEVICE_NO_DIRTY.
    public static let mockNoDirtyAllocation = Refusal.Rule("mock_domain_alloc_paging_flags.no_dirty",
                                                           "the mock device was created with MOCK_FLAGS_DEVICE_NO_DIRTY")
    /// `mock_domain_nop_attach`: `domain->dirty_ops` for a device with MOCK_FLAGS_DEVICE_NO_DIRTY.
    public static let mockNoDirtyAttach = Refusal.Rule(
        "mock_domain_nop_attach.no_dirty", "a dirty-tracking domain cannot take a mock device created with MOCK_FLAGS_DEVICE_NO_DIRTY")
    /// `mock_domain_nop_attach`: `iommufd_viommu_get_vdev_id` finds no vDEVICE of the device
    /// on the nested domain's vIOMMU ("viommu %p is missing a virtual device").
    public static let missingVDevice = Refusal.Rule("iommufd_viommu_get_vdev_id.no_vdevice",
                                                    "the device has no vDEVICE on the nested HWPT's vIOMMU")
    /// `mock_domain_cache_invalidate_user`: `inv.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX`.
    public static let mockIOTLBID = Refusal.Rule("mock_domain_cache_invalidate_user.iotlb_id",
                                                 "iotlb_id is above MOCK_NESTED_DOMAIN_IOTLB_ID_MAX")
    /// `mock_viommu_cache_invalidate`: `cmd->cache_id > MOCK_DEV_CACHE_ID_MAX`.
    public static let mockCacheID = Refusal.Rule("mock_viommu_cache_invalidate.cache_id", "cache_id is above MOCK_DEV_CACHE_ID_MAX")
    /// `mock_viommu_cache_invalidate`: `iommufd_viommu_find_dev(viommu, cmd->vdev_id)` finds none.
    public static let mockVDevID = Refusal.Rule("mock_viommu_cache_invalidate.vdev_id", "no vDEVICE of the vIOMMU has this vdev_id")
}
