import HostImport
import IOMMUCore
import Presentation
import TerminalUI

/// The faults of `tui --faults LOG`: one row per logged record (device, address, the reason
/// the kernel logged, the cause the model found, the log line), the selected one's sentence below. Moving
/// makes the other panes follow the fault; Enter opens its walk (the steps of the model's
/// walk of that device at that address) in the walk view.
public struct FaultsPane: InspectorPane {
    public let kind = PaneKind.faults
    public var list = ListState()
    private var listHeight = 1

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("\(symbols.upDownKeys) j k g G", "select a fault (the details follow it)"), ("Enter", "open the fault's walk in the walk view (4)"),
         ("/ TEXT", "find a fault by device, address or reason")]
    }

    /// The header and the rows' texts, with columns as wide as their widest cell (up to a
    /// bound, so one long name cannot push the rest off): made once per model generation.
    private final class RowCache {
        var generation: Int?
        var header = ""
        var texts: [String] = []
    }
    private let cache = RowCache()

    /// The cells of a row: every field from the log escaped.
    static func cells(_ explanation: FaultExplanation) -> [String] {
        let record = explanation.record
        let device = record.device.map { terminalSafe($0.description) } ?? record.sid.map { "sid \($0)" } ?? "?"
        return [device, record.address?.hex ?? "-", terminalSafe(record.reason), explanation.cause.rawValue, String(record.sourceLine)]
    }

    private func texts(_ context: RenderContext) -> (header: String, rows: [String]) {
        if cache.generation != context.model.generation {
            // The log line last: at 80 columns the four that explain the fault fit.
            let names = ["device", "address", "logged", "model", "line"]
            let rows = context.model.faults.map(Self.cells)
            let widths = names.indices.dropLast().map { column in
                min(24, rows.reduce(CellBuffer.width(of: names[column])) { max($0, CellBuffer.width(of: $1[column])) }) + 1
            }
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { $0.offset < widths.count ? $0.element.cellPadded(to: widths[$0.offset]) : $0.element }.joined()
            }
            cache.header = line(names)
            cache.texts = rows.map(line)
            cache.generation = context.model.generation
        }
        return (cache.header, cache.texts)
    }

    /// The selected fault's row: device, address, reason, cause and log line.
    public func yankText(context: RenderContext) -> String? {
        let rows = texts(context).rows
        guard rows.indices.contains(list.selected) else { return nil }
        return String(rows[list.selected].reversed().drop { $0 == " " }.reversed())
    }

    private func faults(_ context: RenderContext) -> [FaultExplanation] { context.model.faults }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0, area.width > 0 else { return }
        let all = faults(context), symbols = context.symbols, theme = context.theme
        func line(_ text: String, _ row: Int, _ role: String) {
            guard row < area.height else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: area.y + row, style: theme[role])
        }
        line(Units.count(all.count, "logged fault") + "  Enter walks the selected one", 0, "heading")
        let (header, texts) = texts(context)
        line(header, 1, "dim")
        let stripHeight = area.height >= 16 ? 6 : area.height >= 10 ? 4 : 0
        listHeight = max(1, area.height - 2 - stripHeight)
        list.move(by: 0, count: all.count, height: listHeight)
        let needle = context.search?.lowercased() ?? ""
        for (offset, index) in (list.offset..<min(all.count, list.offset + listHeight)).enumerated() {
            let text = texts.indices.contains(index) ? texts[index] : ""
            var role = all[index].cause == .translatesNow ? "mapped" : "fault"
            if !needle.isEmpty, text.lowercased().contains(needle) { role = "match" }
            line(text, 2 + offset, role)
            if index == list.selected {
                buffer.restyle(Rect(x: area.x, y: area.y + 2 + offset, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
        guard stripHeight > 0, all.indices.contains(list.selected) else { return }
        let top = area.height - stripHeight
        line(String(repeating: symbols.horizontal, count: area.width), top, "border")
        let explanation = all[list.selected]
        let logged = "logged: " + terminalSafe(explanation.record.reason)
            + (explanation.record.reasonText.map { " " + terminalSafe($0) } ?? "")
        let words = terminalSafe(explanation.sentence).split(separator: " ").map(String.init)
        let lines = TableText.wrap(logged.split(separator: " ").map(String.init), width: area.width, separator: " ").prefix(1)
            + TableText.wrap(words, width: area.width, separator: " ")
        for (offset, text) in lines.prefix(stripHeight - 1).enumerated() { line(text, top + 1 + offset, offset == 0 ? "dim" : "text") }
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        let all = faults(context)
        if list.handle(key, count: all.count, height: listHeight) {
            return all.indices.contains(list.selected) ? .inspect(.fault(list.selected), show: nil) : .none
        }
        guard key == .enter || key == .right || key == .character("l") else { return .ignored }
        guard all.indices.contains(list.selected) else { return .message("no fault to walk") }
        return .inspect(.fault(list.selected), show: .walk)
    }

    /// A logged fault the results pane went to: selected.
    public mutating func reveal(_ target: PaneTarget, context: RenderContext) {
        guard case .loggedFault(let index) = target else { return }
        list.select(index, count: faults(context).count, height: listHeight)
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        let all = faults(context)
        guard let index = nextMatch(in: texts(context).rows, after: list.selected, needle: text, forward: forward) else { return false }
        list.select(index, count: all.count, height: listHeight)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        let all = faults(context), index = list.offset + row - 2
        guard row >= 2, row < 2 + listHeight, all.indices.contains(index) else { return .none }
        list.select(index, count: all.count, height: listHeight)
        return .inspect(.fault(index), show: nil)
    }
}
