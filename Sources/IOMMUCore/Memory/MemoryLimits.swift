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

/// The process's pinned-page counters as `do_update_pinned` keeps them, in pages, and what
/// each pinned mapping was charged.
///
/// Each `IOAS_MAP` makes its own `iopt_pages`, so mapping the same memory twice pins (and
/// charges) it twice, as in the kernel; the areas `IOAS_COPY` makes share the source's
/// pages, and a page is charged once while any area holding it is pinned. A mapping's mode
/// is fixed when its pages are made, as `pages->account_mode` is, so a later change of the
/// limits releases what was taken.
public struct PinnedPageAccounting: Sendable, Equatable {
    /// One mapping: an IOAS area, by its IOAS and first IOVA.
    struct Key: Hashable, Sendable {
        var owner: ObjectIdentifier
        var start: UInt64
    }

    /// What an unshared mapping was charged, and to which counter.
    struct Charge: Equatable, Sendable {
        var pages: UInt64
        var mode: PinnedPageAccountMode
    }

    /// The pages of a COPY: page indices `first...last` of a source area, counted from the
    /// first page that area touches.
    struct PagesSource: Sendable {
        var area: Key
        /// `pages->npages` of the source area.
        var areaPages: UInt64
        var first: UInt64
        var last: UInt64
    }

    /// An `iopt_pages` shared by several areas: the page indices each pinned holder holds,
    /// and how many pages of their union are charged.
    struct SharedPages: Equatable, Sendable {
        var mode: PinnedPageAccountMode
        var holders: [Key: ClosedRange<UInt64>] = [:]
        var charged: UInt64 = 0
        /// Areas referring to these pages, pinned or not.
        var references = 0

        /// Pages in the union of the holders' index ranges.
        var held: UInt64 {
            var total: UInt64 = 0
            var end: UInt64?
            for range in holders.values.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                let start = end.map { max($0 &+ 1, range.lowerBound) } ?? range.lowerBound
                if start <= range.upperBound { total += range.upperBound - start + 1 }
                end = max(end ?? range.upperBound, range.upperBound)
            }
            return total
        }
    }

    /// An area's place in a shared `iopt_pages`.
    struct SharedReference: Equatable, Sendable {
        var pages: Int
        var indices: ClosedRange<UInt64>
    }

    /// `user->locked_vm`.
    public private(set) var userLockedVM: UInt64 = 0
    /// `mm->locked_vm`.
    public private(set) var mmLockedVM: UInt64 = 0
    /// `mm->pinned_vm`: every pinned page, whatever the mode.
    public private(set) var pinnedVM: UInt64 = 0
    private var charges: [Key: Charge] = [:]
    private var shared: [Int: SharedPages] = [:]
    private var references: [Key: SharedReference] = [:]
    private var nextShared = 0

    public init() {}

    /// Whether nothing is pinned or shared.
    public var isEmpty: Bool { pinnedVM == 0 && charges.isEmpty && shared.isEmpty }

    /// Charges the pages of `key` (`pages` of them unless it shares another area's pages);
    /// ENOMEM, with nothing charged, past the limit.
    mutating func charge(_ key: Key, pages: UInt64, mode: PinnedPageAccountMode, limits: MemoryLimits) throws(Refusal) {
        if let reference = references[key], var state = shared[reference.pages] {
            state.holders[key] = reference.indices
            let held = state.held
            try take(held - state.charged, state.mode, limits)
            state.charged = held
            shared[reference.pages] = state
            return
        }
        try take(pages, mode, limits)
        charges[key] = Charge(pages: pages, mode: mode)
    }

    /// Releases what `key` holds pinned (nothing if it holds nothing); it stays registered.
    mutating func release(_ key: Key) {
        if let reference = references[key], var state = shared[reference.pages] {
            guard state.holders.removeValue(forKey: key) != nil else { return }
            let held = state.held
            give(state.charged - held, state.mode)
            state.charged = held
            shared[reference.pages] = state
            return
        }
        guard let charge = charges.removeValue(forKey: key) else { return }
        give(charge.pages, charge.mode)
    }

    /// `key`'s area is gone: its pins are released and it no longer refers to any pages.
    mutating func forget(_ key: Key) {
        release(key)
        guard let reference = references.removeValue(forKey: key) else { return }
        shared[reference.pages]?.references -= 1
        if shared[reference.pages]?.references == 0 { shared[reference.pages] = nil }
    }

    /// `iopt_get_pages` for IOAS_COPY: `key`'s area takes its pages from `source`. A source
    /// that was unshared becomes shared, keeping what it has charged.
    mutating func share(_ source: PagesSource, with key: Key, mode: PinnedPageAccountMode) {
        let origin: SharedReference
        if let existing = references[source.area] {
            origin = existing
        } else {
            let id = nextShared
            nextShared += 1
            let charge = charges.removeValue(forKey: source.area)
            var state = SharedPages(mode: charge?.mode ?? mode, references: 1)
            if let charge {
                state.holders[source.area] = 0...(charge.pages - 1)
                state.charged = charge.pages
            }
            shared[id] = state
            origin = SharedReference(pages: id, indices: 0...(source.areaPages - 1))
            references[source.area] = origin
        }
        let start = origin.indices.lowerBound
        references[key] = SharedReference(pages: origin.pages, indices: (start + source.first)...(start + source.last))
        shared[origin.pages]?.references += 1
    }

    /// The same counters with every mapping's owner replaced by `owner(original)` (a fork's
    /// copy of the IOAS); mappings of an owner without one are left out.
    func rekeyed(by owner: (ObjectIdentifier) -> ObjectIdentifier?) -> PinnedPageAccounting {
        func key(_ original: Key) -> Key? { owner(original.owner).map { Key(owner: $0, start: original.start) } }
        func table<Value>(_ original: [Key: Value]) -> [Key: Value] {
            var rekeyed: [Key: Value] = [:]
            for (original, value) in original { if let copy = key(original) { rekeyed[copy] = value } }
            return rekeyed
        }
        var copy = self
        copy.charges = table(charges)
        copy.references = table(references)
        copy.shared = shared.mapValues { pages in
            var pages = pages
            pages.holders = table(pages.holders)
            return pages
        }
        return copy
    }

    private mutating func take(_ pages: UInt64, _ mode: PinnedPageAccountMode, _ limits: MemoryLimits) throws(Refusal) {
        let limit = limits.memlock / pageSize
        switch mode {
        case .none:
            break
        case .user:
            guard let total = userLockedVM.checkedAdd(pages), total <= limit else {
                throw .lockedVMLimit(pages, locked: ("user->locked_vm", userLockedVM), limit: limit)
            }
            userLockedVM = total
        case .mm:
            guard let total = mmLockedVM.checkedAdd(pages), total <= limit else {
                throw .lockedVMLimit(pages, locked: ("mm->locked_vm", mmLockedVM), limit: limit)
            }
            mmLockedVM = total
        }
        pinnedVM &+= pages
    }

    private mutating func give(_ pages: UInt64, _ mode: PinnedPageAccountMode) {
        switch mode {
        case .none: break
        case .user: userLockedVM -= pages
        case .mm: mmLockedVM -= pages
        }
        pinnedVM -= pages
    }
}
