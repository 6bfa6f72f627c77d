/// One logical line of pasted log text: what is left of a printk after the damage of
/// host-inputs §1 is undone (quoting, prefixes, hard wraps, tabs), with where it came from.
public struct LogLine: Sendable, Equatable {
    /// The line's text, runs of whitespace (tabs, expanded tabs, a wrap's join) as one space,
    /// trimmed at both ends, so readers split on single spaces.
    public var text: String
    /// 1-based source line where the logical line starts.
    public var sourceLine: Int
    /// The last source line joined into it (the same as `sourceLine` unless a hard wrap was joined).
    public var lastSourceLine: Int
    /// The printk timestamp (`[ 1234.567890]`) in seconds, when the line had one.
    public var timestamp: Double?
    /// A kernel-log prefix was stripped (a printk timestamp, a syslog or journal prefix,
    /// `kernel:`): the line is a log record of its own, never the tail of a wrapped one.
    public var hadLogPrefix: Bool

    public init(text: String, sourceLine: Int, lastSourceLine: Int? = nil, timestamp: Double? = nil, hadLogPrefix: Bool = false) {
        self.text = text
        self.sourceLine = sourceLine
        self.lastSourceLine = lastSourceLine ?? sourceLine
        self.timestamp = timestamp
        self.hadLogPrefix = hadLogPrefix
    }
}

/// What a format knows about its own lines, so the normaliser can undo hard wraps
/// (host-inputs §1 step 3): join the next line to a record known to be incomplete when that
/// line has no timestamp and no known prefix.
public protocol LineContinuation: Sendable {
    /// The line is a record known to be cut short (a DMAR fault line without `[fault reason`,
    /// an AMD-Vi `[` without its `]`).
    func isIncomplete(_ text: Substring) -> Bool
    /// The line starts with a prefix of the format (`DMAR: `, `arm-smmu-v3 <unit>: `): a
    /// record of its own, never a continuation.
    func opensLine(_ text: Substring) -> Bool
}

/// No format: nothing is ever joined.
public struct NoContinuation: LineContinuation {
    public init() {}
    public func isIncomplete(_ text: Substring) -> Bool { false }
    public func opensLine(_ text: Substring) -> Bool { false }
}
