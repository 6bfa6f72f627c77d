/// The rules of the simulated process and host memory: `mmap`/`munmap` (`mm/mmap.c`,
/// `mm/vma.c`), the pinned-page charges (`iommufd/pages.c`) and the host's frame allocator.
extension Refusal.Rule {
    /// `do_mmap`: `if (!len)` (EINVAL).
    public static let mmapZeroLength = Refusal.Rule("do_mmap.zero_length", "the length is zero")

    /// The model's `mmap` alignment (the scenario's `alignment=`), which must be a power of two (EINVAL).
    public static let mmapAlignment = Refusal.Rule("mmap.alignment", "the alignment is not a power of two")

    /// `do_mmap`: `len = PAGE_ALIGN(len); if (!len)`, the length rounded up to a page (a
    /// huge page with THP) wraps past 2^64 (ENOMEM).
    public static let mmapLengthWraps = Refusal.Rule("do_mmap.page_align", "the length rounded up to whole pages wraps past 2^64")

    /// `get_unmapped_area`: no free range of the user address space below TASK_SIZE fits (ENOMEM).
    public static let mmapNoSpace = Refusal.Rule("get_unmapped_area.no_space", "no free user address range is large enough")

    /// `do_vmi_munmap`: `offset_in_page(start) || start > TASK_SIZE || len > TASK_SIZE - start`,
    /// or an empty range (EINVAL).
    public static let munmapRange = Refusal.Rule("do_vmi_munmap.range", "the start is not page aligned, the length is zero, or the range wraps")

    /// `incr_user_locked_vm` (rlimit_mode 0) and `__account_locked_vm` (rlimit_mode 1):
    /// `locked_vm + npages > RLIMIT_MEMLOCK` without CAP_IPC_LOCK (ENOMEM).
    public static let lockedVMLimit = Refusal.Rule("update_mm_locked_vm.rlimit_memlock", "pinning the pages would pass RLIMIT_MEMLOCK")

    /// The model's frame allocator: a length that is zero or not in whole 4 KiB frames, or an
    /// alignment that is not a power of two (ENOMEM).
    public static let physicalAllocationArguments = Refusal.Rule("alloc_contig_pages.arguments",
                                                                 "the length is not in whole frames or the alignment not a power of two")

    /// The model's frame allocator: the host memory (`MemoryLimits.hostMemory`, below 2^52)
    /// has no room for the allocation (ENOMEM), as the page allocator on a host that ran out.
    public static let physicalMemoryExhausted = Refusal.Rule("alloc_contig_pages.no_memory", "the host's physical memory has no room left")
}

extension Refusal {
    /// ENOMEM for a length whose rounding up to `unit` wraps.
    static func mmapLengthWraps(_ length: UInt64, _ unit: UInt64) -> Refusal {
        Refusal(.ENOMEM, .mmapLengthWraps, values: [InvolvedValue("length", length, .requested), InvolvedValue("page", unit, .limit)])
    }

    /// ENOMEM for `pages` more pages than RLIMIT_MEMLOCK leaves room for on `locked` (the
    /// counter's name and value); `limit` is in pages.
    static func lockedVMLimit(_ pages: UInt64, locked: (name: String, pages: UInt64), limit: UInt64) -> Refusal {
        Refusal(.ENOMEM, .lockedVMLimit, values: [InvolvedValue("npages", pages, .requested), InvolvedValue(locked.name, locked.pages, .existing),
                                                  InvolvedValue("RLIMIT_MEMLOCK pages", limit, .limit)])
    }
}
