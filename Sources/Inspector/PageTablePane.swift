import Foundation
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

// MARK: - Page tables as the views read them

/// A page table a view can read: its format, the memory its descriptors live in and its
/// root. Host domains come with the core's own `DescriptorPageTable`; a guest's stage-1
/// table is read through the nest parent's IOAS (`GuestTableMemory`), addresses being GPAs.
struct PageTableSource {
    /// "HWPT 3", "HWPT 6 guest-S1".
    var title: String
    /// Identity of the table, to reset the navigation when another table is shown.
    var key: String
    var format: any PageTableFormat
    var memory: any TableMemory
    var root: UInt64
    /// The core's table object, when the table is a host domain's.
    var table: DescriptorPageTable?
    /// The stage its walk steps are labelled with.
    var stage: TranslationStage
    /// What the table's addresses are: "PA" (host), "GPA" (guest RAM).
    var space: String
    /// For a guest table: the IOAS that turns its GPAs into host addresses.
    var guestIOAS: UInt32?
    /// A remark shown with the table (e.g. TTB0 walks disabled).
    var note: String?

    func read(_ address: UInt64) -> UInt64? { try? memory.read64(address) }

    /// Entries of a table: the root's (all concatenated tables) or a lower one's.
    func entries(root isRoot: Bool) -> Int { Int((isRoot ? format.rootTableSize : format.tableSize) / 8) }

    /// x86 first-stage addresses are shown sign-extended (canonical).
    func display(_ address: UInt64) -> UInt64 {
        (format as? X86FirstStage)?.canonical(address) ?? address
    }

    /// The host physical address of `address` (itself on the host; through the IOAS for a guest).
    func hostAddress(_ address: UInt64, fd: IOMMUFD) -> UInt64? {
        guard let guestIOAS else { return address }
        return try? fd.hostPhysicalAddress(ioasID: guestIOAS, gpa: address)
    }

    /// The descriptors from the root to the leaf (or first invalid entry) for `iova`, read
    /// through the table's memory (guest RAM for a guest table).
    func path(to iova: UInt64) -> [WalkStep] {
        TableCursor(format: format, root: root, memory: memory).steps(to: iova, stage: stage)
    }

    /// The IOVA of the first leaf, depth first, reading at most `budget` descriptors.
    func firstLeaf(budget: Int = 4096) -> UInt64? {
        var remaining = budget
        func visit(_ table: UInt64, _ level: Int, _ base: UInt64, _ count: Int) -> UInt64? {
            let span = format.entrySpan(level: level)
            for index in 0..<count {
                guard remaining > 0 else { return nil }
                remaining -= 1
                guard let descriptor = read(table &+ UInt64(index) * 8), descriptor != 0 else { continue }
                let start = base &+ UInt64(index) &* span
                switch format.kind(of: descriptor, level: level) {
                case .block, .page: return display(start)
                case .table where level != format.leafLevel:
                    if let found = visit(format.outputAddress(of: descriptor, level: level),
                                         format.nextLevel(after: level, descriptor: descriptor), start, entries(root: false)) {
                        return found
                    }
                default: continue
                }
            }
            return nil
        }
        return visit(root, format.rootLevel, 0, entries(root: true))
    }
}

/// Finds the page table behind an object of the tree.
enum PageTableSources {
    enum Resolved {
        case table(PageTableSource)
        /// No table to show, and why.
        case none(String)
    }

    static func resolve(_ selection: ObjectID?, fd: IOMMUFD) -> Resolved {
        guard let selection, let object = try? fd.object(selection.rawValue) else {
            return .none("Select a HWPT_PAGING, HWPT_NESTED or DEVICE in the tree (1).")
        }
        switch object {
        case let hwpt as HWPT: return resolve(hwpt, fd: fd)
        case let device as Device:
            guard let hwpt = device.attachments[noPASID] else { return .none("DEVICE \(device.id) is blocked: no page table.") }
            return resolve(hwpt, fd: fd)
        case let vdevice as VDevice:
            guard let hwpt = vdevice.device.attachments[noPASID] else { return .none("DEVICE \(vdevice.device.id) is blocked.") }
            return resolve(hwpt, fd: fd)
        case let viommu as VIOMMU: return resolve(viommu.parent, fd: fd)
        case let ioas as IOAS:
            guard let hwpt = ioas.hwpts.first else { return .none("IOAS \(ioas.id) has no HWPT_PAGING yet.") }
            return resolve(hwpt, fd: fd)
        default:
            return .none("\(object.type) \(object.id) has no page table.")
        }
    }

