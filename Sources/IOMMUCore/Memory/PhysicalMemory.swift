/// A bus error: an access to host physical memory that nothing backs.
///
/// A walker turns it into the architecture's external-abort fault (SMMUv3 `F_WALK_EABT`,
/// VT-d "entry inaccessible", AMD-Vi a page-table hardware error).
public struct BusError: Error, Equatable, Sendable {
    public var address: UInt64
}

/// Sparse simulated host physical memory in 4K frames, with a frame allocator.
///
/// Allocated ranges are recorded as ranges, and a frame gets storage only when first
/// written, so gigabytes of guest RAM cost nothing until page tables or guests touch them.
/// Reads and writes are little-endian 64-bit words, as IOMMUs fetch descriptors.
public final class PhysicalMemory {
    /// Where the allocator starts handing out frames (above a typical 4 GiB low RAM hole).
    public static let base: UInt64 = 0x1_0000_0000
    public static let frameSize: UInt64 = 4096

    private var allocated = IntervalTree<Void>()
    /// Frames a real host's dump shows in use (its root, context and page tables), placed
    /// at their own addresses by `adopt(_:)`: backed, writable, never handed out by
    /// `allocate`, never freed, and not counted in `allocatedBytes`.
    private var adopted = IntervalTree<Void>()
    /// Bytes handed out by `allocate` and not yet freed.
    public private(set) var allocatedBytes: UInt64 = 0
    /// The host's memory: `allocate` fails with ENOMEM past it, as the page allocator does
    /// when a host runs out (`MemoryLimits.hostMemory`).
    public var capacity: UInt64 = MemoryLimits.defaultHostMemory
    /// Touched frames' words, by frame number. A fork shares them with its original, and
    /// whichever writes a shared frame first writes its own copy. A frame with storage is
    /// always allocated or adopted (`free` drops the storage), so a read that finds its frame
    /// needs no other check. Every descriptor fetch reads it, so its accesses skip the
    /// dynamic exclusivity check (no access to it overlaps another: each is one word's).
    @exclusivity(unchecked) private var frames = FrameTable()
    private var next = PhysicalMemory.base
    /// Word writes so far: lets a caller see whether something (a walk's Access/Dirty
    /// update) changed memory.
    @exclusivity(unchecked) public private(set) var writeCount: UInt64 = 0
    /// MMIO pages (an ITS doorbell): accesses succeed and reads return zero.
    private var deviceRanges: [IOVARange] = []

    public init() {}

    /// Bytes of frame storage actually held (touched frames only; a frame shared with a fork
    /// counts in each).
    public var residentBytes: Int { frames.count * Int(Self.frameSize) }

    /// The addresses of the frames holding storage, ascending: with `peek64`, everything the
    /// memory holds (two memories hold the same words when these and their words agree).
    public var residentFrames: [UInt64] { frames.frameNumbers.map { $0 << Self.frameShift } }

    /// log2 of `frameSize`.
    static let frameShift: UInt64 = 12

    /// Allocates `length` bytes (a multiple of 4K) of zeroed, physically contiguous memory
    /// aligned to `alignment`; returns its physical address.
    public func allocate(length: UInt64, alignment: UInt64 = PhysicalMemory.frameSize) throws(Refusal) -> UInt64 {
        guard length > 0, length.isAligned(to: Self.frameSize), alignment.nonzeroBitCount == 1 else {
            throw Refusal(.ENOMEM, .physicalAllocationArguments, values: [Refusal.InvolvedValue("length", length, .requested),
                                                                          Refusal.InvolvedValue("alignment", alignment, .requested)])
        }
        guard var start = next.alignedUp(to: max(alignment, Self.frameSize)),
              var range = IOVARange(start: start, length: length), range.last < 1 << 52,
              let total = allocatedBytes.checkedAdd(length), total <= capacity else { throw exhausted(length) }
        // Step over the host's adopted frames (real hosts' tables live above 4 GiB too).
        while adopted.intersects(range) {
            var last = range.last
            adopted.forEach(intersecting: range) { found, _ in
                last = max(last, found.last)
                return true
            }
            guard let after = last.checkedAdd(1), let aligned = after.alignedUp(to: max(alignment, Self.frameSize)),
                  let moved = IOVARange(start: aligned, length: length), moved.last < 1 << 52 else { throw exhausted(length) }
            start = aligned
            range = moved
        }
        allocated.insert(range, ())
        allocatedBytes = total
        next = range.last + 1
        return start
    }

    /// ENOMEM for an allocation the memory has no room for: its length, what is allocated
    /// and the capacity.
    private func exhausted(_ length: UInt64) -> Refusal {
        Refusal(.ENOMEM, .physicalMemoryExhausted,
                values: [Refusal.InvolvedValue("length", length, .requested), Refusal.InvolvedValue("allocated", allocatedBytes, .existing),
                         Refusal.InvolvedValue("capacity", capacity, .limit)])
    }

    /// A table the hardware finds by a base register (a stream table, a device table),
    /// allocated naturally aligned the first time it is needed.
    public func allocateOnce(_ base: inout UInt64?, length: UInt64) throws(Refusal) -> UInt64 {
        if let base { return base }
        let allocated = try allocate(length: length, alignment: length)
        base = allocated
        return allocated
    }

    /// Frees an allocation made by `allocate` (the whole range it returned).
    public func free(_ address: UInt64) {
        guard let (range, _) = allocated.entry(containing: address), range.start == address else { return }
        allocated.remove(startingAt: address)
        allocatedBytes -= range.last - range.start + 1
        var frame = range.start
        while frame <= range.last {
            frames.remove(frame: frame >> Self.frameShift)
            if range.last - frame < Self.frameSize { break }
            frame += Self.frameSize
        }
    }

