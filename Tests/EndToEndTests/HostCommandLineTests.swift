import Foundation
import Testing

/// `host` and `capture` run as a user runs them: on the fixture trees, through a capture
/// file, and with paths that are not hosts (exit status 2 with a located message).
@Suite struct HostCommandLineTests {
    static let hosts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../HostTrees").standardized.path

    static func run(_ arguments: [String]) -> (stdout: String, stderr: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: InspectorInTmuxTests.binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return ("", "\(error)", -1) }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self), process.terminationStatus)
    }

    @Test func hostOfATree() {
        let (stdout, _, status) = Self.run(["host", "--root", "\(Self.hosts)/intel-kabylake"])
        #expect(status == 0)
        #expect(stdout.contains("dmar1: intel-vtd, registers at 0xfed90000"))
        #expect(stdout.contains("group 5 holds 4 devices"))
    }

    /// `host --json` of the tree equals `host --snapshot --json` of its capture, and capture
    /// writes nothing but FILE.
    @Test(arguments: ["intel-kabylake", "amd-host", "arm-rk3588"])
    func captureThenSnapshot(_ tree: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("host-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("host.json").path
        let live = Self.run(["host", "--root", "\(Self.hosts)/\(tree)", "--json"])
        #expect(live.status == 0)
        let captured = Self.run(["capture", "--root", "\(Self.hosts)/\(tree)", "-o", file])
        #expect(captured.status == 0, "\(captured.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["host.json"])
        let replayed = Self.run(["host", "--snapshot", file, "--json"])
        #expect(replayed.status == 0)
        #expect(replayed.stdout == live.stdout)
        #expect(replayed.stderr == live.stderr)
        #expect(live.stdout.hasPrefix("{") && live.stdout.contains("\"format\":\"iommuscope-host\""))
    }

    @Test func pathsThatAreNoHostExitTwo() throws {
        let missing = Self.run(["host", "--root", "/nonexistent/root"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "/nonexistent/root: error: no such file or directory\n")
        let sample = "\(Self.hosts)/../HostImportTests/Fixtures/samples/sysfs/amd-iommu-features-efr-efr2.txt"
        let text = Self.run(["host", "--snapshot", sample])
        #expect(text.status == 2)
        #expect(text.stderr.contains("neither a directory nor an iommuscope capture"))
        let directory = Self.run(["host", "--snapshot", "\(Self.hosts)/arm-rk3588"])
        #expect(directory.status == 2)
        #expect(directory.stderr.contains("is a directory: read it with --root"))
        let both = Self.run(["host", "--root", "/", "--snapshot", sample])
        #expect(both.status == 64)
    }

    /// A root with no IOMMU facts is read (notes say why) and exits 1.
    @Test func nothingUsableExitsOne() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("host-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let (stdout, _, status) = Self.run(["host", "--root", empty.path])
        #expect(status == 1)
        #expect(stdout.contains("no /sys/kernel/iommu_groups"))
    }
}
