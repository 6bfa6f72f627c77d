import Presentation
import ScenarioScript
import TerminalUI

/// The lesson pane (0, `iommuscope learn`): the current step's narration beside the views, and
/// its predict question, whose answer the model computed at the step and the pane shows once
/// asked (Enter). `n` / Space and `N` / Backspace step the lesson: the app moves the timeline to
/// the step's line and shows the pane that explains it.
public struct LessonPane: InspectorPane {
    public let kind = PaneKind.lesson
    public let lesson: Lesson
    /// The timeline position of each stop: 0 for the introduction, then just after each step's line.
    let positions: [Int]
    /// The stop shown: 0 the introduction, `k` the lesson's step `k - 1`.
    public private(set) var stop = 0
    /// The current step's predict answer, computed at the step; nil when the result has none.
    public private(set) var answer: String?
    public private(set) var revealed = false
    private var offset = 0
    private var height = 1
    /// The stop's narration wrapped, for `width`.
    private var wrapped: (stop: Int, revealed: Bool, width: Int, lines: [(text: String, role: String)])?

    /// A lesson over `timeline`, whose every step names a command line of it (`Lesson.checkSteps`).
    init(lesson: Lesson, timeline: TimelineView) {
        self.lesson = lesson
        positions = [0] + lesson.steps.map { step in (timeline.index(ofLine: step.scenarioLine) ?? timeline.count - 1) + 1 }
    }

    public var stopCount: Int { positions.count }
    public var step: Lesson.Step? { stop > 0 ? lesson.steps[stop - 1] : nil }
    var position: Int { positions[stop] }

    /// Moves to `stop` (clamped); the app has moved the model there and passes the step line's reports.
    mutating func arrive(at stop: Int, reports: [LineReport]) {
        self.stop = min(max(0, stop), positions.count - 1)
        answer = step?.predict?.answer.answer(in: reports)
        revealed = false
        offset = 0
    }

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("n / Space", "the next step: the timeline moves to its line, the pane that explains it shows"),
         ("N / Backspace", "the previous step"), ("g / G", "the introduction / the last step"),
         ("Enter / a", "reveal the answer to the step's Predict question (computed from the model at the step)"),
         ("\(symbols.upDownKeys) j k", "scroll the narration")]
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        switch key {
        case .character("n"), .character(" "), .right: return .lessonStop(stop + 1)
        case .character("N"), .backspace, .left: return .lessonStop(stop - 1)
        case .character("g"), .home: return .lessonStop(0)
        case .character("G"), .end: return .lessonStop(positions.count - 1)
        case .enter, .character("a"):
            guard step?.predict != nil else { return .message("no question at this step") }
            revealed = true
            return .none
        case .down, .character("j"): offset += 1
        case .up, .character("k"): offset = max(0, offset - 1)
        case .pageDown: offset += height
        case .pageUp: offset = max(0, offset - height)
        default: return .ignored
        }
        return .none
    }

    public mutating func yankText(context: RenderContext) -> String? {
        step?.narration ?? lesson.introduction
    }

    /// The stop's text as lines of `width` cells, each with its style's name.
    private func lines(width: Int, symbols: Symbols) -> [(text: String, role: String)] {
        var lines: [(text: String, role: String)] = []
        // Markdown's way: the lines of a paragraph flow together; a blank line, a list item
        // (`- `) or an indented line starts a new one.
        func paragraph(_ text: String, _ role: String) {
            var words: [String] = []
            func flush() {
                lines += TableText.wrap(words, width: max(1, width), separator: " ").map { ($0, role) }
                words = []
            }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.allSatisfy(\.isWhitespace) {
                    flush()
                    lines.append(("", role))
                    continue
                }
                if line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("    ") { flush() }
                words += line.split(separator: " ").map { terminalSafe($0) }
            }
            flush()
        }
        lines.append((step.map { "Step \(stop) of \(positions.count - 1), line \($0.scenarioLine)" } ?? "Introduction", "heading"))
        paragraph(step?.narration ?? lesson.introduction, "text")
        if let predict = step?.predict {
            lines.append(("", "text"))
            paragraph("Predict: " + predict.question, "warning")
            if revealed {
                paragraph("Answer (\(predict.answer)): " + (answer.map(terminalSafe) ?? "the line's result has no \(predict.answer)"), "mapped")
            } else {
                lines.append(("Enter reveals the answer", "dim"))
            }
        }
        if stop == positions.count - 1 { lines.append(("End of the lesson: N goes back, q quits", "dim")) }
        return lines
    }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        height = max(1, area.height)
        if wrapped?.stop != stop || wrapped?.revealed != revealed || wrapped?.width != area.width {
            wrapped = (stop, revealed, area.width, lines(width: area.width, symbols: context.symbols))
        }
        let shown = wrapped?.lines ?? []
        offset = min(offset, max(0, shown.count - area.height))
        for (row, line) in shown.dropFirst(offset).prefix(area.height).enumerated() {
            buffer.put(Widgets.fit(line.text, width: area.width, symbols: context.symbols), x: area.x, y: area.y + row,
                       style: context.theme[line.role])
        }
    }
}

extension PaneKind {
    /// The pane a lesson step's `show:` names (`Lesson.paneNames`).
    init?(lessonName: String) {
        switch lessonName {
        case "details": self = .details
        case "page-table": self = .pageTable
        case "walk": self = .walk
        case "iova-map": self = .iovaMap
        case "timeline": self = .timeline
        case "results": self = .results
        case "diff": self = .diff
        default: return nil
        }
    }
}
