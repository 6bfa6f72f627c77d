/// The checks of `drivers/iommu/amd/iommu.c` (v6.17) that refuse an allocation or an attach.
extension Refusal.Rule {
    /// `amd_iommu_domain_alloc_paging_flags`, `case IOMMU_HWPT_ALLOC_DIRTY_TRACKING`:
    /// `!amd_iommu_hd_support(iommu)` breaks out to EOPNOTSUPP.
    public static let amdViDirtyWithoutHD = Refusal.Rule(
        "amd_iommu_domain_alloc_paging_flags.hd_support", "dirty tracking needs host dirty-bit support (EFR.HDSUP)")
    /// `amd_iommu_domain_alloc_paging_flags`, `default:`: dirty tracking with a PASID, which no
    /// table offers (v1 tables track dirty pages, v2 tables serve PASIDs).
    public static let amdViFlagCombination = Refusal.Rule(
        "amd_iommu_domain_alloc_paging_flags.combination",
        "dirty tracking (a v1 table) and PASIDs (a v2 table) cannot be combined")
    /// `amd_iommu_ops` has no `domain_alloc_nested` in v6.17, and no nested domain attaches.
    public static let amdViNoNesting = Refusal.Rule("amd_iommu_ops.domain_alloc_nested", "AMD-Vi has no nested domains")
    /// `amd_iommu_attach_device`: `dom->dirty_ops && !amd_iommu_hd_support(iommu)`.
    public static let amdViAttachDirtyWithoutHD = Refusal.Rule(
        "amd_iommu_attach_device.hd_support", "the domain tracks dirty pages and the IOMMU has no host dirty bits (EFR.HDSUP)")
    /// `pdom_id_alloc`: `ida_alloc_range(&pdom_ids, 1, MAX_DOMAIN_ID - 1)` finds no free id.
    public static let amdViDomainIDsExhausted = Refusal.Rule("pdom_id_alloc.exhausted", "every DomainID below MAX_DOMAIN_ID is in use")
    /// Placing a dumped DTE (debugfs `devtbl`): the entry's address in the device table is
    /// not backed by the simulated memory.
    public static let amdViDeviceTableUnbacked = Refusal.Rule(
        "devtbl.unbacked", "the device table entry's address is not backed by memory")
}
