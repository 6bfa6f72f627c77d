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
            guard let handle = FileHandle(forReadingAtPath: file) else {
                FileHandle.standardError.write(Data("error: cannot read \(terminalSafe(file))\n".utf8))
                throw ExitCode(2)
            }
            let bytes = (try? handle.read(upToCount: Self.sizeLimit + 1)) ?? Data()
            guard bytes.count <= Self.sizeLimit else {
                FileHandle.standardError.write(Data("error: \(terminalSafe(file)) is larger than \(Self.sizeLimit) bytes\n".utf8))
                throw ExitCode(2)
            }
            let reader = QEMUTraceReader.read(bytes, file: file)
            for warning in reader.warnings {
                FileHandle.standardError.write(Data("\(terminalSafe(warning.description))\n".utf8))
            }
            let scenario = QEMUTraceScenario.make(reader.records, file: file)
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(scenario.utf8)) else {
                    FileHandle.standardError.write(Data("error: cannot write \(terminalSafe(output))\n".utf8))
                    throw ExitCode(2)
                }
            } else {
                FileHandle.standardOutput.write(Data(scenario.utf8))
            }
            if reader.records.isEmpty {
                FileHandle.standardError.write(Data("error: \(terminalSafe(file)) has no trace events\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
