import Foundation
import Testing

/// `iommuscope faults` run as a user runs it: JSON lines, the summary, warnings on stderr,
/// and the exit statuses 0, 1 and 2 of IMPORT.md.
struct FaultsCommandLineTests {
    static let samples = InspectorInTmuxTests.repository.appendingPathComponent("Tests/HostImportTests/Fixtures/samples/faultlog").path

    static func run(_ arguments: String, stdin: String? = nil) -> (stdout: String, stderr: String, status: Int32) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faults-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path, err = directory.appendingPathComponent("err").path
        // No theme or keys of the user's (`tui` reads them from the config directory).
        var command = "XDG_CONFIG_HOME='\(directory.path)' '\(InspectorInTmuxTests.binary)' \(arguments) >'\(out)' 2>'\(err)'"
        if let stdin {
            let input = directory.appendingPathComponent("in").path
            FileManager.default.createFile(atPath: input, contents: Data(stdin.utf8))
            command += " <'\(input)'"
        }
        let status = InspectorInTmuxTests.shell(command + "; echo \"status=$?\"")
        let code = status.split(separator: "\n").last.flatMap { Int32($0.dropFirst("status=".count)) } ?? -1
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        return (stdout, stderr, code)
    }

    /// `faults LOG --host FIXTURE`: the rk3588 sample's NIC is on the fixture's SMMUv3, whose
    /// tables no debugfs dumps: each record is explained as unknown tables, in the JSON too.
    @Test func aSampleExplainedOnItsHost() {
        let host = InspectorInTmuxTests.repository.appendingPathComponent("Tests/HostTrees/arm-rk3588").path
        let (stdout, stderr, status) = Self.run("faults --json --host '\(host)' '\(Self.samples)/arm-smmu-v3-decoded-rk3588-r8125.txt'")
        #expect(status == 0, "\(stderr)")
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let explanation = object?["explanation"] as? [String: Any]
            #expect(explanation?["device"] as? String == "0002:21:00.0")
            #expect(explanation?["cause"] as? String == "unknown-tables")
        }
        #expect(stderr.contains("note: "), "the host's notes go to stderr: \(stderr)")
    }

    @Test func jsonLinesOfASample() {
        let (stdout, stderr, status) = Self.run("faults --json '\(Self.samples)/arm-smmu-v3-raw-hns3-hip08-2021.txt'")
        #expect(status == 0, "\(stderr)")
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines.first == #"{"source_line":3,"arch":"arm-smmu-v3","iommu":"arm-smmu-v3.2.auto","sid":13569,"address":"0xa50e0800","access":"read","reason":"F_TRANSLATION","reason_text":"Input address caused fault","stage":1,"raw":["0x350100000010","0x2088000003f","0xa50e0800","0x0"]}"#)
        // The truncated last event: located on stderr, read anyway.
        #expect(stderr.contains("arm-smmu-v3-raw-hns3-hip08-2021.txt:25: warning: SMMUv3 event truncated: 1 of 4 words"), "\(stderr)")
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["arch"] as? String == "arm-smmu-v3")
        }
    }

    @Test func standardInputAndTheSummary() {
        let log = "[ 1.5] DMAR: [DMA Write NO_PASID] Request device [2f:00.1] fault addr 0x7ebb0000 [fault reason 0x05] PTE Write access is not set\n"
        let (stdout, _, status) = Self.run("faults", stdin: log + log.replacingOccurrences(of: "1.5", with: "2.5"))
        #expect(status == 0)
        #expect(stdout == "   2x intel-vtd 0000:2f:00.1 0x05 write page 0x7ebb0000 \"PTE Write access is not set\"  (lines 1-2, 1.500000 s to 2.500000 s)\n2 faults in 1 group\n")
    }

    @Test func nothingUsableIsStatus1() {
        let (_, stderr, status) = Self.run("faults '\(Self.samples)/dmesg-iommu-group-add-new-format.txt'")
        #expect(status == 1)
        #expect(stderr.contains("no IOMMU fault found"))
    }

    @Test(arguments: ["faults /nonexistent/log", "faults --no-such-option", "faults '\(samples)'"])
    func usageAndUnreadablePathsAreStatus2(_ arguments: String) {
        #expect(Self.run(arguments).status == 2)
    }

    /// `--strict`: the samples' provenance lines (no kernel log) become errors.
    @Test func strictMakesNotUnderstoodLinesErrors() {
        let path = "'\(Self.samples)/dmar-fault-v5-pasid-ffffffff-intel-ipu3.txt'"
        let lenient = Self.run("faults \(path)")
        #expect(lenient.status == 0)
        #expect(lenient.stderr.isEmpty)
        let strict = Self.run("faults --strict \(path)")
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("dmar-fault-v5-pasid-ffffffff-intel-ipu3.txt:1: error: not understood: # source:"), "\(strict.stderr)")
        let clean = Self.run("faults --strict", stdin: "DMAR: DRHD: handling fault status reg 3\nDMAR: [DMA Read] Request device [00:05.0] PASID ffffffff fault addr 76406000 [fault reason 06] PTE Read access is not set\n")
        #expect(clean.status == 0, "\(clean.stderr)")
    }

    /// Control characters in a logged name reach the terminal escaped.
    @Test func loggedTextIsEscaped() {
        let (stdout, _, status) = Self.run("faults", stdin: "   a-1 [000] .... 1.0: io_page_fault: IOMMU:x dev\u{1b}[2J iova=0x1000 flags=0x0001\n")
        #expect(status == 0)
        #expect(stdout.contains("dev\\x1b[2J"))
        #expect(!stdout.contains("\u{1b}"))
    }
}
