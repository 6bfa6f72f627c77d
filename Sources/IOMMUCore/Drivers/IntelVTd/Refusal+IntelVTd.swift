/// The checks of `drivers/iommu/intel/` (`iommu.c`, `nested.c`, `pasid.c`) that refuse an
/// allocation, an attach or a guest's invalidation.
extension Refusal.Rule {
    // MARK: intel_iommu_domain_alloc_second_stage

    /// `intel_iommu_domain_alloc_second_stage`: IOMMU_HWPT_ALLOC_NEST_PARENT and
    /// `!nested_supported(iommu)` (ECAP.NEST).
    public static let vtdNestParentWithoutNesting = Refusal.Rule(
        "intel_iommu_domain_alloc_second_stage.nesting", "a nest parent needs a unit that nests (ECAP.NEST)")
    /// `intel_iommu_domain_alloc_second_stage`: IOMMU_HWPT_ALLOC_DIRTY_TRACKING and
    /// `!ssads_supported(iommu)` (ECAP.SLADS with SMPWC).
    public static let vtdDirtyWithoutSSADS = Refusal.Rule(
        "intel_iommu_domain_alloc_second_stage.ssads",
        "dirty tracking needs second-stage access/dirty bits (ECAP.SLADS)")
    /// `intel_iommu_domain_alloc_second_stage`: `sm_supported(iommu) && !ecap_slts(iommu->ecap)`.
    public static let vtdNoSecondStage = Refusal.Rule(
        "intel_iommu_domain_alloc_second_stage.slts", "the unit has no second-stage translation (ECAP.SLTS)")

    // MARK: intel_iommu_domain_alloc_nested

    /// `intel_iommu_domain_alloc_nested`: `!nested_supported(iommu)`.
    public static let vtdNestedWithoutNesting = Refusal.Rule(
        "intel_iommu_domain_alloc_nested.nesting", "the unit cannot nest (ECAP.NEST)")
    /// `intel_iommu_domain_alloc_nested`: `parent->ops != intel_iommu_ops.default_domain_ops ||
    /// !s2_domain->nested_parent`.
    public static let vtdNestedParent = Refusal.Rule(
        "intel_iommu_domain_alloc_nested.parent", "the parent is not a VT-d second-stage nest parent")

    // MARK: paging_domain_compatible

    /// `paging_domain_compatible_first_stage`: `!sm_supported(iommu) || !ecap_flts(iommu->ecap)`.
    public static let vtdAttachNoFirstStage = Refusal.Rule(
        "paging_domain_compatible_first_stage.flts", "the domain is first-stage and the unit has no first-stage translation (ECAP.FLTS)")
    /// `paging_domain_compatible_second_stage`: `sm_supported(iommu) && !ecap_slts(iommu->ecap)`.
    public static let vtdAttachNoSecondStage = Refusal.Rule(
        "paging_domain_compatible_second_stage.slts", "the domain is second-stage and the unit has no second-stage translation (ECAP.SLTS)")
    /// `paging_domain_compatible_second_stage`: `dmar_domain->domain.dirty_ops && !ssads_supported(iommu)`.
    public static let vtdAttachDirtyWithoutSSADS = Refusal.Rule(
        "paging_domain_compatible_second_stage.ssads",
        "the domain tracks dirty pages and the unit has no second-stage access/dirty bits (ECAP.SLADS)")
    /// `paging_domain_compatible_second_stage`: `dmar_domain->nested_parent && !nested_supported(iommu)`.
    public static let vtdAttachNestParentWithoutNesting = Refusal.Rule(
        "paging_domain_compatible_second_stage.nesting", "the domain is a nest parent and the unit cannot nest (ECAP.NEST)")
    /// `paging_domain_compatible`: `dmar_domain->gaw > addr_width`: the domain translates more
    /// address bits than the unit's AGAW and CAP.MGAW allow.
    public static let vtdAttachAddressWidth = Refusal.Rule(
        "paging_domain_compatible.address_width", "the domain's address width exceeds the unit's")

    // MARK: intel_nested_attach_dev, intel_pasid_setup_nested

    /// `intel_nested_attach_dev`: the domain is not a VT-d stage-1 nested domain (the model's
    /// nested domains carry the data type they were allocated with).
    public static let vtdNestedConfiguration = Refusal.Rule(
        "intel_nested_attach_dev.s1_cfg", "the nested domain holds no VT-d stage-1 configuration")
    /// `intel_pasid_setup_nested`: `addr_width` is `ADDR_WIDTH_5LEVEL` and `!cap_fl5lp_support(iommu->cap)`.
    public static let vtdNestedFiveLevel = Refusal.Rule(
        "intel_pasid_setup_nested.fl5lp", "a 57-bit stage-1 table needs 5-level first-stage paging (CAP.FL5LP)")
    /// `intel_pasid_setup_nested`: `addr_width` is neither `ADDR_WIDTH_4LEVEL` nor `ADDR_WIDTH_5LEVEL`.
    public static let vtdNestedAddressWidth = Refusal.Rule(
        "intel_pasid_setup_nested.addr_width", "the stage-1 addr_width is neither 48 nor 57")

    // MARK: intel_nested_cache_invalidate_user

    /// `intel_nested_cache_invalidate_user`: `!IS_ALIGNED(inv_entry.addr, VTD_PAGE_SIZE)`.
    public static let vtdInvalidateUnaligned = Refusal.Rule(
        "intel_nested_cache_invalidate_user.addr_unaligned", "the entry's addr is not 4KiB aligned")
    /// `intel_nested_cache_invalidate_user`: `inv_entry.npages == U64_MAX && inv_entry.addr`.
    public static let vtdInvalidateAllWithAddress = Refusal.Rule(
        "intel_nested_cache_invalidate_user.npages_all", "npages U64_MAX invalidates everything and needs addr 0")
}

extension Refusal.InvolvedValue {
    /// `requested addr_width=0x39`.
    static func addressWidth(_ width: UInt32) -> Self { Self("addr_width", UInt64(width), .requested) }
}
