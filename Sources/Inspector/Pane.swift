import IOMMUCore
import ScenarioScript
import TerminalUI

/// What a pane asks of the application after handling a key (htop's way: the pane says what
/// must happen next instead of reaching into other panes).
public enum PaneAction: Equatable {
    case none
    /// The key was not the pane's.
    case ignored
    /// Select this object everywhere (follow an edge of the object graph).
    case select(ObjectID)
    /// Show this pane, focused.
    case show(PaneKind)
    /// A message for the status bar.
    case message(String)
    /// Inspect this host item in every pane (a fault: its walk in the walk view), and show
    /// a pane when one is named.
    case inspect(HostItem, show: PaneKind?)
    /// Move the model to just after this many source lines of its timeline.
    case move(to: Int)
    /// Go to a result (the results pane's Enter): the model just after its source line, the
    /// pane that explains it shown and focused, and showing that result.
    case reveal(PaneTarget)
    /// Go to stop `n` of the lesson (`iommuscope learn`): the model just after its step's line,
    /// the pane that explains the line shown, the lesson pane kept focused.
    case lessonStop(Int)
}

/// A result as the pane that explains it shows it.
public enum PaneTarget: Equatable {
    /// Source line `index` of the timeline (a failed or disagreeing line): the timeline selects it.
    case line(Int)
    /// The DMA the `translate` of source line `index` made: the walk walks its device, PASID,
    /// IOVA and access.
    case translation(line: Int)
    /// Logged fault `index` (`tui --faults LOG`): the faults pane selects it, the others follow it.
    case loggedFault(Int)

    /// The pane that explains it.
    public var pane: PaneKind {
        switch self {
        case .line: .timeline
        case .translation: .walk
        case .loggedFault: .faults
        }
    }

    /// The source line the model goes to just after; nil for a logged fault, which is no line.
    var line: Int? {
        switch self {
        case .line(let index), .translation(let index): index
        case .loggedFault: nil
        }
    }
}

/// The panes of the inspector, by the number key that focuses them.
public enum PaneKind: Int, CaseIterable, Sendable {
    case tree = 1, details = 2, pageTable = 3, walk = 4, iovaMap = 5
    /// Logged faults explained on the model (`tui --faults LOG`); there only when some were loaded.
    case faults = 6
    /// The source lines (a scenario's, a trace's) with what each did; there for every model.
    case timeline = 7
    /// What went wrong: failed lines, faults, disagreements, logged faults; there for every model.
    case results = 8
    /// What changed from the marked timeline position (`m`) to the model now; there for every model.
    case diff = 9
    /// The lesson's narration (`iommuscope learn`), beside the right pane; there only in a lesson.
    case lesson = 0

    public var title: String {
        switch self {
        case .tree: "Objects"
        case .details: "Details"
        case .pageTable: "Page table"
        case .walk: "Walk"
        case .iovaMap: "IOVA map"
        case .faults: "Faults"
        case .timeline: "Timeline"
        case .results: "Results"
        case .diff: "Diff"
        case .lesson: "Lesson"
        }
    }
}

/// Everything a pane draws from: the model's timeline and read-only core, the selection, and
/// the look.
public struct RenderContext {
    /// The model as views see it: never its controller, never a mutating core API.
    public var model: ModelView
    /// The live core as a pane may see it: queries and probes, never an ioctl.
    public var reader: ModelReader { model.reader }
    /// The object selected in the tree (the other panes follow it).
    public var selection: ObjectID?
    /// The host item selected (a unit, group, device, kernel domain or fault), on a host.
    public var hostSelection: HostItem?
    public var theme: Theme
    public var symbols: Symbols
    public var focused: Bool
    /// The search text of `/`, highlighted where it matches.
    public var search: String?
}

/// One pane of the inspector. A pane renders only the rows on screen, from the live core,
/// and keeps only its own navigation state.
public protocol InspectorPane {
    var kind: PaneKind { get }
    /// The keys this pane adds to the global ones, for the `?` overlay, arrows and glyphs
    /// drawn with `symbols` (an ASCII locale reads `Up`, not `↑`).
    func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)]
    /// The pane's main keys in a word each, for the status line while it is focused (the
    /// panes' own in PaneHints.swift).
    var statusHints: [(key: String, action: String)] { get }
    /// Draws into `area` (inside the pane's border).
    mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext)
    /// Handles a key while focused; `area` is the pane's last drawn inner area.
    mutating func handle(_ key: Key, context: RenderContext) -> PaneAction
    /// Moves to the next (or previous) row matching `text`; false when nothing matches.
    mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool
    /// Handles a click at a row of its area (relative to the inner area's top).
    mutating func click(row: Int, context: RenderContext) -> PaneAction
    /// True while the pane edits text of its own: every key then goes to it, even the
    /// global ones (digits, q, /).
    var capturesInput: Bool { get }
    /// What `y` copies: the selected row's address, descriptor or text; nil when nothing is
    /// selected. Mutating: a pane that builds its rows lazily builds them first.
    mutating func yankText(context: RenderContext) -> String?
    /// Shows `target`, a result another pane went to (`target.pane` is this pane), with the
    /// model already where the result is.
    mutating func reveal(_ target: PaneTarget, context: RenderContext)
}

extension InspectorPane {
    public mutating func reveal(_ target: PaneTarget, context: RenderContext) {}
    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool { false }
    public mutating func click(row: Int, context: RenderContext) -> PaneAction { .none }
    public var capturesInput: Bool { false }
}

extension Symbols {
    /// The up and down keys together, as a list's help names them: `↑↓`, `Up Down` in ASCII.
    var upDownKeys: String { self == .ascii ? upKey + " " + downKey : upKey + downKey }
}

/// Finds the next index (wrapping) after `start` whose text contains `needle`, case-insensitively.
func nextMatch(in texts: [String], after start: Int, needle: String, forward: Bool) -> Int? {
    nextMatch(count: texts.count, after: start, needle: needle, forward: forward) { texts[$0] }
}

/// Finds the next of `count` rows (wrapping) after `start` whose `text` contains `needle`,
/// case-insensitively, asking for each row's text only as far as the match.
func nextMatch(count: Int, after start: Int, needle: String, forward: Bool, text: (Int) -> String) -> Int? {
    guard count > 0, !needle.isEmpty else { return nil }
    let lowered = needle.lowercased()
    for step in 1...count {
        let index = ((start + (forward ? step : -step)) % count + count) % count
        if text(index).lowercased().contains(lowered) { return index }
    }
    return nil
}