    /// Takes host-owned frames at the physical addresses a dump shows, so their words can be
    /// written where the host has them. `range` is widened to whole frames. False (and
    /// nothing adopted) when part of it is already allocated or beyond 52 bits; adopting a
    /// frame twice is allowed.
    @discardableResult
    public func adopt(_ range: IOVARange) -> Bool {
        guard range.last < 1 << 52, let last = range.last.alignedDown(to: Self.frameSize).checkedAdd(Self.frameSize - 1) else {
            return false
        }
        let frames = IOVARange(start: range.start.alignedDown(to: Self.frameSize), last: last)
        guard !allocated.intersects(frames) else { return false }
        var cursor = frames.start
        while cursor <= frames.last {
            let frame = IOVARange(start: cursor, last: cursor + Self.frameSize - 1)
            if adopted.entry(containing: cursor) == nil { adopted.insert(frame, ()) }
            guard let next = cursor.checkedAdd(Self.frameSize) else { break }
            cursor = next
        }
        return true
    }

    /// Whether `address` lies in a frame `adopt(_:)` took.
    public func isAdopted(_ address: UInt64) -> Bool { adopted.entry(containing: address) != nil }

    /// Declares a device page (MMIO) that accepts accesses, such as the ITS doorbell.
    public func addDeviceRange(_ range: IOVARange) { deviceRanges.append(range) }

    public func isBacked(_ address: UInt64) -> Bool {
        allocated.entry(containing: address) != nil || isAdopted(address) || deviceRanges.contains { $0.contains(address) }
    }

    @inline(__always)
    public func read64(_ address: UInt64) throws(BusError) -> UInt64 { try reader.read64(address) }

    /// Reads words as `read64` does, for one walk. It finds frames in the frame map as it
    /// was when the reader was made, retaining nothing, so it is valid until the memory next
    /// changes: a walk reads every descriptor before it writes any.
    public struct Reader {
        fileprivate let frames: WordTable<UInt64, UnsafeMutablePointer<UInt64>>.Probe
        /// Only for a frame without storage, which the frame map does not hold.
        fileprivate unowned(unsafe) let memory: PhysicalMemory

        @inline(__always)
        public func read64(_ address: UInt64) throws(BusError) -> UInt64 {
            guard address & 7 == 0 else { throw BusError(address: address) }
            if let words = frames[address >> PhysicalMemory.frameShift] {
                return UInt64(littleEndian: words[Int(truncatingIfNeeded: (address >> 3) & 511)])
            }
            return try memory.readUntouched(address)
        }
    }

    public var reader: Reader { Reader(frames: frames.wordsProbe, memory: self) }

    /// An untouched frame reads as zeros, if anything backs it.
    private func readUntouched(_ address: UInt64) throws(BusError) -> UInt64 {
        guard isBacked(address) else { throw BusError(address: address) }
        return 0
    }

    /// Writes consecutive words from `address`, as a driver writes a whole STE, CD, context
    /// entry or DTE.
    public func write64(_ address: UInt64, words: [UInt64]) throws(BusError) {
        for (index, word) in words.enumerated() {
            guard let target = address.checkedAdd(UInt64(index) * 8) else { throw BusError(address: address) }
            try write64(target, word)
        }
    }

    /// A word for display or for a driver rewriting its own structures: memory that cannot be
    /// read shows as zero (a walk reads through `fetch`, which faults instead).
    public func peek64(_ address: UInt64) -> UInt64 { (try? read64(address)) ?? 0 }

    /// `count` consecutive words from `address`, each as `peek64(_:)` reads it.
    public func peek64(_ address: UInt64, count: Int) -> [UInt64] {
        (0..<count).map { index in address.checkedAdd(UInt64(index) * 8).map(peek64) ?? 0 }
    }

    public func write64(_ address: UInt64, _ value: UInt64) throws(BusError) {
        guard address & 7 == 0 else { throw BusError(address: address) }
        let frame = address >> Self.frameShift
        // A frame with storage is backed; only a first write to a frame checks the allocation.
        let stored = frames.wordsForWriting(ofFrame: frame)
        guard stored != nil || allocated.entry(containing: address) != nil || isAdopted(address) else {
            if deviceRanges.contains(where: { $0.contains(address) }) { return }
            throw BusError(address: address)
        }
        writeCount &+= 1
        guard let words = stored ?? (value == 0 ? nil : frames.insert(frame: frame)) else { return }
        words[Int(truncatingIfNeeded: (address >> 3) & 511)] = value.littleEndian
    }

    /// Zeroes `length` bytes at `address` (dropping whole frames' storage).
    public func zero(_ address: UInt64, length: UInt64) {
        var cursor = address
        while cursor < address &+ length {
            if cursor.isAligned(to: Self.frameSize), address &+ length - cursor >= Self.frameSize {
                frames.remove(frame: cursor >> Self.frameShift)
                cursor += Self.frameSize
            } else {
                try? write64(cursor, 0)
                cursor += 8
            }
        }
    }
}

extension PhysicalMemory: ModelCopyable {
    /// The same allocations and contents; frames are shared until either side writes one.
    public func makeCopy(in copier: ModelCopy) -> PhysicalMemory {
        let copy = PhysicalMemory()
        copy.allocated = allocated
        copy.adopted = adopted
        copy.allocatedBytes = allocatedBytes
        copy.capacity = capacity
        copy.frames = frames
        copy.next = next
        copy.writeCount = writeCount
        copy.deviceRanges = deviceRanges
        return copy
    }
}
