/// The rules of the IOAS ioctls (`ioas.c`), of `io_pagetable.c` behind them, of IOMMU_OPTION
/// and of IOMMU_DESTROY and the object table (`main.c`).
extension Refusal.Rule {
    // MARK: IOMMU_IOAS_ALLOC and the object table

    /// `_iommufd_object_alloc`: `xa_alloc` in `[1, INT_MAX]` finds no free id (ENOSPC).
    public static let objectTableFull = Refusal.Rule("xa_alloc.full", "the object table has no free id")

    /// `iommufd_object_remove` (IOMMU_DESTROY): `refcount_dec_if_one(&obj->users)` fails
    /// because something besides the table holds the object (EBUSY).
    public static let destroyBusy = Refusal.Rule("iommufd_destroy.busy", "other objects, files or bindings still hold the object")

    // MARK: IOMMU_IOAS_MAP, COPY and UNMAP

    /// `iommufd_ioas_map`, `iommufd_ioas_copy`, `iommufd_ioas_unmap`:
    /// `cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX` (EOVERFLOW).
    public static let ioasULongMax = Refusal.Rule("iommufd_ioas.ulong_max", "an IOVA or a length is ULONG_MAX or more")

    /// `iommufd_ioas_map`, `iommufd_ioas_copy`: neither IOMMU_IOAS_MAP_READABLE nor
    /// IOMMU_IOAS_MAP_WRITEABLE in the flags (EINVAL).
    public static let ioasMapNoAccess = Refusal.Rule("iommufd_ioas_map.no_access", "the flags allow neither reading nor writing")

    /// `iopt_alloc_pages`: `length > SIZE_MAX - PAGE_SIZE || length == 0` (EINVAL).
    public static let allocPagesLength = Refusal.Rule("iopt_alloc_pages.length", "the length is zero or within a page of SIZE_MAX")

    /// `iopt_alloc_area_pages`: `(length & (iopt->iova_alignment - 1)) || !length` (EINVAL).
    public static let areaPagesLength = Refusal.Rule("iopt_alloc_area_pages.length",
                                                     "the length is zero or not a multiple of the IOAS's IOVA alignment")

    /// `iopt_check_iova`: `iova & (iopt->iova_alignment - 1)` (EINVAL).
    public static let checkIOVAUnaligned = Refusal.Rule("iopt_check_iova.unaligned", "the IOVA is not a multiple of the IOAS's IOVA alignment")

    /// `iopt_check_iova`: `iopt_reserved_iter_first(iopt, iova, last)` finds a reservation
    /// of a device (or of the selftest) (EINVAL).
    public static let checkIOVAReserved = Refusal.Rule("iopt_check_iova.reserved", "the range overlaps a reserved range")

    /// `iopt_check_iova`: `iopt_reserved_iter_first` finds the reservation an attached domain
    /// made of what lies outside its aperture (`iopt_table_add_domain`) (EINVAL).
    public static let checkIOVAOutsideAperture = Refusal.Rule("iopt_check_iova.outside_aperture",
                                                              "the range falls outside the aperture of an attached domain")

    /// `iopt_check_iova`: `iopt_area_iter_first(iopt, iova, last)` finds an area (EEXIST).
    public static let checkIOVAMapped = Refusal.Rule("iopt_check_iova.mapped", "the range overlaps an area already mapped")

    /// `iopt_alloc_iova`: `length == 0 || length >= ULONG_MAX / 2` (EOVERFLOW).
    public static let allocIOVALength = Refusal.Rule("iopt_alloc_iova.length", "the length is zero or half the address space or more")

    /// `iopt_alloc_iova`: `iova_alignment < iopt->iova_alignment`, the alignment the user
    /// address and length allow being below the IOAS's (EINVAL).
    public static let allocIOVAAlignment = Refusal.Rule("iopt_alloc_iova.alignment",
                                                        "the user address and length allow no IOVA alignment as large as the IOAS's")

    /// `iopt_alloc_iova`: no allowed span has a hole of reserved ranges and areas that fits (ENOSPC).
    public static let allocIOVANoSpace = Refusal.Rule("iopt_alloc_iova.no_space", "no free IOVA range is large enough")

    /// `iopt_insert_area`: `area->page_offset & (iopt->iova_alignment - 1)` (EINVAL).
    public static let insertAreaPageOffset = Refusal.Rule("iopt_insert_area.page_offset",
                                                          "the user address's offset in its page is not a multiple of the IOAS's IOVA alignment")

    /// `pfn_reader_user_pin` (`pin_user_pages_remote`) and the selftest's `get_user_pages`:
    /// no VMA backs a page (EFAULT).
    public static let userPagesUnbacked = Refusal.Rule("pin_user_pages.unbacked", "no mapping backs the user memory")

