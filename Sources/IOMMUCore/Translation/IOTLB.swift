/// An IOTLB: completed translations, tagged as the hardware tags them (SMMUv3 VMID and ASID,
/// VT-d DID and PASID), looked up before any walk. Entries stay until an invalidation
/// removes them, so a guest that edits its tables without invalidating keeps seeing the
/// stale translation. (QEMU flushes its whole SMMU IOTLB at 256 entries; real TLB sizes
/// vary, so this one keeps everything until told otherwise.)
///
/// Entries are filed per tag (`Filing`), each tag's in its own open-addressing table keyed
/// by input page and size: a hit is a probe or two per page size present, and an
/// invalidation by tag touches only that tag's entries.
public final class IOTLB {
    /// What an entry is tagged with: a stage-2 / domain tag and a stage-1 address-space tag
    /// (`nil` for entries of a single-stage translation that has none).
    public struct Tag: Hashable, Sendable {
        public var domain: UInt64?
        public var addressSpace: UInt64?
        public init(domain: UInt64?, addressSpace: UInt64?) {
            self.domain = domain
            self.addressSpace = addressSpace
        }
    }

    /// The leaf descriptor an entry was made from: its walk level and the granule of its
    /// table. Arm's TLBI hints (TG, TTL; IHI0070 4.4.1.1) narrow an invalidation to entries
    /// of one granule and one level, so the entry must remember both.
    public struct Leaf: Sendable, Equatable {
        public var level: Int
        public var granule: UInt64
    }

    public struct Entry: Sendable, Equatable {
        public var tag: Tag
        /// Input address aligned to `size`.
        public var input: UInt64
        public var size: UInt64
        public var output: UInt64
        public var rights: AccessRights
        /// The leaf of the stage that by-address invalidations name (stage 1 of a nested
        /// translation), where the architecture's invalidations can narrow by it.
        public var leaf: Leaf?
        /// A global entry (an Arm stage-1 leaf with nG = 0): it translates for every
        /// address-space tag of its domain, the one in `tag` being the one that filled it.
        public var global: Bool

        public init(tag: Tag, input: UInt64, size: UInt64, output: UInt64, rights: AccessRights, leaf: Leaf? = nil,
                    global: Bool = false) {
            self.tag = tag
            self.input = input
            self.size = size
            self.output = output
            self.rights = rights
            self.leaf = leaf
            self.global = global
        }

        /// The entry translates some address of `range` (what a range invalidation removes).
        public func overlaps(_ range: IOVARange) -> Bool {
            input <= range.last && input &+ (size - 1) >= range.start
        }

        /// The entry translates `address` (what a by-address invalidation removes).
        public func covers(_ address: UInt64) -> Bool { input <= address && address - input < size }
    }

    /// Arm's TLBI range hints (TG, TTL; IHI0070 4.4.1.1): only entries made from a leaf of
    /// `granule`, at `level` when one is given, are named.
    public struct LeafHint: Sendable, Equatable {
        public var granule: UInt64
        public var level: Int?
        public init(granule: UInt64, level: Int?) {
            self.granule = granule
            self.level = level
        }

        /// The hint names `entry`; an entry that kept no leaf is named by every hint.
        public func names(_ entry: Entry) -> Bool {
            guard let leaf = entry.leaf else { return true }
            return leaf.granule == granule && (level == nil || leaf.level == level)
        }
    }

    /// The entries an invalidation names by their tags.
    public enum Selection: Sendable, Equatable {
        /// Every entry of a domain tag (a VT-d DID, an AMD-Vi DomainID, an SMMU VMID).
        case domain(UInt64)
        /// The entries `tag` filled, global ones included (a PASID-based flush).
        case tag(Tag)
        /// The entries `tag` filled that are not global (Arm's TLBI by ASID).
        case nonGlobal(Tag)
        /// Every entry with an address-space tag in a domain tag (`nil`: entries without
        /// one), global ones included: what a stage-1-wide invalidation names.
        case addressSpaces(domain: UInt64?)
        /// The global entries of a domain tag, whatever address space filled them.
        case globals(domain: UInt64?)

