import HostImport
import IOMMUCore
import ScenarioScript
import Snapshots

/// The model as a timeline over the live core: the source lines (a scenario's command lines,
/// a trace's events) and how many of them have run. Every view shows the state after exactly
/// `position` source lines; the `Timeline` moves there (forward on the live session, back
/// from a copy of its nearest checkpoint).
///
/// The model is the inspector's controller: only it holds the timeline and its session, and
/// only its `step` and `run(command:)` change them. Views see the core through `reader`, which
/// cannot, and the timeline through `TimelineView`, which cannot move it.
public final class InspectorModel {
    private let timeline: Timeline
    /// What views may ask of the live core: queries and probes, nothing that changes it.
    public private(set) var reader: ModelReader
    /// The object graph after `position` source lines: one picture per model generation.
    public private(set) var graph: ObjectGraph
    /// The objects the last step or command added, removed or changed (views mark them).
    public private(set) var changes = ObjectGraph.Changes()
    /// Bumped whenever the model changes, so views can drop cached rows.
    public private(set) var generation = 0
    public let title: String
    /// What the title bar counts source lines in: "line" of a scenario, "trace line" of a trace.
    public let unit: String
    /// The real host the timeline runs on (`tui --host`), nil for a scenario's own platform.
    public let host: HostInspection?
    /// Logged faults explained on the model (`tui --faults LOG`), for the faults pane.
    public let faults: [FaultExplanation]
    /// The host's tables as rebuilt in the live machine's memory, with what stayed unknown.
    public let hostTables: TableRebuildReport
    /// The timeline position the user marked (`m`) and the state there, taken when it was
    /// marked: the diff pane compares the model with it.
    public private(set) var mark: (position: Int, snapshot: ModelSnapshot)?
    /// The stale IOTLB entries of the current state, checked when a view first asks in a
    /// generation (the walk and page-table views flag them).
    private var stale: (generation: Int, entries: [ModelSnapshot.IOTLBEntry])?
    /// What changed from the mark to the current state, made when a view first asks after the
    /// mark or the model changed.
    private var diff: (position: Int, generation: Int, diff: SnapshotDiff)?
    /// How many diffs were made: one per mark and model change a view asked about.
    public private(set) var diffsMade = 0

    private init(timeline: Timeline, unit: String, title: String, host: HostInspection?, hostTables: TableRebuildReport,
                 faults: [FaultExplanation]) {
        self.timeline = timeline
        self.unit = unit
        self.title = title
        self.host = host
        self.hostTables = hostTables
        self.faults = faults
        reader = ModelReader(timeline.session.iommufd)
        graph = timeline.session.iommufd.graph
    }

    /// A scenario's text: one source line per command line, all run. A line that does not
    /// parse is an error (`ScenarioParseErrors`).
    public convenience init(scenario text: String, title: String, faults: [FaultExplanation] = []) throws {
        self.init(timeline: try Timeline(scenario: text), unit: "line", title: title, host: nil, hostTables: TableRebuildReport(),
                  faults: faults)
    }

    /// A replayed record of a real VMM (a QEMU trace): one source line per record line, with
    /// what each observed; `unit` names its lines in the title bar ("trace line").
    public convenience init(replay: ImportedReplay, unit: String, title: String, faults: [FaultExplanation] = []) throws {
        self.init(timeline: try Timeline(sources: replay.sources, start: Session.init), unit: unit, title: title, host: nil,
                  hostTables: TableRebuildReport(), faults: faults)
    }

    /// A model on a real host: the scenario's lines (none for `tui --host DIR` alone) run on
    /// the host's platform, with the host's dumped tables rebuilt in the machine's memory once,
    /// at the start (the timeline's checkpoints are copies of it). A platform the model cannot build throws
    /// `PlatformDescriptionError`; a scenario line that does not parse, `ScenarioParseErrors`.
    public convenience init(host: HostInspection, scenario text: String?, title: String, faults: [FaultExplanation] = []) throws {
        let platform = host.platform, rebuild = host.rebuild
        var report = TableRebuildReport()
        let timeline = try Timeline(scenario: text ?? "") {
            let fresh = try Session(platform: platform)
            report = rebuild(fresh.machine)
            return fresh
        }
        self.init(timeline: timeline, unit: "line", title: title, host: host, hostTables: report, faults: faults)
    }

    /// A model over a session built elsewhere (a benchmark's rig driven through the core API):
    /// an empty timeline over what `start` builds; `start` runs once, and a step back past the
    /// lines typed since starts from a copy of that state.
    public convenience init(title: String, start: () throws -> Session) throws {
        self.init(timeline: try Timeline(sources: [], start: start), unit: "line", title: title, host: nil,
                  hostTables: TableRebuildReport(), faults: [])
    }

    /// Source lines applied.
    public var position: Int { timeline.position }

    /// The reports of the last source line applied (none at position 0).
    public var reports: [LineReport] { timeline.reports }

    /// Moves to just after source line `target` of the timeline (0 = before the first),
    /// clamped.
    public func step(to target: Int) {
        let before = timeline.position
        timeline.move(to: target)
        guard timeline.position != before else { return }
        reader = ModelReader(timeline.session.iommufd)
        noteChanges()
    }

    /// Runs a typed command against the live model, after the current position, as a new
    /// source line (later lines of the timeline are dropped, as in an editor's undo history).
    public func run(command text: String) -> Result<LineReport, ScenarioParseErrors>? {
        let typedAt = timeline.position
        let result = timeline.run(command: text)
        if case .success? = result {
            // The lines after the position were dropped: a mark among them names no state now.
            if let mark, mark.position > typedAt { self.mark = nil }
            noteChanges()
        }
        return result
    }

