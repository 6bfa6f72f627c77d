import ArgumentParser
import Foundation
import Glibc
import IOMMUCore
import Presentation
import ScenarioScript

@main
struct IOMMUScope: ParsableCommand {
    /// What `iommuscope --version` prints.
    static let version = "0.11.0"

    static let configuration = CommandConfiguration(
        commandName: "iommuscope",
        abstract: "Inspect IOMMU domains and page tables on a simulated iommufd.",
        version: IOMMUScope.version,
        subcommands: [TUI.self, Show.self, Run.self, Walk.self, Translate.self, Bench.self, Host.self, Capture.self, Faults.self, Import.self,
                      Snapshot.self, Diff.self, Export.self, Learn.self],
        defaultSubcommand: TUI.self
    )

    /// ArgumentParser's `main`, with two changes: an error message is escaped line by line
    /// (ArgumentParser echoes arguments, and a glob can pass a file name with control
    /// characters), and a validation error thrown by a subcommand's `run` shows that
    /// subcommand's usage, not the root's.
    static func main() {
        var running: (any ParsableCommand.Type)?
        do {
            var command = try parseAsRoot()
            running = type(of: command)
            try command.run()
        } catch {
            var code = exitCode(for: error)
            // The import commands' contract (IMPORT.md): a usage error is exit status 2.
            if code == .validationFailure, running == Faults.self || CommandLine.arguments.dropFirst().first == "faults" { code = ExitCode(2) }
            var message = fullMessage(for: error)
            if let running, let validation = error as? ValidationError {
                message = "Error: \(validation.message)\nUsage: \(usageString(for: running))"
            }
            if code.isSuccess {
                // Help and completion scripts: the tool's own text, printed as it is.
                if !message.isEmpty { print(message) }
            } else if !message.isEmpty {
                let safe = message.split(separator: "\n", omittingEmptySubsequences: false).map(terminalSafe).joined(separator: "\n")
                FileHandle.standardError.write(Data((safe + "\n").utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

/// A file's bytes, a megabyte at a time, so a scenario is never read whole.
struct FileChunks: Sequence {
    let handle: FileHandle

    /// Opens `path`; a file that cannot be opened, or a directory, is a validation error with
    /// the reason and the subcommand's usage.
    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ValidationError("cannot read \(terminalSafe(path)): \(String(cString: strerror(errno)).lowercased())")
        }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw ValidationError("cannot read \(terminalSafe(path)): it is a directory, not a scenario file")
        }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    func makeIterator() -> AnyIterator<[UInt8]> {
        AnyIterator {
            guard let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty else { return nil }
            return [UInt8](data)
        }
    }
}

/// The scenario a command reads: a file named on the command line, or the default compiled
/// into the binary (an installed copy has no resource bundle beside it; see
/// EmbeddedScenarios.swift, generated from `Scenarios/`).
enum ScenarioSource {
    case file(String)
    /// The scenario that ships with the tool: an Arm SMMUv3 host with a VMM's nested setup.
    case builtInDefault

    /// The scenario FILE argument, or the default without one.
    init(_ file: String?) { self = file.map(ScenarioSource.file) ?? .builtInDefault }

    /// How messages and the title name it.
    var name: String {
        switch self {
        case .file(let path): path
        case .builtInDefault: "default.iommu"
        }
    }

    /// Its bytes, a megabyte at a time for a file.
    func chunks() throws -> AnySequence<[UInt8]> {
        switch self {
        case .file(let path): return AnySequence(try FileChunks(path: path))
        case .builtInDefault:
            // EmbeddedResourceTests keeps `builtIn` in step with `Scenarios/`.
            guard let text = Self.builtIn["default"] else { throw ValidationError("the built-in default scenario is missing") }
            return AnySequence([Array(text.utf8)])
        }
    }

    /// Its whole text.
    func text() throws -> String { String(decoding: Array(try chunks().joined()), as: UTF8.self) }
}

/// The lines of a scenario, decoded one at a time.
func scenarioLines(_ source: ScenarioSource) throws -> ScenarioLines<AnySequence<[UInt8]>> {
    ScenarioLines(chunks: try source.chunks())
}

/// Prints located parse errors as `FILE:LINE:COL: error: ...` and exits 2.
func reportParseErrors(_ errors: [ScenarioError], path: String) -> ExitCode {
    for located in errors { FileHandle.standardError.write(Data("\(terminalSafe(path)):\(located)\n".utf8)) }
    return ExitCode(2)
}

/// Loads a whole scenario (the views need every line), printing located parse errors.
func loadScenario(_ source: ScenarioSource) throws -> Scenario {
    do {
        return try Scenario(lines: try scenarioLines(source))
    } catch let error as ScenarioParseErrors {
        throw reportParseErrors(error.errors, path: source.name)
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario (the bundled default without FILE) and print its object tree and IOVA ranges.")

    @Argument(help: "A scenario file (.iommu).") var file: String?

    init() {}
    init(file: String?) { self.file = file }

    func run() throws {
        let source = ScenarioSource(file)
        let scenario = try loadScenario(source)
        let session = Session()
        let reports = session.run(scenario)
        print(SessionSummary(session: session).text)
        let failed = reports.filter { !$0.passed }
        for report in failed { print(terminalSafe("\(source.name):\(report.line): \(report.command): \(report.result.status)")) }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a scenario: one result per command line; exit 1 when an expectation fails.",
        discussion: """
            With --host DIR|FILE (a host root or a capture file), the scenario runs on that host: its IOMMU units, groups, \
            devices (named by sysfs name, e.g. device_bind dev=0000:03:00.0) and reserved regions are the platform, and \
            the page tables its debugfs dumps show are rebuilt in the model's memory.
            """)

    @Argument(help: "A scenario file (.iommu).") var file: String
    @Option(help: "A host root directory or a capture file whose units, groups and devices are the platform.") var host: String?
    @Flag(help: "Print one JSON object per command line.") var json = false

    /// Two passes over the file: the first checks every line and keeps only errors (any bad
    /// line: all of them are reported and nothing runs), the second parses and runs each
    /// line and drops it.
    func run() throws {
        let check = Scenario.check(try scenarioLines(.file(file)))
        guard check.errors.isEmpty else { throw reportParseErrors(check.errors, path: file) }
        let session = try host.map { try HostModel.open($0).session } ?? Session()
        var failures = 0
        do {
            try session.run(lines: try scenarioLines(.file(file))) { report in
                if !report.passed { failures += 1 }
                print(json ? report.json : humanReadable(report))
            }
        } catch let error as ScenarioParseErrors {
            throw reportParseErrors(error.errors, path: file)
        }
        if !json {
            print("\(check.commandCount) commands, \(check.expectationCount) expectations, \(failures) failed")
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// One report as a line (and a table for records), with the input's control characters escaped.
    private func humanReadable(_ report: LineReport) -> String {
        let fields = report.result.fields.filter { if case .records = $0.value { return false }; return true }
            .map { "\($0.name)=\($0.value.display)" }
        var words = [String(report.line).leftPadded(to: 4) + "  " + report.command.rightPadded(to: 22) + " "
                     + report.result.status.description.rightPadded(to: fields.isEmpty ? 0 : 10)]
        words += fields
        var text = words.joined(separator: " ")
        if let reason = report.result.status.reason { text += "  (\(reason))" }
        if !report.passed, let expected = report.expectation { text += "  FAILED: expected \(expected)" }
        else if !report.passed { text += "  FAILED" }
        // Records (a walk's steps) print as an indented table under the line, one row each.
        for case let (name, .records(records)) in report.result.fields where !records.isEmpty {
            var names: [String] = []
            for record in records { for field in record where !names.contains(field.name) { names.append(field.name) } }
            var table = TextTable(columns: names.map { name in
                let numeric = records.contains { record in record.contains { if $0.name == name, case .integer = $0.value { true } else { false } } }
                return TextTable.Column(name, numeric ? .right : .left)
            })
            // A column holds one field, so its text needs no quotes ("CD 0").
            func cell(_ value: FieldValue?) -> String { if case .text(let text)? = value { text } else { value?.display ?? "" } }
            for record in records { table.append(names.map { name in cell(record.first { $0.name == name }?.value) }) }
            text += "\n        \(name):\n" + table.lines(indent: "          ").joined(separator: "\n")
        }
        // Printable ASCII needs no escaping; only lines that echo other input pay for it.
        guard text.utf8.contains(where: { ($0 < 0x20 && $0 != UInt8(ascii: "\n")) || $0 >= 0x7f }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(terminalSafe).joined(separator: "\n")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func rightPadded(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
