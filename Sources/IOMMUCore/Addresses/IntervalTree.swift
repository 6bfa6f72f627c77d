/// A balanced (AVL) tree of disjoint inclusive ranges, each carrying a value.
///
/// This is the shape of the kernel's `iopt->area_itree`: areas never overlap, so ordering by
/// start orders them completely. Every node also records, for its subtree, the smallest start,
/// the largest last and the largest free gap between neighbours, so that interval lookups are
/// O(log n + k) and the first hole of a given size is found without visiting every area
/// (automatic IOVA allocation stays O(log n) at 100 000 areas).
///
/// Nodes live in flat arrays addressed by index, which keeps the tree a value type and spares
/// the allocator and reference counting one object per area.
public struct IntervalTree<Value> {
    private typealias Node = Int32
    private static var none: Node { -1 }

    private var start: [UInt64] = []
    private var last: [UInt64] = []
    private var values: [Value?] = []
    private var left: [Node] = []
    private var right: [Node] = []
    private var height: [Int8] = []
    private var minStart: [UInt64] = []
    private var maxLast: [UInt64] = []
    /// Largest count of free addresses between two neighbouring ranges inside the subtree.
    private var maxGap: [UInt64] = []
    private var freeList: [Node] = []
    private var root: Node = IntervalTree.none

    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    // MARK: Queries

    /// The range and value that contain `address`, if any.
    public func entry(containing address: UInt64) -> (range: IOVARange, value: Value)? {
        var node = root
        while node != Self.none {
            let n = Int(node)
            if address < start[n] { node = left[n] }
            else if address > last[n] { node = right[n] }
            else { return (IOVARange(start: start[n], last: last[n]), values[n]!) }
        }
        return nil
    }

    /// The value of the range that starts exactly at `start`.
    public func value(startingAt key: UInt64) -> Value? {
        var node = root
        while node != Self.none {
            let n = Int(node)
            if key < start[n] { node = left[n] } else if key > start[n] { node = right[n] } else { return values[n] }
        }
        return nil
    }

    /// True when some range intersects `range`.
    public func intersects(_ range: IOVARange) -> Bool {
        var found = false
        forEach(intersecting: range) { _, _ in found = true; return false }
        return found
    }

    /// Visits the ranges that intersect `range`, ascending, until `body` returns false.
    public func forEach(intersecting range: IOVARange, _ body: (IOVARange, Value) -> Bool) {
        _ = visit(root, range, body)
    }

    private func visit(_ node: Node, _ range: IOVARange, _ body: (IOVARange, Value) -> Bool) -> Bool {
        guard node != Self.none else { return true }
        let n = Int(node)
        if maxLast[n] < range.start || minStart[n] > range.last { return true }
        if !visit(left[n], range, body) { return false }
        if start[n] <= range.last && last[n] >= range.start {
            if !body(IOVARange(start: start[n], last: last[n]), values[n]!) { return false }
        }
        return visit(right[n], range, body)
    }

    /// Every range and value, ascending.
    public var entries: [(range: IOVARange, value: Value)] {
        var result: [(range: IOVARange, value: Value)] = []
        result.reserveCapacity(count)
        forEach(intersecting: .all) { range, value in result.append((range, value)); return true }
        return result
    }

    /// Visits the maximal free holes inside `window` that hold at least `minimumLength`
    /// addresses, ascending, until `body` returns false. Subtrees whose every gap is too small
    /// are skipped whole, which is what keeps automatic allocation logarithmic.
    public func forEachHole(in window: IOVARange, minimumLength: UInt64, _ body: (IOVARange) -> Bool) {
        precondition(minimumLength > 0)
        var previousLast: UInt64? = nil
        switch holes(root, window, minimumLength, &previousLast, body) {
        case .stop: return
        case .reachedRight: return
        case .more:
            _ = emit(after: previousLast, before: nil, window, minimumLength, body: body)
        }
    }

    private enum HoleWalk { case more, stop, reachedRight }

    private func holes(_ node: Node, _ window: IOVARange, _ minimumLength: UInt64,
                       _ previousLast: inout UInt64?, _ body: (IOVARange) -> Bool) -> HoleWalk {
        guard node != Self.none else { return .more }
        let n = Int(node)
        // Entirely left of the window: only its end matters to the next gap.
        if maxLast[n] < window.start { previousLast = maxLast[n]; return .more }
        // Entirely right of the window: the gap before it is the last one inside the window.
        if minStart[n] > window.last {
            return emit(after: previousLast, before: minStart[n], window, minimumLength, body: body) ? .reachedRight : .stop
        }
        let boundary = previousLast.map { minStart[n] - $0 - 1 } ?? minStart[n]
        if maxGap[n] < minimumLength && boundary < minimumLength {
            previousLast = maxLast[n]
            return .more
        }
        switch holes(left[n], window, minimumLength, &previousLast, body) {
        case .more: break
        case let other: return other
        }
        if start[n] > window.last {
            return emit(after: previousLast, before: start[n], window, minimumLength, body: body) ? .reachedRight : .stop
        }
        if !emit(after: previousLast, before: start[n], window, minimumLength, body: body) { return .stop }
        previousLast = last[n]
        return holes(right[n], window, minimumLength, &previousLast, body)
    }

