import IOMMUCore

/// A source (a scenario, a VMM's trace) as a timeline over the live model: its source lines,
/// what replaying each did, and a position, the number of source lines applied. Every answer
/// about the model is the state after exactly `position` source lines.
///
/// A move costs the same anywhere in a long timeline. The first replay keeps a checkpoint, a
/// `Session.fork()` of the model with the line checker's names, every `interval` source lines;
/// a move forks the last checkpoint before the target (a checkpoint is never changed) and
/// replays at most `interval` lines from it, and a move forward of at most `interval` lines
/// runs on the live session. Checkpoints are bounded in number: past `checkpointLimit`, every
/// other one is dropped and the interval doubles, so they hold at most `checkpointLimit` copies
/// of the model (each its objects and tables; memory frames are the fork's to share).
///
/// Lines are kept as their command text, re-checked when replayed, and outcomes as one byte
/// a line (the rare ones with a reason, an errno or a verdict aside), so a million source
/// lines cost their text and little more; marked lines are indexed.
public final class Timeline {
    /// Source lines between checkpoints, unless a test asks for another interval.
    public static let defaultCheckpointInterval = 1024
    /// Checkpoints kept at most, unless a test asks for another bound.
    public static let defaultCheckpointLimit = 1024

    private var sources: [TimelineSource]
    /// What each source line did when the timeline was first replayed (and, for lines typed
    /// since, when they ran).
    private var outcomes = TimelineOutcomes()
    /// Source lines applied to `session`.
    public private(set) var position: Int
    /// The live state after `position` source lines.
    public private(set) var session: Session
    /// The names the lines before `position` bound and declared: what the next line checks against.
    private(set) var checker: LineChecker
    /// The reports of the last source line applied (none at position 0).
    public private(set) var reports: [LineReport] = []
    /// States after `position` lines, in order: at 0, `interval`, 2·`interval`… of the first
    /// replay, and where typed lines passed the interval since.
    private var checkpoints: [Checkpoint] = []
    /// Source lines between checkpoints (doubles when the checkpoints reach `checkpointLimit`).
    public private(set) var interval: Int
    private let checkpointLimit: Int

    private struct Checkpoint {
        var position: Int
        var session: Session
        var checker: LineChecker
    }

    /// Replays every source line once, from what `start` builds, and ends after the last.
    /// A command that does not parse (against the names earlier lines bind) is an error, with
    /// every such command's line and column. `interval` and `checkpointLimit` (at least 1 and
    /// 2) set how often the model is kept.
    public init(sources: [TimelineSource], start: () throws -> Session,
                interval: Int = Timeline.defaultCheckpointInterval, checkpointLimit: Int = Timeline.defaultCheckpointLimit) throws {
        let session = try start()
        self.sources = sources
        self.session = session
        self.interval = max(1, interval)
        self.checkpointLimit = max(2, checkpointLimit)
        // Names the starting state already has (a host's devices) check as a typed line's do.
        checker = LineChecker(bound: session.bindings.mapValues(\.command),
                              declared: Set(session.machine.iommus.map(\.name) + session.machine.devices.map(\.name)))
        position = 0
        var errors: [ScenarioError] = []
        for index in sources.indices {
            if index % self.interval == 0 && errors.isEmpty { keepCheckpoint() }
            var lines: [ScenarioLine] = []
            for command in sources[index].commands {
                do throws(ScenarioError) {
                    if let line = try checker.check(ScenarioSourceLine(number: command.number, text: .success(command.text))) {
                        lines.append(line)
                    }
                } catch {
                    errors.append(error)
                }
            }
            // After the first bad command only checking goes on, to name every bad one.
            guard errors.isEmpty else { continue }
            reports = lines.map { session.run($0) }
            outcomes.append(Self.outcome(reports, sources[index].observation, session))
            position = index + 1
        }
        guard errors.isEmpty else { throw ScenarioParseErrors(errors: errors) }
        if sources.isEmpty { keepCheckpoint() }
    }

