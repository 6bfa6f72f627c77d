import Testing
import TestSupport
import IOMMUCore

// Property tests of `IntervalTree` against a naive model: a sorted array of disjoint ranges.
// Every random choice comes from a seeded SplitMix64, so a failure replays exactly.

/// The reference: disjoint inclusive ranges sorted by start, searched linearly.
private struct NaiveIntervals {
    var items: [(range: IOVARange, value: Int)] = []

    func overlaps(_ range: IOVARange) -> Bool { items.contains { $0.range.intersects(range) } }

    mutating func insert(_ range: IOVARange, _ value: Int) {
        precondition(!overlaps(range))
        let index = items.firstIndex { $0.range.start > range.start } ?? items.endIndex
        items.insert((range, value), at: index)
    }

    mutating func remove(startingAt key: UInt64) -> Int? {
        guard let index = items.firstIndex(where: { $0.range.start == key }) else { return nil }
        return items.remove(at: index).value
    }

    func entry(containing address: UInt64) -> (range: IOVARange, value: Int)? {
        items.first { $0.range.contains(address) }
    }

    func value(startingAt key: UInt64) -> Int? { items.first { $0.range.start == key }?.value }

    func intersecting(_ window: IOVARange) -> [(range: IOVARange, value: Int)] {
        items.filter { $0.range.intersects(window) }
    }

    /// Every maximal free gap of the 64-bit space, ascending.
    var gaps: [IOVARange] {
        var result: [IOVARange] = []
        var cursor: UInt64? = 0 // nil once a range ends at u64max
        for item in items {
            if let free = cursor, item.range.start > free {
                result.append(IOVARange(start: free, last: item.range.start - 1))
            }
            cursor = item.range.last == .max ? nil : item.range.last + 1
        }
        if let free = cursor { result.append(IOVARange(start: free, last: .max)) }
        return result
    }

    /// The gaps clipped to `window` that still hold at least `minimumLength` addresses.
    func holes(in window: IOVARange, minimumLength: UInt64) -> [IOVARange] {
        gaps.compactMap { gap in
            let start = max(gap.start, window.start), last = min(gap.last, window.last)
            guard start <= last, last - start >= minimumLength - 1 else { return nil }
            return IOVARange(start: start, last: last)
        }
    }

    /// The free gap that contains `address`, if the address is free.
    func gap(containing address: UInt64) -> IOVARange? { gaps.first { $0.contains(address) } }
}

/// Drives a tree and the model with the same random operations and compares every answer.
private struct Harness {
    var rng: SplitMix64
    var tree = IntervalTree<Int>()
    var model = NaiveIntervals()
    var nextValue = 0
    var operations = 0
    var checks = 0
    var largest = 0
    var smallestAfterGrowth = Int.max

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    // MARK: Random inputs biased toward the edges

    /// An address: often near 0, near u64max, on or next to an existing boundary, or a power of two.
    mutating func address() -> UInt64 {
        switch rng.below(12) {
        case 0, 1, 2: return rng.below(UInt64(256))
        case 3, 4: return .max - rng.below(UInt64(256))
        case 5, 6, 7:
            guard !model.items.isEmpty else { return rng.below(UInt64(4096)) }
            let item = model.items[rng.below(model.items.count)].range
            switch rng.below(4) {
            case 0: return item.start
            case 1: return item.last
            case 2: return item.start &- 1
            default: return item.last &+ 1
            }
        case 8:
            let power: UInt64 = 1 << rng.below(UInt64(64))
            return rng.chance(1, in: 2) ? power : power &- 1
        case 9: return rng.below(UInt64(1) << 20)
        default: return rng.next()
        }
    }

    mutating func length() -> UInt64 {
        switch rng.below(10) {
        case 0, 1: return 1
        case 2, 3, 4: return 1 + rng.below(UInt64(16))
        case 5, 6: return 1 + rng.below(UInt64(4096))
        case 7: return 1 + rng.below(UInt64(1) << 40)
        case 8 where rng.chance(1, in: 4): return .max // clipped to the free gap or to u64max
        default: return 1 + rng.next() % (UInt64.max - 1)
        }
    }

