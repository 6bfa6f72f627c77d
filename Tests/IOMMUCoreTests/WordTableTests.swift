import Testing
@testable import IOMMUCore

/// The open-addressing table behind the frame map and the configuration caches: it must
/// answer as a `Dictionary` would through any mix of inserts, overwrites and removals
/// (removal shifts entries back, the part most easily got wrong), and a copy must not see
/// the original's later changes.
struct WordTableTests {
    /// A deterministic generator (SplitMix64), so a failure replays.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: [UInt64(64), 4096, 1 << 40])
    func randomOperationsAgreeWithADictionary(keySpace: UInt64) {
        var random = SplitMix(state: keySpace)
        var table = WordTable<UInt64, UInt64>()
        var reference: [UInt64: UInt64] = [:]
        for step in 0..<20_000 {
            // Keys clustered by a stride of 4K, as frame addresses are, so probe runs collide.
            let key = (random.next() % keySpace) << 12
            if random.next() % 3 == 0 {
                table[key] = nil
                reference[key] = nil
            } else {
                table[key] = UInt64(step)
                reference[key] = UInt64(step)
            }
            #expect(table.count == reference.count)
        }
        for (key, value) in reference { #expect(table[key] == value) }
        #expect(table.entries.count == reference.count)
        for (key, value) in table.entries { #expect(reference[key] == value) }
        // Every key removed is gone, and the table empties.
        for key in reference.keys { table[key] = nil }
        #expect(table.isEmpty)
        #expect(table.entries.isEmpty)
    }

    @Test func aCopyKeepsItsOwnEntries() {
        var original = WordTable<UInt32, String>()
        original[7] = "seven"
        original[9] = "nine"
        var copy = original
        copy[7] = nil
        copy[11] = "eleven"
        #expect(original[7] == "seven" && original[11] == nil && original.count == 2)
        #expect(copy[7] == nil && copy[9] == "nine" && copy[11] == "eleven" && copy.count == 2)
        let lengths = original.mapValues(\.count)
        #expect(lengths[7] == 5 && lengths[9] == 4 && lengths.count == 2)
        original.removeAll { key, _ in key == 9 }
        #expect(original.entries.map(\.key) == [7])
        original.removeAll()
        #expect(original.isEmpty && original[7] == nil)
    }

    @Test func modifyChangesInPlaceAndMissesAbsentKeys() {
        var table = WordTable<UInt16, [Int]>()
        table[1] = [1]
        #expect(table.modify(1) { $0.append(2); return $0.count } == 2)
        #expect(table[1] == [1, 2])
        #expect(table.modify(2) { _ in true } == nil)
    }
}
