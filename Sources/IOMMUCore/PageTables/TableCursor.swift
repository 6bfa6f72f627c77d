/// One entry of a page table as a cursor stands on it (generic_pt's `struct pt_state`): the
/// entry as a step of a software walk (table, level, index, entry address, descriptor, kind),
/// and the range of input addresses it covers.
public struct TableEntry: Sendable, Equatable {
    public var step: WalkStep
    /// The input addresses the entry covers: the whole span of its level, or for a leaf the
    /// page it maps (a contiguous-hint leaf spans several entries).
    public var range: IOVARange

    public var kind: DescriptorKind { step.kind }
    public var descriptor: UInt64 { step.descriptor }
}

/// A read-only cursor over the descriptors of a page table, in any format and any table
/// memory (host memory, or a guest's RAM through its IOAS). The builder's software walk,
/// the page-table browser and the CLI's `walk` all read tables through it, so an entry's
/// level, index and covered range are computed in one place. It reads as software does,
/// not as the IOMMU does: no rights, no faults, no caches.
public struct TableCursor {
    public let format: any PageTableFormat
    public let root: UInt64
    /// The stage the entries' steps are labelled with.
    public let stage: TranslationStage
    /// Reads one descriptor; nil where the memory has nothing (the walk stops there).
    public let read: (UInt64) -> UInt64?

    public init(format: any PageTableFormat, root: UInt64, stage: TranslationStage = .stage1, read: @escaping (UInt64) -> UInt64?) {
        self.format = format
        self.root = root
        self.stage = stage
        self.read = read
    }

    public init(format: any PageTableFormat, root: UInt64, stage: TranslationStage = .stage1, memory: any TableMemory) {
        self.init(format: format, root: root, stage: stage) { try? memory.read64($0) }
    }

    /// The entry of `table` (at `level`) at `index`, whose level covers input addresses from
    /// `base`; `input` is the address being walked (the start of the entry's range if nil);
    /// nil where the memory cannot be read.
    public func entry(table: UInt64, level: Int, index: Int, base: UInt64, input: UInt64? = nil) -> TableEntry? {
        guard let descriptor = read(table &+ UInt64(index) &* 8) else { return nil }
        return entry(Descent(table: table, level: level, index: index, descriptor: descriptor,
                             kind: format.kind(of: descriptor, level: level)), base: base, input: input)
    }

    private func entry(_ read: Descent, base: UInt64, input: UInt64?) -> TableEntry {
        let span = read.kind == .block || read.kind == .page
            ? format.leafSize(of: read.descriptor, level: read.level) : format.entrySpan(level: read.level)
        let start = (base &+ UInt64(read.index) &* format.entrySpan(level: read.level)).alignedDown(to: span)
        // `start` is aligned to `span`, so its last address cannot overflow.
        let range = IOVARange(start: start, last: start + (span - 1))
        let step = WalkStep(stage: stage, format: format, input: input ?? start, level: read.level, table: read.table,
                            index: read.index, entryAddress: read.slot, descriptor: read.descriptor, kind: read.kind)
        return TableEntry(step: step, range: range)
    }

    /// One descriptor read on the way down to an input address.
    struct Descent {
        var table: UInt64
        var level: Int
        var index: Int
        var descriptor: UInt64
        var kind: DescriptorKind
        var slot: UInt64 { table &+ UInt64(index) &* 8 }
    }

    /// Reads from the root towards `input`, handing each descriptor to `visit`, and stops after
    /// a leaf, an invalid entry, the leaf level, unreadable memory or `limit` reads (a table
    /// that points back into itself cannot loop). Builds nothing: unmap and `iova_to_phys`
    /// walk this way on every call.
    func descend(to input: UInt64, limit: Int, _ visit: (Descent) -> Void) {
        var table = root
        var level = format.rootLevel
        for _ in 0..<max(0, limit) {
            let index = format.index(of: input, level: level)
            guard let descriptor = read(table &+ UInt64(index) &* 8) else { return }
            let kind = format.kind(of: descriptor, level: level)
            visit(Descent(table: table, level: level, index: index, descriptor: descriptor, kind: kind))
            guard kind == .table, level != format.leafLevel else { return }
            table = format.outputAddress(of: descriptor, level: level, kind: kind)
            level = format.nextLevel(after: level, descriptor: descriptor)
        }
    }

    /// The entries from the root to the leaf, or to the first invalid entry, that cover
    /// `input`; at most `limit`.
    public func path(to input: UInt64, limit: Int = 8) -> [TableEntry] {
        var entries: [TableEntry] = []
        descend(to: input, limit: limit) { read in
            let span = format.entrySpan(level: read.level)
            entries.append(entry(read, base: input.alignedDown(to: span) &- UInt64(read.index) &* span, input: input))
        }
        return entries
    }

    /// The slot, level and descriptor of the leaf that maps `input`, if one does.
    public func leaf(for input: UInt64) -> (slot: UInt64, level: Int, descriptor: UInt64)? {
        var leaf: (slot: UInt64, level: Int, descriptor: UInt64)?
        descend(to: input, limit: format.levels.count) { read in
            if read.kind == .block || read.kind == .page { leaf = (read.slot, read.level, read.descriptor) }
        }
        return leaf
    }

    /// `path(to:)` as walk steps.
    public func steps(to input: UInt64, limit: Int = 8) -> [WalkStep] { path(to: input, limit: limit).map(\.step) }

    /// Up to `count` consecutive pieces of the input space from `start`: each the path to a
    /// leaf (the range it maps) or to an invalid entry (the hole it leaves), ending where the
    /// format stops translating (`translates`); none when it does not translate `start`.
    public func pieces(from start: UInt64, count: Int) -> [[TableEntry]] {
        var pieces: [[TableEntry]] = []
        var address = start
        while pieces.count < count, format.translates(address) {
            let path = path(to: address)
            guard let last = path.last else { break }
            pieces.append(path)
            guard let next = last.range.last.checkedAdd(1) else { break }
            address = next
        }
        return pieces
    }
}

extension DescriptorPageTable {
    /// A cursor over this table's descriptors, its steps labelled `stage`.
    public func cursor(stage: TranslationStage = .stage1) -> TableCursor {
        TableCursor(format: format, root: root, stage: stage, memory: memory)
    }
}