    /// Reports the free gap between `previousLast` and `nextStart`, clipped to the window.
    /// Returns false when `body` asked to stop.
    private func emit(after previousLast: UInt64?, before nextStart: UInt64?, _ window: IOVARange,
                      _ minimumLength: UInt64, body: (IOVARange) -> Bool) -> Bool {
        var gapStart: UInt64 = 0
        if let previousLast {
            guard previousLast < .max else { return true }
            gapStart = previousLast + 1
        }
        var gapLast = UInt64.max
        if let nextStart {
            guard nextStart > 0 else { return true }
            gapLast = nextStart - 1
        }
        let clippedStart = max(gapStart, window.start), clippedLast = min(gapLast, window.last)
        guard clippedStart <= clippedLast, clippedLast - clippedStart >= minimumLength - 1 else { return true }
        return body(IOVARange(start: clippedStart, last: clippedLast))
    }

    // MARK: Mutation

    /// Inserts a range; the caller guarantees it intersects no range already present.
    public mutating func insert(_ range: IOVARange, _ value: Value) {
        root = insert(root, range, value)
        count += 1
    }

    /// Removes the range that starts at `key` and returns its value.
    @discardableResult
    public mutating func remove(startingAt key: UInt64) -> Value? {
        var removed: Value?
        root = remove(root, key, &removed)
        if removed != nil { count -= 1 }
        return removed
    }

    /// Replaces the value of the range starting at `key`.
    public mutating func updateValue(startingAt key: UInt64, _ transform: (inout Value) -> Void) {
        var node = root
        while node != Self.none {
            let n = Int(node)
            if key < start[n] { node = left[n] } else if key > start[n] { node = right[n] } else {
                transform(&values[n]!)
                return
            }
        }
    }

    public mutating func removeAll() {
        self = IntervalTree()
    }

    private mutating func makeNode(_ range: IOVARange, _ value: Value) -> Node {
        if let reused = freeList.popLast() {
            let n = Int(reused)
            start[n] = range.start; last[n] = range.last; values[n] = value
            left[n] = Self.none; right[n] = Self.none; height[n] = 1
            minStart[n] = range.start; maxLast[n] = range.last; maxGap[n] = 0
            return reused
        }
        start.append(range.start); last.append(range.last); values.append(value)
        left.append(Self.none); right.append(Self.none); height.append(1)
        minStart.append(range.start); maxLast.append(range.last); maxGap.append(0)
        return Node(start.count - 1)
    }

    private func heightOf(_ node: Node) -> Int8 { node == Self.none ? 0 : height[Int(node)] }

    private mutating func update(_ node: Node) {
        let n = Int(node), l = left[n], r = right[n]
        height[n] = max(heightOf(l), heightOf(r)) + 1
        var gap: UInt64 = 0
        if l != Self.none {
            let li = Int(l)
            minStart[n] = minStart[li]
            gap = max(maxGap[li], start[n] - maxLast[li] - 1)
        } else {
            minStart[n] = start[n]
        }
        if r != Self.none {
            let ri = Int(r)
            maxLast[n] = maxLast[ri]
            gap = max(gap, maxGap[ri], minStart[ri] - last[n] - 1)
        } else {
            maxLast[n] = last[n]
        }
        maxGap[n] = gap
    }

    private mutating func rotateRight(_ node: Node) -> Node {
        let pivot = left[Int(node)]
        left[Int(node)] = right[Int(pivot)]
        right[Int(pivot)] = node
        update(node); update(pivot)
        return pivot
    }

    private mutating func rotateLeft(_ node: Node) -> Node {
        let pivot = right[Int(node)]
        right[Int(node)] = left[Int(pivot)]
        left[Int(pivot)] = node
        update(node); update(pivot)
        return pivot
    }

    private mutating func rebalance(_ node: Node) -> Node {
        update(node)
        let n = Int(node)
        let balance = Int(heightOf(left[n])) - Int(heightOf(right[n]))
        if balance > 1 {
            let l = Int(left[n])
            if heightOf(left[l]) < heightOf(right[l]) { left[n] = rotateLeft(left[n]) }
            return rotateRight(node)
        }
        if balance < -1 {
            let r = Int(right[n])
            if heightOf(right[r]) < heightOf(left[r]) { right[n] = rotateRight(right[n]) }
            return rotateLeft(node)
        }
        return node
    }

    private mutating func insert(_ node: Node, _ range: IOVARange, _ value: Value) -> Node {
        guard node != Self.none else { return makeNode(range, value) }
        let n = Int(node)
        if range.start < start[n] { left[n] = insert(left[n], range, value) }
        else { right[n] = insert(right[n], range, value) }
        return rebalance(node)
    }

    private mutating func remove(_ node: Node, _ key: UInt64, _ removed: inout Value?) -> Node {
        guard node != Self.none else { return Self.none }
        let n = Int(node)
        if key < start[n] { left[n] = remove(left[n], key, &removed); return rebalance(node) }
        if key > start[n] { right[n] = remove(right[n], key, &removed); return rebalance(node) }
        removed = values[n]
        values[n] = nil
        freeList.append(node)
        if left[n] == Self.none { return right[n] }
        if right[n] == Self.none { return left[n] }
        // Two children: lift the smallest node of the right subtree into this place.
        var successor = Self.none
        let newRight = removeMinimum(right[n], &successor)
        let s = Int(successor)
        left[s] = left[n]
        right[s] = newRight
        return rebalance(successor)
    }

    private mutating func removeMinimum(_ node: Node, _ minimum: inout Node) -> Node {
        let n = Int(node)
        if left[n] == Self.none { minimum = node; return right[n] }
        left[n] = removeMinimum(left[n], &minimum)
        return rebalance(node)
    }
}

extension IntervalTree: Sendable where Value: Sendable {}
