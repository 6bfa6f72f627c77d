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

    public struct Entry: Sendable, Equatable {
        public var tag: Tag
        /// Input address aligned to `size`.
        public var input: UInt64
        public var size: UInt64
        public var output: UInt64
        public var rights: AccessRights

        /// The entry translates some address of `range` (what a range invalidation removes).
        public func overlaps(_ range: IOVARange) -> Bool {
            input <= range.last && input &+ (size - 1) >= range.start
        }

        /// The entry translates `address` (what a by-address invalidation removes).
        public func covers(_ address: UInt64) -> Bool { input <= address && address - input < size }
    }

    private struct Key: Hashable {
        var tag: Tag
        var input: UInt64
        var size: UInt64
    }

    private var entries: [Key: Entry] = [:]
    private var sizes: [UInt64] = []

    public init() {}

    public var count: Int { entries.count }
    public var allEntries: [Entry] { entries.values.sorted { ($0.input, $0.size) < ($1.input, $1.size) } }

    /// The entry that covers `input` for `tag`.
    public func lookup(_ tag: Tag, _ input: UInt64) -> Entry? {
        for size in sizes {
            if let entry = entries[Key(tag: tag, input: input.alignedDown(to: size), size: size)] { return entry }
        }
        return nil
    }

    public func insert(_ entry: Entry) {
        entries[Key(tag: entry.tag, input: entry.input, size: entry.size)] = entry
        if !sizes.contains(entry.size) { sizes.append(entry.size); sizes.sort() }
    }

    /// Drops every entry `matches` selects; returns how many went.
    @discardableResult
    public func invalidate(where matches: (Entry) -> Bool) -> Int {
        let doomed = entries.filter { matches($0.value) }.map(\.key)
        for key in doomed { entries[key] = nil }
        return doomed.count
    }
}
