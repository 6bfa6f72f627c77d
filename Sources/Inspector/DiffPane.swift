import IOMMUCore
import Presentation
import Snapshots
import TerminalUI

/// What changed from the marked timeline position (`m`) to the model now, in the words of
/// `iommuscope diff` (`SnapshotDiff.sections`): objects added, removed and changed, IOVA
/// ranges, page-table entries, and the stale cache entries of the state now. Each section is
/// a heading that folds (`Enter` or `Space` on it); `Enter` on an object's row, or on a stale
/// IOTLB entry's (its device), selects that object in the tree, which every pane follows.
/// The diff is made once per mark and model generation (`ModelView.diffFromMarkedState`),
/// its rows once per diff and fold; a frame draws the rows on screen.
public struct DiffPane: InspectorPane {
    public let kind = PaneKind.diff
    public private(set) var list = ListState()
    /// The sections folded, by heading: a fold outlives a step (the same heading comes back).
    private var folded: Set<String> = []
    /// Columns the rows are scrolled left by (`h` `l`): a stale entry's row is wider than the pane.
    public private(set) var column = 0
    private var listHeight = 1
    /// The diff's sections and the rows shown, for the mark and generation they were made at.
    private var made: (key: Key, sections: [SnapshotDiff.TextSection], rows: [Row])?

    private struct Key: Equatable {
        var mark: Int
        var generation: Int
    }

    /// A row of the list: a section's heading, or a section's row.
    enum Row: Equatable {
        case heading(section: Int)
        case line(section: Int, row: Int)
    }

