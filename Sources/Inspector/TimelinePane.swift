import Presentation
import ScenarioScript
import TerminalUI

/// The timeline: one row per source line (a scenario's command line, a trace's event) with its
/// line number, a status glyph and its text, and a marker row where the model is, between the
/// lines applied and the lines not yet applied. The selected line's commands with their
/// statuses, its note, what it observed and the model's verdict show in a block below.
/// Enter moves the model to just after the selected line; `e`/`E` go to the next/previous flagged line
/// (a failed expectation or a disagreement) and `#` to a line by its number. Every step of the
/// model selects the line it applied last. The position marked with `m` (the diff pane's) is
/// tagged on the line it follows and named in the heading.
///
/// It draws only the rows on screen: every question to the timeline is about one line (or
/// the next mark), so a million-line timeline costs what a ten-line one does.
public struct TimelinePane: InspectorPane {
    public let kind = PaneKind.timeline
    /// Over the list's rows: the source lines with the marker row at index `position`.
    public private(set) var list = ListState()
    /// The line number being typed after `#`, while it is.
    public private(set) var jumping: String?
    /// The position and length of the timeline the selection last followed.
    private var followed: (position: Int, count: Int)?
    private var listHeight = 1

    public init() {}

    public var capturesInput: Bool { jumping != nil }

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("\(symbols.upDownKeys) j k PgUp PgDn g G", "select a source line (its commands, note and verdict show below)"),
         ("Enter", "move the model to just after the selected line"),
         ("e / E", "jump to the next / previous flagged line: a failed expectation or a disagreement"),
         ("m", "mark the position the model is at (tagged \(Self.markTag(symbols)) on the line it follows); the diff (9) compares with it"),
         ("# NUMBER Enter", "jump to the line numbered NUMBER in its file (Esc cancels)"),
         ("/ TEXT", "find a source line by its text"), ("click", "select a row"),
         ([RowStatus.passed, .failed, .disagrees, .agrees, .notComparable, .notReplayed].map { $0.glyph(symbols) }.joined(separator: " "),
          "passed, expectation failed, disagrees, agrees, not comparable, not replayed")]
    }

    // MARK: Rows

    /// What the glyph of a row says, from the line's outcome.
    enum RowStatus: Equatable {
        case passed, failed, disagrees, agrees, notComparable, notReplayed

        init(_ source: TimelineSource, _ outcome: TimelineOutcome) {
            switch (outcome.mark, outcome.verdict) {
            case (.expectationFailed?, _): self = .failed
            case (.disagreement?, _): self = .disagrees
            case (nil, .agrees?): self = .agrees
            case (nil, .notComparable?): self = .notComparable
            case (nil, .disagrees?), (nil, nil): self = source.commands.isEmpty ? .notReplayed : .passed
            }
        }

        func glyph(_ symbols: Symbols) -> String {
            let ascii = symbols == .ascii
            switch self {
            case .passed: return ascii ? "+" : "✓"
            case .failed: return ascii ? "x" : "✗"
            case .disagrees: return ascii ? "!" : "≠"
            case .agrees: return "="
            case .notComparable: return "?"
            case .notReplayed: return symbols.leaf
            }
        }

        var role: String {
            switch self {
            case .passed, .agrees: "mapped"
            case .failed: "fault"
            case .disagrees: "warning"
            case .notComparable, .notReplayed: "dim"
            }
        }
    }

    /// The tag at the right of the line the `m` mark follows.
    static func markTag(_ symbols: Symbols) -> String { "\(symbols.backArrow) mark" }

    /// The list's row `row`: a source line's index, or nil for the marker row.
    static func source(atRow row: Int, position: Int) -> Int? {
        row < position ? row : row == position ? nil : row - 1
    }

    /// The list row of source line `index`.
    static func row(ofSource index: Int, position: Int) -> Int {
        index < position ? index : index + 1
    }

    /// The source line selected, nil on the marker row.
    private func selectedSource(_ timeline: TimelineView) -> Int? {
        Self.source(atRow: list.selected, position: timeline.position)
    }

    /// The selected source line's text, as its file has it.
    public func yankText(context: RenderContext) -> String? {
        selectedSource(context.model.timeline).map { context.model.timeline.source($0).text }
    }

    /// After the model moved (a step, a jump, a command typed), selects the line it applied
    /// last (the marker row at the start), with the marker in view.
    private mutating func follow(_ timeline: TimelineView) {
        guard followed?.position != timeline.position || followed?.count != timeline.count else { return }
        followed = (timeline.position, timeline.count)
        reveal(row: max(0, timeline.position - 1), rows: timeline.count + 1)
    }

    /// Selects `row`, centring it when it is off screen (a jump lands mid-list, not at an edge).
    private mutating func reveal(row: Int, rows: Int) {
        if row < list.offset || row >= list.offset + listHeight {
            list.offset = max(0, min(row - listHeight / 2, rows - listHeight))
        }
        list.select(row, count: rows, height: listHeight)
    }

    /// A failed or disagreeing line the results pane went to: selected, in view.
    public mutating func reveal(_ target: PaneTarget, context: RenderContext) {
        guard case .line(let index) = target else { return }
        let timeline = context.model.timeline
        followed = (timeline.position, timeline.count)
        reveal(row: Self.row(ofSource: index, position: timeline.position), rows: timeline.count + 1)
    }

    /// Moves the model to just after source line `index`, selecting it there.
    private mutating func go(to index: Int, _ timeline: TimelineView) -> PaneAction {
        followed = (index + 1, timeline.count)
        reveal(row: index, rows: timeline.count + 1)
        return .move(to: index + 1)
    }

    // MARK: Drawing

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0, area.width > 0 else { return }
        let timeline = context.model.timeline, symbols = context.symbols, theme = context.theme
        if !context.focused { jumping = nil }
        func line(_ text: String, _ row: Int, _ role: String) {
            guard row < area.height else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: area.y + row, style: theme[role])
        }
        let stripHeight = area.height >= 30 ? 10 : area.height >= 16 ? 7 : area.height >= 10 ? 4 : 0
        listHeight = max(1, area.height - 1 - stripHeight)
        let rows = timeline.count + 1
        follow(timeline)
        list.move(by: 0, count: rows, height: listHeight)
        if let jumping {
            line("go to line: " + jumping + symbols.cursor + "  (Enter jumps, Esc cancels)", 0, "heading")
        } else {
            line(Units.count(timeline.count, timeline.unit) + ", \(timeline.markCount) flagged"
                 + (context.model.mark.map { ", m: " + timeline.describe(position: $0) } ?? "") + "   Enter: go here  ? keys", 0, "heading")
        }
        let digits = timeline.count > 0 ? max(3, String(timeline.source(timeline.count - 1).line).count) : 3
        let needle = context.search?.lowercased() ?? ""
        for (offset, row) in (list.offset..<min(rows, list.offset + listHeight)).enumerated() {
            let y = 1 + offset
            if let index = Self.source(atRow: row, position: timeline.position) {
                let source = timeline.source(index), status = RowStatus(source, timeline.outcome(index))
                let number = source.line > 0 ? String(source.line) : ""
                let text = terminalSafe(source.text)
                var role = status == .failed || status == .disagrees ? status.role : index < timeline.position ? "text" : "dim"
                if !needle.isEmpty, text.lowercased().contains(needle) { role = "match" }
                line(String(repeating: " ", count: max(0, digits - number.count)) + number + "   " + text, y, role)
                buffer.put(status.glyph(symbols), x: area.x + digits + 1, y: area.y + y, style: theme[status.role], clip: area)
                if context.model.mark == index + 1 {
                    let tag = " " + Self.markTag(symbols) + " "
                    buffer.put(tag, x: max(area.x, area.maxX - CellBuffer.width(of: tag)), y: area.y + y, style: theme["heading"], clip: area)
                }
            } else {
                let label = " \(symbols.collapsed) the model: \(timeline.position) of \(timeline.count) applied "
                line(String(repeating: symbols.horizontal, count: digits) + label
                     + String(repeating: symbols.horizontal, count: max(0, area.width - digits - CellBuffer.width(of: label))), y, "heading")
            }
            if row == list.selected {
                buffer.restyle(Rect(x: area.x, y: area.y + y, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
        guard stripHeight > 0 else { return }
        let top = area.height - stripHeight
        line(String(repeating: symbols.horizontal, count: area.width), top, "border")
        for (offset, detail) in details(timeline, symbols: symbols, width: area.width).prefix(stripHeight - 1).enumerated() {
            line(detail.text, top + 1 + offset, detail.role)
        }
    }

    /// The selected line's block: its number and status, its text, its commands with their
    /// statuses, its note, its observation and the model's verdict, wrapped to `width`.
    func details(_ timeline: TimelineView, symbols: Symbols, width: Int) -> [(text: String, role: String)] {
        var lines: [(text: String, role: String)] = []
        func add(_ text: String, _ role: String, indent: String = "") {
            let words = terminalSafe(text).split(separator: " ").map(String.init)
            for (index, wrapped) in TableText.wrap(words, width: max(1, width - indent.count), separator: " ").enumerated() {
                lines.append(((index == 0 ? "" : indent) + wrapped, role))
            }
        }
        guard let index = selectedSource(timeline) else {
            add("The model is the state after \(timeline.position) of the \(timeline.count) \(timeline.unit)s.", "text")
            add("[ ] step one line, { } go to the ends, Enter on a line goes just after it.", "dim")
            return lines
        }
        let source = timeline.source(index), outcome = timeline.outcome(index), status = RowStatus(source, outcome)
        let heading: String
        switch status {
        case .failed: heading = "expectation failed" + (outcome.status.map { ": the model returned " + terminalSafe($0.explained) } ?? "")
        case .disagrees: heading = "the model disagrees with what the line observed"
        case .agrees: heading = "the model agrees with what the line observed"
        case .notComparable: heading = "observed; the model cannot compare it here"
        case .notReplayed: heading = "not replayed"
        case .passed: heading = "passed" + (outcome.status.map { ": " + terminalSafe($0.explained) } ?? "")
        }
        add("\(timeline.unit) \(source.line)  \(status.glyph(symbols)) \(heading)" + (index < timeline.position ? "" : "  (not applied)"),
            status.role)
        // Each command's full result is known for the line applied last; for the others, the
        // outcome keeps the first command that failed (or the last one's status).
        let reports = index == timeline.position - 1 && timeline.reports.count == source.commands.count ? timeline.reports : nil
        // A scenario's line is its one command: its result's fields are all there is to add.
        guard source.commands.count != 1 || source.commands[0].text != source.text else {
            if let report = reports?.first, !report.passed || !report.result.fields.isEmpty {
                add(symbols.arrow + " " + terminalSafe(report.resultText), report.passed ? "text" : "fault", indent: "  ")
            }
            return lines
        }
        add(source.text, "text", indent: "  ")
        for (number, command) in source.commands.enumerated() {
            let text = command.text + "  "
            if let report = reports?[number] {
                add((report.passed ? RowStatus.passed : .failed).glyph(symbols) + " " + text + symbols.arrow + " " + terminalSafe(report.resultText),
                    report.passed ? "text" : "fault", indent: "    ")
            } else if command.number == outcome.failedCommand {
                add(RowStatus.failed.glyph(symbols) + " " + text + symbols.arrow + " " + (outcome.status.map { terminalSafe($0.explained) } ?? "failed"), "fault", indent: "    ")
            } else if outcome.failedCommand == nil || command.number < outcome.failedCommand ?? 0 {
                let last = number == source.commands.count - 1 ? (outcome.status.map { symbols.arrow + " \($0)" } ?? "") : ""
                add(RowStatus.passed.glyph(symbols) + " " + text + last, "text", indent: "    ")
            } else {
                add(symbols.leaf + " " + text + "(Enter runs it to show its result)", "dim", indent: "    ")
            }
        }
        if let note = source.note { add("note: " + note, "dim", indent: "  ") }
        if let observation = source.observation { add("observed: " + observation.summary, "text", indent: "  ") }
        switch outcome.verdict {
        case .agrees(let text)?: add("the model agrees: " + text, "mapped", indent: "  ")
        case .disagrees(let text)?: add("the model disagrees: " + text, "warning", indent: "  ")
        case .notComparable(let text)?: add("not comparable: " + text, "dim", indent: "  ")
        case nil: break
        }
        return lines
    }

    // MARK: Input

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        let timeline = context.model.timeline
        follow(timeline)
        if let text = jumping {
            switch key {
            case .character(let c) where c.isASCII && c.isNumber: jumping = text + String(c)
            case .backspace: jumping = String(text.dropLast())
            case .escape: jumping = nil
            case .enter:
                jumping = nil
                guard let number = Int(text) else { return .message("type a line number after #") }
                guard let index = timeline.index(ofLine: number) else {
                    return .message("no \(timeline.unit) \(number): the last is \(timeline.count > 0 ? timeline.source(timeline.count - 1).line : 0)")
                }
                return go(to: index, timeline)
            default: break
            }
            return .none
        }
        if list.handle(key, count: timeline.count + 1, height: listHeight) { return .none }
        switch key {
        case .enter:
            guard let index = selectedSource(timeline) else { return .message("the model is here: select a line to go after it") }
            return go(to: index, timeline)
        case .character("e"), .character("E"):
            let forward = key == .character("e")
            // From the marker row, the next mark is the first line not applied, the previous the last applied.
            let from = selectedSource(timeline) ?? (forward ? timeline.position - 1 : timeline.position)
            guard let mark = timeline.nextMark(after: from, forward: forward) else {
                return .message(forward ? "no mark after this line" : "no mark before this line")
            }
            return go(to: mark, timeline)
        case .character("#"):
            jumping = ""
            return .none
        default:
            return .ignored
        }
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        let timeline = context.model.timeline
        follow(timeline)
        let from = selectedSource(timeline) ?? timeline.position - 1
        guard let index = nextMatch(count: timeline.count, after: from, needle: text, forward: forward,
                                    text: { timeline.source($0).text }) else { return false }
        reveal(row: Self.row(ofSource: index, position: timeline.position), rows: timeline.count + 1)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        let timeline = context.model.timeline, target = list.offset + row - 1
        guard row >= 1, row < 1 + listHeight, target <= timeline.count else { return .none }
        list.select(target, count: timeline.count + 1, height: listHeight)
        return .none
    }
}

extension TimelineView {
    /// A position by the source's own line numbers and by the count of source lines applied:
    /// `trace line 12 (9/11)` (the state after trace line 12, the 9th of 11 events),
    /// `before trace line 4 (0/11)` at the start.
    func describe(position: Int) -> String {
        let position = min(max(0, position), count)
        let applied = "(\(position)/\(count))"
        if position > 0 { return "\(unit) \(source(position - 1).line) \(applied)" }
        return count > 0 ? "before \(unit) \(source(0).line) \(applied)" : "\(unit)s \(applied)"
    }
}

extension LineReport {
    /// The result as the status line shows it: status and fields, a record list by its count.
    var resultText: String {
        // Record lists (a walk's steps, `config`'s structures, read queue entries) are too
        // long for one line: their count says they are there.
        let fields = result.fields.map { field -> String in
            if case .records(let records) = field.value { return "\(field.name)=" + Units.count(records.count, "record") }
            return "\(field.name)=\(field.value.display)"
        }
        return ([result.status.description] + fields + (result.status.reason.map { ["(" + $0 + ")"] } ?? [])).joined(separator: " ")
    }
}
