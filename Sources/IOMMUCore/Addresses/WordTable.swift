/// A hash table keyed by unsigned integers up to 64 bits (frame numbers, StreamIDs, device
/// and context keys): open
/// addressing with linear probing and a multiplicative (Fibonacci) hash, so a lookup is a
/// multiply, a shift and usually one probe, with no `Hasher` and no allocation. Removal
/// shifts the following entries back (no tombstones), so probes stay short after removals.
///
/// The hardware-facing caches and the frame map look up on every descriptor fetch and
/// every translation, where a `Dictionary`'s SipHash costs more than the walk itself. A
/// value type over two arrays: a copy (a fork) shares the storage until either side
/// changes it.
public struct WordTable<Key: FixedWidthInteger & UnsignedInteger, Value> {
    private var keys: ContiguousArray<Key>
    /// nil marks an empty slot.
    private var values: ContiguousArray<Value?>
    /// Entries held.
    public private(set) var count = 0
    /// log2 of the slot count.
    private var bits: Int

    public init() {
        bits = 3
        keys = ContiguousArray(repeating: 0, count: 1 << 3)
        values = ContiguousArray(repeating: nil, count: 1 << 3)
    }

    private init(keys: ContiguousArray<Key>, values: ContiguousArray<Value?>, count: Int, bits: Int) {
        self.keys = keys
        self.values = values
        self.count = count
        self.bits = bits
    }

    public var isEmpty: Bool { count == 0 }

    /// The same keys with each value transformed (the slots stay where they are).
    public func mapValues<Transformed>(_ transform: (Value) throws -> Transformed) rethrows -> WordTable<Key, Transformed> {
        WordTable<Key, Transformed>(keys: keys, values: ContiguousArray(try values.map { try $0.map(transform) }), count: count, bits: bits)
    }

    /// The first slot to probe for `key`.
    @inline(__always)
    private func home(_ key: Key) -> Int {
        Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: key) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
    }

    @inline(__always)
    private func slot(of key: Key) -> Int? {
        let mask = keys.count - 1
        var slot = home(key)
        while values[slot] != nil {
            if keys[slot] == key { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    public subscript(key: Key) -> Value? {
        @inline(__always) get { slot(of: key).map { values[$0].unsafelyUnwrapped } }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    /// Changes the value of `key` in place (no copy of it is made first); nil when the key
    /// has no value.
    @inline(__always)
    public mutating func modify<Result>(_ key: Key, _ body: (inout Value) -> Result) -> Result? {
        guard let slot = slot(of: key) else { return nil }
        return body(&values[slot]!)
    }

    private mutating func insert(_ key: Key, _ value: Value) {
        if let slot = slot(of: key) {
            values[slot] = value
            return
        }
        if (count + 1) * 2 > keys.count { grow() }
        place(key, value)
        count += 1
    }

    private mutating func place(_ key: Key, _ value: Value) {
        let mask = keys.count - 1
        var slot = home(key)
        while values[slot] != nil { slot = (slot + 1) & mask }
        keys[slot] = key
        values[slot] = value
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        bits += 1
        keys = ContiguousArray(repeating: 0, count: 1 << bits)
        values = ContiguousArray(repeating: nil, count: 1 << bits)
        for (key, value) in zip(oldKeys, oldValues) { if let value { place(key, value) } }
    }

    private mutating func remove(_ key: Key) {
        guard var hole = slot(of: key) else { return }
        let mask = keys.count - 1
        values[hole] = nil
        count -= 1
        // Backward-shift deletion: an entry after the hole whose home is not cyclically in
        // (hole, next] would be cut off from it by the empty slot, so it moves into the hole.
        var next = (hole + 1) & mask
        while values[next] != nil {
            let wanted = home(keys[next])
            let reachable = hole <= next ? (hole < wanted && wanted <= next) : (wanted > hole || wanted <= next)
            if !reachable {
                keys[hole] = keys[next]
                values[hole] = values[next]
                values[next] = nil
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    /// The entry of `key`, if `policy` consults the caches (a configuration cache's lookup).
    func cached(_ key: Key, policy: CachePolicy) -> Value? { policy.looksUp ? self[key] : nil }

    /// Stores a configuration fetched from memory, if `policy` fills the caches.
    mutating func fill(_ key: Key, _ value: Value, policy: CachePolicy) {
        if policy.fills { self[key] = value }
    }

    /// Drops every entry, and the storage with them.
    public mutating func removeAll() {
        if count > 0 || bits > 3 { self = WordTable() }
    }

    /// Drops the entries `doomed` selects.
    public mutating func removeAll(where doomed: (Key, Value) -> Bool) {
        for (key, value) in entries where doomed(key, value) { self[key] = nil }
    }

    /// The keys and values, in no particular order.
    public var entries: [(key: Key, value: Value)] {
        zip(keys, values).compactMap { key, value in value.map { (key, $0) } }
    }
}

extension WordTable: Sendable where Key: Sendable, Value: Sendable {}
