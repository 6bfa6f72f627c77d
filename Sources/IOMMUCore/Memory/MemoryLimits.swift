/// The resource limits of the simulated VMM process and host, which bound how much memory a
/// scenario can pin and allocate (so a `mmap length=1T` answers ENOMEM instead of running for
/// minutes).
public struct MemoryLimits: Sendable, Equatable, Codable {
    /// 8 MiB: `MLOCK_LIMIT`, the default `ulimit -l` of a Linux process since v5.16.
    public static let defaultMemlock: UInt64 = 8 << 20
    /// 64 GiB: a typical VMM host, far above what any shipped scenario maps.
    public static let defaultHostMemory: UInt64 = 64 << 30

    /// `RLIMIT_MEMLOCK` of the process, in bytes; `UInt64.max` is `RLIM_INFINITY`.
    public var memlock: UInt64
    /// `capable(CAP_IPC_LOCK)`: `iopt_alloc_pages` then sets `IOPT_PAGES_ACCOUNT_NONE` and
    /// pinned pages are never charged against `memlock`. True by default because the
    /// kernel's selftests run as root, and every one of them passes today.
    public var capIPCLock: Bool
    /// `capable(CAP_SYS_RESOURCE)`, which setting IOMMU_OPTION_RLIMIT_MODE needs (EPERM
    /// without it). True by default, as for `capIPCLock`.
    public var capSysResource: Bool
    /// Bytes of host physical memory the frame allocator may hand out (VMM memory, page
    /// tables, configuration structures); past it an allocation fails with ENOMEM.
    public var hostMemory: UInt64

    public init(memlock: UInt64 = MemoryLimits.defaultMemlock, capIPCLock: Bool = true, capSysResource: Bool = true,
                hostMemory: UInt64 = MemoryLimits.defaultHostMemory) {
        self.memlock = memlock
        self.capIPCLock = capIPCLock
        self.capSysResource = capSysResource
        self.hostMemory = hostMemory
    }

    /// No limit at all: for benchmarks that map more than a host would.
    public static let unlimited = MemoryLimits(memlock: .max, capIPCLock: true, capSysResource: true, hostMemory: .max)
}

/// `enum iopt_pages_account_mode`: where the pages of one mapping are charged.
public enum PinnedPageAccountMode: Sendable, Equatable {
    /// CAP_IPC_LOCK: not charged (only `mm->pinned_vm` counts them).
    case none
    /// `incr_user_locked_vm`: `user->locked_vm`, against RLIMIT_MEMLOCK (rlimit_mode 0).
    case user
    /// `update_mm_locked_vm`: `mm->locked_vm`, against RLIMIT_MEMLOCK, as VFIO does (rlimit_mode 1).
    case mm
}

/// The process's pinned-page counters as `do_update_pinned` keeps them, in pages, and the
/// charge of each pinned mapping (its mode is fixed when it is pinned, as
/// `pages->account_mode` is, so a later change of the limits releases what was taken).
public struct PinnedPageAccounting: Sendable, Equatable {
    /// One pinned mapping: an IOAS area, by its IOAS and first IOVA.
    struct Key: Hashable, Sendable {
        var owner: ObjectIdentifier
        var start: UInt64
    }

    /// What one mapping was charged, and to which counter.
    struct Charge: Equatable, Sendable {
        var pages: UInt64
        var mode: PinnedPageAccountMode
    }

    /// `user->locked_vm`.
    public private(set) var userLockedVM: UInt64 = 0
    /// `mm->locked_vm`.
    public private(set) var mmLockedVM: UInt64 = 0
    /// `mm->pinned_vm`: every pinned page, whatever the mode.
    public private(set) var pinnedVM: UInt64 = 0
    private var charges: [Key: Charge] = [:]

    public init() {}

    /// Charges `pages` newly pinned pages of `key`; ENOMEM (and nothing charged) past the limit.
    mutating func charge(_ key: Key, pages: UInt64, mode: PinnedPageAccountMode, limits: MemoryLimits) throws(Errno) {
        let limit = limits.memlock / pageSize
        switch mode {
        case .none:
            break
        case .user:
            guard let total = userLockedVM.checkedAdd(pages), total <= limit else { throw .ENOMEM }
            userLockedVM = total
        case .mm:
            guard let total = mmLockedVM.checkedAdd(pages), total <= limit else { throw .ENOMEM }
            mmLockedVM = total
        }
        pinnedVM &+= pages
        charges[key] = Charge(pages: pages, mode: mode)
    }

    /// Releases what `charge` took for `key` (nothing if it holds no charge).
    mutating func release(_ key: Key) {
        guard let charge = charges.removeValue(forKey: key) else { return }
        switch charge.mode {
        case .none: break
        case .user: userLockedVM -= charge.pages
        case .mm: mmLockedVM -= charge.pages
        }
        pinnedVM -= charge.pages
    }
}