    /// Columns `h` and `l` scroll by.
    static let panStep = 8

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("m", "mark the timeline position here (again on it: clear the mark); this pane compares the mark with where the model is"),
         ("\(symbols.upDownKeys) j k PgUp PgDn g G", "select a row"),
         ("Enter / Space", "on a heading: fold or unfold its section"),
         ("Enter", "on an object's row, or a stale IOTLB entry's: select that object (its device) in the tree"),
         ("h l / \(symbols.leftKey) \(symbols.rightKey)", "scroll the rows left and right"),
         ("[ ] { }", "step the model: the diff follows (the mark stays)"),
         ("/ TEXT", "find a row"), ("click", "select a row"),
         ("\(symbols.expanded) \(symbols.collapsed)", "a section unfolded, folded")]
    }

    public var statusHints: [(key: String, action: String)] { [("m", "mark"), ("Enter", "fold/go"), ("h l", "scroll")] }

    // MARK: Rows

    /// The sections and rows for the model now; nil without a mark.
    private mutating func rows(_ model: ModelView) -> (sections: [SnapshotDiff.TextSection], rows: [Row])? {
        guard let mark = model.mark else {
            made = nil
            return nil
        }
        let key = Key(mark: mark, generation: model.generation)
        if let made, made.key == key { return (made.sections, made.rows) }
        guard let diff = model.diffFromMarkedState else { return nil }
        let sections = diff.sections
        made = (key, sections, Self.rows(sections, folded: folded))
        return (sections, made?.rows ?? [])
    }

    static func rows(_ sections: [SnapshotDiff.TextSection], folded: Set<String>) -> [Row] {
        sections.indices.flatMap { index -> [Row] in
            let section = sections[index]
            let open = !folded.contains(Self.name(section))
            return [.heading(section: index)] + (open ? section.rows.indices.map { .line(section: index, row: $0) } : [])
        }
    }

    /// A section's name without its counts (`objects`, `stale cache entries`): what a fold keeps.
    static func name(_ section: SnapshotDiff.TextSection) -> String {
        String(section.heading.prefix { $0 != ":" })
    }

    /// A row's text, as `iommuscope diff` prints it (a heading with its fold glyph).
    static func text(_ row: Row, _ sections: [SnapshotDiff.TextSection], folded: Set<String>, symbols: Symbols) -> String {
        switch row {
        case .heading(let index):
            let section = sections[index]
            return (folded.contains(name(section)) ? symbols.collapsed : symbols.expanded) + " " + section.heading
        case .line(let index, let row):
            return sections[index].rows[row]
        }
    }

    /// A row of the stale section: the flag's style and glyph.
    static func isStale(_ row: Row, _ sections: [SnapshotDiff.TextSection]) -> Bool {
        guard case .line(let index, _) = row else { return false }
        return name(sections[index]) == "stale cache entries"
    }

    // MARK: Drawing

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0, area.width > 0 else { return }
        let model = context.model, symbols = context.symbols, theme = context.theme
        func line(_ text: String, _ row: Int, _ role: String) {
            guard row < area.height else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: area.y + row, style: theme[role])
        }
        let timeline = model.timeline
        guard let mark = model.mark, let (sections, rows) = rows(model) else {
            line("No mark.", 0, "heading")
            let words = ("Press m to mark this position (\(timeline.describe(position: timeline.position))), then move the model "
                         + "([ ] { }, or Enter in the timeline 7): this pane shows what changed from the mark to there, "
                         + "stale IOTLB entries included. m again on the mark clears it.").split(separator: " ").map(String.init)
            for (offset, text) in TableText.wrap(words, width: area.width, separator: " ").enumerated() {
                line(text, 2 + offset, "dim")
            }
            return
        }
        line("mark \(timeline.describe(position: mark)) \(symbols.arrow) \(timeline.describe(position: timeline.position))"
             + "   Enter: fold/go  ? keys", 0, "heading")
        // The selected row whole, wrapped below the list: a stale entry's row is wider than the pane.
        let stripHeight = area.height >= 12 ? 4 : 0
        listHeight = max(1, area.height - 1 - stripHeight)
        list.move(by: 0, count: rows.count, height: listHeight)
        let needle = context.search?.lowercased() ?? ""
        for (offset, number) in (list.offset..<min(rows.count, list.offset + listHeight)).enumerated() {
            let row = rows[number], y = 1 + offset
            let text = Self.text(row, sections, folded: folded, symbols: symbols)
            let stale = Self.isStale(row, sections)
            var role: String
            switch row {
            case .heading: role = "heading"
            case .line: role = stale ? "stale" : "text"
            }
            if !needle.isEmpty, text.lowercased().contains(needle) { role = "match" }
            // A heading stays whole; the rows scroll by `column`, a stale one with its flag in its indent.
            let shown: String
            if case .heading = row { shown = text } else if stale {
                shown = symbols.stale + " " + String(text.dropFirst(2 + column))
            } else {
                shown = String(text.dropFirst(column))
            }
            line(shown, y, role)
            if number == list.selected {
                buffer.restyle(Rect(x: area.x, y: area.y + y, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
        guard stripHeight > 0, list.selected < rows.count, case .line = rows[list.selected] else { return }
        let top = area.height - stripHeight
        line(String(repeating: symbols.horizontal, count: area.width), top, "border")
        let selected = rows[list.selected]
        let words = Self.text(selected, sections, folded: folded, symbols: symbols).split(separator: " ").map(String.init)
        let role = Self.isStale(selected, sections) ? "stale" : "text"
        for (offset, text) in TableText.wrap(words, width: area.width, separator: " ").prefix(stripHeight - 1).enumerated() {
            line(text, top + 1 + offset, role)
        }
    }

    // MARK: Input

    public mutating func handle(_ key: TerminalUI.Key, context: RenderContext) -> PaneAction {
        guard let (sections, rows) = rows(context.model) else {
            return key == .enter ? .message("no mark: m marks this position") : .ignored
        }
        if list.handle(key, count: rows.count, height: listHeight) { return .none }
        switch key {
        case .character("h"), .left:
            column = max(0, column - Self.panStep)
            return .none
        case .character("l"), .right:
            column += Self.panStep
            return .none
        case .enter, .character(" "):
            guard list.selected < rows.count else { return .none }
            switch rows[list.selected] {
            case .heading(let index):
                let name = Self.name(sections[index])
                if folded.remove(name) == nil { folded.insert(name) }
                made?.rows = Self.rows(sections, folded: folded)
                return .none
            case .line(let index, let row):
                guard key == .enter else { return .none }
                guard let id = sections[index].objects[row] else { return .message("this row is about no one object") }
                let object = ObjectID(id)
                guard context.model.graph.node(object) != nil else {
                    return .message("object \(id) is not in the model here (it was removed)")
                }
                return .select(object)
            }
        default:
            return .ignored
        }
    }

    /// The selected row's text, as `iommuscope diff` prints it.
    public mutating func yankText(context: RenderContext) -> String? {
        guard let (sections, rows) = rows(context.model), list.selected < rows.count else { return nil }
        return Self.text(rows[list.selected], sections, folded: [], symbols: context.symbols)
            .trimmingCharacters(in: .whitespaces)
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        guard let (sections, rows) = rows(context.model) else { return false }
        let folded = folded, symbols = context.symbols
        guard let found = nextMatch(count: rows.count, after: list.selected, needle: text, forward: forward,
                                    text: { Self.text(rows[$0], sections, folded: folded, symbols: symbols) }) else { return false }
        list.select(found, count: rows.count, height: listHeight)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        guard let (_, rows) = rows(context.model) else { return .none }
        let target = list.offset + row - 1
        guard row >= 1, row < 1 + listHeight, target < rows.count else { return .none }
        list.select(target, count: rows.count, height: listHeight)
        return .none
    }
}
