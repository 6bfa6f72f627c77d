import Foundation
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

// MARK: - The page-table browser

/// One table of a domain (or a guest stage-1 table) at a time: one row per entry, runs of
/// empty entries collapsed, Enter descends into a table entry, Backspace goes up; the
/// selected entry's decoded fields are shown at the bottom.
public struct PageTablePane: InspectorPane {
    public let kind = PaneKind.pageTable

    typealias Row = PageTableModel.Row
    typealias Frame = PageTableModel.Frame

    public var list = ListState()
    /// Indices descended through, from the root.
    public private(set) var crumbs: [Int] = []
    /// The list position at each level above, restored on the way up.
    private var saved: [ListState] = []
    private var sourceKey: String?
    /// Select the first used entry when the rows of a newly shown table are known.
    private var selectFirstEntry = true
    private var listHeight = 1
    /// The table on screen, read again when the model, the table or the descent changes.
    private var model: PageTableModel?
    /// The bits view (`b`): the selected entry's fields as a table of bits, values, meanings
    /// and spec sections, under its input address's index strip.
    public private(set) var showsBits = false

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("Enter / l / \(symbols.rightKey)", "descend into the selected table entry"), ("Backspace / h / \(symbols.leftKey) / Esc", "go up one level"),
         ("/ ADDRESS", "descend along a hex IOVA's walk to its leaf (else search the rows)"),
         ("b", "bits: the entry's fields (bits, value, meaning, spec section) and its IOVA's index strip"),
         ("mouse", "click selects a row; click the breadcrumb to go up")]
    }

    // MARK: Model

    private mutating func source(_ context: RenderContext) -> PageTableSources.Resolved {
        let resolved = PageTableSources.resolve(context)
        let key: String? = if case .table(let source) = resolved { source.key } else { nil }
        if key != sourceKey {
            sourceKey = key
            crumbs = []
            saved = []
            list = ListState()
            model = nil
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
        if let model, model.key == PageTableModel.key(source, frame, generation: generation) { return model.rows }
        let made = PageTableModel(source: source, frame: frame, generation: generation)
        model = made
        if selectFirstEntry, let first = made.rows.firstIndex(where: { if case .entry = $0 { return true }; return false }) {
            list.select(first, count: made.rows.count, height: listHeight)
        }
        selectFirstEntry = false
        return made.rows
    }

    /// The descriptor at `index` of the table on screen, as the model read it.
    private func descriptor(_ index: Int) -> UInt64? { model?.entry(index)?.descriptor }

    private func range(_ source: PageTableSource, _ frame: Frame, first: Int, last: Int) -> (UInt64, UInt64) {
        let span = source.format.entrySpan(level: frame.level)
        let start = frame.base &+ UInt64(first) &* span
        let end = frame.base &+ UInt64(last) &* span &+ (span &- 1)
        return (source.display(start), source.display(end))
    }

    /// The stale IOTLB entry a row's input range meets (`StaleFlag.row`), for a HWPT's table.
    private func stale(_ row: Row, _ source: PageTableSource, _ frame: Frame, model: ModelView) -> StaleFlag? {
        guard let hwpt = source.hwpt else { return nil }
        let first: Int, last: Int
        switch row {
        case .entry(let index): (first, last) = (index, index)
        case .empty(let start, let end): (first, last) = (start, end)
        case .unknown: return nil
        }
        let span = source.format.entrySpan(level: frame.level)
        let start = frame.base &+ UInt64(first) &* span
        return StaleFlag.row(IOVARange(start: start, last: frame.base &+ UInt64(last) &* span &+ (span &- 1)), hwpt: hwpt, model: model)
    }

    /// Column widths of a table's rows: index, entry address.
    private func widths(_ frame: Frame) -> (index: Int, address: Int) {
        (TableText.index(0, count: frame.entries).count + 2, (frame.table &+ UInt64(frame.entries) * 8).hex.count + 2)
    }

    func header(_ frame: Frame, symbols: Symbols) -> String {
        let (index, address) = widths(frame)
        return "index".cellPadded(to: index) + "entry addr".cellPadded(to: address) + "descriptor".cellPadded(to: 18)
            + "kind".cellPadded(to: 7) + "IOVA range  \(symbols.arrow) output"
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
        case .unknown(let first, let last):
            let (start, end) = range(source, frame, first: first, last: last)
            let indices = first == last ? TableText.index(first, count: frame.entries)
                : TableText.index(first, count: frame.entries) + dash + TableText.index(last, count: frame.entries)
            return "\(indices)  \(last - first + 1) unknown  \(start.hex)\(dash)\(end.hex)  (not dumped)"
        case .entry(let index):
            let slot = frame.table &+ UInt64(index) * 8
            let prefix = TableText.index(index, count: frame.entries).cellPadded(to: indexWidth) + slot.hex.cellPadded(to: addressWidth)
            guard let descriptor = descriptor(index) else { return prefix + "bus error: \(source.space) not backed" }
            let kind = format.kind(of: descriptor, level: frame.level)
            let (start, end) = range(source, frame, first: index, last: index)
            var text = prefix + String(Units.word(descriptor).dropFirst(2)).cellPadded(to: 18)
                + kind.rawValue.cellPadded(to: 7) + "\(start.hex)\(dash)\(end.hex)"
            switch kind {
            case .block, .page:
                text += " \(symbols.arrow) \(outputText(descriptor, source, frame, symbols: symbols))"
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

    /// " (PA 0x…)" after an address of a guest table: its stage-2 translation, "unbacked"
    /// where stage 2 maps nothing; nothing on the host.
    private func hostSuffix(_ address: UInt64, _ source: PageTableSource) -> String {
        guard source.stage2 != nil else { return "" }
        return source.hostAddress(address).map { " (PA \($0.hex))" } ?? " (unbacked)"
    }

    /// A leaf's output: the address, and in a guest's table (the guest's view) its space and
    /// the final host PA, "GPA 0x40100000 → PA 0x103f00000".
    private func outputText(_ descriptor: UInt64, _ source: PageTableSource, _ frame: Frame, symbols: Symbols) -> String {
        let output = source.format.outputAddress(of: descriptor, level: frame.level)
        guard source.stage2 != nil else { return output.hex }
        let final = source.hostAddress(output).map { "PA \($0.hex)" } ?? "PA unmapped by stage 2"
        return "\(source.format.intermediateAddressName) \(output.hex) \(symbols.arrow) \(final)"
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

    /// The selected row's description (as items to wrap), decoded fields and, for an entry,
    /// the first input address it translates.
    private func details(of row: Row, _ source: PageTableSource, _ frame: Frame, symbols: Symbols)
        -> (head: [String], fields: [DescriptorField], input: UInt64?) {
        let format = source.format
        let dash = TableText.dash(symbols), arrow = symbols.arrow
        switch row {
        case .empty(let first, let last):
            let (start, end) = range(source, frame, first: first, last: last)
            return (["\(last - first + 1) empty entries (descriptor 0):", "IOVA \(start.hex)\(dash)\(end.hex) is unmapped at L\(frame.level)"], [], nil)
        case .unknown(let first, let last):
            let (start, end) = range(source, frame, first: first, last: last)
            return (["\(last - first + 1) entries the host's dumps did not cover:",
                     "IOVA \(start.hex)\(dash)\(end.hex) is unknown, not known to be unmapped"], [], nil)
        case .entry(let index):
            let slot = frame.table &+ UInt64(index) * 8
            guard let descriptor = descriptor(index) else { return (["\(source.space) \(slot.hex) is not backed by memory"], [], nil) }
            let kind = format.kind(of: descriptor, level: frame.level)
            let host = hostSuffix(slot, source)
            var head = ["L\(frame.level)[\(TableText.index(index, count: frame.entries))] @ \(source.space) \(slot.hex)\(host)",
                        "= \(Units.word(descriptor)):"]
            let (start, end) = range(source, frame, first: index, last: index)
            switch kind {
            case .block, .page:
                head += ["\(kind.rawValue) \(Units.exactSize(format.leafSize(of: descriptor, level: frame.level))),",
                         "IOVA \(start.hex)\(dash)\(end.hex) \(arrow) \(outputText(descriptor, source, frame, symbols: symbols))"]
            case .table:
                head += ["table for IOVA \(start.hex)\(dash)\(end.hex);", "Enter descends"]
            case .invalid:
                head += ["invalid: IOVA \(start.hex)\(dash)\(end.hex) unmapped"]
            }
            let input = frame.base &+ UInt64(index) &* format.entrySpan(level: frame.level)
            return (head, format.fields(of: descriptor, level: frame.level), input)
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
        let frame = frame(source)
        let all = rows(source, frame, generation: context.model.generation)
        var stripHeight = area.height >= 24 ? 5 : area.height >= 14 ? 4 : area.height >= 9 ? 2 : 0
        // The bits view takes the lower half (at most a border, the head, the strip and a
        // table of a descriptor's fields).
        if showsBits, area.height >= 9 { stripHeight = max(stripHeight, min(area.height / 2, 20)) }
        listHeight = max(1, area.height - 3 - stripHeight)
        list.move(by: 0, count: all.count, height: listHeight)

        line(breadcrumb(source, frame, symbols: symbols), 0, "heading")
        let host = hostSuffix(frame.table, source)
        let used = model?.used ?? 0
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
            case .unknown: role = "warning"
            case .entry(let entry):
                switch model?.entry(entry)?.kind ?? source.format.kind(of: 0, level: frame.level) {
                case .table: role = "text"
                case .block, .page: role = "mapped"
                case .invalid: role = "warning"
                }
            }
            if !needle.isEmpty, TableText.parseAddress(needle) == nil, text.lowercased().contains(needle) { role = "match" }
            let y = area.y + 3 + offset
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: y, style: theme[role])
            if stale(row, source, frame, model: context.model) != nil {
                let tag = " \(symbols.stale) stale IOTLB "
                buffer.put(tag, x: max(area.x, area.maxX - CellBuffer.width(of: tag)), y: y, style: theme["stale"], clip: area)
            }
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
        let detail = details(of: all[list.selected], source, frame, symbols: symbols)
        // A stale entry's flag first: what the IOTLB still says against what the table says.
        let flag = stale(all[list.selected], source, frame, model: context.model)
            .map { TableText.wrap($0.text(symbols).split(separator: " ").map(String.init), width: area.width, separator: " ") } ?? []
        let headLines = TableText.wrap(detail.head, width: area.width, separator: " ")
        let fieldLines: [String]
        if showsBits {
            let strip = detail.input.map { ["index " + FieldTable.indexStrip(source.format, address: $0)] } ?? []
            fieldLines = strip + (detail.fields.isEmpty ? [] : [FieldTable.heading(detail.fields)] + FieldTable.table(detail.fields).lines())
        } else {
            fieldLines = TableText.wrap(detail.fields.map(TableText.field), width: area.width)
        }
        let lines = flag + headLines + fieldLines
        for (offset, text) in lines.prefix(stripHeight - 1).enumerated() {
            line(text, top + 1 + offset, offset < flag.count ? "stale" : offset < flag.count + headLines.count ? "text" : "dim")
        }
    }

    // MARK: Input

    private mutating func current(_ context: RenderContext) -> (PageTableSource, Frame, [Row])? {
        guard case .table(let source) = source(context) else { return nil }
        let frame = frame(source)
        return (source, frame, rows(source, frame, generation: context.model.generation))
    }

    /// An entry's address and descriptor (as the walk pane copies a fetch); a run of empty
    /// entries its row's text.
    public mutating func yankText(context: RenderContext) -> String? {
        guard let (source, frame, all) = current(context), all.indices.contains(list.selected) else { return nil }
        let row = all[list.selected]
        if case .entry(let index) = row, let descriptor = descriptor(index) {
            return "\((frame.table &+ UInt64(index) * 8).hex) \(Units.word(descriptor))"
        }
        return text(of: row, source, frame, symbols: context.symbols)
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        guard let (source, frame, all) = current(context) else { return .ignored }
        if list.handle(key, count: all.count, height: listHeight) { return .none }
        switch key {
        case .enter, .right, .character("l"):
            guard all.indices.contains(list.selected) else { return .none }
            guard case .entry(let index) = all[list.selected], let descriptor = descriptor(index) else {
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
        case .character("b"):
            showsBits.toggle()
            return .none
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

    /// A hex IOVA descends from the root along the walk of that IOVA to the last entry it
    /// reads (the leaf, or the invalid entry that ends it) and selects it; other text searches
    /// the rows of the table on screen.
    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        guard let (table, _, _) = current(context) else { return false }
        if let address = TableText.parseAddress(text) {
            let format = table.format
            let input = format.inputBits >= 64 ? address : address & ((1 << UInt64(format.inputBits)) - 1)
            let steps = table.path(to: input)
            if let last = steps.last {
                // Every fetch before the last one read a table entry: those are the crumbs,
                // and going up from the leaf selects the entry each level descended through.
                let path = steps.dropLast().map(\.index)
                var states: [ListState] = []
                for depth in path.indices {
                    crumbs = Array(path.prefix(depth))
                    let rows = PageTableModel(source: table, frame: frame(table), generation: context.model.generation).rows
                    var state = ListState()
                    state.select(rows.firstIndex { $0.contains(path[depth]) } ?? 0, count: rows.count, height: listHeight)
                    states.append(state)
                }
                saved = states
                crumbs = path
                list = ListState()
                selectFirstEntry = false
                guard let (_, _, all) = current(context) else { return false }
                if let row = all.firstIndex(where: { $0.contains(last.index) }) {
                    list.select(row, count: all.count, height: listHeight)
                    return true
                }
            }
        }
        guard let (source, frame, all) = current(context) else { return false }
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
