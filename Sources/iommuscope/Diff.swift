import ArgumentParser
import Foundation
import Presentation
import ScenarioScript
import Snapshots

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed between two snapshots, or between two lines of a scenario, stale cache entries included.",
        discussion: """
            iommuscope diff A.json B.json compares two files `snapshot` wrote; iommuscope diff FILE.iommu --from LINE \
            --to LINE compares the states after those source lines. It lists objects added, removed and changed, IOVA \
            ranges added, removed or split per IOAS and per domain, page-table entries changed (decoded before and \
            after), and the IOTLB and configuration-cache entries of the later state that a fresh walk contradicts: \
            what an invalidation the scenario forgot would have removed.
            """)

    @Argument(help: "Two snapshot files (A B), or one scenario file with --from and --to.") var files: [String]
    @Option(help: "With a scenario: the source line after which the earlier state is (0: before the first).") var from: Int?
    @Option(help: "With a scenario: the source line after which the later state is.") var to: Int?
    @Option(help: "With a scenario: a host root directory or a capture file whose units, groups and devices are the platform.")
    var host: String?
    @Flag(help: "Print the diff as one JSON document.") var json = false

    func run() throws {
        let (before, after) = try states()
        let diff = SnapshotDiff(from: before, to: after)
        print(json ? diff.json.text : diff.text)
    }

    private func states() throws -> (ModelSnapshot, ModelSnapshot) {
        switch files.count {
        case 2:
            guard from == nil, to == nil, host == nil else {
                throw ValidationError("--from, --to and --host apply to a scenario; two snapshot files are compared as they are")
            }
            return (try readSnapshot(files[0]), try readSnapshot(files[1]))
        case 1:
            guard let from, let to else { throw ValidationError("diff FILE.iommu needs --from LINE and --to LINE") }
            let timeline = try scenarioTimeline(files[0], host: host)
            func state(_ option: String, _ line: Int) throws -> ModelSnapshot {
                do {
                    return try timeline.snapshot(afterLine: line, file: files[0])
                } catch {
                    throw ValidationError(terminalSafe("--\(option) \(line): \(files[0]): \(error)"))
                }
            }
            return (try state("from", from), try state("to", to))
        default:
            throw ValidationError("diff takes two snapshot files, or one scenario file with --from and --to")
        }
    }

    private func readSnapshot(_ path: String) throws -> ModelSnapshot {
        let text = String(decoding: Array(try FileChunks(path: path).joined()), as: UTF8.self)
        do {
            return try ModelSnapshot(json: text)
        } catch {
            throw ValidationError(terminalSafe("\(path): \(error)"))
        }
    }
}
