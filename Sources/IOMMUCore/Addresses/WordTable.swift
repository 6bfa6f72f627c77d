/// A hash table keyed by unsigned integers up to 64 bits (frame numbers, StreamIDs, device
/// and context keys): open
/// addressing with linear probing and a multiplicative (Fibonacci) hash, so a lookup is a
/// multiply, a shift and usually one probe, with no `Hasher` and no allocation. Removal
/// shifts the following entries back (no tombstones), so probes stay short after removals.
///
/// The hardware-facing caches and the frame map look up on every descriptor fetch and
/// every translation, where a `Dictionary`'s SipHash costs more than the walk itself. A
/// value type over slots it owns: a copy (a fork) shares them until either side changes
/// them, and a lookup reads them through plain pointers, retaining nothing (an array's
/// buffer is retained and released around each read of a class's stored table).
public struct WordTable<Key: FixedWidthInteger & UnsignedInteger, Value> {
    /// The slots, owned here and shared by copies until one of them writes. The table reads
    /// through `keys` and `values`, plain pointers into it, so a lookup retains nothing.
    private final class Slots {
        let capacity: Int
        let keys: UnsafeMutablePointer<Key>
        /// nil marks an empty slot.
        let values: UnsafeMutablePointer<Value?>

        init(capacity: Int) {
            self.capacity = capacity
            keys = .allocate(capacity: capacity)
            keys.initialize(repeating: 0, count: capacity)
            values = .allocate(capacity: capacity)
            values.initialize(repeating: nil, count: capacity)
        }

        /// A copy of `other`'s slots, each value copied through `transform`.
        init<Other>(mapping other: WordTable<Key, Other>.Slots, _ transform: (Other) -> Value) {
            capacity = other.capacity
            keys = .allocate(capacity: capacity)
            keys.initialize(from: other.keys, count: capacity)
            values = .allocate(capacity: capacity)
            for at in 0..<capacity { (values + at).initialize(to: other.values[at].map(transform)) }
        }

        deinit {
            values.deinitialize(count: capacity)
            values.deallocate()
            keys.deallocate()
        }
    }

    private var slots: Slots
    private var keys: UnsafeMutablePointer<Key>
    private var values: UnsafeMutablePointer<Value?>
    /// Entries held.
    public private(set) var count = 0
    /// log2 of the slot count.
    private var bits: Int

    public init() { self.init(slots: Slots(capacity: 1 << 3), count: 0, bits: 3) }

    private init(slots: Slots, count: Int, bits: Int) {
        self.slots = slots
        keys = slots.keys
        values = slots.values
        self.count = count
        self.bits = bits
    }

    public var isEmpty: Bool { count == 0 }

    /// The same keys with each value transformed (the slots stay where they are).
    public func mapValues<Transformed>(_ transform: (Value) -> Transformed) -> WordTable<Key, Transformed> {
        WordTable<Key, Transformed>(slots: .init(mapping: slots, transform), count: count, bits: bits)
    }

    private var mask: Int { (1 &<< bits) &- 1 }

    /// The slots as they are now, probed without the table: a lookup through it touches no
    /// reference at all, where a table stored in a class is retained around each read. It
    /// stays valid until the table next changes.
    public struct Probe {
        fileprivate let keys: UnsafeMutablePointer<Key>
        fileprivate let values: UnsafeMutablePointer<Value?>
        fileprivate let bits: Int

        /// The first slot to probe for `key`.
        @inline(__always)
        fileprivate func home(_ key: Key) -> Int {
            // A masking shift: `bits` is at least 3, so the amount is below 64 (a checked shift
            // would compare and select on every probe).
            Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: key) &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 &- bits))
        }

        /// The slot of `key`. Probes stay inside the slots: `home` and the mask are below
        /// their count, and half of them at least are empty.
        @inline(__always)
        fileprivate func slot(of key: Key) -> Int? {
            let mask = (1 &<< bits) &- 1
            var slot = home(key)
            while values[slot] != nil {
                if keys[slot] == key { return slot }
                slot = (slot &+ 1) & mask
            }
            return nil
        }

        public subscript(key: Key) -> Value? {
            @inline(__always) get { slot(of: key).map { values[$0].unsafelyUnwrapped } }
        }

        /// `body` of the value of `key` where it lies, without copying it out first; nil
        /// when the key has no value.
        @inline(__always)
        public func withValue<Result>(_ key: Key, _ body: (borrowing Value) -> Result?) -> Result? {
            guard let slot = slot(of: key) else { return nil }
            return body(values[slot].unsafelyUnwrapped)
        }
    }

    public var probe: Probe {
        @inline(__always) get { Probe(keys: keys, values: values, bits: bits) }
    }

    @inline(__always)
    private func home(_ key: Key) -> Int { probe.home(key) }

    @inline(__always)
    private func slot(of key: Key) -> Int? { probe.slot(of: key) }

    /// The slots, unshared before a write.
    private mutating func makeUnique() {
        guard !isKnownUniquelyReferenced(&slots) else { return }
        self = WordTable(slots: Slots(mapping: slots) { $0 }, count: count, bits: bits)
    }

    public subscript(key: Key) -> Value? {
        @inline(__always) get { probe[key] }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    /// Changes the value of `key` in place (no copy of it is made first); nil when the key
    /// has no value.
    @inline(__always)
    public mutating func modify<Result>(_ key: Key, _ body: (inout Value) -> Result) -> Result? {
        guard let slot = slot(of: key) else { return nil }
        makeUnique()
        return body(&values[slot]!)
    }

    private mutating func insert(_ key: Key, _ value: Value) {
        makeUnique()
        if let slot = slot(of: key) {
            values[slot] = value
            return
        }
        if (count + 1) * 2 > 1 << bits { grow() }
        place(key, value)
        count += 1
    }

    private mutating func place(_ key: Key, _ value: Value) {
        let mask = mask
        var slot = home(key)
        while values[slot] != nil { slot = (slot + 1) & mask }
        keys[slot] = key
        values[slot] = value
    }

    private mutating func grow() {
        let old = slots
        bits += 1
        slots = Slots(capacity: 1 << bits)
        keys = slots.keys
        values = slots.values
        for at in 0..<old.capacity { if let value = old.values[at] { place(old.keys[at], value) } }
    }

    private mutating func remove(_ key: Key) {
        guard var hole = slot(of: key) else { return }
        makeUnique()
        let mask = mask
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
        (0..<slots.capacity).compactMap { at in values[at].map { (keys[at], $0) } }
    }
}

/// A table's pointers lead only into the slots it owns, which no copy writes while shared.
extension WordTable: @unchecked Sendable where Key: Sendable, Value: Sendable {}
