import ArgumentParser
import Foundation
import IOMMUCore
import ScenarioScript

@main
struct IOMMUScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iommuscope",
        abstract: "Inspect IOMMU domains and page tables on a simulated iommufd.",
        subcommands: [TUI.self, Show.self, Run.self, Walk.self, Translate.self, Bench.self],
        defaultSubcommand: TUI.self
    )
}

/// Loads a scenario file, printing located parse errors as `FILE:LINE:COL: error: ...`.
func loadScenario(_ path: String) throws -> Scenario {
    guard let data = FileManager.default.contents(atPath: path), let source = String(data: data, encoding: .utf8) else {
        throw ValidationError("cannot read \(path)")
    }
    do {
        return try Scenario(source: source)
    } catch {
        for located in error.errors { FileHandle.standardError.write(Data("\(path):\(located)\n".utf8)) }
        throw ExitCode(2)
    }
}

/// The scenario that ships with the tool: an Arm SMMUv3 host with a VMM's nested setup.
func defaultScenarioPath() throws -> String {
    guard let url = Bundle.module.url(forResource: "default", withExtension: "iommu", subdirectory: "Scenarios") else {
        throw ValidationError("the bundled default scenario is missing")
    }
    return url.path
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario (the bundled default without FILE) and print its object tree and IOVA ranges.")

    @Argument(help: "A scenario file (.iommu).") var file: String?

    init() {}
    init(file: String?) { self.file = file }

    func run() throws {
        let path = try file ?? defaultScenarioPath()
        let scenario = try loadScenario(path)
        let session = Session()
        let reports = session.run(scenario)
        print(SessionSummary(session: session).text)
        let failed = reports.filter { !$0.passed }
        for report in failed { print("\(path):\(report.line): \(report.command): \(report.result.status)") }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a scenario: one result per command line; exit 1 when an expectation fails.")

    @Argument(help: "A scenario file (.iommu).") var file: String
    @Flag(help: "Print one JSON object per command line.") var json = false

    func run() throws {
        let scenario = try loadScenario(file)
        let session = Session()
        var failures = 0
        for line in scenario.lines {
            let report = session.run(line)
            if !report.passed { failures += 1 }
            print(json ? report.json : humanReadable(report))
        }
        if !json {
            print("\(scenario.lines.count) commands, \(scenario.expectationCount) expectations, \(failures) failed")
        }
        if failures > 0 { throw ExitCode(1) }
    }

    private func humanReadable(_ report: LineReport) -> String {
        let line = String(report.line).leftPadded(to: 4)
        var text = "\(line)  \(report.command.rightPadded(to: 22)) \(report.result.status.description.rightPadded(to: 11))"
        text += report.result.fields.filter { if case .records = $0.value { return false }; return true }
            .map { "\($0.name)=\($0.value.display)" }.joined(separator: " ")
        // Records (a walk's steps) print as an indented table, one row each.
        for case let (name, .records(records)) in report.result.fields where !records.isEmpty {
            text += "\n        \(name):"
            for record in records {
                text += "\n          " + record.map { "\($0.name) \($0.value.display)" }.joined(separator: "  ")
            }
        }
        switch report.result.status {
        case .unsupported(let reason), .failed(let reason): text += "  (\(reason))"
        default: break
        }
        if !report.passed, let expected = report.expectation { text += "  FAILED: expected \(expected)" }
        else if !report.passed { text += "  FAILED" }
        return text
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func rightPadded(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
