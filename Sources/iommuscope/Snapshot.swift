import ArgumentParser
import Foundation
import Presentation
import ScenarioScript
import Snapshots

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the whole model state after a scenario line as versioned JSON (docs/snapshots.md).",
        discussion: """
            The state is after source line LINE (--at; the end without it; 0 is before the first line; a blank or \
            comment line means the next command line, as # does in the inspector): the platform, objects and edges, \
            IOAS ranges, each domain's mappings read from its page tables, the configuration structures, and the \
            IOTLB and configuration-cache entries, each marked stale when a fresh walk disagrees with it.
            """)

    @Argument(help: "A scenario file (.iommu).") var file: String
    @Option(help: "The source line after which to take the snapshot (default: the end).") var at: Int?
    @Option(help: "A host root directory or a capture file whose units, groups and devices are the platform.") var host: String?
    @Option(name: [.customShort("o"), .long], help: "Write the JSON to this file instead of standard output.") var output: String?

    func run() throws {
        let timeline = try scenarioTimeline(file, host: host)
        let snapshot: ModelSnapshot
        do {
            snapshot = try timeline.snapshot(afterLine: at, file: file)
        } catch {
            throw ValidationError(terminalSafe("--at \(at ?? 0): \(file): \(error)"))
        }
        try write(snapshot.json.text + "\n", to: output)
    }
}

/// A scenario file (run on `host` when given) replayed as a timeline, parse errors located.
func scenarioTimeline(_ file: String, host: String?) throws -> Timeline {
    let text = try ScenarioSource.file(file).text()
    let hostSession = try host.map { try HostModel.open($0).session }
    do {
        return try Timeline(scenario: text) { hostSession ?? Session() }
    } catch let error as ScenarioParseErrors {
        throw reportParseErrors(error.errors, path: file)
    }
}

/// `text` to the file `path` names, or to standard output without one.
func write(_ text: String, to path: String?) throws {
    guard let path else {
        FileHandle.standardOutput.write(Data(text.utf8))
        return
    }
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    } catch {
        throw ValidationError(terminalSafe("cannot write \(path): \(error.localizedDescription)"))
    }
}
