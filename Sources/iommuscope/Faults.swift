import ArgumentParser
import Foundation
import HostImport
import Presentation

/// `iommuscope faults [FILE...] [--json] [--strict] [--host P] [--scenario F]` (IMPORT.md §1):
/// kernel log text in, one record per IOMMU fault event out.
struct Faults: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read kernel log text (standard input without FILE) and print one record per IOMMU fault event.",
        discussion: "Exit status: 0 when read (even with warnings), 1 when no fault was found, 2 for a usage error or an unreadable path.")

    @Argument(help: "Kernel log files (dmesg, journalctl -k, serial console, mail copies); standard input without any.")
    var files: [String] = []
    @Flag(help: "Print one JSON object per fault record.") var json = false
    @Flag(help: "Make lines that are not understood errors (exit status 1).") var strict = false
    @Option(help: "Explain each fault against this host (a directory or a capture file).") var host: String?
    @Option(help: "Explain each fault against this scenario's model.") var scenario: String?

    func run() throws {
        // Every path is opened before anything is printed: an unreadable one is exit status 2.
        var inputs: [(name: String, handle: FileHandle)] = []
        for path in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let handle = FileHandle(forReadingAtPath: path) else {
                Self.printError("\(terminalSafe(path)): cannot read")
                throw ExitCode(2)
            }
            inputs.append((path, handle))
        }
        if inputs.isEmpty { inputs = [("-", FileHandle.standardInput)] }

        var records: [FaultRecord] = []
        var failed = false
        for input in inputs {
            var reader = FaultLogReader(file: input.name)
            while let data = try? input.handle.read(upToCount: 1 << 20), !data.isEmpty { reader.feed(data) }
            let result = reader.finish()
            records += result.records
            for warning in result.warnings {
                Self.printError(terminalSafe(strict ? warning.description.replacingOccurrences(of: ": warning: ", with: ": error: ") : warning.description))
            }
            if strict {
                for line in result.notUnderstood {
                    Self.printError(terminalSafe(line.description.replacingOccurrences(of: ": warning: ", with: ": error: ")))
                }
                failed = failed || !result.warnings.isEmpty || !result.notUnderstood.isEmpty
            }
        }

        let explanations: [FaultExplanation]?
        do {
            explanations = try explainFaults(records, host: host, scenario: scenario)
        } catch {
            Self.printError(terminalSafe("\(error)"))
            throw ExitCode(2)
        }
        print(records: records, explanations: explanations)
        if records.isEmpty {
            Self.printError("no IOMMU fault found")
            throw ExitCode(1)
        }
        if failed { throw ExitCode(1) }
    }

    private func print(records: [FaultRecord], explanations: [FaultExplanation]?) {
        if json {
            for (index, record) in records.enumerated() {
                let explanation = explanations.flatMap { index < $0.count ? $0[index] : nil }
                Swift.print(faultJSONLine(record, explanation: explanation))
            }
        } else if let explanations {
            for (index, record) in records.enumerated() {
                for line in FaultSummary.recordLines(record) { Swift.print(line) }
                if index < explanations.count { Swift.print("    " + terminalSafe(explanations[index].sentence)) }
            }
        } else {
            for line in FaultSummary(records).lines { Swift.print(line) }
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

/// A record's JSON line, with the `--host`/`--scenario` explanation added as
/// `"explanation": {"device":..,"cause":..,"sentence":..}`.
func faultJSONLine(_ record: FaultRecord, explanation: FaultExplanation?) -> String {
    guard let explanation else { return record.jsonLine }
    var fields: [(name: String, json: String)] = []
    if let device = explanation.device { fields.append(("device", JSONText.string(device))) }
    fields.append(("cause", JSONText.string(explanation.cause.rawValue)))
    fields.append(("sentence", JSONText.string(explanation.sentence)))
    return JSONText.object(record.jsonFields + [("explanation", JSONText.object(fields))])
}
