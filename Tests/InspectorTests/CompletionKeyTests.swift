import Testing
import TerminalUI
@testable import Inspector

/// Tab on the `:` line: the one candidate, the common prefix, then the candidates listed in
/// the status line, then Tab and Shift-Tab cycling through them; errors list the choices.
struct CompletionKeyTests {
    typealias Commands = CommandAndTimelineTests

    static func statusLine(_ app: InspectorApp, width: Int = 120) -> String {
        app.render(width: width, height: 40).text.split(separator: "\n").last.map(String.init) ?? ""
    }

    static func typing(_ text: String) throws -> InspectorApp {
        let app = try Commands.app()
        _ = app.handle(.key(.character(":")))
        Commands.type(app, text)
        return app
    }

    @Test func tabCompletesTheOneCandidate() throws {
        let app = try Self.typing("ioas_m")
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_map ")))
        // An argument name keeps its `=`, no blank after it.
        Commands.type(app, "ioas_")
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_map ioas_id=")))
        // A bound name that fits: the default scenario's only IOAS.
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_map ioas_id=ioas ")))
    }

    @Test func tabCompletesTheCommonPrefixThenListsThenCycles() throws {
        let app = try Self.typing("ioas_al")
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_allo")))
        // The prefix is common now: the second Tab lists the candidates after the line.
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_allo")))
        let listed = Self.statusLine(app)
        #expect(listed.contains(":ioas_allo") && listed.contains("ioas_alloc ioas_allow_iovas"))
        // Further Tabs put each in the line in turn, Shift-Tab goes back.
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_alloc")))
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_allow_iovas")))
        _ = app.handle(.key(.tab))
        #expect(app.mode == .command(LineEditor("ioas_alloc")))
        _ = app.handle(.key(.backTab))
        #expect(app.mode == .command(LineEditor("ioas_allow_iovas")))
        // Another key ends the list and edits the line as cycled.
        Commands.type(app, " ")
        #expect(!Self.statusLine(app).contains("ioas_alloc"))
        #expect(app.mode == .command(LineEditor("ioas_allow_iovas ")))
    }

    @Test func manyCandidatesShowAsManyAsFitAndACount() throws {
        let app = try Self.typing("")
        _ = app.handle(.key(.tab))
        let status = Self.statusLine(app, width: 80)
        #expect(status.contains("check close") && status.contains("…+"))
        #expect(app.mode == .command(LineEditor()))
        // Nothing to complete says so.
        let none = try Self.typing("frobnicate")
        _ = none.handle(.key(.tab))
        #expect(Self.statusLine(none).contains("no completion"))
    }

    /// The candidates listed after the line, the one Tab put in the line in reverse video, at
    /// 80x24 and 120x40 (golden frames, `UPDATE_GOLDEN=1` rewrites them).
    @Test(arguments: [(80, 24, "dark"), (80, 24, "mono"), (120, 40, "mono")])
    func theListedCandidatesMatchTheirFrame(_ width: Int, _ height: Int, _ theme: String) throws {
        let view = GoldenFrameTests.View(name: "command-completion", keys: [.character(":")] + GoldenFrameTests.typed("ioas_") + [.tab, .tab])
        try GoldenFrameTests.check((view, width, height, theme), name: "command-completion-\(width)x\(height)-\(theme)")
    }

    @Test func anErrorListsTheChoices() throws {
        let app = try Self.typing("ioas_map ioas_id=ioas user_va=0 length=4K flags=wrteable")
        _ = app.handle(.key(.enter))
        #expect(app.message == "error: unknown name 'wrteable' (known: fixed_iova, readable, writeable)")
        let typo = try Self.typing("ioas_unmapp ioas_id=ioas iova=0 length=4K")
        _ = typo.handle(.key(.enter))
        #expect(typo.message == "error: unknown command 'ioas_unmapp' (did you mean 'ioas_unmap' or 'ioas_map'?)")
        let unbound = try Self.typing("ioas_unmap ioas_id=iaos iova=0 length=4K")
        _ = unbound.handle(.key(.enter))
        #expect(unbound.message.hasPrefix("error: 'iaos' is not bound by an earlier line (did you mean 'ioas'?)"))
    }
}
