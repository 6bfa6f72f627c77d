import IOMMUCore

/// Every located problem of a scenario file that failed to parse.
public struct ScenarioParseErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ScenarioError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A parsed and checked scenario: its command lines, ready to run.
public struct Scenario: Sendable {
    public private(set) var lines: [ScenarioLine]

    /// Parses and checks every line; reports every malformed line, never traps.
    public init(source: String) throws(ScenarioParseErrors) {
        var lines: [ScenarioLine] = []
        var errors: [ScenarioError] = []
        var bound: [String: String] = [:]
        var declared: Set<String> = []
        for (index, text) in source.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            do throws(ScenarioError) {
                guard var line = try parseLine(text, number: index + 1) else { continue }
                try check(&line, bound: bound, declared: declared)
                if let name = line.binding { bound[name] = line.command }
                if let name = line.declaredName { declared.insert(name) }
                lines.append(line)
            } catch {
                errors.append(error)
            }
        }
        guard errors.isEmpty else { throw ScenarioParseErrors(errors: errors) }
        self.lines = lines
    }

    /// How many lines check something (`expect=` or `check`).
    public var expectationCount: Int {
        lines.filter { $0.expectation != nil || $0.command == "check" }.count
    }
}

extension Session {
    /// Runs one checked line against the live model and binds its result.
    public func run(_ line: ScenarioLine) -> LineReport {
        let spec = commandTable[line.command]!
        var result: CommandResult
        do throws(ScenarioError) {
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

    /// Parses and runs one line typed by a user (the TUI's `:` prompt).
    public func run(command text: String) throws(ScenarioParseErrors) -> LineReport? {
        do throws(ScenarioError) {
            guard var line = try parseLine(Substring(text), number: 1) else { return nil }
            let bound = bindings.mapValues(\.command)
            let declared = Set(machine.iommus.map(\.name) + machine.devices.map(\.name))
            try check(&line, bound: bound, declared: declared)
            return run(line)
        } catch {
            throw ScenarioParseErrors(errors: [error])
        }
    }
}
