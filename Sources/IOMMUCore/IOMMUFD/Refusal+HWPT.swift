/// The checks of HWPT allocation, cache invalidation, GET_HW_INFO, and the vIOMMU and vDEVICE
/// ioctls (`hw_pagetable.c`, `device.c`, `viommu.c`).
extension Refusal.Rule {
    /// `iommufd_hwpt_alloc`: `data_type == IOMMU_HWPT_DATA_NONE` with a `data_len`, or another
    /// type without one.
    public static let dataTypeLength = Refusal.Rule("iommufd_hwpt_alloc.data_len",
                                                    "data_type NONE needs data_len 0, and any other data_type a non-zero data_len")
    /// `iommufd_hwpt_alloc`: `iommufd_get_object(pt_id, IOMMUFD_OBJ_ANY)` fails, which the ioctl
    /// turns into EINVAL.
    public static let noPageTable = Refusal.Rule("iommufd_hwpt_alloc.no_pt", "pt_id names no object")
    /// `iommufd_hwpt_alloc`: `pt_obj->type` is not an IOAS, an HWPT_PAGING or a vIOMMU.
    public static let notAllocationParent = Refusal.Rule("iommufd_hwpt_alloc.not_pt",
                                                         "pt_id names neither an IOAS, a paging HWPT nor a vIOMMU")
    /// `iommufd_hwpt_paging_alloc`: IOMMU_HWPT_ALLOC_DIRTY_TRACKING and
    /// `!device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING)`.
    public static let dirtyTrackingIncapable = Refusal.Rule("iommufd_hwpt_paging_alloc.dirty_tracking",
                                                            "the device's IOMMU cannot track dirty pages")
    /// `iommufd_hwpt_paging_alloc`: IOMMU_HWPT_FAULT_ID_VALID together with IOMMU_HWPT_ALLOC_NEST_PARENT.
    public static let faultOnNestParent = Refusal.Rule("iommufd_hwpt_paging_alloc.fault_nest_parent",
                                                       "a nest parent cannot report I/O page faults")
    /// `iommufd_hwpt_nested_alloc` and `iommufd_viommu_alloc_hwpt_nested`: `!user_data->len`.
    public static let nestedWithoutData = Refusal.Rule("iommufd_hwpt_nested_alloc.no_data",
                                                       "a nested HWPT needs the driver's stage-1 data (data_len is 0)")
    /// `iommufd_hwpt_nested_alloc`: `!ops->domain_alloc_nested`.
    public static let driverCannotNest = Refusal.Rule("iommufd_hwpt_nested_alloc.no_domain_alloc_nested",
                                                      "the device's IOMMU driver cannot nest on a paging HWPT")
    /// `iommufd_hwpt_nested_alloc`: `parent->auto_domain`.
    public static let automaticParent = Refusal.Rule("iommufd_hwpt_nested_alloc.auto_domain",
                                                     "the parent is an automatic HWPT, which cannot be a nest parent")
    /// `iommufd_hwpt_nested_alloc`: `!parent->nest_parent`.
    public static let nestedOnNonNestParent = Refusal.Rule("iommufd_hwpt_nested_alloc.not_nest_parent",
                                                           "the parent HWPT was not allocated with IOMMU_HWPT_ALLOC_NEST_PARENT")
    /// `iommufd_hwpt_nested_alloc`: `parent->common.domain->owner != ops`.
    public static let parentOfOtherDriver = Refusal.Rule("iommufd_hwpt_nested_alloc.other_driver",
                                                         "the parent HWPT's domain belongs to another IOMMU driver")
    /// `iommufd_hwpt_alloc` and `iommufd_vdevice_alloc_ioctl`:
    /// `viommu->iommu_dev != __iommu_get_iommu_dev(idev->dev)`.
    public static let viommuOfOtherIOMMU = Refusal.Rule("viommu.iommu_dev", "the device is behind another IOMMU instance than the vIOMMU")
    /// `iommufd_hwpt_invalidate`: `cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)`.
    public static let invalidationWithoutArray = Refusal.Rule("iommufd_hwpt_invalidate.no_array",
                                                              "entry_num is not 0 but data_uptr or entry_len is")
    /// `iommufd_hwpt_invalidate`: `hwpt_id` names neither an HWPT_NESTED nor a vIOMMU.
    public static let notInvalidationTarget = Refusal.Rule("iommufd_hwpt_invalidate.not_nested",
                                                           "hwpt_id names neither a nested HWPT nor a vIOMMU")
    /// `iommufd_viommu_alloc_ioctl`: `cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT`.
    public static let defaultVIOMMUType = Refusal.Rule("iommufd_viommu_alloc_ioctl.default_type",
                                                       "a vIOMMU needs a driver's type, not IOMMU_VIOMMU_TYPE_DEFAULT")
    /// `iommufd_viommu_alloc_ioctl`: `!hwpt_paging->nest_parent`.
    public static let viommuOnNonNestParent = Refusal.Rule("iommufd_viommu_alloc_ioctl.not_nest_parent",
                                                           "the HWPT was not allocated with IOMMU_HWPT_ALLOC_NEST_PARENT")
    /// `iommufd_vdevice_alloc_ioctl`: `idev->vdev` is set.
    public static let deviceHasVDevice = Refusal.Rule("iommufd_vdevice_alloc_ioctl.device_has_vdevice",
                                                      "the device already has a vDEVICE")
    /// `iommufd_vdevice_alloc_ioctl`: `xa_cmpxchg(&viommu->vdevs, virt_id, NULL, …)` finds one.
    public static let virtualIDTaken = Refusal.Rule("iommufd_vdevice_alloc_ioctl.virt_id",
                                                    "another vDEVICE of the vIOMMU has this virtual id")
}

extension HWPTAllocFlags {
    /// The uAPI names of the set bits, lowest first: `IOMMU_HWPT_ALLOC_NEST_PARENT`.
    var uapiNames: [String] {
        [(HWPTAllocFlags.nestParent, "IOMMU_HWPT_ALLOC_NEST_PARENT"), (.dirtyTracking, "IOMMU_HWPT_ALLOC_DIRTY_TRACKING"),
         (.faultIDValid, "IOMMU_HWPT_FAULT_ID_VALID"), (.pasid, "IOMMU_HWPT_ALLOC_PASID")]
            .filter { contains($0.0) }.map(\.1)
    }
}

extension Refusal.InvolvedValue {
    /// A flag of `IOMMU_HWPT_ALLOC` a check required or refused, by its uAPI name.
    static func flag(_ flags: HWPTAllocFlags) -> Self { Self(flags.uapiNames.joined(separator: "|"), nil, .flag) }
}

extension Refusal {
    /// The flags of `IOMMU_HWPT_ALLOC` (or a driver's `domain_alloc_paging_flags` /
    /// `domain_alloc_nested`) with the bits outside `valid` (EOPNOTSUPP).
    static func unsupportedFlags(_ flags: HWPTAllocFlags, valid: HWPTAllocFlags) -> Refusal {
        .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags.subtracting(valid).rawValue))
    }
}
