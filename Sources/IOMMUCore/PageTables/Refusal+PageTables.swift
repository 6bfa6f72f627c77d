/// The checks of `iommu_map` and the page-table code under it (io-pgtable and generic_pt
/// `map_pages`) that refuse a mapping before or while writing descriptors.
extension Refusal.Rule {
    /// `iommu_map_nosync`: `size` is 0 (the model refuses an empty run as an overflow).
    public static let pageTableEmptyMap = Refusal.Rule("iommu_map_nosync.size", "the length is zero")
    /// `iommu_map_nosync`: `!IS_ALIGNED(iova | paddr | size, min_pagesz)` ("unaligned: iova …
    /// pa … size … min_pagesz …"), `min_pagesz` the smallest size of the pgsize bitmap.
    public static let pageTableUnaligned = Refusal.Rule(
        "iommu_map_nosync.unaligned", "the IOVA, the physical address and the length must be multiples of the smallest page size")
    /// generic_pt `map_pages` (and `iommu_v1_map_pages`): `!(prot & (IOMMU_READ | IOMMU_WRITE))`.
    public static let pageTableNoAccess = Refusal.Rule("map_pages.prot", "the mapping grants neither IOMMU_READ nor IOMMU_WRITE")
    /// `vtdss_pt_iommu_set_prot` with `PT_FEAT_VTDSS_FORCE_WRITEABLE`: "Read-only mapping is
    /// disallowed on the domain which serves as the parent in a nested configuration"
    /// (ERRATA_772415_SPR17).
    public static let pageTableReadOnlyNestParent = Refusal.Rule(
        "vtdss_pt_iommu_set_prot.force_writeable", "a nest parent's table takes no read-only mapping (ERRATA_772415_SPR17)")
    /// generic_pt `check_map_range` → `pt_check_range`: the range runs past what the top
    /// level translates, and the top cannot grow (or has grown as far as it can).
    public static let pageTableBeyondTop = Refusal.Rule("pt_check_range.beyond_top", "the range runs past what the table's top level translates")
    /// `map_pages` (`arm_lpae_init_pte`'s "already mapped", generic_pt's present entry):
    /// the range, or a table on the way to it, already holds a translation.
    public static let pageTableMapped = Refusal.Rule("map_pages.mapped", "the range is already mapped")
    /// `arm_lpae_map_pages`: `(pgsize & cfg->pgsize_bitmap) != pgsize`: no level holds a leaf
    /// of the page size.
    public static let pageTablePageSize = Refusal.Rule("map_pages.pgsize", "no level of the table holds a page of this size")
}

extension Refusal {
    /// EOVERFLOW for a run `[iova, iova + length)` that is empty or wraps past 2^64.
    static func mapRange(iova: UInt64, length: UInt64) -> Refusal {
        guard length > 0 else { return Refusal(.EOVERFLOW, .pageTableEmptyMap, values: [InvolvedValue("size", 0, .requested)]) }
        return .addressOverflow(iova, length: length)
    }

    /// EEXIST for `range`, with the mapping already in the table's way.
    static func mapped(_ range: IOVARange, existing: IOVARange?) -> Refusal {
        Refusal(.EEXIST, .pageTableMapped, ranges: [InvolvedRange(range, .requested)] + (existing.map { [InvolvedRange($0, .existing)] } ?? []))
    }

    /// `map_pages`' EINVAL for `prot` granting neither read nor write.
    static func noAccess(_ prot: IOMMUProt) -> Refusal {
        Refusal(.EINVAL, .pageTableNoAccess, values: [InvolvedValue("prot", UInt64(prot.rawValue), .requested)])
    }
}

extension Refusal.InvolvedValue {
    /// `limit pgsize_bitmap=0x40201000`.
    static func pageSizes(_ bitmap: UInt64) -> Self { Self("pgsize_bitmap", bitmap, .limit) }
}