        /// The selection names `entry`.
        public func selects(_ entry: Entry) -> Bool {
            switch self {
            case .domain(let domain): entry.tag.domain == domain
            case .tag(let tag): entry.tag == tag
            case .nonGlobal(let tag): entry.tag == tag && !entry.global
            case .addressSpaces(let domain): entry.tag.domain == domain && entry.tag.addressSpace != nil
            case .globals(let domain): entry.global && entry.tag.domain == domain
            }
        }

        /// How much of a filing's entries the selection names: a non-global filing is one
        /// tag, all or nothing; a domain's global filing mixes the tags that filled it.
        fileprivate func coverage(of filing: Filing) -> Coverage {
            guard filing.global else {
                let tag = Tag(domain: filing.domain, addressSpace: filing.addressSpace)
                switch self {
                case .domain(let domain): return filing.domain == domain ? .whole : .none
                case .tag(let named), .nonGlobal(let named): return tag == named ? .whole : .none
                case .addressSpaces(let domain): return filing.domain == domain && tag.addressSpace != nil ? .whole : .none
                case .globals: return .none
                }
            }
            switch self {
            case .domain(let domain): return filing.domain == domain ? .whole : .none
            case .globals(let domain): return filing.domain == domain ? .whole : .none
            case .tag(let named): return filing.domain == named.domain ? .some : .none
            case .nonGlobal: return .none
            case .addressSpaces(let domain): return filing.domain == domain ? .some : .none
            }
        }
    }

    /// What a selection names of one filing.
    fileprivate enum Coverage {
        /// Nothing.
        case none
        /// Every entry.
        case whole
        /// The entries `Selection.selects` names.
        case some
    }

    /// Where an entry is filed: under its tag, except that a global entry is filed under
    /// its domain alone, apart from that domain's own entries, so that one probe finds it
    /// for any address space.
    fileprivate struct Filing: Hashable {
        var domain: UInt64?
        var addressSpace: UInt64?
        var global: Bool

        /// Where `entry` is filed.
        init(of entry: Entry) {
            self.init(domain: entry.tag.domain, addressSpace: entry.global ? nil : entry.tag.addressSpace, global: entry.global)
        }

        /// The entries of `tag` itself.
        init(own tag: Tag) { self.init(domain: tag.domain, addressSpace: tag.addressSpace, global: false) }

        /// The global entries of `domain`.
        init(globalsOf domain: UInt64?) { self.init(domain: domain, addressSpace: nil, global: true) }

        private init(domain: UInt64?, addressSpace: UInt64?, global: Bool) {
            self.domain = domain
            self.addressSpace = addressSpace
            self.global = global
        }
    }

    /// Every entry, filed by tag. Its accesses skip the dynamic exclusivity check, which
    /// would cost a warm hit more than its probe: none of them runs code from outside this
    /// file (`invalidate(where:)` runs its predicate before it writes), so none can overlap
    /// another.
    @exclusivity(unchecked) private var storage = Storage()

    public init() {}

    public var count: Int { storage.entryCount }
    public var allEntries: [Entry] { storage.filed.flatMap(\.entries).sorted { ($0.input, $0.size) < ($1.input, $1.size) } }

    /// What a lookup answers: the entry's page and the translation it holds, read from the
    /// probed slot without the rest of the entry.
    public struct Hit: Sendable, Equatable {
        /// Input address aligned to `size`.
        public var input: UInt64
        public var size: UInt64
        public var output: UInt64
        public var rights: AccessRights

        /// What a lookup finding `entry` answers.
        public init(_ entry: Entry) {
            self.init(input: entry.input, size: entry.size, output: entry.output, rights: entry.rights)
        }

        init(input: UInt64, size: UInt64, output: UInt64, rights: AccessRights) {
            self.input = input
            self.size = size
            self.output = output
            self.rights = rights
        }
    }

    /// The entry that covers `input` for `tag`: one of the tag's own, or a global entry of
    /// its domain when the tag names an address space.
    @inline(__always)
    public func lookup(_ tag: Tag, _ input: UInt64) -> Hit? { storage.lookup(tag, input, hint: nil) }

    /// Where a tag's own entries are filed, for a caller that looks the same tag up again
    /// and again (a route): good while the filings stay where they are.
    struct FilingHint {
        fileprivate let position: Int
        /// The storage's layout when the hint was made.
        fileprivate let layout: UInt64
    }

