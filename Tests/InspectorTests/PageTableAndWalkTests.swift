import Foundation
import IOMMUCore
import ScenarioScript
import TerminalUI
import Testing
@testable import Inspector

/// The page-table browser (3) and the walk view (4), driven by keys on the example scenarios.
@Suite struct PageTableAndWalkTests {
    static func example(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("Examples").appendingPathComponent(name), encoding: .utf8)
    }

    static func app(_ example: String) throws -> InspectorApp {
        let model = try InspectorModel(scenario: try Self.example(example), title: example)
        return InspectorApp(model: model, theme: try InspectorThemes.load("mono"), symbols: .unicode)
    }

    @Test func nestedGuestTableBreadcrumbRowsAndNavigation() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.selectInTree("HWPT_NESTED 6")
        app.press(.character("3"))
        var screen = app.screen()
        #expect(screen.contains("HWPT 6 guest-S1 ▸ L0 "))
        // The root (TTB0 of the guest CD) as the IOMMU reads it, through stage 2.
        #expect(screen.contains("L0 table @ GPA 0x40010000 (PA 0x"))
        #expect(screen.contains("0x000  0x40010000  0000000040011003  table  0x0–0x7fffffffff ▸ L1 @ 0x40011000"))
        #expect(screen.contains("0x001–0x1ff  511 empty  0x8000000000–0xffffffffffff"))

        app.press(.enter)
        app.press(.enter)
        screen = app.screen()
        #expect(screen.contains("HWPT 6 guest-S1 ▸ L0[0x000] ▸ L1[0x000] ▸ L2 "))
        // The guest unmapped 0x10000000 (L2[0x080]): only the 4K page's table is left.
        #expect(screen.contains("0x000–0x0ff  256 empty  0x0–0x1fffffff"))
        #expect(screen.contains("0x100  0x40012800  0000000040013003  table  0x20000000–0x201fffff ▸ L3 @ 0x40013000"))
        #expect(screen.contains("0x101–0x1ff  255 empty"))

        app.press(.enter)
        screen = app.screen()
        #expect(screen.contains("▸ L2[0x100] ▸ L3 "))
        // The guest's view: the leaf's IPA, then its final PA through stage 2.
        #expect(screen.contains("0x000  0x40013000  0000000040400fc7  page   0x20000000–0x20000fff → IPA 0x40400000 → PA 0x"))
        // The selected leaf's decoded fields in the strip: read-only (AP[2] set), Access flag set.
        #expect(screen.contains("AP[7:6]=3"))
        #expect(screen.contains("AF[10]=1"))

        app.press(.backspace)
        screen = app.screen()
        #expect(screen.contains("HWPT 6 guest-S1 ▸ L0[0x000] ▸ L1[0x000] ▸ L2 "))
        #expect(!screen.contains("L2[0x100] ▸ L3"))
        app.press(.character("h"))
        #expect(app.screen().contains("HWPT 6 guest-S1 ▸ L0[0x000] ▸ L1 "))
        app.press(.left)
        app.press(.backspace)
        #expect(app.screen().contains("HWPT 6 guest-S1 ▸ L0 "))
    }

    @Test func hostTableDeviceFollowAndAddressSearch() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.selectInTree("HWPT_PAGING 3")
        app.press(.character("3"))
        var screen = app.screen()
        #expect(screen.contains("HWPT 3 ▸ L0 "))
        #expect(screen.contains("arm-lpae-s2"))
        // The stage-2 table maps the guest's RAM at 0x40000000 with 2M blocks.
        app.press(.enter)
        screen = app.screen()
        #expect(screen.contains("HWPT 3 ▸ L0[0x000] ▸ L1 "))
        app.press(.enter)
        screen = app.screen()
        #expect(screen.contains("block  0x40000000–0x401fffff → 0x"))
        // `/` with a hex IOVA selects the entry covering it at this level.
        app.search("0x40612345")
        #expect(app.screen().contains("L2[0x003] @ PA"))

        // A DEVICE shows the HWPT it is attached to (here the nested one's guest table).
        app.press(.character("1"))
        app.selectInTree("DEVICE 1")
        app.press(.character("3"))
        #expect(app.screen().contains("HWPT 6 guest-S1 ▸ L0 "))
    }

    @Test func clickSelectsAnEntry() throws {
        let app = try Self.app("quickstart.iommu")
        app.press(.character("{"))
        for _ in 0..<8 { app.press(.character("]")) }
        app.selectInTree("HWPT_PAGING")
        app.press(.character("3"), .enter, .enter, .enter)
        let screen = app.screen()
        #expect(screen.contains("HWPT 3 ▸ L0[0x000] ▸ L1[0x000] ▸ L2[0x000] ▸ L3 "))
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        let row = try #require(lines.firstIndex { $0.contains("0x002  0x") && $0.contains("page") })
        _ = app.handle(.mouse(MouseEvent(kind: .press, x: 100, y: row)))
        #expect(app.screen().contains("L3[0x002] @ PA"))
    }

    @Test func nestedWalkStepsGridAndStepMode() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.selectInTree("DEVICE 1")
        app.press(.character("4"))
        let screen = app.screen()
        // The default IOVA is the guest's first mapping; the walk is cold.
        #expect(screen.contains("DEVICE 1 nic0 ▸ IOVA 0x20000000 ▸ read ▸ no PASID ▸ cold"))
        // As many rows as translate fetches past the caches.
        guard case .success(let translation)? = try? app.model.reader.probe(deviceID: ObjectID(1), iova: 0x2000_0000, pasid: nil,
                                                                               access: .read, caches: .bypass) else {
            Issue.record("translate failed")
            return
        }
        #expect(screen.contains("IOTLB bypassed (probe): \(translation.steps.count) fetches → PA \(translation.output.hex) (4K, r)"))
        #expect(stepRows(screen).count == translation.steps.count)
        #expect(stepRows(screen) == Array(1...translation.steps.count))
        // The grid: the CD pointer, stage-1 levels 0-3 and the output, against stage-2 levels.
        #expect(screen.contains("nested  S2 L0"))
        for label in ["CD ptr  ", "S1 L0   ", "S1 L1   ", "S1 L2   ", "S1 L3   ", "output  "] { #expect(screen.contains(label)) }
        #expect(screen.contains("40400fc7"))  // the stage-1 leaf in the S1 column
        #expect(screen.contains("S1 L3 [20:12]=0x000 0x40013000  0000000040400fc7 page  → 0x40400000 4K"))

        // Step mode: one memory access per key.
        app.press(.character("s"))
        var stepped = app.screen()
        #expect(stepped.contains("step 1/\(translation.steps.count)"))
        #expect(stepRows(stepped) == [1])
        #expect(paneText(stepped).contains("stage 2 resolves the IPA 0x40001000 of the guest's context descriptor (STE.S1ContextPtr): L0[0x000] → table at"))
        app.press(.character(" "), .character(" "), .character(" "), .right)
        stepped = app.screen()
        #expect(stepped.contains("step 5/\(translation.steps.count)"))
        #expect(stepRows(stepped) == [1, 2, 3, 4, 5])
        #expect(paneText(stepped).contains("stage 2 resolves the IPA 0x40010000 of the stage-1 level-0 table entry: L1[0x001] → table at"))
        // Later rows of the grid are not read yet.
        let output = try #require(stepped.split(separator: "\n").first { $0.contains("output  ") })
        #expect(!output.contains("40") && output.contains("·"))
        app.press(.left)
        #expect(app.screen().contains("step 4/\(translation.steps.count)"))
        app.press(.character("G"))
        #expect(paneText(app.screen()).contains("; so IOVA 0x20000000 → PA \(translation.output.hex) (4K, r)"))
    }

    @Test func faultsWarmHitAndInput() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.press(.character("4"))
        // Write to the guest's read-only page: a stage-1 permission fault at level 3.
        app.press(.character("w"))
        var screen = app.screen()
        #expect(screen.contains("▸ write ▸"))
        #expect(screen.contains("FAULT at stage 1 level 3: F_PERMISSION"))
        // The real fetches, the stage-2 walks of each stage-1 descriptor address included.
        #expect(screen.contains("where: step 19 below, stage 1 L3[0x000] @ 0x40013000"))
        // The unmapped IOVA (typed after `/`): a translation fault at the empty L2 entry.
        app.press(.character("w"))
        app.search("0x10012345")
        screen = app.screen()
        #expect(screen.contains("IOVA 0x10012345 ▸ read"))
        #expect(screen.contains("FAULT at stage 1 level 2: F_TRANSLATION"))
        #expect(screen.contains("where: step 15 below, stage 1 L2[0x080] @ 0x40012400 = 0x0000000000000000 (invalid)"))
        #expect(stepRows(screen) == Array(1...15))
        // Warm: the IOTLB as the scenario left it. Its last TLBI_NH_ALL emptied it, and the
        // cold walks just shown filled nothing, so the warm walk misses too.
        app.search("0x20000000")
        _ = app.screen()
        app.press(.character("c"))
        screen = app.screen()
        #expect(screen.contains("▸ warm"))
        #expect(screen.contains("IOTLB consulted (warm): 19 fetches"))
        #expect(stepRows(screen) == Array(1...19))
        #expect((app.model.graph.devices[0].platform.iommu as? ArmSMMUv3)?.iotlb.count == 0)

        // The inline IOVA input (digits reach it when the pane is handed keys directly).
        var pane = WalkPane()
        let context = RenderContext(model: app.model.view, selection: nil, theme: app.theme, symbols: .unicode, focused: true, search: nil)
        _ = pane.handle(.character("i"), context: context)
        for key in "0x1001234".map(Key.character) + [.backspace, .character("5")] { _ = pane.handle(key, context: context) }
        #expect(pane.editing == "0x1001235")
        _ = pane.handle(.enter, context: context)
        #expect(pane.editing == nil && pane.iova == 0x1001235)
    }

    @Test func vtdNestedWalkAndGuestTable() throws {
        let app = try Self.app("vtd_nested_guest.iommu")
        app.selectInTree("HWPT_NESTED")
        app.press(.character("3"))
        var screen = app.screen()
        #expect(screen.contains("guest-S1 ▸ L4 "))
        #expect(screen.contains("x86-64 4-level"))
        app.press(.character("4"))
        screen = app.screen()
        #expect(screen.contains("IOVA 0x20000000"))
        #expect(screen.contains("nested  S2 L4 "))
        #expect(screen.contains(" S2 L1 "))
        #expect(screen.contains("S1 L1   "))
        #expect(stepRows(screen).count > 10)
    }
}

