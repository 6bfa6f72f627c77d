import ArgumentParser
import Testing
@testable import iommuscope

/// `tui --host DIR|FILE [SCENARIO] [--faults LOG]...` as the command line spells it, and its
/// usage errors before any screen opens.
@Suite struct TUIArgumentTests {
    @Test func hostScenarioAndFaultLogsParse() throws {
        let command = try #require(try IOMMUScope.parseAsRoot(["tui", "--host", "host-copy", "--faults", "a.log", "--faults", "b.log",
                                                               "what-if.iommu"]) as? TUI)
        #expect(command.host == "host-copy")
        #expect(command.faults == ["a.log", "b.log"])
        #expect(command.file == "what-if.iommu")
        let plain = try #require(try IOMMUScope.parseAsRoot(["tui"]) as? TUI)
        #expect(plain.host == nil && plain.faults.isEmpty && plain.file == nil)
    }

    /// A host path that cannot be opened exits 2 (IMPORT.md: an unreadable path), as `host`,
    /// `faults` and the other `--host` commands do, before any screen opens.
    @Test func unreadableHostExitsTwo() throws {
        let command = try #require(try IOMMUScope.parseAsRoot(["tui", "--host", "/nonexistent/\u{1b}[2Jhost"]) as? TUI)
        #expect(throws: ExitCode(2)) { try command.run() }
    }

    @Test func noFaultLogsExplainNothing() throws {
        #expect(try loadFaultExplanations(paths: [], host: nil, scenario: nil).isEmpty)
    }
}
