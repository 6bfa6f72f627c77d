import Testing
import TestSupport
@testable import IOMMUCore

/// The IOTLB's per-tag tables against a plain model of its rules: smallest page size first,
/// a tag's own entry before a global one of its domain, a global entry for every address
/// space of its domain; typed invalidations remove what their predicate names, by range
/// at the edges of big pages, by tag, and on forks apart.
struct IOTLBTests {
    static let page: UInt64 = 4096, block: UInt64 = 1 << 21, huge: UInt64 = 1 << 30

    /// A read-write entry of `tag` at `input` (aligned down to `size`).
    static func entry(_ tag: IOTLB.Tag, _ input: UInt64, size: UInt64 = page, output: UInt64 = 0x8000_0000,
                      leaf: IOTLB.Leaf? = nil, global: Bool = false) -> IOTLB.Entry {
        IOTLB.Entry(tag: tag, input: input.alignedDown(to: size), size: size, output: output, rights: .readWrite,
                    leaf: leaf, global: global)
    }

    /// The model: every entry in a list, a newer one replacing the one filed at the same
    /// place (its tag, or its domain for a global one, with input and size).
    struct Model {
        var entries: [IOTLB.Entry] = []

        static func samePlace(_ a: IOTLB.Entry, _ b: IOTLB.Entry) -> Bool {
            a.global == b.global && a.input == b.input && a.size == b.size && a.tag.domain == b.tag.domain
                && (a.global || a.tag.addressSpace == b.tag.addressSpace)
        }

        mutating func insert(_ entry: IOTLB.Entry) {
            entries.removeAll { Self.samePlace($0, entry) }
            entries.append(entry)
        }

        func lookup(_ tag: IOTLB.Tag, _ input: UInt64) -> IOTLB.Hit? { entry(tag, input).map(IOTLB.Hit.init) }

        func entry(_ tag: IOTLB.Tag, _ input: UInt64) -> IOTLB.Entry? {
            let covering = entries.filter { $0.covers(input) }
            for size in Set(covering.map(\.size)).sorted() {
                if let own = covering.first(where: { $0.size == size && !$0.global && $0.tag == tag }) { return own }
                if tag.addressSpace != nil,
                   let global = covering.first(where: { $0.size == size && $0.global && $0.tag.domain == tag.domain }) {
                    return global
                }
            }
            return nil
        }
    }

    /// Entries as comparable text, in one order.
    static func listing(_ entries: [IOTLB.Entry]) -> [String] { entries.map { "\($0)" }.sorted() }

    @Test func smallestPageSizeFirstThenOwnBeforeGlobal() {
        let iotlb = IOTLB()
        let nic = IOTLB.Tag(domain: 1, addressSpace: 1), other = IOTLB.Tag(domain: 1, addressSpace: 2)
        iotlb.insert(Self.entry(nic, 0x4000_0000, size: Self.huge, output: 0x1))
        iotlb.insert(Self.entry(other, 0x4020_0000, size: Self.block, output: 0x2, global: true))
        iotlb.insert(Self.entry(nic, 0x4020_0000, size: Self.block, output: 0x3))
        iotlb.insert(Self.entry(other, 0x4020_1000, output: 0x4, global: true))
        // 4K global before the 2M own entry; the 2M own entry before the 2M global one; 1G last.
        #expect(iotlb.lookup(nic, 0x4020_1234)?.output == 0x4)
        #expect(iotlb.lookup(nic, 0x4020_2000)?.output == 0x3)
        #expect(iotlb.lookup(other, 0x4020_2000)?.output == 0x2)
        #expect(iotlb.lookup(nic, 0x4040_0000)?.output == 0x1)
        #expect(iotlb.lookup(other, 0x4040_0000) == nil)
        // No address space: never a global entry.
        #expect(iotlb.lookup(IOTLB.Tag(domain: 1, addressSpace: nil), 0x4020_1000) == nil)
        #expect(iotlb.count == 4)
        #expect(iotlb.allEntries.map(\.input) == [0x4000_0000, 0x4020_0000, 0x4020_0000, 0x4020_1000])
        #expect(Set(iotlb.allEntries.map(\.output)) == [0x1, 0x2, 0x3, 0x4])
    }