    /// A scenario's text as a timeline: one source line per command line.
    public convenience init(scenario text: String, start: () throws -> Session = Session.init,
                            interval: Int = Timeline.defaultCheckpointInterval) throws {
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
        try self.init(sources: sources, start: start, interval: interval)
    }

    public var count: Int { sources.count }

    /// Source line `index` (0-based, below `count`).
    public func source(_ index: Int) -> TimelineSource { sources[index] }

    /// What source line `index` (below `count`) did when it was replayed.
    public func outcome(_ index: Int) -> TimelineOutcome { outcomes[index] }

    /// The first source line numbered `line` or later in its file (source lines are in file
    /// order), nil past the last: a binary search, so a jump costs the same in any length.
    public func index(ofLine line: Int) -> Int? {
        var low = 0, high = sources.count
        while low < high {
            let middle = low + (high - low) / 2
            if sources[middle].line < line { low = middle + 1 } else { high = middle }
        }
        return low < sources.count ? low : nil
    }

    /// How many checkpoints the timeline keeps now.
    public var checkpointCount: Int { checkpoints.count }

    /// Moves to just after source line `target` (0 = before the first), clamped: forward on
    /// the live session when that is at most `interval` lines or no checkpoint lies between,
    /// else from a fork of the last checkpoint before the target.
    public func move(to target: Int) {
        let target = min(max(0, target), sources.count)
        guard target != position else { return }
        let base = checkpoints[checkpointIndex(before: target)]
        if target > position && (position >= base.position || target - position <= interval) {
            replay(position..<target)
        } else {
            session = base.session.fork()
            checker = base.checker
            reports = []
            replay(base.position..<target)
        }
        position = target
    }

    /// Runs a typed command after the current position, as a new source line (later source
    /// lines are dropped, as in an editor's undo history, and the checkpoints after it).
    /// Nil for a blank or comment line.
    public func run(command text: String) -> Result<LineReport, ScenarioParseErrors>? {
        let number = 1
        var typed = checker
        let line: ScenarioLine?
        do throws(ScenarioError) {
            line = try typed.check(ScenarioSourceLine(number: number, text: .success(text)))
        } catch {
            return .failure(ScenarioParseErrors(errors: [error]))
        }
        guard let line else { return nil }
        sources.removeSubrange(position...)
        outcomes.truncate(to: position)
        checkpoints.removeAll { $0.position > position }
        if position - checkpoints[checkpoints.count - 1].position >= interval { keepCheckpoint() }
        checker = typed
        let report = session.run(line)
        sources.append(TimelineSource(line: position + 1, text: text, commands: [TimelineCommand(number: number, text: text)]))
        outcomes.append(Self.outcome([report], nil, session))
        position = sources.count
        reports = [report]
        return .success(report)
    }

    /// The next source line (after `index`, or before it going back) with a mark, if any.
    public func nextMark(after index: Int, forward: Bool = true) -> Int? {
        outcomes.nextMark(after: index, forward: forward)
    }

    /// How many source lines are marked.
    public var markCount: Int { outcomes.marks.count }

    /// The source lines with a result to look at, in order: marked, or whose status is a
    /// translation fault. Indexed as the marks are, so a view asks for the rows it draws.
    public var resultCount: Int { outcomes.results.count }

    /// The `number`th such source line's index (below `resultCount`).
    public func result(_ number: Int) -> Int { outcomes.results[number] }

    /// How many lines failed, disagree with their observation, or fault.
    public var resultTally: TimelineTally { outcomes.tally }

    /// Re-checks and runs source lines `range` on the live session; `reports` become the last one's.
    private func replay(_ range: Range<Int>) {
        for index in range {
            reports = []
            for command in sources[index].commands {
                do throws(ScenarioError) {
                    guard let line = try checker.check(ScenarioSourceLine(number: command.number, text: .success(command.text))) else { continue }
                    reports.append(session.run(line))
                } catch {
                    // Every command checked when it first ran, against the same names; a
                    // line that does not now is reported as one that could not run.
                    reports.append(LineReport(line: command.number, command: "", result: CommandResult(status: .failed(error.description)),
                                              expectation: nil))
                }
            }
        }
    }