    /// `iopt_unmap_iova`, `iopt_get_pages`, `iommufd_access_pin_pages`, `iommufd_access_rw`:
    /// `if (!length)` (EINVAL).
    public static let ioptZeroLength = Refusal.Rule("iopt.zero_length", "the length is zero")

    /// `iopt_unmap_iova_range`: `area_first < start || area_last > last`; areas are never split (ENOENT).
    public static let unmapPartialArea = Refusal.Rule("iopt_unmap_iova_range.partial_area",
                                                      "an area reaches outside the range, and areas are never split")

    /// `iopt_unmap_iova_range`: `area->num_accesses` stays set after
    /// `iommufd_access_notify_unmap`, the retries run out (EDEADLOCK).
    public static let unmapAccessPinned = Refusal.Rule("iopt_unmap_iova_range.access_pinned",
                                                       "an access still pins the area after being told to unmap it")

    /// `iopt_unmap_iova_range`: no area in the range, `rc` stays -ENOENT.
    public static let unmapNotMapped = Refusal.Rule("iopt_unmap_iova_range.not_mapped", "no area lies in the range")

    /// `iopt_get_pages` (IOAS_COPY), `iommufd_access_pin_pages`, `iommufd_access_rw`:
    /// `!iopt_area_contig_done(&iter)`, the areas leave a hole in the range (ENOENT).
    public static let areaContigGap = Refusal.Rule("iopt_area_contig_done.gap", "the range is not covered by areas without a gap")

    // MARK: IOMMU_IOAS_ALLOW_IOVAS and reservations

    /// `iommufd_ioas_allow_iovas`: `range.start >= range.last` (EINVAL).
    public static let allowIOVAsEmptyRange = Refusal.Rule("iommufd_ioas_allow_iovas.start_not_below_last", "a range's start is not below its last")

    /// `iommufd_ioas_allow_iovas`: `interval_tree_iter_first(&allowed_iova, …)` finds an
    /// earlier range of the same call (EINVAL).
    public static let allowIOVAsOverlap = Refusal.Rule("iommufd_ioas_allow_iovas.overlap", "two of the ranges overlap")

    /// `iopt_set_allow_iova`: `iopt_reserved_iter_first` finds a reservation under an
    /// allowed range (EADDRINUSE).
    public static let setAllowIOVAReserved = Refusal.Rule("iopt_set_allow_iova.reserved", "an allowed range overlaps a reserved range")

    /// `iopt_reserve_iova`: `iopt_area_iter_first(iopt, start, last)` finds an area (EADDRINUSE).
    public static let reserveIOVAMapped = Refusal.Rule("iopt_reserve_iova.mapped", "the range to reserve overlaps a mapped area")

    /// `iopt_reserve_iova`: `iopt_allowed_iter_first(iopt, start, last)` finds an allowed
    /// range (EADDRINUSE).
    public static let reserveIOVAAllowed = Refusal.Rule("iopt_reserve_iova.allowed", "the range to reserve overlaps an allowed range")

    // MARK: Alignment

    /// `iopt_table_add_domain`: `new_iova_alignment > PAGE_SIZE`, a domain whose smallest
    /// page is larger than the CPU's (EINVAL).
    public static let addDomainPageSize = Refusal.Rule("iopt_table_add_domain.page_size", "the domain's smallest IO page is larger than PAGE_SIZE")

    /// `iopt_check_iova_alignment`: an area's IOVA, length or page offset is not a multiple
    /// of the alignment a new domain, access or option needs (EADDRINUSE).
    public static let checkIOVAAlignmentArea = Refusal.Rule("iopt_check_iova_alignment.area",
                                                            "an area is not aligned to the IOVA alignment the change needs")

    // MARK: IOMMU_OPTION

    /// `iommufd_option`: `op` is neither IOMMU_OPTION_OP_SET nor IOMMU_OPTION_OP_GET (EOPNOTSUPP).
    public static let optionUnknownOp = Refusal.Rule("iommufd_option.op", "the op is neither IOMMU_OPTION_OP_SET nor IOMMU_OPTION_OP_GET")

    /// `iommufd_option`: the switch on `option_id` has no case for it (EOPNOTSUPP).
    public static let optionUnknownOption = Refusal.Rule("iommufd_option.option_id", "no option has this id")

    /// `iommufd_option_rlimit_mode` and `iommufd_ioas_option_huge_pages`: `val64 > 1` (EINVAL).
    public static let optionValue = Refusal.Rule("iommufd_option.value", "the option's value is neither 0 nor 1")

    /// `iommufd_option_rlimit_mode`: `if (cmd->object_id)` (EOPNOTSUPP).
    public static let optionRLimitModeObject = Refusal.Rule("iommufd_option_rlimit_mode.object_id", "RLIMIT_MODE applies to the file, not to an object")

