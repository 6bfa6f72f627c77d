/// The VMM process's anonymous memory: the virtual ranges `mmap` handed out, each backed by
/// host physical memory.
///
/// iommufd pins user pages when an area is mapped into a domain; a user VA that no `mmap`
/// covers cannot be pinned and the kernel answers EFAULT. Addresses are handed out
/// deterministically, upward from `base`, each aligned as asked.
///
/// Backing comes in chunks: 2M physically contiguous chunks when the mapping is aligned to
/// 2M or more (transparent huge pages), 4K pages otherwise. Chunks are handed out top-down,
/// as a buddy allocator's free lists tend to, so neighbouring chunks are never physically
/// adjacent in ascending order and a domain can only use blocks as large as one chunk.
public struct ProcessMemory: Sendable {
    public struct Mapping: Sendable, Equatable {
        /// The user VAs this piece of the mapping still covers.
        public var range: IOVARange
        /// The whole range the `mmap` returned: the physical layout is laid out over it, so a
        /// piece left by a partial `munmap` keeps the pages it had.
        public var layout: IOVARange
        public var alignment: UInt64
        /// The physical allocation behind the mapping.
        public var physicalBase: UInt64
        /// 2M with transparent huge pages, else 4K.
        public var chunkSize: UInt64

        /// The host physical address of a user VA inside the mapping.
        func physicalAddress(of address: UInt64) -> UInt64 {
            let offset = address - layout.start
            let chunks = (layout.last - layout.start) / chunkSize + 1
            let chunk = offset / chunkSize
            return physicalBase + (chunks - 1 - chunk) * chunkSize + offset % chunkSize
        }

        /// The same mapping cut down to `piece` (inside `range`).
        func cut(to piece: IOVARange) -> Mapping {
            var copy = self
            copy.range = piece
            return copy
        }
    }

    /// Where the first mapping is placed (a typical x86-64 mmap base, below the stack).
    public static let base: UInt64 = 0x7f00_0000_0000
    /// The top of the user address space (47-bit VA).
    public static let limit: UInt64 = 0x7fff_ffff_ffff

    public private(set) var mappings = IntervalTree<Mapping>()
    /// The pieces `munmap` removed. Their pages are gone from the process but pins taken
    /// before hold them (`pin_user_pages` keeps a page until it is unpinned), so the pages an
    /// area pinned stay reachable through `pinnedPhysicalAddress`. VAs are never handed out
    /// twice, so a retired piece is never shadowed by a new mapping.
    private var retired = IntervalTree<Mapping>()
    private var next = ProcessMemory.base

    public init() {}

    /// `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_ANONYMOUS|MAP_SHARED)`, aligned to
    /// `alignment`, backed from `physical`.
    public mutating func mmap(length: UInt64, alignment: UInt64, physical: PhysicalMemory) throws(Refusal) -> UInt64 {
        guard length > 0 else { throw Refusal(.EINVAL, .mmapZeroLength) }
        guard alignment.nonzeroBitCount == 1 else {
            throw Refusal(.EINVAL, .mmapAlignment, values: [Refusal.InvolvedValue("alignment", alignment, .requested)])
        }
        let huge = alignment >= hugePageSize
        let chunk = huge ? hugePageSize : pageSize
        guard let rounded = length.alignedUp(to: chunk) else { throw .mmapLengthWraps(length, chunk) }
        guard let start = next.alignedUp(to: max(alignment, pageSize)),
              let range = IOVARange(start: start, length: rounded), range.last <= Self.limit else {
            throw Refusal(.ENOMEM, .mmapNoSpace, values: [Refusal.InvolvedValue("length", rounded, .requested),
                                                          Refusal.InvolvedValue("alignment", alignment, .requested),
                                                          Refusal.InvolvedValue("TASK_SIZE", Self.limit &+ 1, .limit)])
        }
        let backing = try physical.allocate(length: rounded, alignment: chunk)
        mappings.insert(range, Mapping(range: range, layout: range, alignment: alignment, physicalBase: backing, chunkSize: chunk))
        next = range.last + 1
        return start
    }

    /// The host physical address behind a user VA, or nil where nothing is mapped.
    public func physicalAddress(of address: UInt64) -> UInt64? {
        guard let (_, mapping) = mappings.entry(containing: address) else { return nil }
        return mapping.physicalAddress(of: address)
    }

    /// The host physical address of a page pinned while it was mapped: like `physicalAddress`,
    /// and for a VA `munmap` removed since, the page the pin still holds.
    public func pinnedPhysicalAddress(of address: UInt64) -> UInt64? {
        guard let (_, mapping) = mappings.entry(containing: address) ?? retired.entry(containing: address) else { return nil }
        return mapping.physicalAddress(of: address)
    }

