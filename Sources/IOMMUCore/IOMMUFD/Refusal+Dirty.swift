/// The rules of dirty tracking: `IOMMU_HWPT_SET_DIRTY_TRACKING`, `IOMMU_HWPT_GET_DIRTY_BITMAP`
/// (`hw_pagetable.c`, `io_pagetable.c`) and the selftest's `IOMMU_TEST_OP_DIRTY`.
extension Refusal.Rule {
    /// `iopt_set_dirty_tracking` and `iopt_read_and_clear_dirty_data`: `!domain->dirty_ops`,
    /// a domain allocated without IOMMU_HWPT_ALLOC_DIRTY_TRACKING (EOPNOTSUPP).
    public static let noDirtyOps = Refusal.Rule("iommu_domain.no_dirty_ops",
                                                "the HWPT's domain was allocated without IOMMU_HWPT_ALLOC_DIRTY_TRACKING")

    /// `iommufd_check_iova_range`: `iova` or `last_iova + 1` is not a multiple of
    /// `iopt->iova_alignment` (EINVAL).
    public static let dirtyRangeUnaligned = Refusal.Rule("iommufd_check_iova_range.unaligned",
                                                         "the range is not aligned to the IOAS's IOVA alignment")

    /// `iommufd_check_iova_range`: `!bitmap->page_size` (EINVAL).
    public static let dirtyZeroPageSize = Refusal.Rule("iommufd_check_iova_range.page_size", "the page size is zero")

    /// `iommufd_check_iova_range`: `iova` or `last_iova + 1` is not a multiple of
    /// `bitmap->page_size` (EINVAL).
    public static let dirtyRangePageUnaligned = Refusal.Rule("iommufd_check_iova_range.page_unaligned",
                                                             "the range is not aligned to the bitmap's page size")

    /// The model's bound on one bitmap (`IOMMUFD.dirtyBitmapMaximumBits`); the kernel pins
    /// the user's buffer chunk by chunk and has none (ENOMEM).
    public static let dirtyBitmapLimit = Refusal.Rule("iova_bitmap.model_limit", "the bitmap has more bits than the model builds")

    /// `iommufd_test_dirty`: `!page_size || !length || iova % page_size || length % page_size || !uptr` (EINVAL).
    public static let testDirtyArguments = Refusal.Rule("iommufd_test_dirty.arguments",
                                                        "the page size or length is zero, the range is not in whole pages, or there is no bitmap")

    /// `get_md_pagetable`: the HWPT's domain is not the mock driver's paging domain (EINVAL).
    public static let notMockPagetable = Refusal.Rule("get_md_pagetable.not_mock", "the HWPT's domain is not a mock domain")

    /// `iommufd_test_dirty`: `!(mock->flags & MOCK_DIRTY_TRACK)` (EINVAL).
    public static let testDirtyNotTracking = Refusal.Rule("iommufd_test_dirty.not_tracking", "dirty tracking is not enabled on the mock domain")

    /// `iommufd_test_dirty`: `copy_from_user` of the bitmap runs past the buffer (EFAULT).
    public static let testDirtyShortBitmap = Refusal.Rule("iommufd_test_dirty.short_bitmap", "the bitmap has fewer bits than the range has pages")
}

extension Refusal {
    /// EOPNOTSUPP for dirty tracking on a domain without it.
    static func noDirtyOps(_ hwpt: HWPTPaging) -> Refusal {
        Refusal(.EOPNOTSUPP, .noDirtyOps, objects: [InvolvedObject(hwpt, .requested)],
                values: [InvolvedValue("IOMMU_HWPT_ALLOC_DIRTY_TRACKING", nil, .flag)])
    }

    /// EINVAL for a selftest op on an HWPT that is not the mock's.
    static func notMockPagetable(_ hwpt: HWPT) -> Refusal {
        Refusal(.EINVAL, .notMockPagetable, objects: [InvolvedObject(hwpt, .requested)])
    }
}
