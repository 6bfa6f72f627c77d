/// The VMM process's anonymous memory: the virtual ranges `mmap` handed out.
///
/// iommufd pins user pages when an area is mapped into a domain; a user VA that no `mmap`
/// covers cannot be pinned and the kernel answers EFAULT. Addresses are handed out
/// deterministically, upward from `base`, each aligned as asked.
public struct ProcessMemory: Sendable {
    public struct Mapping: Sendable, Equatable {
        public var range: IOVARange
        public var alignment: UInt64
    }

    /// Where the first mapping is placed (a typical x86-64 mmap base, below the stack).
    public static let base: UInt64 = 0x7f00_0000_0000
    /// The top of the user address space (47-bit VA).
    public static let limit: UInt64 = 0x7fff_ffff_ffff

    public private(set) var mappings = IntervalTree<Mapping>()
    private var next = ProcessMemory.base

    public init() {}

    /// `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_ANONYMOUS|MAP_SHARED)`, aligned to `alignment`.
    public mutating func mmap(length: UInt64, alignment: UInt64) throws(Errno) -> UInt64 {
        guard length > 0, alignment.nonzeroBitCount == 1 else { throw .EINVAL }
        let rounded = try Self.pageRounded(length)
        guard let start = next.alignedUp(to: max(alignment, pageSize)),
              let range = IOVARange(start: start, length: rounded), range.last <= Self.limit else { throw .ENOMEM }
        mappings.insert(range, Mapping(range: range, alignment: alignment))
        next = range.last + 1
        return start
    }

    /// `munmap`: removes every mapping inside the range (whole mappings only).
    public mutating func munmap(start: UInt64, length: UInt64) throws(Errno) {
        guard start.isAligned(to: pageSize), length > 0,
              let range = IOVARange(start: start, length: try Self.pageRounded(length)) else { throw .EINVAL }
        var doomed: [UInt64] = []
        mappings.forEach(intersecting: range) { mapped, _ in doomed.append(mapped.start); return true }
        for key in doomed { mappings.remove(startingAt: key) }
    }

    /// True when every byte of `range` lies in some mapping (what `pin_user_pages` needs).
    public func isMapped(_ range: IOVARange) -> Bool {
        var cursor = range.start
        while true {
            guard let (mapped, _) = mappings.entry(containing: cursor) else { return false }
            if mapped.last >= range.last { return true }
            cursor = mapped.last + 1
        }
    }

    private static func pageRounded(_ length: UInt64) throws(Errno) -> UInt64 {
        guard let rounded = length.alignedUp(to: pageSize) else { throw .ENOMEM }
        return rounded
    }
}
