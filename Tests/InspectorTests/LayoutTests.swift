import Foundation
import Testing
import TerminalUI
@testable import Inspector

/// Layouts that fit: `z` maximises the focused pane, `<` / `>` size the tree down to hidden,
/// the tabs are clickable and name the shown pane however narrow, the `?` overlay scrolls and
/// uses the terminal's width, the status line offers the focused pane's keys.
struct LayoutTests {
    static func app() throws -> InspectorApp { try CommandAndTimelineTests.app() }

    static func rows(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// The walk of nic0 at 80x24, from the tree.
    static func walk() throws -> InspectorApp {
        let app = try app()
        app.search("DEVICE 1  nic0")
        app.press(.character("4"))
        return app
    }

    @Test func zoomMaximisesTheFocusedPaneAndRestores() throws {
        let app = try Self.walk()
        let before = app.screen(width: 80, height: 24)
        #expect(before.contains("1 Objects"))
        #expect(!before.contains("PA 0x103f00000 (4K, rw)"))
        app.press(.character("z"))
        let zoomed = app.screen(width: 80, height: 24)
        #expect(!zoomed.contains("1 Objects"))
        // The walk's result line is whole at 80 columns.
        #expect(zoomed.contains("IOTLB bypassed (probe): 22 fetches → PA 0x103f00000 (4K, rw)"))
        #expect(Self.rows(zoomed)[23].contains("z restore"))
        // The maximised pane follows the focus, as tmux's zoom does.
        app.press(.tab)
        let tree = app.screen(width: 80, height: 24)
        #expect(tree.contains("1 Objects") && !tree.contains("[4 Walk]"))
        app.press(.character("z"))
        let restored = app.screen(width: 80, height: 24)
        #expect(restored.contains("1 Objects") && restored.contains("[4 Walk]"))
    }

    @Test func treeNarrowsToHiddenAndWidensBack() throws {
        let app = try Self.walk()
        _ = app.screen(width: 80, height: 24)
        let start = app.layout.treeWidth(in: 80)
        #expect(start == 30)
        app.press(.character("<"))
        #expect(app.layout.treeWidth(in: 80) == start - PaneLayout.step)
        var presses = 1
        while !app.layout.treeHidden, presses < 20 {
            #expect(app.layout.treeWidth(in: 80) >= PaneLayout.narrowestTree)
            app.press(.character("<"))
            presses += 1
        }
        #expect(app.layout.treeHidden && presses == 5)
        let hidden = app.screen(width: 80, height: 24)
        #expect(!hidden.contains("1 Objects"))
        #expect(hidden.contains("PA 0x103f00000 (4K, rw)"))
        app.press(.character(">"))
        #expect(!app.layout.treeHidden && app.layout.treeWidth(in: 80) == PaneLayout.narrowestTree)
        for _ in 0..<20 { app.press(.character(">")) }
        // The right pane keeps its room.
        #expect(app.layout.treeWidth(in: 80) == 80 - PaneLayout.narrowestMain)
        #expect(app.screen(width: 80, height: 24).contains("[4 Walk]"))
    }

    /// Hiding the tree while it has focus moves focus right; focusing it again shows it.
    @Test func focusingAHiddenTreeShowsIt() throws {
        let app = try Self.app()
        _ = app.screen(width: 80, height: 24)
        for _ in 0..<6 { app.press(.character("<")) }
        #expect(app.layout.treeHidden && app.focus == .details)
        app.press(.tab)
        #expect(app.focus == .tree && !app.layout.treeHidden)
        #expect(app.screen(width: 80, height: 24).contains("1 Objects"))
    }

    @Test func clickingATabShowsItsPane() throws {
        let app = try Self.app()
        let screen = app.screen(width: 80, height: 24)
        let border = String(Self.rows(screen)[1])
        // Eight panes at 80 columns: the others by their numbers.
        let column = try #require(border.range(of: " 5 ")).lowerBound
        let x = border[..<column].count + 1
        _ = app.handle(.mouse(MouseEvent(kind: .press, x: x, y: 1)))
        #expect(app.main == .iovaMap && app.focus == .iovaMap)
        #expect(app.screen(width: 80, height: 24).contains("[5 IOVA map]"))
        // A click on the border between tabs does nothing.
        let bar = String(Self.rows(app.screen(width: 80, height: 24))[1])
        _ = app.handle(.mouse(MouseEvent(kind: .press, x: bar.count - 2, y: 1)))
        #expect(app.main == .iovaMap)
    }

    /// Eight panes at 80 columns: the shown one by its title, the others by short names.
    @Test func tabsAt80ColumnsShowShortNames() throws {
        let app = try Self.walk()
        let border = String(Self.rows(app.screen(width: 80, height: 24))[1])
        #expect(border.contains("2 det 3 pt [4 Walk] 5 map 7 time 8 res"), "\(border)")
    }

    /// At 60 columns the tabs nearest the shown one keep their short names, the far ones their
    /// numbers: every pane still has a tab to click, the shown one named in full.
    @Test func tabsAt60ColumnsNameTheNearest() throws {
        let app = try Self.walk()
        let border = String(Self.rows(app.screen(width: 60, height: 16))[1])
        #expect(border.contains("2 3 pt [4 Walk] 5 7 8 9"), "\(border)")
        let strip = app.tabs(width: 24)
        #expect(strip.text == "2 3 pt [4 Walk] 5 7 8 9")
        #expect(strip.tabs.map(\.kind) == [.details, .pageTable, .walk, .iovaMap, .timeline, .results, .diff])
    }

    /// However little room the strip has, the shown pane is named in full and the strip fits.
    @Test(arguments: [60, 30, 20, 14, 12])
    func shownPaneIsNamedWhenTheStripIsCut(_ width: Int) throws {
        let app = try Self.walk()
        let strip = app.tabs(width: width)
        #expect(strip.text.contains("[4 Walk]"))
        #expect(CellBuffer.width(of: strip.text) <= width)
        #expect(strip.tabs.contains { $0.kind == .walk })
        if width < 20 { #expect(strip.text.contains("…")) }
    }

    /// At 60x16 with the tree at its widest the tab strip is cut, the shown pane still named.
    @Test func narrowTerminalNamesTheShownPane() throws {
        let app = try Self.walk()
        _ = app.screen(width: 60, height: 16)
        for _ in 0..<10 { app.press(.character(">")) }
        let border = Self.rows(app.screen(width: 60, height: 16))[1]
        #expect(border.contains("[4 Walk]"))
    }

    /// Every line inside the overlay, scrolled through with `j`.
    static func helpLines(_ app: InspectorApp, width: Int, height: Int) -> Set<String> {
        app.press(.character("?"))
        var seen = Set<String>()
        for _ in 0..<120 {
            // Inside the overlay's border only: two columns of margin, then the border.
            for row in rows(app.screen(width: width, height: height)) where row.count == width {
                seen.insert(String(Array(row)[3..<width - 3]).trimmingCharacters(in: .whitespaces))
            }
            app.press(.character("j"))
        }
        return seen
    }

    @Test func helpScrollsSoEveryKeyIsReachableAt60x16() throws {
        let app = try Self.walk()
        app.press(.character("?"))
        let first = app.screen(width: 60, height: 16)
        #expect(first.contains("Walk keys"))
        #expect(first.contains("j k scroll"))
        app.press(.character("G"))
        #expect(app.mode == .help)
        let last = app.screen(width: 60, height: 16)
        #expect(last.contains("outside the aperture"))
        #expect(!last.contains("Walk keys"))
        app.press(.character("g"))
        #expect(app.screen(width: 60, height: 16).contains("Walk keys"))
        app.press(.escape)
        #expect(app.mode == .normal)
        // Scrolled through, every key of every section shows, none cut.
        let text = Self.helpLines(app, width: 60, height: 16).joined(separator: "\n")
        for section in app.helpSections {
            for row in section.rows {
                #expect(text.contains(row.key), "\(row.key) missing")
                if let lastWord = row.action.split(separator: " ").last { #expect(text.contains(lastWord), "\(row.action) cut") }
            }
        }
        #expect(!text.contains("…"))
    }

    /// Over the help the wheel scrolls it, not the pane beneath, and a click closes it.
    @Test func wheelScrollsTheHelp() throws {
        let app = try Self.walk()
        app.press(.character("?"))
        _ = app.screen(width: 60, height: 16)
        _ = app.handle(.mouse(MouseEvent(kind: .wheelDown, x: 30, y: 8)))
        #expect(app.screen(width: 60, height: 16).contains("2-13 of"))
        _ = app.handle(.mouse(MouseEvent(kind: .press, x: 30, y: 8)))
        #expect(app.mode == .normal && app.main == .walk)
    }

    @Test func helpUsesTheTerminalsWidth() throws {
        let app = try Self.app()
        app.press(.character("?"))
        let rows = Self.rows(app.screen(width: 200, height: 60))
        let top = try #require(rows.first { $0.contains("Keys: Objects") })
        let edges = top.enumerated().filter { "╔╗".contains($0.element) }.map(\.offset)
        #expect(edges == [2, 197])
    }

    @Test func helpHasALegendOfTheGlyphs() throws {
        let app = try Self.app()
        let text = Self.helpLines(app, width: 120, height: 40).joined(separator: "\n")
        #expect(text.contains("Legend"))
        #expect(text.contains("▾ ▸ ·"))
        #expect(text.contains("walk grid: no fetch there"))
        #expect(text.contains("█ ▌ ▒ ░"))
    }

    static func status(_ app: InspectorApp, width: Int = 80, height: Int = 24) -> String {
        String(rows(app.screen(width: width, height: height))[height - 1])
    }

    @Test func statusHintsFollowTheFocusedPane() throws {
        let app = try Self.app()
        #expect(Self.status(app).contains("Enter open"))
        app.press(.character("4"))
        let walk = Self.status(app)
        #expect(walk.contains("i IOVA") && !walk.contains("Enter open"))
        app.press(.character("5"))
        #expect(Self.status(app).contains("Enter zoom"))
        #expect(Self.status(app).hasPrefix(" ? help"))
    }

    /// A search's `/text` is about the pane searched: it goes when the focus moves.
    @Test func searchTextDoesNotOutliveItsPane() throws {
        let app = try Self.app()
        app.search("DEVICE 1  nic0")
        #expect(Self.status(app).contains("/DEVICE 1  nic0"))
        app.press(.character("4"))
        #expect(!Self.status(app).contains("/DEVICE"))
        app.search("zzz")
        #expect(Self.status(app).contains("zzz: not found"))
        app.press(.tab)
        #expect(!Self.status(app).contains("zzz"))
    }

    /// At the minimum size every pane's status line still offers `?` and its first own key,
    /// and the help lists every key of that pane.
    @Test(arguments: ["1", "2", "3", "4", "5", "7"])
    func minimumSizeKeepsTheKeys(_ pane: Character) throws {
        let app = try Self.app()
        app.press(.character(pane))
        let status = Self.status(app, width: 60, height: 16)
        #expect(status.hasPrefix(" ? help  z maximise"))
        let first = try #require(app.statusHints.dropFirst(2).first)
        #expect(status.contains(first.key + " " + first.action))
        let help = Self.helpLines(app, width: 60, height: 16).joined(separator: "\n")
        for row in try #require(app.helpSections.first).rows { #expect(help.contains(row.key)) }
    }

    /// At the minimum size a long message still leaves `? help` on the status line.
    @Test func helpHintSurvivesALongMessageAtTheMinimumSize() throws {
        let app = try Self.app()
        app.press(.character(":"))
        for character in "ioas_map ioas_id=3 iova=0x1000 length=0x1000 user_va=0x1000 flags=readable,writable" {
            app.press(.character(character))
        }
        app.press(.enter)
        #expect(CellBuffer.width(of: app.message) > 40)
        let status = Self.status(app, width: 60, height: 16)
        #expect(status.contains("? help"))
        #expect(status.contains("…"))
    }
}
