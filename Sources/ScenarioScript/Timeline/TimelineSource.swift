import IOMMUCore

/// What a source line saw happen outside the model: an emulated vIOMMU's translation, fault
/// or invalidation in a VMM's trace. The timeline compares it with the model as it stands
/// after the line's commands.
public protocol TimelineObservation: Sendable {
    /// One line for the timeline: what the source reports.
    var summary: String { get }
    /// Compares what was observed with the model; a query through the reader, never a change.
    func compare(with model: ModelReader) -> ObservationVerdict
}

/// How an observation compares with the model.
public enum ObservationVerdict: Sendable, Equatable {
    /// The model computes the same answer; the text says what the model computed.
    case agrees(String)
    /// The model computes a different answer; the text shows both.
    case disagrees(String)
    /// The model cannot compute it here, and why.
    case notComparable(String)
}

/// One scenario line that replays (part of) a source line: its text and the line number its
/// reports carry (the line of a written scenario, or of the scenario file itself).
public struct TimelineCommand: Sendable, Equatable {
    public var number: Int
    public var text: String

    public init(number: Int, text: String) {
        self.number = number
        self.text = text
    }
}

/// One source line of a timeline: a trace event or a scenario line, the commands that replay
/// it (none for a line the replay keeps as a comment), and what it observed.
public struct TimelineSource: Sendable {
    /// The line's number in its source file (1-based).
    public var line: Int
    /// What the source line says (a trace event's name and arguments, a scenario line).
    public var text: String
    public var commands: [TimelineCommand]
    /// Why nothing replays the line, when `commands` is empty.
    public var note: String?
    public var observation: (any TimelineObservation)?

    public init(line: Int, text: String, commands: [TimelineCommand] = [], note: String? = nil,
                observation: (any TimelineObservation)? = nil) {
        self.line = line
        self.text = text
        self.commands = commands
        self.note = note
        self.observation = observation
    }
}

/// Why the timeline marks a source line.
public enum TimelineMark: Sendable, Equatable {
    /// An `expect=` or `check` of its commands did not hold, or a command could not run.
    case expectationFailed
    /// Its observation disagrees with the model.
    case disagreement
}

/// What replaying one source line did: its commands' status and its observation's verdict.
public struct TimelineOutcome: Sendable, Equatable {
    /// The first failing command's status, else the last command's; nil with no commands.
    public var status: Status?
    /// The line number of the first command that did not pass, if one did not.
    public var failedCommand: Int?
    public var verdict: ObservationVerdict?

    public init(status: Status? = nil, failedCommand: Int? = nil, verdict: ObservationVerdict? = nil) {
        self.status = status
        self.failedCommand = failedCommand
        self.verdict = verdict
    }

    public var mark: TimelineMark? {
        if failedCommand != nil { return .expectationFailed }
        if case .disagrees? = verdict { return .disagreement }
        return nil
    }
}

/// How many source lines of a timeline failed an expectation, disagree with what they
/// observed, or fault (a `translate` whose status is a fault, expected or not).
public struct TimelineTally: Sendable, Equatable {
    public var failed = 0
    public var disagreements = 0
    public var faults = 0

    public init(failed: Int = 0, disagreements: Int = 0, faults: Int = 0) {
        self.failed = failed
        self.disagreements = disagreements
        self.faults = faults
    }

    /// Counts `outcome` `sign` times (1 or -1); true when it is a result at all.
    mutating func add(_ outcome: TimelineOutcome, _ sign: Int) -> Bool {
        let mark = outcome.mark, fault = outcome.status == .fault
        switch mark {
        case .expectationFailed?: failed += sign
        case .disagreement?: disagreements += sign
        case nil: break
        }
        if fault { faults += sign }
        return mark != nil || fault
    }

    /// The tally in words, the zero counts left out: "2 failed, 1 fault"; empty when all are zero.
    public var words: String {
        var parts: [String] = []
        if failed > 0 { parts.append("\(failed) failed") }
        if disagreements > 0 { parts.append("\(disagreements) " + (disagreements == 1 ? "disagreement" : "disagreements")) }
        if faults > 0 { parts.append("\(faults) " + (faults == 1 ? "fault" : "faults")) }
        return parts.joined(separator: ", ")
    }
}
