import IOMMUCore

/// One table of the page-table browser as the model has it: the table reached from the root
/// along the descended entries, its entries read once through the table cursor, and the
/// rows they make (runs of empty entries collapsed). Made when the model generation, the
/// table or the descent changes, never per frame.
struct PageTableModel {
    /// A row: one entry, or a run of empty (zero, invalid) entries.
    enum Row: Equatable {
        case entry(Int)
        case empty(first: Int, last: Int)
        /// A run of entries the host's dumps did not cover: zero here, unknown on the host.
        case unknown(first: Int, last: Int)

        func contains(_ index: Int) -> Bool {
            switch self {
            case .entry(let entry): entry == index
            case .empty(let first, let last), .unknown(let first, let last): (first...last).contains(index)
            }
        }
    }

    /// The table on screen, from the root along the descended entries.
    struct Frame {
        /// The descended entries: level, index, and the table they are in.
        var path: [(level: Int, index: Int, table: UInt64)]
        var table: UInt64
        var level: Int
        /// The IOVA the table's entry 0 covers.
        var base: UInt64
        var entries: Int
    }

    /// What the model was made from: when it changes, the table is read again.
    let key: String
    /// Each entry of the table; nil where the table memory has nothing (a guest table's
    /// unbacked GPA).
    let entries: [TableEntry?]
    let rows: [Row]
    /// Entries that are not empty.
    let used: Int

    init(source: PageTableSource, frame: Frame, generation: Int) {
        key = Self.key(source, frame, generation: generation)
        let cursor = TableCursor(format: source.format, root: source.root, stage: source.stage, read: source.read)
        entries = (0..<frame.entries).map { cursor.entry(table: frame.table, level: frame.level, index: $0, base: frame.base) }
        var rows: [Row] = []
        var used = 0
        /// The run of empty entries being collected, and whether they are unknown.
        var run: (start: Int, unknown: Bool)?
        func close(before index: Int) {
            guard let open = run else { return }
            rows.append(open.unknown ? .unknown(first: open.start, last: index - 1) : .empty(first: open.start, last: index - 1))
            run = nil
        }
        let emptyIsInvalid = source.format.kind(of: 0, level: frame.level) == .invalid
        let span = source.format.entrySpan(level: frame.level)
        for (index, entry) in entries.enumerated() {
            if entry?.descriptor == 0 && emptyIsInvalid {
                let start = frame.base &+ UInt64(index) &* span
                let unknown = source.isUnknown(IOVARange(start: start, last: max(start, start &+ (span &- 1))))
                if let open = run, open.unknown != unknown { close(before: index) }
                if run == nil { run = (index, unknown) }
                continue
            }
            close(before: index)
            rows.append(.entry(index))
            used += 1
        }
        close(before: frame.entries)
        self.rows = rows
        self.used = used
    }

    static func key(_ source: PageTableSource, _ frame: Frame, generation: Int) -> String {
        "\(generation)|\(source.key)|\(frame.table)|\(frame.level)"
    }

    /// The entry at `index`, if its memory could be read.
    func entry(_ index: Int) -> TableEntry? { entries.indices.contains(index) ? entries[index] : nil }
}
