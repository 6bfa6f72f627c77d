import Foundation
import Snapshots
import Testing

/// `iommuscope snapshot` and `iommuscope diff` as a user runs them.
@Suite struct SnapshotCommandLineTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iommuscope").path

    /// Runs the binary with `arguments` (shell words) in the repository; its output and exit status.
    static func run(_ arguments: String) -> (output: String, status: Int32) {
        guard let pipe = popen("cd '\(Shipped.repository.path)' && '\(binary)' \(arguments) 2>&1; echo \"status=$?\"", "r") else {
            return ("", -1)
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, pipe)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        pclose(pipe)
        let output = String(decoding: bytes, as: UTF8.self)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.last == "" { lines.removeLast() }
        let status = lines.last.flatMap { Int32($0.dropFirst("status=".count)) } ?? -1
        return (lines.dropLast().joined(separator: "\n"), status)
    }

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-\(getpid())-\(name)").path
    }

    /// Two snapshots written with -o and compared are the diff of the two lines of the scenario.
    @Test func snapshotsWrittenAndComparedAreTheScenariosDiff() throws {
        let a = Self.temporary("a.json"), b = Self.temporary("b.json")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let scenario = "Examples/stale_iotlb_arm_nested.iommu"
        #expect(Self.run("snapshot \(scenario) --at 29 -o '\(a)'") == ("", 0))
        #expect(Self.run("snapshot \(scenario) -o '\(b)'") == ("", 0))
        let files = Self.run("diff '\(a)' '\(b)'"), lines = Self.run("diff \(scenario) --from 29 --to 40")
        #expect(files.status == 0 && files == lines, "\(files.output)")
        #expect(files.output.contains("stale cache entries: 2"))
        #expect(!files.output.split(separator: "\n").contains { $0.hasSuffix(" ") })
        let json = Self.run("diff '\(a)' '\(b)' --json")
        #expect(json.status == 0)
        #expect((try? JSONValue.parse(json.output))?["stale"]?["iotlb"] != nil, "\(json.output)")
    }

    @Test func snapshotToStandardOutputReadsBack() throws {
        let (output, status) = Self.run("snapshot Examples/quickstart.iommu")
        #expect(status == 0)
        #expect(try ModelSnapshot(json: output).source?.file == "Examples/quickstart.iommu")
    }

    @Test func aLinePastTheEndSaysWhichLinesExist() {
        let (output, status) = Self.run("snapshot Examples/quickstart.iommu --at 999")
        #expect(status == 64)
        #expect(output.hasPrefix("Error: --at 999: Examples/quickstart.iommu: no line 999: the command lines are 1 to "), "\(output)")
        let diff = Self.run("diff Examples/quickstart.iommu --from 0 --to 999")
        #expect(diff.status == 64 && diff.output.contains("--to 999: Examples/quickstart.iommu: no line 999"), "\(diff.output)")
    }

    @Test func aScenarioIsNotASnapshot() {
        let (output, status) = Self.run("diff Examples/quickstart.iommu Examples/quickstart.iommu")
        #expect(status == 64)
        #expect(output.hasPrefix("Error: Examples/quickstart.iommu: not an iommuscope-snapshot file: it is not a JSON object"), "\(output)")
    }

    @Test(arguments: [
        ("diff Examples/quickstart.iommu --from 1", "diff FILE.iommu needs --from LINE and --to LINE"),
        ("diff a.json b.json --from 1 --to 2", "--from, --to and --host apply to a scenario"),
        ("diff a b c", "diff takes two snapshot files, or one scenario file with --from and --to"),
    ])
    func badArgumentsAreValidationErrors(_ arguments: String, _ message: String) {
        let (output, status) = Self.run(arguments)
        #expect(status == 64 && output.contains(message), "\(output)")
    }

    @Test func aScenarioThatDoesNotParseIsLocated() throws {
        let path = Self.temporary("bad.iommu")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "ioas = ioas_alloc\nnot_a_command x=1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (output, status) = Self.run("snapshot '\(path)'")
        #expect(status == 2)
        #expect(output.contains("\(path):2:1: error: unknown command 'not_a_command'"), "\(output)")
    }
}
