import IOMMUCore
import ScenarioScript

/// The scenario as a timeline over the live core: the command lines, and how many of them
/// have run. Stepping forward runs the next lines on the live session; stepping back replays
/// the first lines into a fresh session (the core is deterministic), so every view always
/// shows the state after exactly `position` lines.
public final class InspectorModel {
    public private(set) var lines: [ScenarioLine]
    public private(set) var position: Int
    public private(set) var session: Session
    public private(set) var reports: [LineReport] = []
    /// The object graph after `position` lines: one picture per model generation.
    public private(set) var graph: ObjectGraph
    /// The objects the last step or command added, removed or changed (views mark them).
    public private(set) var changes = ObjectGraph.Changes()
    /// Bumped whenever the model changes, so views can drop cached rows.
    public private(set) var generation = 0
    public let title: String

    public init(scenario: Scenario, title: String) {
        lines = scenario.lines
        position = scenario.lines.count
        session = Session()
        self.title = title
        reports = session.run(scenario)
        graph = session.iommufd.graph
    }

    /// A model over a session built elsewhere (a benchmark's rig driven through the core
    /// API): an empty timeline, so stepping leaves the session as it is.
    public init(session: Session, title: String) {
        lines = []
        position = 0
        self.session = session
        self.title = title
        graph = session.iommufd.graph
    }

    /// Moves to just after line `target` of the timeline (0 = before the first).
    public func step(to target: Int) {
        let clamped = min(max(0, target), lines.count)
        guard clamped != position else { return }
        if clamped > position {
            reports += lines[position..<clamped].map { session.run($0) }
        } else {
            let fresh = Session()
            reports = lines[0..<clamped].map { fresh.run($0) }
            session = fresh
        }
        position = clamped
        noteChanges()
    }

    /// Runs a typed command against the live model, after the current position (later lines
    /// of the timeline are dropped, as in an editor's undo history).
    public func run(command text: String) -> Result<LineReport, ScenarioParseErrors>? {
        let checked: ScenarioLine?
        do throws(ScenarioParseErrors) {
            // Checked against the live bindings: a bound name (`ioas_id=ioas`) is known here.
            checked = try session.line(command: text)
        } catch {
            return .failure(error)
        }
        guard let line = checked else { return nil }
        let report = session.run(line)
        lines = Array(lines[0..<position]) + [line]
        position = lines.count
        reports.append(report)
        noteChanges()
        return .success(report)
    }

    /// Diffs the graph after the change against the one before, by object identity.
    private func noteChanges() {
        let before = graph
        graph = session.iommufd.graph
        changes = graph.changes(since: before)
        generation += 1
    }
}