    /// Marks the current position (the state now is what the diff pane compares with), or
    /// clears the mark when it is this position already; true when a mark is set.
    @discardableResult
    public func toggleMark() -> Bool {
        if mark?.position == timeline.position {
            mark = nil
            return false
        }
        mark = (timeline.position, ModelSnapshot(session: timeline.session))
        return true
    }

    /// The IOTLB entries a fresh walk contradicts now (`ModelSnapshot.cacheEntries`).
    private func staleIOTLB() -> [ModelSnapshot.IOTLBEntry] {
        if let stale, stale.generation == generation { return stale.entries }
        let entries = ModelSnapshot.cacheEntries(of: timeline.session).iotlb.filter(\.stale)
        stale = (generation, entries)
        return entries
    }

    /// What changed from the marked state to the current one; nil without a mark.
    private func markDiff() -> SnapshotDiff? {
        guard let mark else { return nil }
        if let diff, diff.position == mark.position, diff.generation == generation { return diff.diff }
        let made = SnapshotDiff(from: mark.snapshot, to: ModelSnapshot(session: timeline.session))
        diff = (mark.position, generation, made)
        diffsMade += 1
        return made
    }

    /// The completion at `cursor` of a `:` line being typed (the grammar's names and the names
    /// bound and declared up to the current position).
    public func completion(of text: String, cursor: Int) -> Completion {
        timeline.completion(of: text, cursor: cursor)
    }

    /// The model now as `iommuscope show` prints a scenario's: the object tree and IOVA ranges.
    public var summary: String { SessionSummary(session: timeline.session).text }

    /// What views see of the model now: its read-only face.
    public var view: ModelView {
        ModelView(reader: reader, graph: graph, changes: changes, generation: generation, host: hostView, faults: faults,
                  timeline: TimelineView(timeline: timeline, unit: unit), mark: mark?.position,
                  staleEntries: { [unowned self] in self.staleIOTLB() }, diffFromMark: { [unowned self] in self.markDiff() })
    }

    /// The host as views see it, reading the live machine's memory and nothing that writes it.
    private var hostView: HostView? {
        guard let host else { return nil }
        let physical = timeline.session.machine.physical
        return HostView(snapshot: host.snapshot, tables: hostTables, read: { try? physical.read64($0) })
    }

    /// Diffs the graph after the change against the one before, by object identity.
    private func noteChanges() {
        let before = graph
        graph = timeline.session.iommufd.graph
        changes = graph.changes(since: before)
        generation += 1
    }
}

/// What a view sees of the timeline: its source lines, what each did, where the model is, and
/// where the marks are; never a move. Every answer is about one line (or the next mark), so
/// a view asks only for the rows it draws.
public struct TimelineView {
    private let timeline: Timeline
    /// What source lines are called ("line", "trace line").
    public let unit: String

    fileprivate init(timeline: Timeline, unit: String) {
        self.timeline = timeline
        self.unit = unit
    }

    /// How many source lines are marked (the timeline keeps them indexed).
    public var markCount: Int { timeline.markCount }

    public var count: Int { timeline.count }
    /// Source lines applied: the model is the state after the first `position`.
    public var position: Int { timeline.position }
    /// Source line `index` (0-based, below `count`).
    public func source(_ index: Int) -> TimelineSource { timeline.source(index) }
    /// What source line `index` did when it was replayed.
    public func outcome(_ index: Int) -> TimelineOutcome { timeline.outcome(index) }
    /// The reports of the last source line applied, each command's full result.
    public var reports: [LineReport] { timeline.reports }
    /// The next marked source line after `index` (before it going back), if any.
    public func nextMark(after index: Int, forward: Bool) -> Int? { timeline.nextMark(after: index, forward: forward) }
    /// How many source lines have a result (marked, or a fault), for the results pane.
    public var resultCount: Int { timeline.resultCount }
    /// The `number`th source line with a result: its index (`number` below `resultCount`).
    public func result(_ number: Int) -> Int { timeline.result(number) }
    /// How many lines failed, disagree or fault.
    public var resultTally: TimelineTally { timeline.resultTally }

    /// The DMA the `translate` of source line `index` asked for (the one that faulted, when
    /// the model is just after the line and it has several), its names as the model binds
    /// them now; nil when the line has no `translate`.
    public func dmaRequest(ofLine index: Int) -> DMARequest? {
        let session = timeline.session
        let faulted = timeline.position == index + 1 ? Set(timeline.reports.filter { $0.result.status == .fault }.map(\.line)) : []
        let requests = timeline.source(index).commands.compactMap { command -> (line: Int, request: DMARequest)? in
            guard let line = try? session.line(command: command.text, number: command.number),
                  let request = session.dmaRequest(line) else { return nil }
            return (command.number, request)
        }
        return (requests.first { faulted.contains($0.line) } ?? requests.first)?.request
    }

    /// The first source line numbered `line` or later in its file, nil past the last.
    public func index(ofLine line: Int) -> Int? { timeline.index(ofLine: line) }
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
    /// The source lines and where the model is among them.
    public let timeline: TimelineView
    /// The position marked with `m`, nil when none is.
    public let mark: Int?
    fileprivate let staleEntries: () -> [ModelSnapshot.IOTLBEntry]
    fileprivate let diffFromMark: () -> SnapshotDiff?

    /// The IOTLB entries of the state now that a fresh walk contradicts (`CacheReader`'s
    /// check): checked once per model generation, when first asked.
    public var staleIOTLB: [ModelSnapshot.IOTLBEntry] { staleEntries() }
    /// What changed from the marked state to the state now (stale cache entries included);
    /// nil without a mark. Made once per mark and model generation, when first asked.
    public var diffFromMarkedState: SnapshotDiff? { diffFromMark() }
}
