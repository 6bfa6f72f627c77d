import IOMMUCore

/// Every located problem of a scenario file that failed to parse.
public struct ScenarioParseErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ScenarioError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// One line of a scenario as read: its 1-based number and its text, or the located error of
/// a line that is not valid UTF-8.
public struct ScenarioSourceLine: Sendable {
    public var number: Int
    public var text: Result<String, ScenarioError>
}

/// The lines of a scenario read as bytes, in chunks as they arrive (a file is never held
/// whole): split at "\n", with a "\r" before it part of the line end as "\r\n" is one
/// Character, and each line decoded on its own, so a bad byte is an error at its line and
/// column, as for any malformed line.
public struct ScenarioLines<Chunks: Sequence>: Sequence where Chunks.Element == [UInt8] {
    let chunks: Chunks

    public init(chunks: Chunks) { self.chunks = chunks }

    public func makeIterator() -> Iterator { Iterator(chunks: chunks.makeIterator()) }

    public struct Iterator: IteratorProtocol {
        var chunks: Chunks.Iterator
        var buffer: [UInt8] = []
        var start = 0
        var number = 0
        var finished = false

        public mutating func next() -> ScenarioSourceLine? {
            while true {
                if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    var end = newline
                    if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    defer { start = newline + 1 }
                    return line(buffer[start..<end])
                }
                if finished {
                    guard start < buffer.count else { return nil }
                    defer { start = buffer.count }
                    return line(buffer[start...])
                }
                if let chunk = chunks.next() {
                    buffer.removeFirst(start)
                    start = 0
                    buffer += chunk
                } else {
                    finished = true
                }
            }
        }

        private mutating func line(_ bytes: ArraySlice<UInt8>) -> ScenarioSourceLine {
            number += 1
            if let text = String(validating: bytes, as: UTF8.self) { return ScenarioSourceLine(number: number, text: .success(text)) }
            // The column of the first byte that does not decode: Characters before it, plus one.
            var valid = bytes.startIndex
            var iterator = bytes.makeIterator()
            var decoder = UTF8()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): valid += UTF8.width(scalar)
                case .emptyInput, .error: break decoding
                }
            }
            let column = String(decoding: bytes[..<valid], as: UTF8.self).count + 1
            let byte = valid < bytes.endIndex ? bytes[valid] : 0
            return ScenarioSourceLine(number: number, text: .failure(ScenarioError(
                line: number, column: column, "invalid UTF-8 (byte 0x\(String(byte, radix: 16)))")))
        }
    }
}

/// Checks lines in order against what earlier lines bound and declared.
struct LineChecker {
    var bound: [String: String] = [:]
    var declared: Set<String> = []

    /// The checked command of one line, nil for a blank or comment line.
    mutating func check(_ line: ScenarioSourceLine) throws(ScenarioError) -> ScenarioLine? {
        let text: String
        switch line.text {
        case .success(let decoded): text = decoded
        case .failure(let error): throw error
        }
        guard var parsed = try parseLine(Substring(text), number: line.number) else { return nil }
        try ScenarioScript.check(&parsed, bound: bound, declared: declared)
        if let name = parsed.binding { bound[name] = parsed.command }
        if let name = parsed.declaredName { declared.insert(name) }
        return parsed
    }
}

/// What checking a whole scenario without keeping it found: every malformed line, or how
/// many command lines it has and how many of them check something.
public struct ScenarioCheck: Sendable {
    public var errors: [ScenarioError] = []
    public var commandCount = 0
    public var expectationCount = 0
}

/// A parsed and checked scenario: its command lines, ready to run.
public struct Scenario: Sendable {
    public private(set) var lines: [ScenarioLine]

    /// Parses and checks every line; reports every malformed line, never traps.
    public init(source: String) throws(ScenarioParseErrors) {
        try self.init(lines: ScenarioLines(chunks: [Array(source.utf8)]))
    }

    /// Parses and checks every line read; reports every malformed line, never traps.
    public init(lines source: some Sequence<ScenarioSourceLine>) throws(ScenarioParseErrors) {
        var lines: [ScenarioLine] = []
        var errors: [ScenarioError] = []
        var checker = LineChecker()
        for line in source {
            do throws(ScenarioError) {
                if let checked = try checker.check(line) { lines.append(checked) }
            } catch {
                errors.append(error)
            }
        }
        guard errors.isEmpty else { throw ScenarioParseErrors(errors: errors) }
        self.lines = lines
    }

    /// The first of two passes over a scenario too large to keep: checks every line and keeps
    /// only the errors and the counts, so a file with any bad line runs nothing.
    public static func check(_ source: some Sequence<ScenarioSourceLine>) -> ScenarioCheck {
        var result = ScenarioCheck()
        var checker = LineChecker()
        for line in source {
            do throws(ScenarioError) {
                guard let checked = try checker.check(line) else { continue }
                result.commandCount += 1
                if checked.checksSomething { result.expectationCount += 1 }
            } catch {
                result.errors.append(error)
            }
        }
        return result
    }

    /// How many lines check something (`expect=` or `check`).
    public var expectationCount: Int {
        lines.filter(\.checksSomething).count
    }
}

extension ScenarioLine {
    /// Whether the line checks something (`expect=` or `check`).
    var checksSomething: Bool { expectation != nil || command == "check" }
}

extension Session {
    /// Runs one checked line against the live model and binds its result.
    public func run(_ line: ScenarioLine) -> LineReport {
        var result: CommandResult
        do throws(ScenarioError) {
            // A checked line names a known command; a line built by hand may not.
            guard let spec = commandTable[line.command] else { throw unknownCommand(line) }
            result = try spec.run(self, Arguments(line: line, session: self))
        } catch {
            result = CommandResult(status: .failed(error.description))
        }
        if let name = line.binding { bindings[name] = (line.command, result) }
        return LineReport(line: line.number, command: line.command, result: result, expectation: line.expectation)
    }

    /// Runs every line in order; an error is a result, never an abort.
    public func run(_ scenario: Scenario) -> [LineReport] {
        scenario.lines.map { run($0) }
    }

    /// The second pass over a scenario `Scenario.check` passed: parses, checks and runs each
    /// line, hands its report over and drops it, so memory follows the live state, not the file.
    /// A line that no longer checks (the file changed between the passes) stops the run.
    public func run(lines source: some Sequence<ScenarioSourceLine>, report: (LineReport) -> Void) throws(ScenarioParseErrors) {
        var checker = LineChecker()
        for line in source {
            do throws(ScenarioError) {
                if let checked = try checker.check(line) { report(run(checked)) }
            } catch {
                throw ScenarioParseErrors(errors: [error])
            }
        }
    }

    /// Parses and checks one line typed by a user (the TUI's `:` prompt) against the names
    /// bound and declared so far; nil for a blank or comment line.
    public func line(command text: String, number: Int = 1) throws(ScenarioParseErrors) -> ScenarioLine? {
        var checker = LineChecker(bound: bindings.mapValues(\.command),
                                  declared: Set(machine.iommus.map(\.name) + machine.devices.map(\.name)))
        do throws(ScenarioError) {
            return try checker.check(ScenarioSourceLine(number: number, text: .success(text)))
        } catch {
            throw ScenarioParseErrors(errors: [error])
        }
    }

    /// Parses and runs one line typed by a user.
    public func run(command text: String) throws(ScenarioParseErrors) -> LineReport? {
        try line(command: text).map { run($0) }
    }
}