    /// Where `tag`'s own entries are filed now; nil while it has none.
    func filingHint(for tag: Tag) -> FilingHint? { storage.filingHint(for: tag) }

    /// `lookup`, finding the tag's own entries where `hint` says while it holds.
    @inline(__always)
    func lookup(_ tag: Tag, _ input: UInt64, hint: FilingHint?) -> Hit? { storage.lookup(tag, input, hint: hint) }

    public func insert(_ entry: Entry) {
        precondition(entry.size.nonzeroBitCount == 1 && entry.input & (entry.size - 1) == 0,
                     "an IOTLB entry's input is aligned to its power-of-two size")
        storage.insert(entry)
    }

    /// Drops every entry (a global invalidation); returns how many went.
    @discardableResult
    public func invalidateAll() -> Int {
        storage.removeAll()
    }

    /// Drops the entries `selection` names that translate an address of `range` (`nil`:
    /// any address) and, given a leaf hint, that it names; returns how many went. Only the
    /// named tags' entries are visited: a small range probes its pages, a large one scans
    /// the tag's entries, and a whole tag is dropped at once.
    @discardableResult
    public func invalidate(_ selection: Selection, range: IOVARange? = nil, leaf hint: LeafHint? = nil) -> Int {
        storage.invalidate(selection, range: range, leaf: hint)
    }

    /// Drops every entry `matches` selects, visiting every entry; returns how many went.
    @discardableResult
    public func invalidate(where matches: (Entry) -> Bool) -> Int {
        storage.removeAll(marked: marks(matches))
    }

    /// `matches` of every entry, filing by filing: it runs on a copy of the filings that is
    /// gone before anything is removed.
    private func marks(_ matches: (Entry) -> Bool) -> [[Bool]] {
        let filed = storage.filed
        return filed.map { $0.entries.map(matches) }
    }
}

/// An IOTLB's entries: the filings that have entries, each with its own table.
private struct Storage {
    /// The filings that have entries (or had, before a `removeAll`), each with its entries.
    private(set) var filed: [FiledEntries] = []
    /// Each filing's position in `filed`, once there are more than `linearFilings` (empty
    /// until then).
    private var filingIndex: [IOTLB.Filing: Int] = [:]
    /// The page sizes of the entries inserted since the last `invalidateAll`, ascending: a
    /// lookup probes each, smallest first.
    private var sizes: [UInt64] = []
    private(set) var entryCount = 0
    /// How many entries are global: lookups skip the second probe while there are none.
    private var globalCount = 0
    /// Up to this many filings a linear search finds one faster than hashing a `Filing`.
    private static let linearFilings = 4
    /// Advanced whenever a filing leaves `filed` (and the ones after it may move): a filing
    /// hint holds while it stays as it was.
    private var layout: UInt64 = 0

    /// `IOTLB.filingHint(for:)`.
    func filingHint(for tag: IOTLB.Tag) -> IOTLB.FilingHint? {
        position(of: IOTLB.Filing(own: tag)).map { IOTLB.FilingHint(position: $0, layout: layout) }
    }

    /// The entry that covers `input` for `tag`: one of the tag's own (where `hint` says,
    /// while it holds), or a global entry of its domain when the tag names an address space.
    @inline(__always)
    func lookup(_ tag: IOTLB.Tag, _ input: UInt64, hint: IOTLB.FilingHint?) -> IOTLB.Hit? {
        let own = if let hint, hint.layout == layout { Optional(hint.position) } else { position(of: IOTLB.Filing(own: tag)) }
        guard globalCount > 0, tag.addressSpace != nil, let globals = position(of: IOTLB.Filing(globalsOf: tag.domain)) else {
            // The tag's own entries alone: what nearly every lookup probes.
            guard let own else { return nil }
            return filed[own].hit(input, sizes: sizes)
        }
        // By index: a `for` loop's iterator costs an allocation per lookup at -Onone.
        var at = 0
        while at < sizes.count {
            let size = sizes[at], base = input.alignedDown(to: size)
            at += 1
            if let own, let hit = filed[own].hit(base, size: size) { return hit }
            if let hit = filed[globals].hit(base, size: size) { return hit }
        }
        return nil
    }