/// The right pane's lines joined by blanks (a wrapped sentence reads as one).
private func paneText(_ screen: String) -> String {
    screen.split(separator: "\n").compactMap { line -> String? in
        let parts = line.split(whereSeparator: { $0 == "║" || $0 == "│" })
        guard parts.count >= 2 else { return nil }
        return parts[parts.count - 1].trimmingCharacters(in: .whitespaces)
    }.joined(separator: " ")
}

/// The numbers of the walk's step rows on screen.
private func stepRows(_ screen: String) -> [Int] {
    screen.split(separator: "\n").compactMap { line -> Int? in
        // The right pane's text is after the last vertical border but one.
        let parts = line.split(whereSeparator: { $0 == "║" || $0 == "│" })
        guard parts.count >= 2 else { return nil }
        let fields = parts[parts.count - 1].split(separator: " ")
        guard fields.count > 2, let number = Int(fields[0]), fields[1].hasPrefix("S"), fields[2].hasPrefix("L") else { return nil }
        return number
    }
}

extension InspectorApp {
    func press(_ keys: Key...) {
        for key in keys { _ = handle(.key(key)) }
    }

    func screen(width: Int = 160, height: Int = 40) -> String { render(width: width, height: height).text }

    /// Selects the first tree row whose label starts with `label` (the tree must have focus).
    func selectInTree(_ label: String) {
        press(.character("g"))
        guard let index = tree.rows(model.view).firstIndex(where: { $0.label.hasPrefix(label) }) else {
            Issue.record("no tree row \(label)")
            return
        }
        for _ in 0..<index { press(.character("j")) }
    }

    /// `/` text Enter, as typed.
    func search(_ text: String) {
        press(.character("/"))
        for character in text { press(.character(character)) }
        press(.enter)
    }
}

extension PageTableAndWalkTests {
    /// While the walk pane edits the IOVA, every key reaches it, digits and q included.
    @Test func inlineIOVAInputGetsEveryKey() throws {
        let app = try Self.app("arm_nested_guest.iommu")
        app.press(.character("4"))
        app.press(.character("i"))
        for character in "0x10000000" { app.press(.character(character)) }
        app.press(.enter)
        #expect(app.screen().contains("IOVA 0x10000000"))
        #expect(app.mode == .normal)
    }
}
