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

    /// The theme and the key map load before any mode is chosen: a bad one exits 2 whether
    /// or not a terminal is there (the printed summary, --dump-keymap).
    @Test func aBadThemeOrKeyMapExitsTwo() throws {
        let none = ["XDG_CONFIG_HOME": "/nonexistent/config"]
        #expect(throws: ExitCode(2)) { try TUI.settings(theme: "nope", environment: none) }
        #expect(throws: ExitCode(2)) { try TUI.settings(theme: "/nonexistent/theme.toml", environment: none) }
        #expect(try TUI.settings(theme: "high-contrast", environment: none).theme.name == "high-contrast")
        #expect(try TUI.settings(theme: nil, environment: none).keys == .defaults)
        let command = try #require(try IOMMUScope.parseAsRoot(["tui", "--dump-keymap", "--theme", "mono"]) as? TUI)
        #expect(command.dumpKeymap && command.theme == "mono")
        #expect(try #require(try IOMMUScope.parseAsRoot(["tui"]) as? TUI).theme == nil)
    }

    @Test func noFaultLogsExplainNothing() throws {
        #expect(try loadFaultExplanations(paths: [], host: nil, scenario: nil).isEmpty)
    }
}