    /// How many bytes from `address` (at most `limit`) are physically contiguous, as a
    /// pinned-page batch would find them; 0 where nothing is mapped. With `pinned`, retired
    /// pieces count too (the pages a pin holds).
    public func contiguousLength(at address: UInt64, limit: UInt64, pinned: Bool = false) -> UInt64 {
        guard let (piece, mapping) = mappings.entry(containing: address) ?? (pinned ? retired.entry(containing: address) : nil) else {
            return 0
        }
        let offset = address - mapping.layout.start
        let chunkLeft = mapping.chunkSize - offset % mapping.chunkSize
        return min(limit, chunkLeft, piece.last - address + 1)
    }

    /// The physically contiguous runs behind `length` bytes of user VAs from `address`, in
    /// ascending VA order, each as `contiguousLength` and `physicalAddress` (with `pinned`,
    /// `pinnedPhysicalAddress`) would find it: per mapping piece the partial chunk it starts
    /// in, its whole chunks as one series, the partial chunk it ends in. One lookup per piece,
    /// not per run. Stops where nothing is mapped: `covered` counts the bytes the runs hold.
    public func physicalRuns(from address: UInt64, length: UInt64, pinned: Bool = false)
        -> (runs: [PhysicalRunSeries], covered: UInt64) {
        var runs: [PhysicalRunSeries] = []
        var covered: UInt64 = 0
        while covered < length {
            let cursor = address + covered
            guard let (piece, mapping) = mappings.entry(containing: cursor) ?? (pinned ? retired.entry(containing: cursor) : nil) else {
                break
            }
            let end = min(piece.last - cursor, length - covered - 1) + cursor
            var start = cursor
            while start <= end {
                let chunkOffset = (start - mapping.layout.start) % mapping.chunkSize
                let wholeChunks = chunkOffset == 0 ? (end - start + 1) / mapping.chunkSize : 0
                let series = wholeChunks > 0
                    ? PhysicalRunSeries(output: mapping.physicalAddress(of: start), length: mapping.chunkSize, count: wholeChunks,
                                        stride: -Int64(mapping.chunkSize))
                    : PhysicalRunSeries(output: mapping.physicalAddress(of: start),
                                        length: min(mapping.chunkSize - chunkOffset, end - start + 1), count: 1, stride: 0)
                runs.append(series)
                start += series.bytes
            }
            covered += end - cursor + 1
        }
        return (runs, covered)
    }

    /// Whether mappings cover every byte of `range` without a gap, so that pinning it cannot
    /// fail with EFAULT.
    public func covers(_ range: IOVARange) -> Bool {
        var cursor: UInt64? = range.start
        mappings.forEach(intersecting: range) { mapped, _ in
            guard let next = cursor, mapped.start <= next else { return false }
            cursor = mapped.last >= range.last ? nil : mapped.last + 1
            return cursor != nil
        }
        return cursor == nil
    }

    /// `munmap`: removes exactly the pages of the range, splitting a mapping it cuts into the
    /// pieces left on either side (`__split_vma`); a range with nothing mapped is no error.
    /// Pinned pages stay with whoever pinned them, and the host memory is not reused.
    public mutating func munmap(start: UInt64, length: UInt64) throws(Refusal) {
        guard start.isAligned(to: pageSize), length > 0,
              let range = IOVARange(start: start, length: try Self.pageRounded(length)) else {
            throw Refusal(.EINVAL, .munmapRange, values: [Refusal.InvolvedValue("start", start, .requested),
                                                          Refusal.InvolvedValue("length", length, .requested)])
        }
        var cut: [(range: IOVARange, mapping: Mapping)] = []
        mappings.forEach(intersecting: range) { mapped, mapping in cut.append((mapped, mapping)); return true }
        for (mapped, mapping) in cut {
            mappings.remove(startingAt: mapped.start)
            if mapped.start < range.start {
                let before = IOVARange(start: mapped.start, last: range.start - 1)
                mappings.insert(before, mapping.cut(to: before))
            }
            if mapped.last > range.last {
                let after = IOVARange(start: range.last + 1, last: mapped.last)
                mappings.insert(after, mapping.cut(to: after))
            }
            let gone = IOVARange(start: max(mapped.start, range.start), last: min(mapped.last, range.last))
            retired.insert(gone, mapping.cut(to: gone))
        }
    }

    static func pageRounded(_ length: UInt64) throws(Refusal) -> UInt64 {
        guard let rounded = length.alignedUp(to: pageSize) else { throw .mmapLengthWraps(length, pageSize) }
        return rounded
    }
}

/// `count` physically contiguous runs of `length` bytes behind consecutive addresses (a
/// pinned-page batch per run): the first at `output`, each next one `stride` bytes (signed)
/// from the one before. Top-down chunks have stride −chunk; a lone run has count 1.
public struct PhysicalRunSeries: Sendable, Equatable {
    public var output: UInt64
    public var length: UInt64
    public var count: UInt64
    public var stride: Int64

    /// The output address of run `index` (below `count`).
    public func output(ofRun index: UInt64) -> UInt64 {
        // A negative offset is added in two's complement: the sum wraps back into range.
        output &+ UInt64(bitPattern: Int64(index) * stride)
    }

    /// The bytes all the runs hold.
    public var bytes: UInt64 { length * count }
}
