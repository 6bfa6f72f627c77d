import Foundation
import Testing

/// The diff pane on the real binary at 80x24: open the VT-d guest that remaps a page without
/// invalidating it, mark the state after its first map, step to the end, and see the stale
/// IOTLB entry in the diff pane (9), the selected row whole below the list.
@Suite(.serialized)
struct DiffPaneInTmuxTests {
    @Test func aMarkThenAStepShowsTheStaleEntry() {
        let example = InspectorInTmuxTests.repository.appendingPathComponent("Examples/stale_iotlb_vtd.iommu").path
        let terminal = InspectorInTmuxTests.start("diffpane", width: 80, height: 24, arguments: "tui '\(example)'")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        // Without a mark the pane says how to set one.
        terminal.keys("9")
        guard terminal.waitFor("No mark.") else { return }
        // The timeline, line 18 (the guest's first map), marked.
        terminal.keys("7 '#' 1 8 Enter")
        guard terminal.waitFor("line 18 (9/16)") else { return }
        terminal.keys("m")
        guard terminal.waitFor("marked line 18 (9/16)") else { return }
        // To the end, past the remap that invalidates nothing, and the diff.
        terminal.keys("'}' 9")
        guard terminal.waitFor("mark line 18 (9/16)") else { return }
        guard terminal.waitFor("stale cache entries: 1") else { return }
        #expect(terminal.screen().contains("≢ IOTLB  vt0"))
        terminal.keys("G")
        guard terminal.waitFor("fresh walk at") else { return }
        #expect(terminal.screen().contains("0x10000000+2M -> 0x103c00000"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
