/// Checks every IOMMU driver makes in the same way (`struct iommu_ops` callbacks and the core
/// around them), for each driver to throw with its own values.
extension Refusal.Rule {
    /// `hw_info`: the requested `iommu_hw_info_type` is neither the driver's own nor DEFAULT.
    public static let hardwareInfoType = Refusal.Rule("hw_info.type", "the driver reports no hardware info of this type")
    /// `domain_alloc_paging_flags`: `user_data` for a driver whose paging domains take none.
    public static let pagingDomainData = Refusal.Rule("domain_alloc_paging_flags.user_data",
                                                      "the driver takes no driver data for a paging HWPT")
    /// `domain_alloc_nested`: `user_data->type` is not the driver's stage-1 data type.
    public static let nestedDataType = Refusal.Rule("domain_alloc_nested.data_type",
                                                    "the driver takes no stage-1 data of this type")
    /// `domain_iommu_ops_compatible`: the domain (or a nested domain's parent) belongs to another driver.
    public static let domainOfOtherDriver = Refusal.Rule("domain_iommu_ops_compatible.other_driver",
                                                         "the domain belongs to another IOMMU driver")
    /// `cache_invalidate_user` / `cache_invalidate`: `array->type` is not the driver's.
    public static let invalidationDataType = Refusal.Rule("cache_invalidate_user.data_type",
                                                          "the driver takes no invalidation entries of this type")
    /// `iommufd_viommu_alloc_ioctl`: `!ops->get_viommu_size || !ops->viommu_init`.
    public static let driverMakesNoVIOMMU = Refusal.Rule("iommufd_viommu_alloc_ioctl.no_viommu_ops",
                                                         "the device's IOMMU driver makes no vIOMMU")
    /// `iommufd_viommu_alloc_ioctl`: `get_viommu_size` returns 0 for the type.
    public static let vIOMMUType = Refusal.Rule("get_viommu_size.type", "the driver makes no vIOMMU of this type")
    /// `iommufd_viommu_alloc_hwpt_nested`: `!viommu->ops->alloc_domain_nested`.
    public static let vIOMMUCannotNest = Refusal.Rule("iommufd_viommu_alloc_hwpt_nested.no_alloc_domain_nested",
                                                      "the vIOMMU's driver allocates no nested HWPT")
    /// `iommufd_hwpt_invalidate`: `!viommu->ops->cache_invalidate`.
    public static let vIOMMUCannotInvalidate = Refusal.Rule("iommufd_hwpt_invalidate.no_cache_invalidate",
                                                            "the vIOMMU's driver has no cache invalidation")
}

extension Refusal {
    /// EOPNOTSUPP for an `iommu_hw_info_type` a driver does not report.
    public static func hardwareInfoType(_ type: UInt32) -> Refusal {
        Refusal(.EOPNOTSUPP, .hardwareInfoType, values: [InvolvedValue("in_data_type", UInt64(type), .requested)])
    }

    /// EOPNOTSUPP for stage-1 data of a type a driver does not take.
    public static func nestedDataType(_ type: UInt32) -> Refusal {
        Refusal(.EOPNOTSUPP, .nestedDataType, values: [InvolvedValue("data_type", UInt64(type), .requested)])
    }

    /// EINVAL for an invalidation array of a type a driver does not take.
    public static func invalidationDataType(_ type: UInt32) -> Refusal {
        Refusal(.EINVAL, .invalidationDataType, values: [InvolvedValue("data_type", UInt64(type), .requested)])
    }

    /// EOPNOTSUPP for a vIOMMU type a driver does not make.
    public static func vIOMMUType(_ type: UInt32) -> Refusal {
        Refusal(.EOPNOTSUPP, .vIOMMUType, values: [InvolvedValue("type", UInt64(type), .requested)])
    }

    /// The driver's EOPNOTSUPP for an entry's flags with bits other than `valid`.
    public static func unsupportedEntryFlags(_ flags: UInt64, valid: UInt64) -> Refusal {
        .unsupportedFlags(.EOPNOTSUPP, "flags", flags & ~valid)
    }
}
