/// Reads kernel log text into IOMMU fault records (IMPORT.md §1): every format of
/// host-inputs §5 at once, one record per event however many lines it was printed over, in
/// input order, with located warnings. Streamed: feed chunks as they are read.
public struct FaultLogReader {
    /// What the reader made of its input.
    public struct Result: Sendable {
        public var records: [FaultRecord]
        /// Malformed or truncated records, cut lines: located, and read anyway.
        public var warnings: [ImportWarning]
        /// Lines no reader understood (elisions, notes, prompts, and lines of no kernel log):
        /// skipped, but errors with `--strict`.
        public var notUnderstood: [ImportWarning]
    }

    /// Every format, behind one protocol; the first that recognises a line takes it.
    private struct Formats: LineContinuation {
        var all: [any FaultLogFormat] = [SMMUv3EventReader(), DMARFaultReader(), AMDViEventReader(), IOPageFaultTraceReader()]
        func isIncomplete(_ text: Substring) -> Bool { all.contains { $0.isIncomplete(text) } }
        func opensLine(_ text: Substring) -> Bool { all.contains { $0.opensLine(text) } }
    }

    private var normalizer: LogNormalizer<Formats>
    private var formats = Formats()
    private var assembly: FaultAssembly
    private var notUnderstood: [ImportWarning] = []
    /// Not-understood lines kept (a huge foreign log must not grow without bound); the rest counted.
    static var notUnderstoodLimit: Int { 1000 }
    private var notUnderstoodDropped = 0

    public init(file: String) {
        normalizer = LogNormalizer(file: file, continuation: Formats())
        assembly = FaultAssembly(file: file)
    }

    public mutating func feed<C: Collection<UInt8>>(_ chunk: C) {
        var lines: [LogLine] = []
        normalizer.feed(chunk) { lines.append($0) }
        for line in lines { read(line) }
    }

    /// Ends the input and returns the records.
    public mutating func finish() -> Result {
        var lines: [LogLine] = []
        normalizer.finish { lines.append($0) }
        for line in lines { read(line) }
        for index in formats.all.indices { formats.all[index].finish(into: &assembly) }
        var warnings = normalizer.warnings + assembly.warnings
        warnings.sort { ($0.line ?? 0) < ($1.line ?? 0) }
        if notUnderstoodDropped > 0 {
            notUnderstood.append(ImportWarning(file: assembly.file, reason: "and \(notUnderstoodDropped) more lines not understood"))
        }
        // A record keeps the place of the line that opened it (a split AMD-Vi event is
        // assembled at its second half): input order is source-line order.
        let records = assembly.records.enumerated().sorted { ($0.element.sourceLine, $0.offset) < ($1.element.sourceLine, $1.offset) }.map(\.element)
        return Result(records: records, warnings: warnings, notUnderstood: notUnderstood)
    }

    /// A whole text at once (tests, small inputs).
    public static func read(_ text: String, file: String = "-") -> Result {
        var reader = FaultLogReader(file: file)
        reader.feed(Array(text.utf8))
        return reader.finish()
    }

    private mutating func read(_ line: LogLine) {
        for index in formats.all.indices {
            guard let use = formats.all[index].read(line, into: &assembly) else { continue }
            if case .malformed(let reason) = use {
                assembly.warn(line: line.sourceLine, reason + ": " + Self.excerpt(line.text))
            }
            return
        }
        if Self.isKnownContext(Substring(line.text)) || line.hadLogPrefix { return }
        if notUnderstood.count < Self.notUnderstoodLimit {
            notUnderstood.append(ImportWarning(file: assembly.file, line: line.sourceLine, reason: "not understood: " + Self.excerpt(line.text)))
        } else {
            notUnderstoodDropped += 1
        }
    }

    /// Never events, whatever prints them: ratelimit notices (`%s: %d callbacks suppressed`,
    /// `___ratelimit()` in lib/ratelimit.c) and `Adding to iommu group %d`.
    static func isKnownContext(_ text: Substring) -> Bool {
        let words = text.split(separator: " ")
        if words.count >= 4, words.suffix(2) == ["callbacks", "suppressed"], Int(words[words.count - 3]) != nil { return true }
        return text.contains(" Adding to iommu group ") || text.contains(" Removing from iommu group ")
    }

    /// The start of a line for a warning (its caller escapes it for the terminal).
    static func excerpt(_ text: String) -> String {
        text.count > 120 ? String(text.prefix(117)) + "..." : text
    }
}
