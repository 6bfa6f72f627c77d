/// The rules of in-kernel accesses (`device.c`'s `iommufd_access_*`) and of the selftest
/// driver that drives them (`selftest.c`).
extension Refusal.Rule {
    /// The selftest's `iommufd_access_get`: `file->f_op != &iommfd_test_staccess_fops` (EBADFD).
    public static let accessGetNotAccess = Refusal.Rule("iommufd_access_get.not_access",
                                                        "the file descriptor is not a selftest access's")

    /// `iommufd_access_replace`, `iommufd_access_pin_pages`, `iommufd_access_rw`:
    /// `!access->ioas` (ENOENT).
    public static let accessNoIOAS = Refusal.Rule("iommufd_access.no_ioas", "the access is attached to no IOAS")

    /// `iommufd_test_access_pages`, `iommufd_test_access_rw`: `length > 16 * 1024 * 1024`,
    /// the guard against a large `kvzalloc` (ENOMEM).
    public static let testAccessLengthLimit = Refusal.Rule("iommufd_test_access.length_limit", "the selftest takes at most 16 MiB at once")

    /// `iommufd_test_access_pages`: `staccess->access->ops != &selftest_access_ops_pin`, an
    /// access created without MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES (EOPNOTSUPP).
    public static let testAccessNoPinPages = Refusal.Rule("iommufd_test_access_pages.no_pin_pages",
                                                          "the access was created without MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES")

    /// `iommufd_test_check_pages`: a page pinned is not the one `get_user_pages` finds at
    /// the user address (EBADE).
    public static let testCheckPagesMismatch = Refusal.Rule("iommufd_test_check_pages.mismatch", "a page pinned is not the user memory's page")

    /// `iommufd_test_access_item_destroy`: no item of the access has the id (ENOENT).
    public static let testAccessItemMissing = Refusal.Rule("iommufd_test_access_item_destroy.no_item",
                                                           "the access holds no pinned item with this id")

    /// `iommufd_access_pin_pages`: `!iopt_area_contig_is_aligned(area)`, a part of an area
    /// that does not start, or (but for the last) end, on a page boundary (EINVAL).
    public static let contigAreaUnaligned = Refusal.Rule("iopt_area_contig_is_aligned.unaligned",
                                                         "the range's part of an area does not start or end on a page boundary")

    /// `check_area_prot`: the area was mapped without IOMMU_READ (for a read) or
    /// IOMMU_WRITE (for a write) (EPERM).
    public static let areaProtDenied = Refusal.Rule("check_area_prot.denied", "the area's mapping does not allow the access")

    /// `iommufd_access_rw`: the host physical memory behind the IOVA holds no storage (EFAULT).
    public static let accessRWBusError = Refusal.Rule("iommufd_access_rw.bus_error", "no host memory backs the page behind the IOVA")
}

extension Refusal {
    /// ENOENT for an access attached to no IOAS.
    static func accessNoIOAS(_ access: Access) -> Refusal {
        Refusal(.ENOENT, .accessNoIOAS, objects: [InvolvedObject(access, .requested)])
    }

    /// ENOMEM for a selftest access request past 16 MiB.
    static func testAccessLengthLimit(_ length: UInt64) -> Refusal {
        Refusal(.ENOMEM, .testAccessLengthLimit,
                values: [InvolvedValue("length", length, .requested), InvolvedValue("length", MockAccessFlags.maximumLength, .limit)])
    }

    /// EPERM for an area whose protection lacks what the access does.
    static func areaProtDenied(_ area: IOVARange, write: Bool) -> Refusal {
        Refusal(.EPERM, .areaProtDenied, ranges: [InvolvedRange(area, .area)],
                values: [InvolvedValue(write ? "IOMMU_WRITE" : "IOMMU_READ", nil, .flag)])
    }
}