    static func resolve(_ hwpt: HWPT, fd: IOMMUFD) -> Resolved {
        switch hwpt {
        case let paging as HWPTPaging:
            guard let table = paging.domain.table as? DescriptorPageTable else {
                return .none("HWPT \(paging.id) is the selftest mock's xarray: it keeps no descriptors.")
            }
            return .table(PageTableSource(title: "HWPT \(paging.id)", key: "hwpt:\(paging.id):\(table.root)", format: table.format,
                                          memory: table.memory, root: table.root, table: table,
                                          stage: paging.domain.stage.translationStage, space: "PA", guestIOAS: nil, note: nil))
        case let nested as HWPTNested:
            return guestStage1(of: nested, fd: fd)
        default:
            return .none("\(hwpt.type) \(hwpt.id) has no page table.")
        }
    }

    /// A nested HWPT's guest stage-1 table, where the core's query finds it.
    static func guestStage1(of nested: HWPTNested, fd: IOMMUFD) -> Resolved {
        let ioas = nested.stage2.ioas.id.rawValue
        let memory = GuestTableMemory(iommufd: fd, ioasID: ioas, pool: IOVARange(start: 0, last: 0))
        switch nested.domain.guestStage1Table(readGuest: { try? fd.guestRead(ioasID: ioas, gpa: $0, count: $1) }) {
        case .success(let table):
            let note = table.walksDisabled ? "CD.EPD0 set: TTB0 walks are disabled"
                : table.contextDescriptor.map { "CD @ GPA \($0.address.hex) ASID \($0.asid)" }
            return .table(PageTableSource(title: "HWPT \(nested.id) guest-S1", key: "hwpt:\(nested.id):\(table.root)", format: table.format,
                                          memory: memory, root: table.root, table: nil, stage: .stage1, space: "GPA", guestIOAS: ioas,
                                          note: note))
        case .failure(.selftest):
            return .none("HWPT \(nested.id) is a selftest nested domain: an IOTLB array, no table.")
        case .failure(.streamTableEntryInvalid):
            return .none("HWPT \(nested.id): the guest STE is not valid (V=0): DMA aborts.")
        case .failure(.notStage1(let config)):
            if config == SMMUv3.Config.bypass.rawValue {
                return .none("HWPT \(nested.id): the guest STE bypasses stage 1; stage 2 is HWPT \(nested.stage2.id).")
            }
            return .none("HWPT \(nested.id): the guest STE does not translate by stage 1 (Config \(config)).")
        case .failure(.contextDescriptorUnreadable(let address)):
            return .none("HWPT \(nested.id): the guest CD at GPA \(address.hex) is not in guest RAM.")
        case .failure(.contextDescriptorInvalid(let address)):
            return .none("HWPT \(nested.id): the guest CD at GPA \(address.hex) is not valid (V, AA64, TG0, T0SZ): C_BAD_CD.")
        }
    }
}

