import Foundation
import Testing

/// A scenario is shared input, and so is its file's name: every command that echoes either
/// (a failed line's `FILE:LINE`, ArgumentParser's "Unexpected argument", a parse error)
/// prints control characters as escapes, so nothing reaches the terminal raw.
struct UntrustedInputTests {
    /// A clear-screen, a window-title change ended by BEL, a carriage return and C1 CSI.
    static let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{07}\r\u{9b}"

    /// A directory holding one scenario whose name carries `hostile`; the shell reaches it
    /// through a glob, as `iommuscope run *.iommu` would.
    static func hostileScenario(_ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("untrusted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: directory.appendingPathComponent("evil\(hostile).iommu"))
        return "'\(directory.path)'/*.iommu"
    }

    /// The bundled scenario with a line whose expectation fails, so `FILE:LINE` is printed.
    static var failing: String {
        get throws {
            let source = InspectorInTmuxTests.repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu")
            return try String(contentsOf: source, encoding: .utf8) + "\ndestroy id=1 expect=ENOENT # \(hostile)\n"
        }
    }

    /// Control characters other than the line feeds and tabs of the tool's own layout.
    static func rawControls(_ output: String) -> [UInt32] {
        output.unicodeScalars.map(\.value).filter { ($0 < 0x20 && $0 != 0x0a && $0 != 0x09) || (0x7f..<0xa0).contains($0) }
    }

    @Test(arguments: ["run", "run --json", "show", "walk --hwpt 4 --iova 0 --count 1", "translate --dev 1 --iova 0x1000",
                      "walk --hwpt 1 --iova 0"])
    func failedLinesEscapeTheFileName(_ command: String) throws {
        let words = command.split(separator: " ", maxSplits: 1).map(String.init)
        let (output, _) = WalkCommandLineTests.run("\(words[0]) \(try Self.hostileScenario(try Self.failing)) \(words.dropFirst().joined())")
        // `run` counts failed lines; the others name them `FILE:LINE`.
        #expect(words[0] == "run" || output.contains("evil\\x1b[2J\\x1b]0;pwned\\x07\\r\\x9b.iommu:"), "\(output)")
        #expect(Self.rawControls(output).isEmpty, "\(output)")
    }

    /// ArgumentParser's messages echo arguments: two files where one is expected.
    @Test func argumentErrorsAreEscaped() throws {
        let glob = try Self.hostileScenario(try Self.failing)
        let (output, status) = WalkCommandLineTests.run("run \(glob) \(glob)")
        #expect(status == 64, "\(output)")
        #expect(output.contains("Error: Unexpected argument"), "\(output)")
        #expect(Self.rawControls(output).isEmpty, "\(output)")
    }

    @Test func parseErrorsAreEscaped() throws {
        let (output, status) = WalkCommandLineTests.run("run \(try Self.hostileScenario("ioas_alloc x=\(Self.hostile)\n"))")
        #expect(status == 2, "\(output)")
        #expect(Self.rawControls(output).isEmpty, "\(output)")
    }

    /// An error found after the scenario ran (not a paging HWPT) shows the subcommand's usage.
    @Test func errorsFromRunShowTheSubcommandsUsage() {
        let (output, status) = WalkCommandLineTests.run("walk '\(WalkCommandLineTests.scenario)' --hwpt 1 --iova 0")
        #expect(status == 64, "\(output)")
        #expect(output.contains("Error: object 1 is not a paging HWPT with descriptors; paging HWPTs: 4\nUsage: iommuscope walk [<file>]"),
                "\(output)")
    }
}