    @Test func aGlobalEntryReplacesTheOneItsDomainFiledThere() {
        let iotlb = IOTLB()
        iotlb.insert(Self.entry(IOTLB.Tag(domain: 1, addressSpace: 1), 0x1000, output: 0x1, global: true))
        iotlb.insert(Self.entry(IOTLB.Tag(domain: 1, addressSpace: 2), 0x1000, output: 0x2, global: true))
        #expect(iotlb.count == 1)
        #expect(iotlb.lookup(IOTLB.Tag(domain: 1, addressSpace: 9), 0x1000)?.output == 0x2)
        // The filler's tag is the one a by-tag invalidation names.
        #expect(iotlb.invalidate(.tag(IOTLB.Tag(domain: 1, addressSpace: 1))) == 0)
        #expect(iotlb.invalidate(.tag(IOTLB.Tag(domain: 1, addressSpace: 2))) == 1)
        #expect(iotlb.count == 0)
    }

    @Test func rangeInvalidationAtTheEdgesOfBigPages() {
        let tag = IOTLB.Tag(domain: 3, addressSpace: nil)
        // Alone (the range is scanned) and among many 4K entries (the range's pages are probed).
        for crowd in [0, 4096] {
            let iotlb = IOTLB()
            for page in 0..<UInt64(crowd) { iotlb.insert(Self.entry(tag, 0x1_0000_0000 + page * Self.page)) }
            let fill = {
                iotlb.insert(Self.entry(tag, 0x20_0000, size: Self.block, output: 0x1))
                iotlb.insert(Self.entry(tag, 0x4000_0000, size: Self.huge, output: 0x2))
            }
            fill()
            let before = crowd + 2
            #expect(iotlb.invalidate(.domain(3), range: IOVARange(start: 0x1f_f000, length: 0x1000)!) == 0)
            #expect(iotlb.invalidate(.domain(3), range: IOVARange(start: 0x40_0000, length: 0x1000)!) == 0)
            #expect(iotlb.invalidate(.domain(3), range: IOVARange(start: 0x3f_ffff, length: 1)!) == 1)
            #expect(iotlb.lookup(tag, 0x20_0000) == nil)
            #expect(iotlb.invalidate(.domain(3), range: IOVARange(start: 0x3fff_f000, length: 0x1000)!) == 0)
            #expect(iotlb.invalidate(.domain(3), range: IOVARange(start: 0x7fff_f000, length: 0x2000)!) == 1)
            #expect(iotlb.count == before - 2)
            fill()
            // A range over both big pages, and one that starts inside the 2M block.
            #expect(iotlb.invalidate(.domain(3), range: IOVARange(start: 0x30_0000, last: 0x4000_0000)) == 2)
            #expect(iotlb.count == crowd)
            #expect(iotlb.lookup(tag, 0x1_0000_0000 + UInt64(crowd / 2) * Self.page) != nil || crowd == 0)
            #expect(iotlb.invalidate(.domain(3), range: .all) == crowd)
            #expect(iotlb.count == 0)
        }
    }