/// Text helpers the page-table and walk views share.
enum TableText {
    /// "0x07f" for an index of a table of `count` entries.
    static func index(_ index: Int, count: Int) -> String {
        let digits = max(3, String(max(0, count - 1), radix: 16).count)
        let text = String(index, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func field(_ field: DescriptorField) -> String {
        let bits = field.bits.count == 1 ? "\(field.bits.lowerBound)" : "\(field.bits.upperBound):\(field.bits.lowerBound)"
        return "\(field.name)[\(bits)]=" + (field.value > 9 ? field.value.hex : String(field.value))
    }

    /// The input bits that index a table at `level`: (high, low).
    static func indexBits(_ format: any PageTableFormat, level: Int, root: Bool) -> (Int, Int) {
        let low = format.entrySpan(level: level).trailingZeroBitCount
        let entries = (root ? format.rootTableSize : format.tableSize) / 8
        let high = min(low + max(1, entries.trailingZeroBitCount) - 1, max(low, format.inputBits - 1))
        return (high, low)
    }

    static func dash(_ symbols: Symbols) -> String { symbols == .ascii ? "-" : "–" }
    static func arrow(_ symbols: Symbols) -> String { symbols == .ascii ? "->" : "→" }

    /// Splits `items` into lines of at most `width` cells.
    static func wrap(_ items: [String], width: Int, separator: String = "  ") -> [String] {
        var lines: [String] = []
        var line = ""
        for item in items {
            if line.isEmpty { line = item; continue }
            if CellBuffer.width(of: line + separator + item) > width {
                lines.append(line)
                line = item
            } else {
                line += separator + item
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// A hex address typed by the user: `0x1234`, `1234`, `0x1_0000`; nil when not hex.
    static func parseAddress(_ text: String) -> UInt64? {
        var digits = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "")
        if digits.hasPrefix("0x") { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        return UInt64(digits, radix: 16)
    }
}

extension String {
    /// Padded with blanks to `width` cells (at least one blank after the text).
    func cellPadded(to width: Int) -> String {
        self + String(repeating: " ", count: max(1, width - CellBuffer.width(of: self)))
    }
}

// MARK: - The page-table browser

/// One table of a domain (or a guest stage-1 table) at a time: one row per entry, runs of
/// empty entries collapsed, Enter descends into a table entry, Backspace goes up; the
/// selected entry's decoded fields are shown at the bottom.
public struct PageTablePane: InspectorPane {
    public let kind = PaneKind.pageTable

    /// A row: one entry, or a run of empty (zero, invalid) entries.
    enum Row: Equatable {
        case entry(Int)
        case empty(first: Int, last: Int)

        var first: Int {
            switch self {
            case .entry(let index): index
            case .empty(let first, _): first
            }
        }

        func contains(_ index: Int) -> Bool {
            switch self {
            case .entry(let entry): entry == index
            case .empty(let first, let last): (first...last).contains(index)
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

    public var list = ListState()
    /// Indices descended through, from the root.
    public private(set) var crumbs: [Int] = []
    /// The list position at each level above, restored on the way up.
    private var saved: [ListState] = []
    private var sourceKey: String?
    /// Select the first used entry when the rows of a newly shown table are known.
    private var selectFirstEntry = true
    private var listHeight = 1
    /// The rows of the table on screen, rebuilt when the model or the table changes.
    private var cache: (key: String, rows: [Row], used: Int)?

    public init() {}

    public var keyHelp: [(key: String, action: String)] {
        [("Enter / l / →", "descend into the selected table entry"), ("Backspace / h / ← / Esc", "go up one level"),
         ("/ ADDRESS", "jump to the entry covering a hex IOVA (else search the rows)"),
         ("mouse", "click selects a row; click the breadcrumb to go up")]
    }

    // MARK: Model

    private mutating func source(_ context: RenderContext) -> PageTableSources.Resolved {
        let resolved = PageTableSources.resolve(context.selection, fd: context.model.session.iommufd)
        let key: String? = if case .table(let source) = resolved { source.key } else { nil }
        if key != sourceKey {
            sourceKey = key
            crumbs = []
            saved = []
            list = ListState()
            cache = nil
            selectFirstEntry = true
        }
        return resolved
    }

    /// Follows `crumbs` from the root, dropping those that no longer lead to a table.
    private mutating func frame(_ source: PageTableSource) -> Frame {
        let format = source.format
        var table = source.root, level = format.rootLevel, base: UInt64 = 0
        var path: [(level: Int, index: Int, table: UInt64)] = []
        for (depth, index) in crumbs.enumerated() {
            guard index < source.entries(root: path.isEmpty), level != format.leafLevel,
                  let descriptor = source.read(table &+ UInt64(index) * 8),
                  format.kind(of: descriptor, level: level) == .table else {
                crumbs.removeSubrange(depth...)
                saved.removeSubrange(min(depth, saved.count)...)
                break
            }
            path.append((level, index, table))
            base = base &+ UInt64(index) &* format.entrySpan(level: level)
            table = format.outputAddress(of: descriptor, level: level)
            level = format.nextLevel(after: level, descriptor: descriptor)
        }
        return Frame(path: path, table: table, level: level, base: base, entries: source.entries(root: path.isEmpty))
    }

    private mutating func rows(_ source: PageTableSource, _ frame: Frame, generation: Int) -> [Row] {
        let key = "\(generation)|\(source.key)|\(frame.table)|\(frame.level)"
        if let cache, cache.key == key { return cache.rows }
        var rows: [Row] = []
        var used = 0
        var runStart: Int?
        for index in 0..<frame.entries {
            let descriptor = source.read(frame.table &+ UInt64(index) * 8)
            let empty = descriptor == 0 && source.format.kind(of: 0, level: frame.level) == .invalid
            if empty {
                if runStart == nil { runStart = index }
                continue
            }
            if let start = runStart { rows.append(.empty(first: start, last: index - 1)); runStart = nil }
            rows.append(.entry(index))
            used += 1
        }
        if let start = runStart { rows.append(.empty(first: start, last: frame.entries - 1)) }
        cache = (key, rows, used)
        if selectFirstEntry, let first = rows.firstIndex(where: { if case .entry = $0 { return true }; return false }) {
            list.select(first, count: rows.count, height: listHeight)
        }
        selectFirstEntry = false
        return rows
    }

    private func range(_ source: PageTableSource, _ frame: Frame, first: Int, last: Int) -> (UInt64, UInt64) {
        let span = source.format.entrySpan(level: frame.level)
        let start = frame.base &+ UInt64(first) &* span
        let end = frame.base &+ UInt64(last) &* span &+ (span &- 1)
        return (source.display(start), source.display(end))
    }

    /// Column widths of a table's rows: index, entry address.
    private func widths(_ frame: Frame) -> (index: Int, address: Int) {
        (TableText.index(0, count: frame.entries).count + 2, (frame.table &+ UInt64(frame.entries) * 8).hex.count + 2)
    }

    func header(_ frame: Frame, symbols: Symbols) -> String {
        let (index, address) = widths(frame)
        return "index".cellPadded(to: index) + "entry addr".cellPadded(to: address) + "descriptor".cellPadded(to: 18)
            + "kind".cellPadded(to: 7) + "IOVA range  \(TableText.arrow(symbols)) output"
    }

    /// The text of a row (reading its descriptor now).
    func text(of row: Row, _ source: PageTableSource, _ frame: Frame, symbols: Symbols) -> String {
        let format = source.format
        let dash = TableText.dash(symbols)
        let (indexWidth, addressWidth) = widths(frame)
        switch row {
        case .empty(let first, let last):
            let (start, end) = range(source, frame, first: first, last: last)
            let indices = first == last ? TableText.index(first, count: frame.entries)
                : TableText.index(first, count: frame.entries) + dash + TableText.index(last, count: frame.entries)
            return "\(indices)  \(last - first + 1) empty  \(start.hex)\(dash)\(end.hex)"
        case .entry(let index):
            let slot = frame.table &+ UInt64(index) * 8
            let prefix = TableText.index(index, count: frame.entries).cellPadded(to: indexWidth) + slot.hex.cellPadded(to: addressWidth)
            guard let descriptor = source.read(slot) else { return prefix + "bus error: \(source.space) not backed" }
            let kind = format.kind(of: descriptor, level: frame.level)
            let (start, end) = range(source, frame, first: index, last: index)
            var text = prefix + String(Units.word(descriptor).dropFirst(2)).cellPadded(to: 18)
                + kind.rawValue.cellPadded(to: 7) + "\(start.hex)\(dash)\(end.hex)"
            switch kind {
            case .block, .page:
                text += " \(TableText.arrow(symbols)) \(format.outputAddress(of: descriptor, level: frame.level).hex)"
            case .table where frame.level != format.leafLevel:
                text += " \(symbols.collapsed) L\(format.nextLevel(after: frame.level, descriptor: descriptor))"
                    + " @ \(format.outputAddress(of: descriptor, level: frame.level).hex)"
            case .table:
                text += " (a table entry at the last level)"
            case .invalid:
                break
            }
            return text
        }
    }

    private func breadcrumb(_ source: PageTableSource, _ frame: Frame, symbols: Symbols) -> String {
        var parts = [source.title]
        for (depth, step) in frame.path.enumerated() {
            let count = source.entries(root: depth == 0)
            parts.append("L\(step.level)[\(TableText.index(step.index, count: count))]")
        }
        parts.append("L\(frame.level)")
        return parts.joined(separator: symbols.breadcrumb)
    }

    /// The selected row's description (as items to wrap) and decoded fields.
    private func details(of row: Row, _ source: PageTableSource, _ frame: Frame, symbols: Symbols, fd: IOMMUFD)
        -> (head: [String], fields: [String]) {
        let format = source.format
        let dash = TableText.dash(symbols), arrow = TableText.arrow(symbols)
        switch row {
        case .empty(let first, let last):
            let (start, end) = range(source, frame, first: first, last: last)
            return (["\(last - first + 1) empty entries (descriptor 0):", "IOVA \(start.hex)\(dash)\(end.hex) is unmapped at L\(frame.level)"], [])
        case .entry(let index):
            let slot = frame.table &+ UInt64(index) * 8
            guard let descriptor = source.read(slot) else { return (["\(source.space) \(slot.hex) is not backed by memory"], []) }
            let kind = format.kind(of: descriptor, level: frame.level)
            let host = source.guestIOAS != nil ? source.hostAddress(slot, fd: fd).map { " (PA \($0.hex))" } ?? " (unbacked)" : ""
            var head = ["L\(frame.level)[\(TableText.index(index, count: frame.entries))] @ \(source.space) \(slot.hex)\(host)",
                        "= \(Units.word(descriptor)):"]
            let (start, end) = range(source, frame, first: index, last: index)
            switch kind {
            case .block, .page:
                head += ["\(kind.rawValue) \(Units.exactSize(format.leafSize(of: descriptor, level: frame.level))),",
                         "IOVA \(start.hex)\(dash)\(end.hex) \(arrow) \(format.outputAddress(of: descriptor, level: frame.level).hex)"]
            case .table:
                head += ["table for IOVA \(start.hex)\(dash)\(end.hex);", "Enter descends"]
            case .invalid:
                head += ["invalid: IOVA \(start.hex)\(dash)\(end.hex) unmapped"]
            }
            return (head, format.fields(of: descriptor, level: frame.level).map(TableText.field))
        }
    }

    // MARK: Rendering

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0, area.width > 0 else { return }
        let symbols = context.symbols, theme = context.theme
        func line(_ text: String, _ row: Int, _ role: String) {
            guard row < area.height else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: area.y + row, style: theme[role])
        }
        let resolved = source(context)
        guard case .table(let source) = resolved else {
            if case .none(let reason) = resolved { line(reason, 0, "dim") }
            listHeight = max(1, area.height)
            return
        }
        let fd = context.model.session.iommufd
        let frame = frame(source)
        let all = rows(source, frame, generation: context.model.generation)
        let stripHeight = area.height >= 24 ? 5 : area.height >= 14 ? 4 : area.height >= 9 ? 2 : 0
        listHeight = max(1, area.height - 3 - stripHeight)
        list.move(by: 0, count: all.count, height: listHeight)

        line(breadcrumb(source, frame, symbols: symbols), 0, "heading")
        let host = source.guestIOAS != nil ? source.hostAddress(frame.table, fd: fd).map { " (PA \($0.hex))" } ?? " (unbacked)" : ""
        let used = cache?.used ?? 0
        line("L\(frame.level) table @ \(source.space) \(frame.table.hex)\(host), \(used)/\(frame.entries) entries used  \(source.format.name)"
             + (source.note.map { "  \($0)" } ?? ""), 1, "dim")
        line(header(frame, symbols: symbols), 2, "dim")
        let needle = context.search?.lowercased() ?? ""
        for (offset, index) in (list.offset..<min(all.count, list.offset + listHeight)).enumerated() {
            let row = all[index]
            let text = text(of: row, source, frame, symbols: symbols)
            var role: String
            switch row {
            case .empty: role = "dim"
            case .entry(let entry):
                let descriptor = source.read(frame.table &+ UInt64(entry) * 8) ?? 0
                switch source.format.kind(of: descriptor, level: frame.level) {
                case .table: role = "text"
                case .block, .page: role = "mapped"
                case .invalid: role = "warning"
                }
            }
            if !needle.isEmpty, TableText.parseAddress(needle) == nil, text.lowercased().contains(needle) { role = "match" }
            let y = area.y + 3 + offset
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: y, style: theme[role])
            if index == list.selected {
                buffer.restyle(Rect(x: area.x, y: y, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
        guard stripHeight > 0 else { return }
        let top = area.height - stripHeight
        line(String(repeating: symbols.horizontal, count: area.width), top, "border")
        guard all.indices.contains(list.selected) else { return }
        let detail = details(of: all[list.selected], source, frame, symbols: symbols, fd: fd)
        let headLines = TableText.wrap(detail.head, width: area.width, separator: " ")
        let lines = headLines + TableText.wrap(detail.fields, width: area.width)
        for (offset, text) in lines.prefix(stripHeight - 1).enumerated() {
            line(text, top + 1 + offset, offset < headLines.count ? "text" : "dim")
        }
    }

    // MARK: Input

    private mutating func current(_ context: RenderContext) -> (PageTableSource, Frame, [Row])? {
        guard case .table(let source) = source(context) else { return nil }
        let frame = frame(source)
        return (source, frame, rows(source, frame, generation: context.model.generation))
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        guard let (source, frame, all) = current(context) else { return .ignored }
        if list.handle(key, count: all.count, height: listHeight) { return .none }
        switch key {
        case .enter, .right, .character("l"):
            guard all.indices.contains(list.selected) else { return .none }
            guard case .entry(let index) = all[list.selected],
                  let descriptor = source.read(frame.table &+ UInt64(index) * 8) else {
                return .message("empty entries: nothing below")
            }
            let kind = source.format.kind(of: descriptor, level: frame.level)
            guard kind == .table, frame.level != source.format.leafLevel else {
                return .message("L\(frame.level)[\(TableText.index(index, count: frame.entries))] is \(kind == .invalid ? "invalid" : "a \(kind.rawValue)"): nothing below")
            }
            crumbs.append(index)
            saved.append(list)
            list = ListState()
            selectFirstEntry = true
            return .none
        case .backspace, .left, .character("h"), .escape:
            return goUp()
        default:
            return .ignored
        }
    }

    private mutating func goUp() -> PaneAction {
        guard !crumbs.isEmpty else { return .message("at the root table") }
        crumbs.removeLast()
        list = saved.popLast() ?? ListState()
        return .none
    }

    /// A hex IOVA selects the entry covering it at this level; other text searches the rows.
    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        guard let (source, frame, all) = current(context) else { return false }
        if let address = TableText.parseAddress(text) {
            let format = source.format
            let input = format.inputBits >= 64 ? address : address & ((1 << UInt64(format.inputBits)) - 1)
            let span = format.entrySpan(level: frame.level)
            if input >= frame.base, (input - frame.base) / span < UInt64(frame.entries) {
                let index = format.index(of: input, level: frame.level)
                if let row = all.firstIndex(where: { $0.contains(index) }) {
                    list.select(row, count: all.count, height: listHeight)
                    return true
                }
            }
        }
        let texts = all.map { self.text(of: $0, source, frame, symbols: context.symbols) }
        guard let row = nextMatch(in: texts, after: list.selected, needle: text, forward: forward) else { return false }
        list.select(row, count: all.count, height: listHeight)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        guard let (_, _, all) = current(context) else { return .none }
        if row == 0 { return goUp() }
        let index = list.offset + row - 3
        guard row >= 3, index < list.offset + listHeight, all.indices.contains(index) else { return .none }
        list.select(index, count: all.count, height: listHeight)
        return .none
    }
}
