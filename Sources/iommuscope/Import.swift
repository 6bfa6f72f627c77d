import ArgumentParser
import Foundation
import HostImport
import Presentation

/// `iommuscope import`: turns a record of a real VMM's iommufd use into a scenario.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a real VMM's trace into a scenario that replays it.",
        subcommands: [QEMUTrace.self]
    )

    /// `iommuscope import qemu-trace FILE [-o OUT]`: a QEMU `log`-backend trace as a scenario
    /// (standard output unless `-o`); located warnings on stderr.
    struct QEMUTrace: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "qemu-trace",
            abstract: "Write the iommufd ioctls a QEMU trace log shows as a scenario."
        )

        @Argument(help: "The trace: QEMU's stderr or -D file with -trace 'iommufd*' (and vfio_mdev).")
        var file: String

        @Option(name: .shortAndLong, help: "Write the scenario here instead of standard output.")
        var output: String?

        /// A trace larger than this is refused rather than read.
        static let sizeLimit = 256 * 1024 * 1024

        func run() throws {
            let (replay, events) = try importQEMUTrace(file)
            let scenario = replay.scenario
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(scenario.utf8)) else {
                    printError("error: cannot write \(output)")
                    throw ExitCode(2)
                }
            } else {
                FileHandle.standardOutput.write(Data(scenario.utf8))
            }
            if events == 0 {
                printError("error: \(file) has no trace events")
                throw ExitCode(1)
            }
        }
    }
}

/// A QEMU trace read and written as a replay (the scenario's text and its lines by trace line),
/// with the count of its events; located warnings go to standard error. An unreadable or
/// oversized file exits 2.
func importQEMUTrace(_ path: String) throws -> (replay: ImportedReplay, events: Int) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        printError("error: cannot read \(path)")
        throw ExitCode(2)
    }
    let limit = Import.QEMUTrace.sizeLimit
    let bytes = (try? handle.read(upToCount: limit + 1)) ?? Data()
    guard bytes.count <= limit else {
        printError("error: \(path) is larger than \(limit) bytes")
        throw ExitCode(2)
    }
    let reader = QEMUTraceReader.read(bytes, file: path)
    for warning in reader.warnings { printError(warning.description) }
    return (QEMUTraceScenario.replay(reader.records, file: path), reader.records.count)
}