    /// Keeps the live state (at `position`) as a checkpoint, thinning the checkpoints to every
    /// other one, at twice the interval, when they would pass the limit.
    private func keepCheckpoint() {
        checkpoints.append(Checkpoint(position: position, session: session.fork(), checker: checker))
        guard checkpoints.count > checkpointLimit else { return }
        interval *= 2
        checkpoints.removeAll { $0.position % interval != 0 }
    }

    /// The index of the last checkpoint before `target` (the one at 0 for target 0), so a move
    /// replays at least the target's own line and has its reports.
    private func checkpointIndex(before target: Int) -> Int {
        var low = 0, high = checkpoints.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if checkpoints[middle].position < target { low = middle } else { high = middle - 1 }
        }
        return low
    }

    private static func outcome(_ reports: [LineReport], _ observation: (any TimelineObservation)?, _ session: Session) -> TimelineOutcome {
        let failed = reports.first { !$0.passed }
        return TimelineOutcome(status: (failed ?? reports.last)?.result.status, failedCommand: failed?.line,
                               verdict: observation?.compare(with: ModelReader(session.iommufd)))
    }
}

/// Outcomes one byte a line: no status, `ok` or `fault` with nothing else, or "aside", whose
/// outcome (a reason, an errno, a failed command, a verdict) is kept in `aside` by line; and
/// the marked lines, in order; the lines with a result (marked, or a fault), in order, and
/// their tally.
struct TimelineOutcomes {
    private enum Code: UInt8 { case none, ok, fault, aside }

    private var codes: [Code] = []
    private var aside: [(index: Int, outcome: TimelineOutcome)] = []
    private(set) var marks: [Int] = []
    private(set) var results: [Int] = []
    private(set) var tally = TimelineTally()

    mutating func append(_ outcome: TimelineOutcome) {
        let index = codes.count
        switch (outcome.status, outcome.failedCommand, outcome.verdict) {
        case (nil, nil, nil): codes.append(.none)
        case (.ok?, nil, nil): codes.append(.ok)
        case (.fault?, nil, nil): codes.append(.fault)
        default:
            codes.append(.aside)
            aside.append((index, outcome))
        }
        if outcome.mark != nil { marks.append(index) }
        if tally.add(outcome, 1) { results.append(index) }
    }

    subscript(index: Int) -> TimelineOutcome {
        switch codes[index] {
        case .none: TimelineOutcome()
        case .ok: TimelineOutcome(status: .ok)
        case .fault: TimelineOutcome(status: .fault)
        case .aside: aside[Self.firstIndex(in: aside.lazy.map(\.index), notBelow: index)].outcome
        }
    }

    /// Drops the outcomes of lines `count` and after.
    mutating func truncate(to count: Int) {
        guard count < codes.count else { return }
        let dropped = Self.firstIndex(in: results, notBelow: count)
        for index in results[dropped...] { _ = tally.add(self[index], -1) }
        results.removeSubrange(dropped...)
        codes.removeSubrange(count...)
        aside.removeSubrange(Self.firstIndex(in: aside.lazy.map(\.index), notBelow: count)...)
        marks.removeSubrange(Self.firstIndex(in: marks, notBelow: count)...)
    }

    /// The first marked line after `index`, or the last before it going back.
    func nextMark(after index: Int, forward: Bool) -> Int? {
        if forward {
            guard index < Int.max else { return nil }
            let found = Self.firstIndex(in: marks, notBelow: index + 1)
            return found < marks.count ? marks[found] : nil
        }
        let found = Self.firstIndex(in: marks, notBelow: index)
        return found > 0 ? marks[found - 1] : nil
    }

    /// The first position of a sorted collection whose element is at least `value` (its count if none).
    private static func firstIndex<C: RandomAccessCollection>(in sorted: C, notBelow value: Int) -> Int
        where C.Element == Int, C.Index == Int {
        var low = sorted.startIndex, high = sorted.endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