    /// Inlined into `IOTLB.insert`, its one caller, with the filing's own insert: a fill
    /// makes one call, not three.
    @inline(__always)
    mutating func insert(_ entry: IOTLB.Entry) {
        let filing = IOTLB.Filing(of: entry)
        let at: Int
        if let known = position(of: filing) {
            at = known
        } else {
            at = filed.count
            filed.append(FiledEntries(filing))
            if filed.count > Self.linearFilings { index() }
        }
        if filed[at].insert(entry) {
            entryCount += 1
            if entry.global { globalCount += 1 }
        }
        if !sizes.contains(entry.size) { sizes.insert(entry.size, at: sizes.firstIndex { $0 > entry.size } ?? sizes.count) }
    }

    /// Drops every entry; returns how many went. A filing with entries stays, emptied, with
    /// its room for the next fills (what the translations after a global invalidation refill,
    /// as a hardware TLB keeps its RAM); one left empty since the last global invalidation
    /// goes. The sizes' array keeps its room too; a fork's copy gets its own.
    mutating func removeAll() -> Int {
        let dropped = entryCount
        for at in filed.indices.reversed() where !filed[at].clearKeepingRoom() {
            filed.remove(at: at)
            layout &+= 1
        }
        index()
        sizes.removeAll(keepingCapacity: true)
        entryCount = 0
        globalCount = 0
        return dropped
    }

    /// `IOTLB.invalidate(_:range:leaf:)`.
    mutating func invalidate(_ selection: IOTLB.Selection, range: IOVARange?, leaf hint: IOTLB.LeafHint?) -> Int {
        var dropped = 0
        for at in filed.indices.reversed() {
            let coverage = selection.coverage(of: filed[at].filing)
            switch coverage {
            case .none:
                continue
            case .whole where range == nil && hint == nil:
                dropped += book(filed[at].entries.count, from: at, emptied: true)
            case .whole, .some:
                let removed = filed[at].removeAll(overlapping: range, sizes: sizes) { entry in
                    (coverage == .whole || selection.selects(entry)) && (hint?.names(entry) ?? true)
                }
                dropped += book(removed, from: at, emptied: filed[at].entries.isEmpty)
            }
        }
        return dropped
    }

    /// Removes the entries whose flag is set in `marks`, a list per filing; returns how many went.
    mutating func removeAll(marked marks: [[Bool]]) -> Int {
        var dropped = 0
        for at in filed.indices.reversed() {
            let removed = filed[at].removeAll(marked: marks[at])
            dropped += book(removed, from: at, emptied: filed[at].entries.isEmpty)
        }
        return dropped
    }

    /// The position in `filed` of `filing`'s entries, if it has any.
    @inline(__always)
    private func position(of filing: IOTLB.Filing) -> Int? {
        guard filed.count > Self.linearFilings else {
            // By index, as `lookup`'s loop: no iterator.
            var at = 0
            while at < filed.count {
                if filed[at].filing == filing { return at }
                at += 1
            }
            return nil
        }
        return filingIndex[filing]
    }

    /// Books `removed` entries gone from the filing at `at`, and forgets the filing when it
    /// is `emptied` (the last filing takes its place); returns `removed`.
    private mutating func book(_ removed: Int, from at: Int, emptied: Bool) -> Int {
        entryCount -= removed
        if filed[at].filing.global { globalCount -= removed }
        if emptied {
            filed.swapAt(at, filed.count - 1)
            filed.removeLast()
            layout &+= 1
            index()
        }
        return removed
    }

    /// Rebuilds `filingIndex` over the filings, or empties it when there are too few.
    private mutating func index() {
        guard filed.count > Self.linearFilings else {
            if !filingIndex.isEmpty { filingIndex = [:] }
            return
        }
        filingIndex = [:]
        for (at, entries) in filed.enumerated() { filingIndex[entries.filing] = at }
    }
}

/// One filing's entries: a dense array, and an open-addressing index over it keyed by input
/// and size (a multiply-shift hash, linear probing, backward-shift deletion), kept at most
/// half full. Each slot also holds what a hit answers, so a lookup reads one slot and not
/// the entry.
private struct FiledEntries {
    /// An index slot: an entry's key and translation, and where the entry is.
    struct Slot {
        var input: UInt64
        var output: UInt64
        /// 0 for an empty slot, else 1 + the entry's position in `entries`.
        var position: UInt32
        /// log2 of the entry's size.
        var sizeShift: UInt8
        var rights: AccessRights