    /// `iommufd_option_rlimit_mode`: `!capable(CAP_SYS_RESOURCE)` on SET (EPERM).
    public static let optionRLimitModeCapability = Refusal.Rule("iommufd_option_rlimit_mode.cap_sys_resource",
                                                                "setting RLIMIT_MODE needs CAP_SYS_RESOURCE")

    /// `iommufd_option_rlimit_mode`: `!xa_empty(&ictx->objects)` on SET (EBUSY).
    public static let optionRLimitModeObjects = Refusal.Rule("iommufd_option_rlimit_mode.objects",
                                                             "RLIMIT_MODE can only be set while the file holds no objects")

    /// `iopt_disable_large_pages`: `!xa_empty(&iopt->domains) && !RB_EMPTY_ROOT(&iopt->area_itree)` (EINVAL).
    public static let disableLargePagesMapped = Refusal.Rule("iopt_disable_large_pages.mapped",
                                                             "large pages cannot be disabled while domains are attached and areas mapped")
}

extension ReservationOwner {
    /// The object a refusal names as the reservation's owner: the device, or the HWPT whose
    /// domain's aperture leaves the range out; the selftest's reservations have none.
    var involvedObject: Refusal.InvolvedObject? {
        switch self {
        case .device(let id, _): Refusal.InvolvedObject(id, .device, .owner)
        case .domain(let id): Refusal.InvolvedObject(id, .hwptPaging, .owner)
        case .test: nil
        }
    }

    /// What the reserved range is, as a refusal notes it: the device region's type, the
    /// outside of a domain's aperture, or the selftest's op.
    var note: String {
        switch self {
        case .device(_, let type): type.rawValue
        case .domain: "outside the aperture"
        case .test: "IOMMU_TEST_OP_ADD_RESERVED"
        }
    }
}

extension Refusal {
    /// A requested range that collided with a reservation: the range, the reserved range
    /// (noted with what it is) and its owner.
    static func reserved(_ errno: Errno, _ rule: Rule, requested: IOVARange, _ reservation: Reservation) -> Refusal {
        Refusal(errno, rule, objects: reservation.owner.involvedObject.map { [$0] } ?? [],
                ranges: [InvolvedRange(requested, .requested), InvolvedRange(reservation.range, .reserved, note: reservation.owner.note)])
    }
}

extension Refusal {
    /// EOVERFLOW for an IOVA or length of an IOAS ioctl at ULONG_MAX or more; `fields` are
    /// the ones the check looked at, by their uAPI names.
    static func ioasULongMax(_ fields: KeyValuePairs<String, UInt64>) -> Refusal {
        Refusal(.EOVERFLOW, .ioasULongMax, values: fields.filter { $0.value == .max }.map { InvolvedValue($0.key, $0.value, .requested) })
    }

    /// EINVAL for MAP and COPY flags without READABLE or WRITEABLE.
    static func ioasMapNoAccess(_ flags: UInt32) -> Refusal {
        Refusal(.EINVAL, .ioasMapNoAccess, values: [InvolvedValue("flags", UInt64(flags), .requested),
                                                    InvolvedValue("IOMMU_IOAS_MAP_READABLE|IOMMU_IOAS_MAP_WRITEABLE", nil, .flag)])
    }

    /// EFAULT for user memory no mapping backs: the user VA (and the length pinned from it).
    static func userPagesUnbacked(_ userVA: UInt64, length: UInt64? = nil) -> Refusal {
        Refusal(.EFAULT, .userPagesUnbacked, values: [InvolvedValue("user_va", userVA, .requested)]
                + (length.map { [InvolvedValue("length", $0, .requested)] } ?? []))
    }

    /// ENOENT for a range of an IOAS the areas do not cover: the range and the first IOVA
    /// no area maps.
    static func areaContigGap(_ ioas: IOAS, _ range: IOVARange, unmappedAt iova: UInt64) -> Refusal {
        Refusal(.ENOENT, .areaContigGap, objects: [InvolvedObject(ioas, .requested)], ranges: [InvolvedRange(range, .requested)],
                values: [InvolvedValue("unmapped_iova", iova, .requested)])
    }

    /// EINVAL for an option value other than 0 and 1.
    static func optionValue(_ value: UInt64) -> Refusal {
        Refusal(.EINVAL, .optionValue, values: [InvolvedValue("val64", value, .requested)])
    }

    /// EOPNOTSUPP for an op that is neither SET nor GET.
    static func optionUnknownOp(_ op: UInt16) -> Refusal {
        Refusal(.EOPNOTSUPP, .optionUnknownOp, values: [InvolvedValue("op", UInt64(op), .requested)])
    }
}
