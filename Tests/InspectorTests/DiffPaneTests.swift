import Foundation
import Snapshots
import Testing
import TerminalUI
@testable import Inspector

/// The diff pane (9) and the `m` mark: `m` marks the position the model is at (again there it
/// clears the mark), the pane shows `SnapshotDiff` from the mark to the model in the words of
/// `iommuscope diff`, stale IOTLB entries included, made once per mark and model change; the
/// walk (4) and the page table (3) flag a stale entry. On the VT-d examples: a guest that
/// remaps its 2M page without invalidating, and its twin that invalidates.
@Suite struct DiffPaneTests {
    static func app(_ example: String, theme: String = "mono", symbols: Symbols = .unicode) throws -> InspectorApp {
        let url = GoldenFrameTests.repository.appendingPathComponent("Examples/\(example).iommu")
        let model = try InspectorModel(scenario: try String(contentsOf: url, encoding: .utf8), title: example)
        return InspectorApp(model: model, theme: try InspectorThemes.load(theme), symbols: symbols)
    }

    static func press(_ app: InspectorApp, _ keys: [Key]) { TimelinePaneTests.press(app, keys) }

    /// The keys that mark the state after source line `line` and move the model to the end:
    /// the timeline's `#LINE Enter`, `m`, `}`.
    static func markAt(_ line: Int) -> [Key] {
        [.character("7"), .character("#")] + GoldenFrameTests.typed(String(line)) + [.enter, .character("m"), .character("}")]
    }

