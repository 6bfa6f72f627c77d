import IOMMUCore

/// A source (a scenario, a VMM's trace) as a timeline over the live model: its source lines,
/// what replaying each did, and a position, the number of source lines applied. Moving
/// forward runs the next lines on the live session; moving back rebuilds the state after the
/// lines before the target. Every answer about the model is the state after exactly
/// `position` source lines.
///
/// NOTE (issue 10, stub): this first version rebuilds by replaying from `start`; checkpoints
/// replace that so a move costs the same anywhere in a long timeline.
public final class Timeline {
    private var sources: [TimelineSource]
    /// What each source line did when the timeline was first replayed (and, for lines typed
    /// since, when they ran).
    private var outcomes: [TimelineOutcome]
    /// Source lines applied to `session`.
    public private(set) var position: Int
    /// The live state after `position` source lines.
    public private(set) var session: Session
    /// The reports of the last source line applied (none at position 0).
    public private(set) var reports: [LineReport] = []
    /// Builds the state the timeline starts from.
    private let start: () throws -> Session
    /// The checked commands of every source line.
    private var checked: [[ScenarioLine]]

    /// Replays every source line once, from what `start` builds, and ends after the last.
    /// A command that does not parse (against the names earlier lines bind) is an error.
    public init(sources: [TimelineSource], start: @escaping () throws -> Session) throws {
        let session = try start()
        self.start = start
        self.sources = sources
        self.session = session
        var checker = LineChecker()
        var checked: [[ScenarioLine]] = []
        var errors: [ScenarioError] = []
        for source in sources {
            var lines: [ScenarioLine] = []
            for command in source.commands {
                do throws(ScenarioError) {
                    if let line = try checker.check(ScenarioSourceLine(number: command.number, text: .success(command.text))) {
                        lines.append(line)
                    }
                } catch {
                    errors.append(error)
                }
            }
            checked.append(lines)
        }
        guard errors.isEmpty else { throw ScenarioParseErrors(errors: errors) }
        self.checked = checked
        outcomes = []
        position = 0
        for index in sources.indices {
            reports = checked[index].map { session.run($0) }
            outcomes.append(Self.outcome(reports, sources[index].observation, session))
        }
        position = sources.count
    }

    /// A scenario's text as a timeline: one source line per command line.
    public convenience init(scenario text: String, start: @escaping () throws -> Session = Session.init) throws {
        var sources: [TimelineSource] = []
        for line in ScenarioLines(chunks: [Array(text.utf8)]) {
            guard case .success(let content) = line.text else {
                // Reported by the parse below, at its line and column.
                sources.append(TimelineSource(line: line.number, text: "", commands: [TimelineCommand(number: line.number, text: "")]))
                continue
            }
            let code = content.prefix { $0 != "#" }
            guard !code.allSatisfy(\.isWhitespace) else { continue }
            sources.append(TimelineSource(line: line.number, text: content, commands: [TimelineCommand(number: line.number, text: content)]))
        }
        try self.init(sources: sources, start: start)
    }

    public var count: Int { sources.count }

    /// Source line `index` (0-based, below `count`).
    public func source(_ index: Int) -> TimelineSource { sources[index] }

    /// What source line `index` did when it was replayed.
    public func outcome(_ index: Int) -> TimelineOutcome { outcomes[index] }

    /// Moves to just after source line `target` (0 = before the first), clamped. A move back
    /// whose starting state cannot be rebuilt (`start` threw this time) leaves the timeline as it is.
    public func move(to target: Int) {
        let clamped = min(max(0, target), sources.count)
        guard clamped != position else { return }
        if clamped > position {
            for index in position..<clamped { reports = checked[index].map { session.run($0) } }
        } else {
            guard let fresh = try? start() else { return }
            reports = []
            for index in 0..<clamped { reports = checked[index].map { fresh.run($0) } }
            session = fresh
        }
        position = clamped
    }

    /// Runs a typed command after the current position, as a new source line (later source
    /// lines are dropped, as in an editor's undo history). Nil for a blank or comment line.
    public func run(command text: String) -> Result<LineReport, ScenarioParseErrors>? {
        let line: ScenarioLine?
        do throws(ScenarioParseErrors) {
            line = try session.line(command: text)
        } catch {
            return .failure(error)
        }
        guard let line else { return nil }
        let report = session.run(line)
        sources = Array(sources[0..<position]) + [TimelineSource(line: position + 1, text: text, commands: [TimelineCommand(number: 1, text: text)])]
        checked = Array(checked[0..<position]) + [[line]]
        outcomes = Array(outcomes[0..<position]) + [Self.outcome([report], nil, session)]
        position = sources.count
        reports = [report]
        return .success(report)
    }

    /// The next source line (after `index`, or before it going back) with a mark, if any.
    public func nextMark(after index: Int, forward: Bool = true) -> Int? {
        forward ? outcomes.indices.first { $0 > index && outcomes[$0].mark != nil }
            : outcomes.indices.last { $0 < index && outcomes[$0].mark != nil }
    }

    /// How many source lines are marked.
    public var markCount: Int { outcomes.count { $0.mark != nil } }

    private static func outcome(_ reports: [LineReport], _ observation: (any TimelineObservation)?, _ session: Session) -> TimelineOutcome {
        let failed = reports.first { !$0.passed }
        return TimelineOutcome(status: (failed ?? reports.last)?.result.status, failedCommand: failed?.line,
                               verdict: observation?.compare(with: ModelReader(session.iommufd)))
    }
}