        static let empty = Slot(input: 0, output: 0, position: 0, sizeShift: 0, rights: [])

        init(input: UInt64, output: UInt64, position: UInt32, sizeShift: UInt8, rights: AccessRights) {
            self.input = input
            self.output = output
            self.position = position
            self.sizeShift = sizeShift
            self.rights = rights
        }

        init(_ entry: IOTLB.Entry, position: Int) {
            self.init(input: entry.input, output: entry.output, position: UInt32(position + 1),
                      sizeShift: UInt8(truncatingIfNeeded: entry.size.trailingZeroBitCount), rights: entry.rights)
        }

        @inline(__always)
        func holds(_ input: UInt64, sizeShift: UInt8) -> Bool { self.input == input && self.sizeShift == sizeShift }
    }

    let filing: IOTLB.Filing
    private(set) var entries: [IOTLB.Entry] = []
    private var slots: [Slot]
    /// 64 - log2(slots.count): a hash's top bits are its home slot.
    private var shift: UInt64
    private static let initialSlots = 8

    init(_ filing: IOTLB.Filing) {
        self.filing = filing
        slots = [Slot](repeating: .empty, count: Self.initialSlots)
        shift = UInt64(64 - Self.initialSlots.trailingZeroBitCount)
    }

    /// The translation of the entry for `input` of `size`, if there is one.
    @inline(__always)
    func hit(_ input: UInt64, size: UInt64) -> IOTLB.Hit? {
        guard let at = slot(input, size: size) else { return nil }
        let slot = slots[at]
        return IOTLB.Hit(input: slot.input, size: size, output: slot.output, rights: slot.rights)
    }

    /// The translation of the entry for `input`'s page of the first of `sizes` that has one.
    @inline(__always)
    func hit(_ input: UInt64, sizes: [UInt64]) -> IOTLB.Hit? {
        // By index: a `for` loop's iterator costs an allocation per lookup at -Onone.
        var at = 0
        while at < sizes.count {
            // A mask: every size filed is a power of two (`IOTLB.insert`).
            let size = sizes[at], base = input & ~(size &- 1)
            at += 1
            if let hit = hit(base, size: size) { return hit }
        }
        return nil
    }

    /// Adds `entry`, or replaces the one with its input and size; true when it was new.
    @inline(__always)
    mutating func insert(_ entry: IOTLB.Entry) -> Bool {
        // One probe finds the entry or, past the end of its run, the slot a new one takes.
        let (found, vacant) = probe(entry.input, size: entry.size)
        if let at = found {
            let position = Int(slots[at].position) - 1
            entries[position] = entry
            slots[at] = Slot(entry, position: position)
            return false
        }
        entries.append(entry)
        if entries.count * 2 > slots.count {
            reindex(slots: slots.count * 2)
        } else {
            slots[vacant] = Slot(entry, position: entries.count - 1)
        }
        return true
    }

    /// Removes the entries `doomed` names that overlap `range` (`nil`: any); returns how
    /// many went. A range with no more pages of the `sizes` present than there are entries
    /// is probed page by page; others are scanned.
    mutating func removeAll(overlapping range: IOVARange?, sizes: [UInt64], where doomed: (IOTLB.Entry) -> Bool) -> Int {
        if let range, Self.pages(of: range, sizes: sizes, upTo: entries.count) {
            var removed = 0
            for size in sizes {
                let last = range.last.alignedDown(to: size)
                var base = range.start.alignedDown(to: size)
                while true {
                    if let at = slot(base, size: size), doomed(entries[Int(slots[at].position) - 1]) {
                        remove(at: Int(slots[at].position) - 1)
                        removed += 1
                    }
                    if base == last { break }
                    base += size
                }
            }
            return removed
        }
        return removeAll(marked: entries.map { entry in (range.map(entry.overlaps) ?? true) && doomed(entry) })
    }

