import ArgumentParser
import Foundation
import HostImport
import Presentation

/// `iommuscope import`: turns a record of a real VMM's iommufd use into a scenario.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a real VMM's trace into a scenario that replays it.",
        subcommands: [QEMUTrace.self, Syz.self]
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
            try write(replay, to: output, empty: events == 0 ? "\(file) has no trace events" : nil)
        }
    }

    /// `iommuscope import syz FILE [-o OUT]`: a syzkaller program (a syzbot reproducer's
    /// "syz" text, a `sys/linux/test` program) as a scenario; located warnings on stderr.
    struct Syz: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "syz",
            abstract: "Write the iommufd calls of a syzkaller program as a scenario."
        )

        @Argument(help: "The program: syzkaller's text of openat$iommufd and ioctl$IOMMU_* calls (a C reproducer after it is skipped).")
        var file: String

        @Option(name: .shortAndLong, help: "Write the scenario here instead of standard output.")
        var output: String?

        /// A program larger than this is refused rather than read.
        static let sizeLimit = 64 * 1024 * 1024

        func run() throws {
            let (replay, calls) = try importSyzProgram(file)
            try write(replay, to: output, empty: calls == 0 ? "\(file) has no syzkaller calls" : nil)
        }
    }
}

/// Writes a replay's scenario to `output` (standard output when nil); exits 1 with `empty`'s
/// message when the record held nothing to replay, 2 when the file cannot be written.
private func write(_ replay: ImportedReplay, to output: String?, empty: String?) throws {
    if let output {
        guard FileManager.default.createFile(atPath: output, contents: Data(replay.scenario.utf8)) else {
            printError("error: cannot write \(output)")
            throw ExitCode(2)
        }
    } else {
        FileHandle.standardOutput.write(Data(replay.scenario.utf8))
    }
    if let empty {
        printError("error: \(empty)")
        throw ExitCode(1)
    }
}

/// The bytes of a record to import, at most `limit` of them; an unreadable or larger file exits 2.
private func readRecord(_ path: String, limit: Int) throws -> Data {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        printError("error: cannot read \(path)")
        throw ExitCode(2)
    }
    let bytes = (try? handle.read(upToCount: limit + 1)) ?? Data()
    guard bytes.count <= limit else {
        printError("error: \(path) is larger than \(limit) bytes")
        throw ExitCode(2)
    }
    return bytes
}

/// A QEMU trace read and written as a replay (the scenario's text and its lines by trace line),
/// with the count of its events; located warnings go to standard error. An unreadable or
/// oversized file exits 2.
func importQEMUTrace(_ path: String) throws -> (replay: ImportedReplay, events: Int) {
    let bytes = try readRecord(path, limit: Import.QEMUTrace.sizeLimit)
    let reader = QEMUTraceReader.read(bytes, file: path)
    for warning in reader.warnings { printError(warning.description) }
    return (QEMUTraceScenario.replay(reader.records, file: path), reader.records.count)
}

/// A syzkaller program read and written as a replay, with the count of its calls; located
/// warnings go to standard error. An unreadable, oversized or non-UTF-8 file exits 2.
func importSyzProgram(_ path: String) throws -> (replay: ImportedReplay, calls: Int) {
    let bytes = try readRecord(path, limit: Import.Syz.sizeLimit)
    guard let text = String(data: bytes, encoding: .utf8) else {
        printError("error: \(path) is not UTF-8 text")
        throw ExitCode(2)
    }
    let reader = SyzProgramReader.read(text, file: path)
    for warning in reader.warnings { printError(terminalSafe(warning.description)) }
    return (SyzProgramScenario.replay(reader.lines, file: path), reader.calls.count)
}