    /// `[start, start + length - 1]`, saturating at u64max.
    mutating func range() -> IOVARange {
        let start = address()
        let length = length()
        let last = start.checkedAdd(length - 1) ?? .max
        return IOVARange(start: start, last: last)
    }

    /// A query window, including the whole space, one address, and windows pinned to either end.
    mutating func window() -> IOVARange {
        switch rng.below(8) {
        case 0: return .all
        case 1: return IOVARange(start: 0, last: address())
        case 2: return IOVARange(start: address(), last: .max)
        case 3: let a = address(); return IOVARange(start: a, last: a)
        default: return range()
        }
    }

    mutating func minimumLength() -> UInt64 {
        switch rng.below(8) {
        case 0, 1: return 1
        case 2: return 2
        case 3: return 1 + rng.below(UInt64(64))
        case 4: return 1 + rng.below(UInt64(1) << 16)
        case 5: return .max
        case 6: return UInt64.max - rng.below(UInt64(4))
        default: return 1 + rng.next() % UInt64.max
        }
    }

    // MARK: Operations

    mutating func insert() {
        var start = address()
        var free = model.gap(containing: start)
        for _ in 0..<3 where free == nil { // the address was taken: try another one
            start = address()
            free = model.gap(containing: start)
        }
        guard let free else { return }
        var last: UInt64
        switch rng.below(6) {
        case 0 where rng.chance(1, in: 3): last = free.last // touches the next range (or u64max)
        case 1: last = start // one address
        default: last = min(start.checkedAdd(length() - 1) ?? .max, free.last)
        }
        var first = start
        if rng.chance(1, in: 6) { first = free.start } // touches the previous range (or 0)
        last = max(last, first)
        let range = IOVARange(start: first, last: last)
        let value = nextValue
        nextValue += 1
        tree.insert(range, value)
        model.insert(range, value)
    }

    mutating func remove() {
        let key: UInt64
        if !model.items.isEmpty && rng.chance(3, in: 4) {
            key = model.items[rng.below(model.items.count)].range.start
        } else {
            key = address()
        }
        let removed = tree.remove(startingAt: key)
        let expected = model.remove(startingAt: key)
        #expect(removed == expected, "remove(startingAt: \(key.hex))")
    }

    mutating func queryEntry() {
        let probe = address()
        let got = tree.entry(containing: probe)
        let expected = model.entry(containing: probe)
        #expect(got?.range == expected?.range && got?.value == expected?.value, "entry(containing: \(probe.hex))")
        let key = rng.chance(1, in: 2) && !model.items.isEmpty
            ? model.items[rng.below(model.items.count)].range.start : address()
        #expect(tree.value(startingAt: key) == model.value(startingAt: key), "value(startingAt: \(key.hex))")
    }

    mutating func queryIntersects() {
        let window = window()
        #expect(tree.intersects(window) == model.overlaps(window), "intersects(\(window))")
    }

    mutating func queryForEach() {
        let window = window()
        let expected = model.intersecting(window)
        var visited: [(range: IOVARange, value: Int)] = []
        tree.forEach(intersecting: window) { range, value in visited.append((range, value)); return true }
        #expect(visited.map(\.range) == expected.map(\.range), "forEach(intersecting: \(window))")
        #expect(visited.map(\.value) == expected.map(\.value), "forEach(intersecting: \(window)) values")
        // Stopping after k visits.
        guard !expected.isEmpty else { return }
        let stopAfter = 1 + rng.below(expected.count)
        var calls = 0
        tree.forEach(intersecting: window) { _, _ in calls += 1; return calls < stopAfter }
        #expect(calls == stopAfter, "forEach(intersecting: \(window)) did not stop after \(stopAfter) visits")
    }

    mutating func queryHoles() {
        let window = window()
        let minimum = minimumLength()
        checkHoles(in: window, minimumLength: minimum)
    }

