import Foundation
import ScenarioScript
import Testing
import TerminalUI
@testable import Inspector

/// The timeline pane (7): Enter moves the model after the selected line, `[` `]` `{` `}` step
/// and the selection follows, `e`/`E` jump between marks, `#` jumps to a line by its number,
/// `/` finds a line, a click selects one; the title bar counts source lines, failures and faults.
@Suite struct TimelinePaneTests {
    static func scenarioApp() throws -> InspectorApp {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character("7")))
        return app
    }

    static func corruptedApp() throws -> InspectorApp {
        try GoldenFrameTests.traceApp(try GoldenFrameTests.corruptedMtty(), theme: "mono")
    }

    static func press(_ app: InspectorApp, _ keys: [Key]) {
        for key in keys {
            _ = app.handle(.key(key))
            _ = app.render(width: 120, height: 40)
        }
    }

    static func pane(_ app: InspectorApp) -> TimelinePane? { app.panes[.timeline] as? TimelinePane }

    /// The row selected in the pane.
    static func selected(_ app: InspectorApp) -> Int? { pane(app)?.list.selected }

    static func title(_ app: InspectorApp) -> String {
        String(app.render(width: 120, height: 40).text.split(separator: "\n").first ?? "")
    }

    @Test func enterMovesTheModelAfterTheSelectedLine() throws {
        let app = try Self.scenarioApp()
        let total = app.model.view.timeline.count
        Self.press(app, [.character("k"), .character("k"), .character("k")])
        #expect(app.model.position == total)
        Self.press(app, [.enter])
        #expect(app.model.position == total - 3)
        let line = app.model.view.timeline.source(total - 4).line
        #expect(Self.title(app).hasSuffix("line \(line) (\(total - 3)/\(total))"))
        // The selection stays on the line, now the last applied, with the marker below it.
        #expect(Self.selected(app) == total - 4)
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("the model: \(total - 3) of \(total) applied"))
        // On the marker row Enter does not move the model.
        Self.press(app, [.character("j"), .enter])
        #expect(app.model.position == total - 3 && app.message.hasPrefix("the model is here"))
    }

    @Test func steppingMovesTheSelectionWithTheModel() throws {
        let app = try Self.scenarioApp()
        let total = app.model.view.timeline.count
        Self.press(app, [.character("[")])
        #expect(app.model.position == total - 1 && Self.selected(app) == total - 2)
        Self.press(app, [.character("{")])
        // At the start the marker row is first, and selected.
        #expect(app.model.position == 0 && Self.selected(app) == 0)
        #expect(app.render(width: 120, height: 40).text.contains("The model is the state after 0 of the \(total) lines."))
        Self.press(app, [.character("]"), .character("]")])
        #expect(app.model.position == 2 && Self.selected(app) == 1)
        Self.press(app, [.character("}")])
        #expect(app.model.position == total)
        // A typed command is a new last line, selected.
        Self.press(app, [.character(":")] + GoldenFrameTests.typed("ioas_alloc") + [.enter])
        #expect(app.model.view.timeline.count == total + 1 && Self.selected(app) == total)
    }

    @Test func marksJumpToFailedExpectations() throws {
        let app = try Self.corruptedApp()
        #expect(Self.title(app).hasSuffix("trace line 14 (11/11)  2 failed"))
        Self.press(app, [.character("{"), .character("e")])
        // Trace line 12 (the ninth source line): the model after it, it selected.
        #expect(app.model.position == 9 && Self.selected(app) == 8)
        #expect(app.model.view.timeline.source(8).line == 12)
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("trace line 12 ✗ expectation failed: the model returned ok"))
        #expect(screen.contains("expect=EINVAL # trace 12 → ok"))
        Self.press(app, [.character("e")])
        #expect(app.model.position == 10)
        Self.press(app, [.character("e")])
        #expect(app.model.position == 10 && app.message == "no mark after this line")
        Self.press(app, [.character("E")])
        #expect(app.model.position == 9)
        Self.press(app, [.character("E")])
        #expect(app.model.position == 9 && app.message == "no mark before this line")
    }

    @Test func lineJumpGoesToALineByItsNumber() throws {
        let app = try Self.corruptedApp()
        Self.press(app, [.character("#"), .character("1"), .character("3")])
        #expect(Self.pane(app)?.jumping == "13")
        #expect(app.render(width: 120, height: 40).text.contains("go to line: 13"))
        Self.press(app, [.enter])
        #expect(app.model.position == 10 && app.model.view.timeline.source(9).line == 13)
        // A number between events goes to the next event; past the last, a message.
        Self.press(app, [.character("#"), .character("2"), .enter])
        #expect(app.model.position == 1)
        Self.press(app, [.character("#"), .character("9"), .character("9"), .enter])
        #expect(app.model.position == 1 && app.message == "no trace line 99: the last is 14")
        // While typing, digits are the number's, not pane keys; Esc cancels.
        Self.press(app, [.character("#"), .character("2"), .escape])
        #expect(app.main == .timeline && app.model.position == 1 && Self.pane(app)?.jumping == nil)
    }

    @Test func searchAndClickSelectWithoutMoving() throws {
        let app = try Self.corruptedApp()
        Self.press(app, [.character("/")] + GoldenFrameTests.typed("map_dma") + [.enter])
        // From the last line, wrapping: the first map.
        #expect(Self.selected(app) == 7 && app.model.position == 11)
        Self.press(app, [.character("n")])
        #expect(Self.selected(app) == 8)
        Self.press(app, [.character("N"), .character("N")])
        #expect(Self.selected(app) == 9)
        // The pane's first row is at y 2 (title bar, border), its list below the heading row.
        let x = max(28, 120 * 38 / 100) + 2
        _ = app.handle(.mouse(MouseEvent(kind: .press, x: x, y: 4)))
        #expect(Self.selected(app) == 1 && app.model.position == 11)
        Self.press(app, [.enter])
        #expect(app.model.position == 2)
    }

    @Test func helpListsTheTimelineKeys() throws {
        let app = try Self.scenarioApp()
        Self.press(app, [.character("?")])
        let help = app.render(width: 120, height: 40).text
        for key in ["Keys: Timeline", "e / E", "# NUMBER Enter", "jump to the next / previous flagged line", "1-5 7-9", "Timeline", "9 Diff"] {
            #expect(help.contains(key), "\(key)")
        }
    }

    /// A long timeline draws and jumps through the rows it shows: its 200 000 lines (comments,
    /// nothing to run) open at the end, `#` reaches one in the middle, `e` finds no mark.
    @Test func aLongTimelineJumps() throws {
        let sources = (1...200_000).map { TimelineSource(line: $0 * 2, text: "event \($0)", note: "a comment") }
        let app = InspectorApp(model: try InspectorModel(replay: .init(scenario: "", sources: sources), unit: "event", title: "long"),
                               theme: try InspectorThemes.load("mono"), symbols: .unicode)
        app.show(.timeline)
        #expect(Self.title(app).hasSuffix("event 400000 (200000/200000)"))
        Self.press(app, [.character("#")] + GoldenFrameTests.typed("150001") + [.enter])
        #expect(app.model.position == 75_001)
        #expect(app.render(width: 120, height: 40).text.contains("150002 · event 75001"))
        Self.press(app, [.character("e")])
        #expect(app.message == "no mark after this line")
    }
}
