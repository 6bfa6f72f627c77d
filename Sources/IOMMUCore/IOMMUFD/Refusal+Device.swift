/// The checks of binding and attaching devices (`vfio_df_ioctl_bind_iommufd`,
/// `drivers/iommu/iommufd/device.c`, `iommu_attach_device_pasid`).
extension Refusal.Rule {
    /// `vfio_df_ioctl_bind_iommufd`: the VFIO device file is already bound (`df->access_granted`).
    public static let alreadyBound = Refusal.Rule("vfio_df_ioctl_bind_iommufd.already_bound",
                                                  "the device is already bound to this iommufd")
    /// `__iommu_device_set_domain`: `dev->iommu->require_direct` and the new domain is the
    /// blocking one, which claiming DMA ownership attaches.
    public static let requiresDirect = Refusal.Rule(
        "__iommu_device_set_domain.require_direct",
        "the device has a direct-mapped (IOMMU_RESV_DIRECT) region, so DMA ownership cannot block it")
    /// `iommufd_device_unbind`: an object made of the device (the selftest's mock domain) still holds it.
    public static let deviceInUse = Refusal.Rule("iommufd_device_unbind.busy", "another object still holds the device")
    /// `iommufd_device_change_pt`: `pt_obj->type` is neither an IOAS nor an HWPT (`default: -EINVAL`).
    public static let notPageTable = Refusal.Rule("iommufd_device_change_pt.not_pt", "the id names neither an IOAS nor an HWPT")
    /// `iommu_attach_device_pasid`: `pasid >= dev->iommu->max_pasids` (0 without a PASID capability).
    public static let pasidOutOfRange = Refusal.Rule("iommu_attach_device_pasid.max_pasids",
                                                     "the PASID is beyond what the device supports")
    /// `iommufd_hw_pagetable_attach`: `xa_insert` of the device id into the PASID's attach finds it there.
    public static let alreadyAttached = Refusal.Rule("iommufd_hw_pagetable_attach.already_attached",
                                                     "the device is already attached at this PASID")
    /// `iommufd_device_do_replace`: no attach at the PASID (`!attach`, `!iommufd_device_is_attached`).
    public static let notAttached = Refusal.Rule("iommufd_device_do_replace.not_attached",
                                                 "the device is not attached at this PASID, so there is nothing to replace")
    /// `iommufd_hwpt_pasid_compat`, RID attach: `!hwpt->pasid_compat` while PASIDs of the group are attached.
    public static let ridWithoutPASIDCompat = Refusal.Rule(
        "iommufd_hwpt_pasid_compat.rid_with_pasids", "an HWPT attached at the RID while PASIDs are attached needs IOMMU_HWPT_ALLOC_PASID")
    /// `iommufd_hwpt_pasid_compat`, PASID attach: `!hwpt->pasid_compat`.
    public static let pasidWithoutPASIDCompat = Refusal.Rule("iommufd_hwpt_pasid_compat.pasid_hwpt",
                                                             "an HWPT attached at a PASID needs IOMMU_HWPT_ALLOC_PASID")
    /// `iommufd_hwpt_pasid_compat`, PASID attach: the HWPT at the RID has `!pasid_compat`.
    public static let ridHWPTWithoutPASIDCompat = Refusal.Rule(
        "iommufd_hwpt_pasid_compat.rid_hwpt", "the HWPT attached at the RID lacks IOMMU_HWPT_ALLOC_PASID, so no PASID can be attached")
    /// `iopt_table_enforce_dev_resv_regions`: `num_sw_msi && num_hw_msi` or `num_sw_msi > 1`
    /// ("Drivers must offer sane combinations of regions").
    public static let msiRegionMix = Refusal.Rule(
        "iopt_table_enforce_dev_resv_regions.msi_regions",
        "the device's regions mix software and hardware MSI windows, or hold several software ones")
}

extension Refusal.InvolvedValue {
    /// The PASID a call named.
    static func pasid(_ pasid: UInt32) -> Self { Self("pasid", UInt64(pasid), .requested) }
}

extension Refusal {
    /// The refusal with `objects` added to what it involves, each unless an object of that
    /// id already is: the context an attach adds to what its inner checks (the driver's,
    /// the reservations') name.
    func involving(_ objects: [InvolvedObject]) -> Refusal {
        var refusal = self
        for object in objects where !refusal.objects.contains(where: { $0.id == object.id }) { refusal.objects.append(object) }
        return refusal
    }
}
