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
        public var range: IOVARange
        public var alignment: UInt64
        /// The physical allocation behind the mapping.
        public var physicalBase: UInt64
        /// 2M with transparent huge pages, else 4K.
        public var chunkSize: UInt64

        /// The host physical address of a user VA inside the mapping.
        func physicalAddress(of address: UInt64) -> UInt64 {
            let offset = address - range.start
            let chunks = (range.last - range.start) / chunkSize + 1
            let chunk = offset / chunkSize
            return physicalBase + (chunks - 1 - chunk) * chunkSize + offset % chunkSize
        }
    }

    /// Where the first mapping is placed (a typical x86-64 mmap base, below the stack).
    public static let base: UInt64 = 0x7f00_0000_0000
    /// The top of the user address space (47-bit VA).
    public static let limit: UInt64 = 0x7fff_ffff_ffff

    public private(set) var mappings = IntervalTree<Mapping>()
    private var next = ProcessMemory.base

    public init() {}

    /// `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_ANONYMOUS|MAP_SHARED)`, aligned to
    /// `alignment`, backed from `physical`.
    public mutating func mmap(length: UInt64, alignment: UInt64, physical: PhysicalMemory) throws(Errno) -> UInt64 {
        guard length > 0, alignment.nonzeroBitCount == 1 else { throw .EINVAL }
        let huge = alignment >= hugePageSize
        let chunk = huge ? hugePageSize : pageSize
        guard let rounded = length.alignedUp(to: chunk) else { throw .ENOMEM }
        guard let start = next.alignedUp(to: max(alignment, pageSize)),
              let range = IOVARange(start: start, length: rounded), range.last <= Self.limit else { throw .ENOMEM }
        let backing = try physical.allocate(length: rounded, alignment: chunk)
        mappings.insert(range, Mapping(range: range, alignment: alignment, physicalBase: backing, chunkSize: chunk))
        next = range.last + 1
        return start
    }

    /// The host physical address behind a user VA, or nil where nothing is mapped.
    public func physicalAddress(of address: UInt64) -> UInt64? {
        guard let (_, mapping) = mappings.entry(containing: address) else { return nil }
        return mapping.physicalAddress(of: address)
    }

    /// How many bytes from `address` (at most `limit`) are physically contiguous, as a
    /// pinned-page batch would find them; 0 where nothing is mapped.
    public func contiguousLength(at address: UInt64, limit: UInt64) -> UInt64 {
        guard let (_, mapping) = mappings.entry(containing: address) else { return 0 }
        let chunkEnd = (address - mapping.range.start) / mapping.chunkSize * mapping.chunkSize + mapping.chunkSize
        return min(limit, chunkEnd - (address - mapping.range.start))
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

    /// `munmap`: removes every mapping inside the range (whole mappings only). Pinned pages stay
    /// with the domains that map them, so the host memory is not reused.
    public mutating func munmap(start: UInt64, length: UInt64) throws(Errno) {
        guard start.isAligned(to: pageSize), length > 0,
              let range = IOVARange(start: start, length: try Self.pageRounded(length)) else { throw .EINVAL }
        var doomed: [UInt64] = []
        mappings.forEach(intersecting: range) { mapped, _ in doomed.append(mapped.start); return true }
        for key in doomed { mappings.remove(startingAt: key) }
    }

    static func pageRounded(_ length: UInt64) throws(Errno) -> UInt64 {
        guard let rounded = length.alignedUp(to: pageSize) else { throw .ENOMEM }
        return rounded
    }
}