    @Test func byTagInvalidationsNameOnlyTheirTags() {
        let iotlb = IOTLB()
        let s1 = IOTLB.Tag(domain: 1, addressSpace: 5), s1Other = IOTLB.Tag(domain: 1, addressSpace: 6)
        let s2 = IOTLB.Tag(domain: 1, addressSpace: nil), elsewhere = IOTLB.Tag(domain: 2, addressSpace: 5)
        let stage1Only = IOTLB.Tag(domain: nil, addressSpace: 5)
        let fill = {
            iotlb.insert(Self.entry(s1, 0x1000))
            iotlb.insert(Self.entry(s1, 0x2000, global: true))
            iotlb.insert(Self.entry(s1Other, 0x3000))
            iotlb.insert(Self.entry(s2, 0x1000))
            iotlb.insert(Self.entry(elsewhere, 0x1000))
            iotlb.insert(Self.entry(stage1Only, 0x1000))
        }
        fill()
        #expect(iotlb.invalidate(.nonGlobal(s1)) == 1)
        #expect(iotlb.lookup(s1Other, 0x2000) != nil)
        #expect(iotlb.invalidate(.tag(s1)) == 1)
        #expect(iotlb.count == 4)
        fill()
        #expect(iotlb.invalidate(.globals(domain: 1)) == 1)
        #expect(iotlb.invalidate(.addressSpaces(domain: 1)) == 2)
        #expect(Self.listing(iotlb.allEntries) == Self.listing([Self.entry(s2, 0x1000), Self.entry(elsewhere, 0x1000),
                                                                  Self.entry(stage1Only, 0x1000)]))
        #expect(iotlb.invalidate(.addressSpaces(domain: nil)) == 1)
        #expect(iotlb.invalidate(.domain(1)) == 1)
        #expect(iotlb.invalidate(.domain(2)) == 1)
        #expect(iotlb.count == 0)
        fill()
        #expect(iotlb.invalidateAll() == 6)
        #expect(iotlb.count == 0 && iotlb.allEntries.isEmpty && iotlb.lookup(s1, 0x1000) == nil)
    }

    @Test func leafHintsNarrowARangeInvalidation() {
        let iotlb = IOTLB(), tag = IOTLB.Tag(domain: 0, addressSpace: 1)
        iotlb.insert(Self.entry(tag, 0x1000, leaf: IOTLB.Leaf(level: 3, granule: 4096)))
        iotlb.insert(Self.entry(tag, 0x20_0000, size: Self.block, leaf: IOTLB.Leaf(level: 2, granule: 4096)))
        iotlb.insert(Self.entry(tag, 0x2000))
        let range = IOVARange(start: 0, last: 0x3f_ffff)
        #expect(iotlb.invalidate(.addressSpaces(domain: 0), range: range, leaf: IOTLB.LeafHint(granule: 65536, level: nil)) == 1)
        #expect(iotlb.invalidate(.addressSpaces(domain: 0), range: range, leaf: IOTLB.LeafHint(granule: 4096, level: 2)) == 1)
        #expect(iotlb.allEntries.map(\.input) == [0x1000])
    }

    /// Random entries over a few tags and all three sizes: every lookup answers as the
    /// model's, and every typed invalidation removes what its predicate names.
    @Test func typedInvalidationsMatchTheirPredicates() {
        var random = SplitMix64(seed: 0x1071b)
        let domains: [UInt64?] = [nil, 0, 1, 2], spaces: [UInt64?] = [nil, 1, 2, 3]
        let sizes = [Self.page, Self.block, Self.huge]
        for _ in 0..<40 {
            let iotlb = IOTLB()
            var model = Model()
            for _ in 0..<random.below(300) {
                let tag = IOTLB.Tag(domain: random.pick(domains), addressSpace: random.pick(spaces))
                let size = random.pick(sizes)
                let entry = Self.entry(tag, random.below(UInt64(4) << 30), size: size, output: random.next() & ~0xfff,
                                       leaf: random.chance(1, in: 2) ? IOTLB.Leaf(level: random.below(4), granule: random.pick([4096, 65536])) : nil,
                                       global: tag.addressSpace != nil && random.chance(1, in: 5))
                iotlb.insert(entry)
                model.insert(entry)
            }
            #expect(iotlb.count == model.entries.count)
            #expect(Self.listing(iotlb.allEntries) == Self.listing(model.entries))
            for _ in 0..<200 {
                let tag = IOTLB.Tag(domain: random.pick(domains), addressSpace: random.pick(spaces))
                let input = random.below(UInt64(4) << 30)
                #expect(iotlb.lookup(tag, input) == model.lookup(tag, input))
            }
            let tag = IOTLB.Tag(domain: random.pick(domains), addressSpace: random.pick(spaces))
            let selection = random.pick([IOTLB.Selection.domain(random.pick([0, 1, 2])), .tag(tag), .nonGlobal(tag),
                                         .addressSpaces(domain: random.pick(domains)), .globals(domain: random.pick(domains))])
            let start = random.below(UInt64(4) << 30)
            let range = random.chance(1, in: 4) ? nil : IOVARange(start: start, last: start + random.below(random.pick([Self.page * 8, Self.huge * 2])))
            let hint = random.chance(1, in: 3) ? IOTLB.LeafHint(granule: 4096, level: random.chance(1, in: 2) ? nil : 3) : nil
            let named = { (entry: IOTLB.Entry) in
                selection.selects(entry) && (range.map(entry.overlaps) ?? true) && (hint?.names(entry) ?? true)
            }
            let expected = model.entries.filter { !named($0) }
            #expect(iotlb.invalidate(selection, range: range, leaf: hint) == model.entries.count - expected.count)
            #expect(Self.listing(iotlb.allEntries) == Self.listing(expected))
            #expect(iotlb.count == expected.count)
            model.entries = expected
            for _ in 0..<100 {
                let tag = IOTLB.Tag(domain: random.pick(domains), addressSpace: random.pick(spaces))
                let input = random.below(UInt64(4) << 30)
                #expect(iotlb.lookup(tag, input) == model.lookup(tag, input))
            }
        }
    }

    @Test func aForkSharesNothingItWrites() {
        let original = IOTLB(), tag = IOTLB.Tag(domain: 1, addressSpace: nil)
        for page in 0..<UInt64(64) { original.insert(Self.entry(tag, page * Self.page)) }
        let fork = ModelCopy.copying { $0.copy(original) }
        #expect(fork !== original && fork.count == 64)
        fork.insert(Self.entry(tag, 0x10_0000))
        #expect(fork.invalidate(.domain(1), range: IOVARange(start: 0, length: 0x8000)!) == 8)
        #expect(original.count == 64 && original.lookup(tag, 0) != nil && original.lookup(tag, 0x10_0000) == nil)
        #expect(original.invalidateAll() == 64)
        #expect(fork.count == 57 && fork.lookup(tag, 0x8000) != nil && fork.lookup(tag, 0x10_0000) != nil)
        #expect(original.invalidate { _ in true } == 0)
        #expect(fork.invalidate { $0.input >= 0x20000 } == 33)
        #expect(fork.count == 24)
    }

    /// A filing hint (what a route keeps) finds its tag's entries while the filings stay
    /// where they are, and stops being used once one leaves: the filing that moves into its
    /// place is another tag's.
    @Test func aFilingHintHoldsUntilAFilingLeaves() {
        let iotlb = IOTLB()
        let tags = (1...3).map { IOTLB.Tag(domain: UInt64($0), addressSpace: nil) }
        for (at, tag) in tags.enumerated() { iotlb.insert(Self.entry(tag, 0x1000, output: UInt64(at + 1) << 32)) }
        let hints = tags.map { iotlb.filingHint(for: $0) }
        #expect(iotlb.filingHint(for: IOTLB.Tag(domain: 9, addressSpace: nil)) == nil)
        for (at, tag) in tags.enumerated() {
            #expect(iotlb.lookup(tag, 0x1234, hint: hints[at])?.output == UInt64(at + 1) << 32)
        }
        // The first tag's filing goes; the last one's takes its place.
        #expect(iotlb.invalidate(.domain(1)) == 1)
        #expect(iotlb.lookup(tags[0], 0x1234, hint: hints[0]) == nil)
        #expect(iotlb.lookup(tags[2], 0x1234, hint: hints[2])?.output == 3 << 32)
        #expect(iotlb.lookup(tags[1], 0x1234, hint: hints[1])?.output == 2 << 32)
        // An emptied filing kept by a global invalidation stays where it was.
        let kept = iotlb.filingHint(for: tags[1])
        #expect(iotlb.invalidateAll() == 2)
        iotlb.insert(Self.entry(tags[1], 0x1000, output: 5 << 32))
        #expect(iotlb.lookup(tags[1], 0x1234, hint: kept)?.output == 5 << 32)
    }
}
