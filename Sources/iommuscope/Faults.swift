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
        let logs = try FaultLogs.read(files, strict: strict)
        let records = logs.records
        let explanations: [FaultExplanation]?
        do {
            explanations = try explainFaults(records, host: host.map(OpenedHost.open), scenario: scenario.map(ScenarioSource.file))
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        print(records: records, explanations: explanations)
        if records.isEmpty {
            printError("no IOMMU fault found")
            throw ExitCode(1)
        }
        if logs.rejected { throw ExitCode(1) }
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

}

/// The IOMMU fault records of kernel logs (standard input for none), streamed a megabyte at a
/// time, with the readers' warnings printed located and escaped on standard error.
struct FaultLogs {
    var records: [FaultRecord] = []
    /// Under `--strict`: a warning or a line no reader understood made the input an error.
    var rejected = false

    /// Every path is opened before anything is read: an unreadable one is exit status 2.
    static func read(_ paths: [String], strict: Bool) throws -> FaultLogs {
        var inputs: [(name: String, handle: FileHandle)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let handle = FileHandle(forReadingAtPath: path) else {
                printError("\(path): cannot read")
                throw ExitCode(2)
            }
            inputs.append((path, handle))
        }
        if inputs.isEmpty { inputs = [("-", FileHandle.standardInput)] }
        var logs = FaultLogs()
        // Under --strict the readers' warnings are errors.
        func report(_ warning: ImportWarning) {
            printError(strict ? warning.description.replacingOccurrences(of: ": warning: ", with: ": error: ") : warning.description)
        }
        for input in inputs {
            var reader = FaultLogReader(file: input.name)
            while let data = try? input.handle.read(upToCount: 1 << 20), !data.isEmpty { reader.feed(data) }
            let result = reader.finish()
            logs.records += result.records
            result.warnings.forEach(report)
            if strict {
                result.notUnderstood.forEach(report)
                logs.rejected = logs.rejected || !result.warnings.isEmpty || !result.notUnderstood.isEmpty
            }
        }
        return logs
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
