/// An IOTLB: completed translations, tagged as the hardware tags them (SMMUv3 VMID and ASID,
/// VT-d DID and PASID), looked up before any walk. Entries stay until an invalidation
/// removes them, so a guest that edits its tables without invalidating keeps seeing the
/// stale translation. (QEMU flushes its whole SMMU IOTLB at 256 entries; real TLB sizes
/// vary, so this one keeps everything until told otherwise.)
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
        public var leaf: Leaf? = nil
        /// A global entry (an Arm stage-1 leaf with nG = 0): it translates for every
        /// address-space tag of its domain, the one in `tag` being the one that filled it.
        public var global = false

        /// The entry translates some address of `range` (what a range invalidation removes).
        public func overlaps(_ range: IOVARange) -> Bool {
            input <= range.last && input &+ (size - 1) >= range.start
        }

        /// The entry translates `address` (what a by-address invalidation removes).
        public func covers(_ address: UInt64) -> Bool { input <= address && address - input < size }
    }

    /// A global entry is filed without its address space, so one lookup finds it for any.
    private struct Key: Hashable {
        var tag: Tag
        var input: UInt64
        var size: UInt64
        var global: Bool

        static func of(_ entry: Entry) -> Key {
            Key(tag: entry.global ? Tag(domain: entry.tag.domain, addressSpace: nil) : entry.tag, input: entry.input,
                size: entry.size, global: entry.global)
        }
    }

    private var entries: [Key: Entry] = [:]
    private var sizes: [UInt64] = []
    /// How many entries are global: lookups skip the second probe while there are none.
    private var globalCount = 0

    public init() {}

    public var count: Int { entries.count }
    public var allEntries: [Entry] { entries.values.sorted { ($0.input, $0.size) < ($1.input, $1.size) } }

    /// The entry that covers `input` for `tag`: one of the tag's own, or a global entry of
    /// its domain when the tag names an address space.
    public func lookup(_ tag: Tag, _ input: UInt64) -> Entry? {
        for size in sizes {
            let base = input.alignedDown(to: size)
            if let entry = entries[Key(tag: tag, input: base, size: size, global: false)] { return entry }
            if globalCount > 0, tag.addressSpace != nil,
               let entry = entries[Key(tag: Tag(domain: tag.domain, addressSpace: nil), input: base, size: size, global: true)] {
                return entry
            }
        }
        return nil
    }

    public func insert(_ entry: Entry) {
        let key = Key.of(entry)
        if entry.global && entries[key] == nil { globalCount += 1 }
        entries[key] = entry
        if !sizes.contains(entry.size) { sizes.append(entry.size); sizes.sort() }
    }

    /// Drops every entry `matches` selects; returns how many went.
    @discardableResult
    public func invalidate(where matches: (Entry) -> Bool) -> Int {
        let doomed = entries.filter { matches($0.value) }.map(\.key)
        for key in doomed { entries[key] = nil }
        globalCount -= doomed.filter(\.global).count
        return doomed.count
    }
}

extension IOTLB: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> IOTLB {
        let copy = IOTLB()
        copy.entries = entries
        copy.sizes = sizes
        copy.globalCount = globalCount
        return copy
    }
}