    /// Removes the entries whose `marked` flag is set; returns how many went.
    mutating func removeAll(marked: [Bool]) -> Int {
        guard marked.contains(true) else { return 0 }
        var kept = 0
        for (at, doomed) in marked.enumerated() where !doomed {
            entries.swapAt(kept, at)
            kept += 1
        }
        let removed = entries.count - kept
        entries.removeLast(removed)
        reindex(slots: slots.count)
        return removed
    }

    /// The pages of each of `sizes` that meet `range` number at most `limit` in all.
    private static func pages(of range: IOVARange, sizes: [UInt64], upTo limit: Int) -> Bool {
        var remaining = UInt64(limit)
        for size in sizes {
            // The pages past the first: under `remaining`, so adding the first cannot overflow.
            let further = (range.last.alignedDown(to: size) - range.start.alignedDown(to: size)) / size
            guard further < remaining else { return false }
            remaining -= further + 1
        }
        return true
    }

    /// Empties a filing that has entries in place, keeping its room; false (and nothing
    /// done) for one already empty.
    mutating func clearKeepingRoom() -> Bool {
        guard !entries.isEmpty else { return false }
        entries.removeAll(keepingCapacity: true)
        slots.withUnsafeMutableBufferPointer { $0.update(repeating: .empty) }
        return true
    }

    /// Where `input` of a size of `sizeShift` hashes to first.
    @inline(__always)
    private func home(_ input: UInt64, sizeShift: UInt8) -> Int {
        // A masking shift: `shift` is 64 less log2 of at least 8 slots.
        Int(truncatingIfNeeded: ((input ^ UInt64(sizeShift)) &* 0x9E37_79B9_7F4A_7C15) &>> shift)
    }

    @inline(__always)
    private func home(_ input: UInt64, size: UInt64) -> Int {
        home(input, sizeShift: UInt8(truncatingIfNeeded: size.trailingZeroBitCount))
    }

    /// The slot of the entry for `input` of `size`.
    @inline(__always)
    private func slot(_ input: UInt64, size: UInt64) -> Int? { probe(input, size: size).found }

    /// The slot of the entry for `input` of `size`, if there is one, and the empty slot that
    /// ends the probe (where a new entry for them goes).
    @inline(__always)
    private func probe(_ input: UInt64, size: UInt64) -> (found: Int?, vacant: Int) {
        let sizeShift = UInt8(truncatingIfNeeded: size.trailingZeroBitCount)
        return slots.withUnsafeBufferPointer { slots in
            let mask = slots.count &- 1
            var at = home(input, sizeShift: sizeShift)
            while slots[at].position != 0 {
                if slots[at].holds(input, sizeShift: sizeShift) { return (at, at) }
                at = (at &+ 1) & mask
            }
            return (nil, at)
        }
    }

    /// The slot that holds `entries[position]`.
    private func slot(of position: Int) -> Int {
        let mask = slots.count - 1
        var at = home(entries[position].input, size: entries[position].size)
        while Int(slots[at].position) != position + 1 { at = (at + 1) & mask }
        return at
    }

    /// Removes `entries[position]`: its slot is emptied, the entries probed past it shift
    /// back, and the last entry moves into its place.
    private mutating func remove(at position: Int) {
        let mask = slots.count - 1
        var hole = slot(of: position)
        var next = (hole + 1) & mask
        while slots[next].position != 0 {
            let home = home(slots[next].input, sizeShift: slots[next].sizeShift)
            // The entry may fill the hole when the hole lies between its home and its slot.
            if (next - home) & mask >= (next - hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = .empty
        let last = entries.count - 1
        if position != last {
            slots[slot(of: last)].position = UInt32(position + 1)
            entries[position] = entries[last]
        }
        entries.removeLast()
    }

    /// Rebuilds the index over `entries` with `count` slots (a power of two).
    private mutating func reindex(slots count: Int) {
        slots = [Slot](repeating: .empty, count: count)
        shift = UInt64(64 - count.trailingZeroBitCount)
        // Each entry is new to the rebuilt index: its probe ends at the slot it takes.
        for (at, entry) in entries.enumerated() { slots[probe(entry.input, size: entry.size).vacant] = Slot(entry, position: at) }
    }
}

extension IOTLB: ModelCopyable {
    /// A fork shares the entries until either side writes them.
    public func makeCopy(in copier: ModelCopy) -> IOTLB {
        let copy = IOTLB()
        copy.storage = storage
        return copy
    }
}
