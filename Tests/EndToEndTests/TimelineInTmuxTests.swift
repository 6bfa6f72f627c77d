import Foundation
import Testing

/// `tui --qemu-trace FILE` in a real terminal: it opens on the timeline pane, focused, with
/// the title counting trace lines; Enter on a row moves the model to just after that line.
@Suite(.serialized)
struct TimelineInTmuxTests {
    @Test func aTraceOpensOnTheTimelineAndEnterMovesTheModel() {
        let terminal = InspectorInTmuxTests.start("timeline", arguments: "tui --qemu-trace \(QEMUTraceCommandLineTests.sample)")
        defer { terminal.stop() }
        guard terminal.waitFor("[7 Timeline]") else { return }
        #expect(terminal.screen().contains("trace line 14 (11/11)"))
        #expect(terminal.screen().contains("* 2 Details"))
        // Up two rows from the last event (trace line 14) to the second map (line 12), Enter:
        // the model is after nine of the eleven lines, and the tree lost the third map's area.
        terminal.keys("k k Enter")
        terminal.waitFor("trace line 12 (9/11)")
        terminal.waitFor("IOAS 1  2 areas")
        terminal.waitFor("the model: 9 of 11 applied")
        terminal.keys("{")
        terminal.waitFor("before trace line 4 (0/11)")
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
