import Foundation
import Testing

/// The bits views on the real binary at 80x24: `b` in the page-table pane shows a stage-2
/// leaf's field table under its IOVA's index strip, `b` again hides it; in the walk pane it
/// adds the input's index strip above the fetches.
@Suite(.serialized)
struct BitsViewInTmuxTests {
    @Test func bTogglesTheBitsView() {
        let terminal = InspectorInTmuxTests.start("bitsview", width: 80, height: 24, arguments: "tui")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys("/ HWPT_PAGING Enter 3")
        guard terminal.waitFor("HWPT 4 ▸ L0") else { return }
        terminal.keys("b")
        guard terminal.waitFor("fields (Arm ARM D8.3):") else { return }
        #expect(terminal.screen().contains("index [47:39] L0=0x0"))
        terminal.keys("b")
        // Off again: the fields on one line, as before.
        guard terminal.waitFor("valid[0]=1") else { return }
        #expect(!terminal.screen().contains("fields (Arm ARM D8.3):"))
        terminal.keys("4")
        guard terminal.waitFor("fetches") else { return }
        terminal.keys("b")
        guard terminal.waitFor("IPA 0x40000000: [47:39] L0=0x0") else { return }
        #expect(terminal.screen().contains("47:12  next-level table  0x104401000"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
