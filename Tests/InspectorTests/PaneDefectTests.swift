import Foundation
import IOMMUCore
import ScenarioScript
import TerminalUI
import Testing
@testable import Inspector

/// Defects of the panes found by trying them (issue 11), each pinned by what a person sees.
@Suite struct PaneDefectTests {
    static func app(_ example: String, symbols: Symbols = .unicode) throws -> InspectorApp {
        let model = try InspectorModel(scenario: try PageTableAndWalkTests.example(example), title: example)
        return InspectorApp(model: model, theme: try InspectorThemes.load("mono"), symbols: symbols)
    }

    /// The default scenario (two devices behind one vSMMU), as `iommuscope tui` opens it.
    static func defaultApp(symbols: Symbols = .unicode) throws -> InspectorApp {
        try GoldenFrameTests.app(theme: "mono", symbols: symbols)
    }

    // MARK: Walk pane

    /// A fault's rows are the fetches the IOMMU made (the last one faulted), not a table
    /// read by software.
    @Test func walkFaultNamesTheHardwareFetches() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.press(.character("4"), .character("w"))
        let screen = app.screen()
        #expect(screen.contains("FAULT at stage 1 level 3: F_PERMISSION"))
        #expect(!screen.contains("translate lists no fetches"))
        #expect(screen.contains("below: the descriptors the IOMMU fetched, in order; the last one faulted"))
    }

    /// `p` walks the same IOVA with the PASID, `d` / `D` the same IOVA on the next device.
    @Test func pasidAndDeviceKeysKeepTheIOVA() throws {
        let app = try Self.defaultApp()
        app.press(.character("4"))
        app.search("0x12345678")
        #expect(app.screen().contains("DEVICE 1 nic0 ▸ IOVA 0x12345678 ▸ read ▸ no PASID"))
        app.press(.character("p"))
        var screen = app.screen()
        #expect(screen.contains("DEVICE 1 nic0 ▸ IOVA 0x12345678 ▸ read ▸ PASID 1"))
        #expect(!screen.contains("(no format"))
        // No PASID 1 is attached: the configuration faults before any table, and says so.
        #expect(screen.contains("C_BAD_SUBSTREAMID"))
        #expect(screen.contains("(no table descriptor fetched: the configuration ended the walk)"))
        app.press(.character("p"), .character("d"))
        screen = app.screen()
        #expect(screen.contains("DEVICE 2 nvme0 ▸ IOVA 0x12345678 ▸ read ▸ no PASID"))
        // nvme0 is behind the same vSMMU and guest tables: the same page.
        #expect(screen.contains("→ PA 0x103f00678"))
        app.press(.character("D"))
        #expect(app.screen().contains("DEVICE 1 nic0 ▸ IOVA 0x12345678"))
    }

    // MARK: Tree

    /// Stepping the timeline moves rows; the cursor stays on its object while it exists.
    @Test func treeCursorFollowsItsObjectAcrossSteps() throws {
        let app = try Self.defaultApp()
        // DEVICE 1, not the last row: a cursor kept by position would land on DEVICE 2.
        app.search("DEVICE 1  nic0")
        #expect(app.tree.rows(app.model.view)[app.tree.list.selected].label.hasPrefix("DEVICE 1"))
        let device = try #require(app.tree.selectedObject(app.model.view))
        let start = try #require(app.tree.rows(app.model.view).firstIndex { $0.object == device && $0.label.hasPrefix("DEVICE") })
        var moved = false
        for _ in 0..<12 {
            app.press(.character("["))
            _ = app.screen()
            let rows = app.tree.rows(app.model.view)
            guard let index = rows.firstIndex(where: { $0.object == device && $0.label.hasPrefix("DEVICE") }) else { break }
            moved = moved || index != start
            #expect(app.tree.selectedObject(app.model.view) == device)
            #expect(app.screen().contains("▸ DEVICE 1 "))
        }
        #expect(moved, "no step moved DEVICE 1's row: the test shows nothing")
    }

    /// A nested HWPT's row names the devices attached to it, as a DEVICE row names its HWPT.
    @Test func nestedRowsNameTheirDevices() throws {
        let app = try Self.defaultApp()
        let labels = app.tree.rows(app.model.view).map(\.label)
        #expect(labels.contains("HWPT_NESTED 8  ← DEVICE 1, 2"))
    }

    /// An IOMMU row's details: what GET_HW_INFO returns for it and its devices (Enter
    /// follows a bound one).
    @Test func iommuRowsHaveDetails() throws {
        let app = try Self.defaultApp()
        app.selectInTree("smmu0")
        app.press(.character("2"))
        let screen = app.screen()
        #expect(!screen.contains("Select an object in the tree"))
        #expect(screen.contains("smmu0  arm-smmu-v3"))
        #expect(screen.contains("IOMMU_GET_HW_INFO arm_smmuv3"))
        #expect(screen.contains("idr0 = 0x"))
        // The ID registers it reports, decoded.
        #expect(screen.contains("decoded ("))
        #expect(screen.contains("→ nic0  sid 0x100  DEVICE 1"))
        #expect(screen.contains("→ nvme0  sid 0x200  DEVICE 2"))
        // The page table and the walk have nothing of an IOMMU row's own: they say what does.
        app.press(.character("3"))
        #expect(app.screen().contains("Select a HWPT_PAGING, HWPT_NESTED or DEVICE in the tree (1)."))
        // Enter on a device line follows it to its DEVICE.
        app.press(.character("2"))
        for _ in 0..<2 { app.press(.character("j")) }
        app.press(.enter)
        #expect(app.screen().contains("iommuscope ▸ default ▸ DEVICE 1"))
    }

    /// When the rows overflow the pane, its last line says how many are above and below.
    @Test func treeShowsWhatOverflows() throws {
        let app = try Self.defaultApp()
        var pane = ObjectTreePane()
        let count = pane.rows(app.model.view).count
        var buffer = CellBuffer(width: 40, height: 6)
        let context = RenderContext(model: app.model.view, selection: nil, theme: app.theme, symbols: .unicode, focused: true, search: nil)
        pane.render(into: &buffer, area: Rect(x: 0, y: 0, width: 40, height: 6), context: context)
        let lines = buffer.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[5].hasSuffix("0 above, \(count - 5) below"))
        for _ in 0..<count { _ = pane.handle(.down, context: context) }
        buffer = CellBuffer(width: 40, height: 6)
        pane.render(into: &buffer, area: Rect(x: 0, y: 0, width: 40, height: 6), context: context)
        #expect(buffer.text.split(separator: "\n", omittingEmptySubsequences: false)[5].hasSuffix("\(count - 5) above, 0 below"))
        // Rows that fit say nothing, and all show, from the first.
        buffer = CellBuffer(width: 40, height: count + 2)
        pane.render(into: &buffer, area: Rect(x: 0, y: 0, width: 40, height: count + 2), context: context)
        #expect(!buffer.text.contains("above"))
        #expect(buffer.text.hasPrefix("▾ Platform"))
    }

    // MARK: Details wording

    @Test func detailsWording() throws {
        let app = try Self.defaultApp()
        app.selectInTree("IOAS 3")
        app.press(.character("2"))
        var screen = app.screen()
        #expect(screen.contains("1 area  iova_alignment"))
        app.press(.character("1"))
        app.selectInTree("HWPT_PAGING 4")
        app.press(.character("2"))
        screen = app.screen()
        #expect(screen.contains("page sizes 4K|2M|1G"))
        #expect(screen.contains("→ IOAS 3"))
        #expect(!screen.contains("IOAS IOAS"))
        #expect(DetailsPane.pageSizes(0x4020_1000) == "4K|2M|1G")
        #expect(DetailsPane.pageSizes(0) == "none")
    }

    /// A VT-d device is named by its requester ID as the kernel prints a BDF, not a StreamID.
    @Test func vtdDevicesShowTheirBDF() throws {
        let app = try Self.app("vtd_nested_guest.iommu")
        let platform = try #require(app.tree.rows(app.model.view).first { $0.key.hasPrefix("pdev:") })
        #expect(platform.label.contains("  rid "))
        #expect(!platform.label.contains("sid"))
        #expect(DetailsPane.requester(0x0010, on: .intelVTd) == "rid 00:02.0")
        #expect(DetailsPane.requester(0x1a3, on: .amdVi) == "rid 01:14.3")
        #expect(DetailsPane.requester(0x100, on: .armSMMUv3) == "sid 0x100")
        app.selectInTree("DEVICE")
        app.press(.character("2"))
        let screen = app.screen()
        #expect(screen.contains("(intel-vtd)  rid "))
        // The unit's cap_reg and ecap_reg from GET_HW_INFO, decoded.
        app.press(.character("1"))
        let unit = try #require(app.tree.rows(app.model.view).first { $0.key.hasPrefix("iommu:") })
        app.selectInTree(String(unit.label.prefix { $0 != " " }))
        app.press(.character("2"))
        let details = app.screen()
        #expect(details.contains("IOMMU_GET_HW_INFO intel_vtd"))
        #expect(details.contains("cap_reg = 0x"))
        #expect(details.contains("decoded ("))
    }

    // MARK: Search

    /// `/ADDRESS` in the page table descends from the root to the entry that ends the walk.
    @Test func pageTableAddressSearchDescendsToTheLeaf() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.selectInTree("HWPT_NESTED 6")
        app.press(.character("3"))
        app.search("0x20000abc")
        var screen = app.screen()
        #expect(screen.contains("HWPT 6 guest-S1 ▸ L0[0x000] ▸ L1[0x000] ▸ L2[0x100] ▸ L3 "))
        #expect(screen.contains("L3[0x000] @ GPA"))
        // Going up selects the entry each level descended through.
        app.press(.backspace)
        screen = app.screen()
        #expect(screen.contains("HWPT 6 guest-S1 ▸ L0[0x000] ▸ L1[0x000] ▸ L2 "))
        #expect(screen.contains("L2[0x100] @ GPA"))
        // An unmapped address stops at the invalid entry that ends its walk (L2[0x080]).
        app.search("0x10012345")
        #expect(app.screen().contains("HWPT 6 guest-S1 ▸ L0[0x000] ▸ L1[0x000] ▸ L2 "))
    }

    /// A text search in the IOVA map finds rows outside the zoomed window, zooming out to them.
    @Test func iovaMapSearchSeesEveryZoom() throws {
        let app = try Self.defaultApp()
        app.press(.character("5"))
        let first = app.screen()
        #expect(first.contains("whole space in"))
        app.search("0x40000000")
        #expect(!app.screen().contains("whole space in"))
        // The MSI window is outside the zoomed-in pages: the search zooms out to it.
        app.search("MSI")
        let screen = app.screen()
        #expect(screen.contains("whole space in"))
        let selected = try #require(screen.split(separator: "\n").first { $0.contains("║▸ ") })
        #expect(selected.lowercased().contains("msi"))
    }

    // MARK: Glyphs

    /// Every meaning has its own ASCII glyph, none the text's `~` (approximately).
    @Test func asciiGlyphsAreDistinct() {
        let ascii = Symbols.ascii
        let meanings = [ascii.horizontal, ascii.vertical, ascii.topLeft, ascii.expanded, ascii.collapsed, ascii.leaf, ascii.changed,
                        ascii.ellipsis, ascii.full, ascii.shade, ascii.light, ascii.cursor]
        #expect(Set(meanings).count == meanings.count)
        #expect(!meanings.contains("~"))
        #expect([ascii.topLeft, ascii.topRight, ascii.bottomLeft, ascii.bottomRight].allSatisfy { $0 == "+" })
        let map = IOVAKind.allCases.filter { $0 != .hole }.map { $0.glyph(ascii) }
        #expect(Set(map).count == map.count)
        #expect(map.allSatisfy { !meanings.contains($0) || [ascii.full, ascii.shade, ascii.light].contains($0) })
        #expect(!map.contains("~") && !map.contains("+"))
        // The breadcrumb's separator and the arrows too, and no row marker is the separator
        // (`>` was both the collapsed row and the breadcrumb's separator).
        let breadcrumb = ascii.breadcrumb.trimmingCharacters(in: .whitespaces)
        let separators = [breadcrumb, ascii.arrow, ascii.backArrow]
        #expect(Set(meanings + separators).count == meanings.count + separators.count)
        for marker in [ascii.expanded, ascii.collapsed, ascii.leaf, ascii.changed, ascii.cursor] {
            #expect(!breadcrumb.contains(marker), "\(marker) is also the breadcrumb's separator")
        }
    }

    /// A changed row keeps its expander: the mark stands in the indent before it.
    @Test func changedMarkKeepsTheExpander() throws {
        for symbols in [Symbols.unicode, .ascii] {
            let app = try Self.defaultApp(symbols: symbols)
            app.press(.character("{"))
            var seen = false
            for _ in 0..<30 {
                app.press(.character("]"))
                let screen = app.render(width: 120, height: 40).text
                for row in app.tree.rows(app.model.view, symbols: symbols) where row.changed && row.hasChildren {
                    seen = true
                    #expect(screen.contains(symbols.changed + symbols.expanded + " " + row.label.prefix(12)), "\(row.label)")
                }
            }
            #expect(seen, "no changed row with children: the test shows nothing")
        }
    }

    /// The IOVA map's selected row is one band: every cell of it in reverse video.
    @Test func iovaMapSelectionIsOneBand() throws {
        let app = try Self.defaultApp()
        app.press(.character("5"))
        let frame = app.render(width: 120, height: 40)
        let lines = frame.text.split(separator: "\n", omittingEmptySubsequences: false)
        let y = try #require(lines.firstIndex { $0.contains("║▸ ") })
        let left = try #require(lines[y].firstIndex(of: "▸")).utf16Offset(in: lines[y])
        // The pane's inner columns: from the marker to the right border.
        let right = frame.width - 2
        for x in left..<right { #expect(frame[x, y].style.reverse, "column \(x) of the selected row is not highlighted") }
    }
}