    mutating func checkHoles(in window: IOVARange, minimumLength minimum: UInt64) {
        checks += 1
        let expected = model.holes(in: window, minimumLength: minimum)
        var got: [IOVARange] = []
        tree.forEachHole(in: window, minimumLength: minimum) { hole in got.append(hole); return true }
        #expect(got == expected, "forEachHole(in: \(window), minimumLength: \(minimum.hex)) over \(model.items.map(\.range))")
        // The body's false ends the walk: exactly k calls, the first k holes.
        guard !expected.isEmpty else { return }
        let stopAfter = 1 + rng.below(expected.count)
        var prefix: [IOVARange] = []
        tree.forEachHole(in: window, minimumLength: minimum) { hole in prefix.append(hole); return prefix.count < stopAfter }
        #expect(prefix == Array(expected.prefix(stopAfter)),
                "forEachHole(in: \(window), minimumLength: \(minimum.hex)) stopping after \(stopAfter)")
    }

    mutating func checkStructure() {
        #expect(tree.count == model.items.count)
        #expect(tree.isEmpty == model.items.isEmpty)
        let entries = tree.entries
        #expect(entries.map(\.range) == model.items.map(\.range), "entries order")
        #expect(entries.map(\.value) == model.items.map(\.value), "entries values")
    }

    /// Alternates growing phases (mostly inserts) and shrinking phases (mostly removes), so the
    /// tree passes through both small and deep shapes.
    mutating func step() {
        operations += 1
        let growing = (operations / 500) % 2 == 0
        switch rng.below(20) {
        case 0..<3: insert()
        case 3..<7: if growing { insert() } else { remove() }
        case 7..<9: if growing { insert() } else { remove() }
        case 9..<11: if growing { remove() } else { remove() }
        case 11, 12: queryEntry()
        case 13: queryIntersects()
        case 14, 15: queryForEach()
        default: queryHoles()
        }
        checkStructure()
        largest = max(largest, model.items.count)
        if operations > 500 { smallestAfterGrowth = min(smallestAfterGrowth, model.items.count) }
        if operations % 8 == 0 {
            checkHoles(in: .all, minimumLength: 1)
        }
    }
}

struct IntervalTreeTests {
    /// 12 seeds × 3 000 random operations, each followed by a full comparison of count and entries
    /// (and of every hole of the whole space every 8th operation). The tree grows to ~100-200
    /// ranges and shrinks back, several times.
    @Test(arguments: 0..<12)
    func matchesNaiveModel(seed: Int) {
        var harness = Harness(seed: 0x1000_0000 &+ UInt64(seed) &* 0x9E37)
        for _ in 0..<3_000 { harness.step() }
        // The runs must actually reach interesting states.
        #expect(harness.nextValue > 300)
        #expect(harness.largest > 60)
        #expect(harness.smallestAfterGrowth < harness.largest / 4)
        #expect(harness.checks > 300)
    }

