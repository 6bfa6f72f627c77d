import Foundation
import Testing

/// The layout keys in a real terminal at 80x24 and at the minimum 60x16: the walk maximised
/// with `z` shows its whole result line, `<` hides the tree, the help scrolls to its legend.
@Suite(.serialized)
struct LayoutInTmuxTests {
    @Test func maximisedWalkFitsAt80x24() {
        let terminal = InspectorInTmuxTests.start("layout-zoom", width: 80, height: 24)
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys("/ 'DEVICE 1' Enter 4")
        terminal.waitFor("[4 Walk]")
        #expect(!terminal.screen().contains("PA 0x103f00000 (4K, rw)"))
        terminal.keys("z")
        terminal.waitFor("22 fetches → PA 0x103f00000 (4K, rw)")
        #expect(terminal.screen().contains("z restore"))
        #expect(!terminal.screen().contains("1 Objects"))
        terminal.keys("z")
        terminal.waitFor("1 Objects")
        terminal.keys("'<' '<' '<' '<' '<'")
        // Hidden, the right pane's border starts the row.
        terminal.waitFor("\n╔═ * 2 Details")
        #expect(terminal.screen().contains("22 fetches → PA 0x103f00000 (4K, rw)"))
        #expect(!terminal.screen().contains("1 Objects"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    @Test func helpScrollsToItsLegendAt60x16() {
        let terminal = InspectorInTmuxTests.start("layout-help", width: 60, height: 16)
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys("4 ?")
        terminal.waitFor("Keys: Walk")
        terminal.waitFor("j k scroll")
        terminal.keys("G")
        terminal.waitFor("IOVA map: software MSI")
        terminal.keys("Escape")
        terminal.waitFor("i IOVA")
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