    @Test func withoutAMarkThePaneSaysHowToSetOne() throws {
        let app = try Self.app("stale_iotlb_vtd")
        Self.press(app, [.character("9")])
        #expect(app.main == .diff && app.model.mark == nil)
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("[9 Diff]") && screen.contains("No mark."))
        #expect(screen.contains("Press m to mark this position (line 27"))
        #expect(app.model.view.diffFromMarkedState == nil)
    }

    /// Marked at the guest's first map (line 18), the model after the remap without an
    /// invalidation: the IOTLB still holds the old translation, and the pane shows it.
    @Test func aRemapWithoutInvalidationShowsTheStaleEntry() throws {
        let app = try Self.app("stale_iotlb_vtd")
        Self.press(app, Self.markAt(18) + [.character("9")])
        #expect(app.model.mark?.position == 9 && app.model.position == 16)
        let diff = try #require(app.model.view.diffFromMarkedState)
        #expect(diff.staleIOTLB.count == 1)
        let stale = try #require(diff.staleIOTLB.first)
        #expect(stale.input.value == 0x1000_0000 && stale.device == 1)
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("mark line 18 (9/16) → line 27 (16/16)"))
        #expect(screen.contains("stale cache entries: 1"))
        #expect(screen.contains("≢ IOTLB"), "\(screen)")
        // The rows are `iommuscope diff`'s, section by section, each heading after its fold glyph.
        let sections = diff.sections
        let rows = DiffPane.rows(sections, folded: []).map { DiffPane.text($0, sections, folded: [], symbols: .unicode) }
        #expect(rows.map { $0.hasPrefix("▾ ") ? String($0.dropFirst(2)) : $0 } == diff.text.components(separatedBy: "\n"))
        #expect(rows.filter { $0.hasPrefix("▾ ") }.count == 4)
        // The status line names the mark.
        #expect(LayoutTests.status(app, width: 120, height: 40).contains("marked line 18 (9/16)"))
    }

    @Test func theInvalidatingTwinHasNoStaleEntry() throws {
        let app = try Self.app("stale_iotlb_vtd_invalidated")
        Self.press(app, Self.markAt(15) + [.character("9")])
        let diff = try #require(app.model.view.diffFromMarkedState)
        #expect(diff.staleIOTLB.isEmpty && diff.staleConfiguration.isEmpty)
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("stale cache entries: 0"))
        #expect(!screen.contains("≢"))
        #expect(app.model.view.staleIOTLB.isEmpty)
    }

    /// `m` on the marked position clears the mark; a command typed before the mark drops the
    /// lines after it, and the mark with them; one after it keeps the mark.
    @Test func mMarksAndClears() throws {
        let app = try Self.app("stale_iotlb_vtd")
        Self.press(app, [.character("m")])
        #expect(app.model.mark?.position == 16)
        #expect(app.message == "9 shows what changed from here")
        Self.press(app, [.character("m")])
        #expect(app.model.mark == nil && app.message == "mark cleared")
        // From any pane: the key is global.
        Self.press(app, [.character("4"), .character("["), .character("m"), .character("9")])
        #expect(app.model.mark?.position == 15)
        Self.press(app, [.character(":")] + GoldenFrameTests.typed("ioas_alloc") + [.enter])
        #expect(app.model.mark?.position == 15 && app.model.position == 16)
        Self.press(app, [.character("{"), .character(":")] + GoldenFrameTests.typed("ioas_alloc") + [.enter])
        #expect(app.model.mark == nil)
    }

    /// The diff is made once per mark and model change, never per frame or key.
    @Test func theDiffIsMadeOncePerMarkAndPosition() throws {
        let app = try Self.app("stale_iotlb_vtd")
        Self.press(app, Self.markAt(18) + [.character("9")])
        let made = app.model.diffsMade
        #expect(made == 1)
        Self.press(app, [.character("j"), .character("j"), .character("k"), .character("l"), .character("h")])
        for _ in 0..<5 { _ = app.render(width: 80, height: 24) }
        #expect(app.model.diffsMade == made)
        Self.press(app, [.character("[")])
        #expect(app.model.diffsMade == made + 1)
        Self.press(app, [.character("7"), .character("]")])
        // Not on screen: the step makes no diff until the pane is shown again.
        #expect(app.model.diffsMade == made + 1)
        Self.press(app, [.character("9")])
        #expect(app.model.diffsMade == made + 2)
    }

    /// Enter on a heading folds its section; Enter on an object's row selects it in the tree.
    @Test func enterFoldsASectionAndSelectsAnObject() throws {
        let app = try Self.app("stale_iotlb_vtd")
        Self.press(app, Self.markAt(18) + [.character("9")])
        let before = app.render(width: 120, height: 40).text
        #expect(before.contains("▾ objects:"))
        Self.press(app, [.enter])
        let folded = app.render(width: 120, height: 40).text
        #expect(folded.contains("▸ objects:") && !folded.contains("users: 2 -> 3"))
        Self.press(app, [.enter])
        #expect(app.render(width: 120, height: 40).text.contains("▾ objects:"))
        // The stale row names DEVICE 1: Enter selects it in the tree.
        Self.press(app, [.character("/")] + GoldenFrameTests.typed("IOTLB") + [.enter, .enter])
        #expect(app.selection?.rawValue == 1)
    }

    /// The walk of the transaction that hits the stale entry says what the IOTLB caches and
    /// what the table says now; the invalidating twin's walk says nothing of the kind.
    @Test func theWalkFlagsTheStaleEntry() throws {
        let app = try Self.app("stale_iotlb_vtd")
        Self.press(app, [.character("4"), .character("/")] + GoldenFrameTests.typed("0x10012345") + [.enter])
        let screen = app.render(width: 160, height: 40).text
        #expect(screen.contains("≢ stale IOTLB: cached PA 0x"), "\(screen)")
        let flag = try #require(screen.split(separator: "\n").first { $0.contains("stale IOTLB") })
        // Cached: the old GPA 0x40200000's page; the table: the new one at 0x40600000.
        #expect(flag.contains("12345, table says 0x") && !flag.contains("table says fault"))
        let twin = try Self.app("stale_iotlb_vtd_invalidated")
        Self.press(twin, [.character("4"), .character("/")] + GoldenFrameTests.typed("0x10012345") + [.enter])
        #expect(!twin.render(width: 160, height: 40).text.contains("stale IOTLB"))
    }

    /// The guest table's rows that cover the stale entry are tagged, the selected one's flag
    /// first in the strip below; in ASCII the flag is `^`.
    @Test func thePageTableFlagsTheStaleEntry() throws {
        let app = try Self.app("stale_iotlb_vtd", symbols: .ascii)
        Self.press(app, [.character("/")] + GoldenFrameTests.typed("HWPT_NESTED") + [.enter, .character("3")])
        let screen = app.render(width: 160, height: 40).text
        #expect(screen.contains("^ stale IOTLB"), "\(screen)")
        #expect(screen.contains("^ stale IOTLB: cached PA 0x"))
        let twin = try Self.app("stale_iotlb_vtd_invalidated", symbols: .ascii)
        Self.press(twin, [.character("/")] + GoldenFrameTests.typed("HWPT_NESTED") + [.enter, .character("3")])
        #expect(!twin.render(width: 160, height: 40).text.contains("stale IOTLB"))
    }
}
