import HostImport
import IOMMUCore
import ScenarioScript

/// The scenario as a timeline over the live core: the command lines, and how many of them
/// have run. Stepping forward runs the next lines on the live session; stepping back replays
/// the first lines onto a fresh copy of the starting state (the core is deterministic), so
/// every view always shows the state after exactly `position` lines.
///
/// The model is the inspector's controller: only it holds the session, and only its `step`
/// and `run(command:)` change it. Views see the core through `reader`, which cannot.
public final class InspectorModel {
    public private(set) var lines: [ScenarioLine]
    public private(set) var position: Int
    /// The live state; private, so that no view can reach an ioctl or a driver through it.
    private var session: Session
    /// Builds the state the timeline starts from: an empty session for a scenario, a rig's
    /// prepared session for a benchmark. Stepping back replays onto what it builds.
    private let start: () throws -> Session
    /// What views may ask of the live core: queries and probes, nothing that changes it.
    public private(set) var reader: ModelReader
    public private(set) var reports: [LineReport] = []
    /// The object graph after `position` lines: one picture per model generation.
    public private(set) var graph: ObjectGraph
    /// The objects the last step or command added, removed or changed (views mark them).
    public private(set) var changes = ObjectGraph.Changes()
    /// Bumped whenever the model changes, so views can drop cached rows.
    public private(set) var generation = 0
    public let title: String
    /// The real host the timeline runs on (`tui --host`), nil for a scenario's own platform.
    public let host: HostInspection?
    /// Logged faults explained on the model (`tui --faults LOG`), for the faults pane.
    public let faults: [FaultExplanation]
    /// The host's tables as rebuilt in the live machine's memory, with what stayed unknown.
    public private(set) var hostTables = TableRebuildReport()

    public init(scenario: Scenario, title: String, faults: [FaultExplanation] = []) {
        let session = Session()
        self.session = session
        start = Session.init
        lines = scenario.lines
        position = scenario.lines.count
        reader = ModelReader(session.iommufd)
        self.title = title
        host = nil
        self.faults = faults
        reports = session.run(scenario)
        graph = session.iommufd.graph
    }

    /// A model on a real host: the scenario's lines (none for `tui --host DIR` alone) run on
    /// the host's platform, with the host's dumped tables rebuilt in the machine's memory, at
    /// the start and on every replay.
    public init(host: HostInspection, scenario: Scenario?, title: String, faults: [FaultExplanation] = []) throws(PlatformDescriptionError) {
        let platform = host.platform, rebuild = host.rebuild
        let session = try Session(platform: platform)
        hostTables = rebuild(session.machine)
        self.session = session
        start = {
            let fresh = try Session(platform: platform)
            _ = rebuild(fresh.machine)
            return fresh
        }
        lines = scenario?.lines ?? []
        position = lines.count
        reader = ModelReader(session.iommufd)
        self.title = title
        self.host = host
        self.faults = faults
        reports = scenario.map { session.run($0) } ?? []
        graph = session.iommufd.graph
    }

    /// A model over a session built elsewhere (a benchmark's rig driven through the core API):
    /// an empty timeline over what `start` builds. `start` runs now, and again whenever a step
    /// back must replay the lines typed since onto the same starting state.
    public init(title: String, start: @escaping () throws -> Session) throws {
        let session = try start()
        self.session = session
        self.start = start
        lines = []
        position = 0
        reader = ModelReader(session.iommufd)
        self.title = title
        host = nil
        faults = []
        graph = session.iommufd.graph
    }

    /// Moves to just after line `target` of the timeline (0 = before the first). A step back
    /// whose starting state cannot be rebuilt (`start` threw this time) leaves the model as it is.
    public func step(to target: Int) {
        let clamped = min(max(0, target), lines.count)
        guard clamped != position else { return }
        if clamped > position {
            reports += lines[position..<clamped].map { session.run($0) }
        } else {
            guard let fresh = try? start() else { return }
            reports = lines[0..<clamped].map { fresh.run($0) }
            session = fresh
            reader = ModelReader(fresh.iommufd)
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

    /// What views see of the model now: its read-only face.
    public var view: ModelView {
        ModelView(reader: reader, graph: graph, changes: changes, generation: generation, host: hostView, faults: faults)
    }

    /// The host as views see it, reading the live machine's memory and nothing that writes it.
    private var hostView: HostView? {
        guard let host else { return nil }
        let physical = session.machine.physical
        return HostView(snapshot: host.snapshot, tables: hostTables, read: { try? physical.read64($0) })
    }

    /// Diffs the graph after the change against the one before, by object identity.
    private func noteChanges() {
        let before = graph
        graph = session.iommufd.graph
        changes = graph.changes(since: before)
        generation += 1
    }
}

/// What a view sees of the model at one moment: the core through the reader, the object graph,
/// what the last step or command changed, and the generation to key cached rows by. It offers
/// neither the model's controller (`step`, `run(command:)`) nor anything that changes the core.
public struct ModelView {
    public let reader: ModelReader
    public let graph: ObjectGraph
    public let changes: ObjectGraph.Changes
    public let generation: Int
    /// The real host under the timeline, nil for a scenario's own platform.
    public let host: HostView?
    /// Logged faults explained on the model, in log order.
    public let faults: [FaultExplanation]
}
