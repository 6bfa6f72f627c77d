import HostImport
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

/// What went wrong, in one list: the source lines whose `expect=` or `check` failed, whose
/// `translate` faulted, or whose observation disagrees with the model (the timeline's index
/// of them, in order), then the logged faults of `tui --faults LOG`. Each row names its
/// source line and says why in one line; Enter moves the model to just after that line and
/// shows the pane that explains it at that result: the walk of that line's DMA (its device,
/// PASID, IOVA and access) for a fault, the timeline on that line for a failed or disagreeing
/// one, the faults pane on that record for a logged fault. Only the rows on screen are asked for.
public struct ResultsPane: InspectorPane {
    public let kind = PaneKind.results
    public var list = ListState()
    private var listHeight = 1

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("\(symbols.upDownKeys) j k PgUp PgDn g G", "select a result"),
         ("Enter", "go just after its line and show why: the walk (4) of that DMA for a fault, the timeline (7) on a failed "
          + "or disagreeing line, the faults (6) on a logged fault"),
         ("/ TEXT", "find a result by its line or reason"), ("click", "select a row"),
         ([TimelinePane.RowStatus.failed.glyph(symbols), TimelinePane.RowStatus.disagrees.glyph(symbols), Self.faultGlyph(symbols)]
            .joined(separator: " "), "expectation failed, disagrees, translation or logged fault")]
    }

    /// A fault's glyph: distinct from the timeline's failed and disagreeing lines' in ASCII too.
    static func faultGlyph(_ symbols: Symbols) -> String { symbols == .ascii ? "F" : "↯" }

    /// One row: a source line of the timeline (its index) or a logged fault (its index in the log).
    enum Row: Equatable {
        case line(Int)
        case logged(Int)
    }

    static func row(_ number: Int, _ model: ModelView) -> Row {
        let lines = model.timeline.resultCount
        return number < lines ? .line(model.timeline.result(number)) : .logged(number - lines)
    }

    static func count(_ model: ModelView) -> Int { model.timeline.resultCount + model.faults.count }

    /// The row's text and role: where (the source's line number), a glyph, and the reason.
    static func text(_ row: Row, _ model: ModelView, symbols: Symbols) -> (text: String, role: String) {
        let timeline = model.timeline
        switch row {
        case .line(let index):
            let source = timeline.source(index), outcome = timeline.outcome(index)
            let reason: String, glyph: String, role: String
            switch outcome.mark {
            case .expectationFailed?:
                reason = "failed" + (outcome.status.map { ": returned " + terminalSafe($0.explained) } ?? "")
                glyph = TimelinePane.RowStatus.failed.glyph(symbols)
                role = "fault"
            case .disagreement?:
                if case .disagrees(let text)? = outcome.verdict { reason = "disagrees: " + text } else { reason = "disagrees" }
                glyph = TimelinePane.RowStatus.disagrees.glyph(symbols)
                role = "warning"
            case nil:
                reason = "translation fault"
                glyph = faultGlyph(symbols)
                role = "fault"
            }
            return ("\(timeline.unit) \(source.line)  \(glyph) \(reason)  \(symbols.arrow) " + terminalSafe(source.text), role)
        case .logged(let index):
            let explanation = model.faults[index], record = explanation.record
            let device = record.device.map { terminalSafe($0.description) } ?? record.sid.map { "sid \($0)" } ?? "?"
            return ("log line \(record.sourceLine)  \(faultGlyph(symbols)) logged fault: \(device) \(record.address?.hex ?? "-") "
                    + terminalSafe(record.reason) + " (\(explanation.cause.rawValue))", "fault")
        }
    }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0, area.width > 0 else { return }
        let model = context.model, symbols = context.symbols, theme = context.theme
        func line(_ text: String, _ row: Int, _ role: String) {
            guard row < area.height else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: area.y + row, style: theme[role])
        }
        let count = Self.count(model), tally = model.timeline.resultTally.words
        let heading = ([tally] + (model.faults.isEmpty ? [] : [Units.count(model.faults.count, "logged fault")])).filter { !$0.isEmpty }
        line((heading.isEmpty ? "nothing failed" : heading.joined(separator: ", ")) + "   Enter: go there  ? keys", 0, "heading")
        listHeight = max(1, area.height - 1)
        list.move(by: 0, count: count, height: listHeight)
        guard count > 0 else {
            line("Every expectation held, no translation faulted and no observation disagrees.", 1, "dim")
            return
        }
        let needle = context.search?.lowercased() ?? ""
        for (offset, number) in (list.offset..<min(count, list.offset + listHeight)).enumerated() {
            var (text, role) = Self.text(Self.row(number, model), model, symbols: symbols)
            if !needle.isEmpty, text.lowercased().contains(needle) { role = "match" }
            line(text, 1 + offset, role)
            if number == list.selected {
                buffer.restyle(Rect(x: area.x, y: area.y + 1 + offset, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        let model = context.model, count = Self.count(model)
        if list.handle(key, count: count, height: listHeight) { return .none }
        guard key == .enter else { return .ignored }
        guard list.selected < count else { return .message("nothing failed") }
        switch Self.row(list.selected, model) {
        case .line(let index):
            return .reveal(model.timeline.outcome(index).mark != nil ? .line(index) : .translation(line: index))
        case .logged(let index):
            return .reveal(.loggedFault(index))
        }
    }

    /// The selected result's row text.
    public func yankText(context: RenderContext) -> String? {
        guard list.selected < Self.count(context.model) else { return nil }
        return Self.text(Self.row(list.selected, context.model), context.model, symbols: context.symbols).text
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        let model = context.model, symbols = context.symbols
        guard let found = nextMatch(count: Self.count(model), after: list.selected, needle: text, forward: forward,
                                    text: { Self.text(Self.row($0, model), model, symbols: symbols).text }) else { return false }
        list.select(found, count: Self.count(model), height: listHeight)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        let count = Self.count(context.model), target = list.offset + row - 1
        guard row >= 1, row < 1 + listHeight, target < count else { return .none }
        list.select(target, count: count, height: listHeight)
        return .none
    }
}