    /// Grows a tree to 3 000 adjacent ranges (ascending, then descending) to exercise deep
    /// rotations, then removes them in a random order, checking holes along the way.
    @Test func manyAdjacentRanges() {
        var rng = SplitMix64(seed: 42)
        var tree = IntervalTree<Int>()
        var model = NaiveIntervals()
        let n = 1_500
        for i in 0..<n { // ascending from 0, each 16 addresses wide, with a one-address gap every 7th
            let start = UInt64(i) * 17
            let range = IOVARange(start: start, last: start + (i % 7 == 0 ? 15 : 16))
            tree.insert(range, i); model.insert(range, i)
        }
        for i in 0..<n { // descending down to u64max
            let last = UInt64.max - UInt64(i) * 16
            let range = IOVARange(start: last - 15, last: last)
            tree.insert(range, n + i); model.insert(range, n + i)
        }
        #expect(tree.count == 2 * n)
        #expect(tree.entries.map(\.range) == model.items.map(\.range))
        #expect(tree.entry(containing: 0)?.value == 0)
        #expect(tree.entry(containing: .max)?.value == n)
        for minimum: UInt64 in [1, 2, 17, 1 << 40, .max - (UInt64(n) * 17 + UInt64(n) * 16) + 1] {
            var got: [IOVARange] = []
            tree.forEachHole(in: .all, minimumLength: minimum) { got.append($0); return true }
            #expect(got == model.holes(in: .all, minimumLength: minimum), "minimumLength \(minimum.hex)")
        }
        var keys = model.items.map(\.range.start)
        for i in stride(from: keys.count - 1, to: 0, by: -1) { keys.swapAt(i, rng.below(i + 1)) }
        for (index, key) in keys.enumerated() {
            #expect(tree.remove(startingAt: key) == model.remove(startingAt: key))
            if index % 97 == 0 {
                #expect(tree.count == model.items.count)
                let window = IOVARange(start: rng.below(UInt64(30_000)), last: UInt64.max - rng.below(UInt64(30_000)))
                for minimum: UInt64 in [1, 16, 18] {
                    var got: [IOVARange] = []
                    tree.forEachHole(in: window, minimumLength: minimum) { got.append($0); return true }
                    #expect(got == model.holes(in: window, minimumLength: minimum))
                }
            }
        }
        #expect(tree.isEmpty)
        var holes: [IOVARange] = []
        tree.forEachHole(in: .all, minimumLength: .max) { holes.append($0); return true }
        #expect(holes == [.all])
    }

    /// Hand-written edge cases at 0 and u64max.
    @Test func edges() {
        var tree = IntervalTree<Int>()
        func holes(_ window: IOVARange, _ minimum: UInt64 = 1) -> [IOVARange] {
            var result: [IOVARange] = []
            tree.forEachHole(in: window, minimumLength: minimum) { result.append($0); return true }
            return result
        }
        #expect(holes(.all) == [.all])
        #expect(holes(IOVARange(start: 5, last: 5)) == [IOVARange(start: 5, last: 5)])
        #expect(holes(IOVARange(start: 5, last: 5), 2) == [])

        tree.insert(IOVARange(start: 0, last: 0), 1)
        tree.insert(IOVARange(start: .max, last: .max), 2)
        #expect(holes(.all) == [IOVARange(start: 1, last: .max - 1)])
        #expect(holes(.all, .max - 1) == [IOVARange(start: 1, last: .max - 1)])
        #expect(holes(.all, .max) == [])
        #expect(holes(IOVARange(start: 0, last: 0)) == [])
        #expect(holes(IOVARange(start: .max, last: .max)) == [])
        #expect(holes(IOVARange(start: 0, last: 1)) == [IOVARange(start: 1, last: 1)])
        #expect(holes(IOVARange(start: .max - 1, last: .max)) == [IOVARange(start: .max - 1, last: .max - 1)])
        #expect(tree.entry(containing: 0)?.value == 1)
        #expect(tree.entry(containing: .max)?.value == 2)
        #expect(tree.entry(containing: 1) == nil)
        #expect(tree.intersects(IOVARange(start: 1, last: .max - 1)) == false)
        #expect(tree.intersects(IOVARange(start: 1, last: .max)) == true)

        // Fill everything: three adjacent ranges cover the whole space.
        tree.insert(IOVARange(start: 1, last: .max - 1), 3)
        #expect(holes(.all) == [])
        #expect(tree.entries.map(\.value) == [1, 3, 2])
        tree.updateValue(startingAt: 1) { $0 = 30 }
        #expect(tree.value(startingAt: 1) == 30)
        #expect(tree.remove(startingAt: 2) == nil)
        #expect(tree.remove(startingAt: 1) == 30)
        #expect(holes(IOVARange(start: 0, last: 10)) == [IOVARange(start: 1, last: 10)])
        tree.removeAll()
        #expect(tree.isEmpty && tree.count == 0 && tree.entries.isEmpty)

        // One range covering everything.
        tree.insert(.all, 7)
        #expect(holes(.all) == [])
        #expect(tree.entry(containing: 12345)?.range == .all)
        #expect(tree.remove(startingAt: 0) == 7)
        #expect(holes(.all, .max) == [.all])
    }
}
