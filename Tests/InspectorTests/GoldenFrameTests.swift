import Foundation
import Testing
import HostImport
import ScenarioScript
import TerminalUI
@testable import Inspector

/// Every view of the inspector on the default scenario, at 80x24 and 120x40 (the layouts at
/// 80x24 and the minimum 60x16), in the dark theme and in monochrome, against frames checked in under `Frames/`. A frame file holds
/// the text, then each row's styles as letters with a legend, so colour changes show in a
/// diff too. `UPDATE_GOLDEN=1 swift test --filter GoldenFrameTests` rewrites them.
@Suite(.serialized)
struct GoldenFrameTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let frames = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Frames")

    /// A view and the keys that reach it from the first frame.
    struct View: CustomTestStringConvertible, Sendable {
        var name: String
        var keys: [Key]
        var model = Model.scenario
        /// Drawn with the ASCII symbols (no UTF-8 locale).
        var ascii = false
        var testDescription: String { name }
    }

    /// What a view opens on.
    enum Model: Sendable {
        /// The default scenario.
        case scenario
        /// The VT-d host of `HostFixtures` with its faults (`tui --host --faults`).
        case host
        /// The mtty QEMU trace (`tui --qemu-trace`), opened on the timeline.
        case trace
        /// The mtty trace with two wrong rets: two marks.
        case corruptedTrace
        /// `Scenarios.failingResults`: a translation that faults and an expectation that fails.
        case failing
        /// Examples/stale_iotlb_vtd.iommu: a guest remaps a page without invalidating it.
        case staleIOTLB
    }

    static func typed(_ text: String) -> [Key] { text.map { .character($0) } }

    static let views: [View] = [
        View(name: "tree", keys: []),
        View(name: "details-nested", keys: [.character("/")] + typed("HWPT_NESTED") + [.enter, .character("2")]),
        View(name: "details-device", keys: [.character("/")] + typed("DEVICE 1  nic0") + [.enter, .character("2")]),
        // An IOMMU row: its devices and what GET_HW_INFO reports, decoded.
        View(name: "details-iommu", keys: [.character("/")] + typed("smmu0") + [.enter, .character("2")]),
        View(name: "help", keys: [.character("?")]),
        // Without UTF-8: each glyph one meaning (the changed mark beside the expander, `$` a cut
        // line); the IOVA map's own ASCII glyphs.
        View(name: "tree-ascii", keys: [.character(":")] + typed("ioas_unmap ioas_id=3 iova=0 length=u64max") + [.enter],
             ascii: true),
        View(name: "iovamap-ascii", keys: [.character("5")], ascii: true),
        View(name: "pagetable-guest", keys: [.character("/")] + typed("HWPT_NESTED") + [.enter, .character("3")]),
        // The guest's view: the nested HWPT's stage-1 leaves, each with its IPA and final PA,
        // in the IOVA map; the guest table's leaf with its PA beside its IPA.
        View(name: "iovamap-guest", keys: [.character("/")] + typed("HWPT_NESTED") + [.enter, .character("5")]),
        View(name: "pagetable-guest-leaf", keys: [.character("/")] + typed("HWPT_NESTED") + [.enter, .character("3"), .character("/")]
             + typed("0x12345000") + [.enter]),
        View(name: "pagetable-stage2", keys: [.character("/")] + typed("HWPT_PAGING") + [.enter, .character("3"), .enter, .enter]),
        View(name: "iovamap", keys: [.character("5")]),
        View(name: "iovamap-zoom", keys: [.character("5"), .character("j"), .character("j"), .character("j"), .enter]),
        View(name: "walk-nested", keys: [.character("/")] + typed("DEVICE 1  nic0") + [.enter, .character("4")]),
        // The bits views: a stage-2 leaf's fields with their bits, meanings and spec sections
        // under its IOVA's index strip; the nested walk's selected fetch explained the same way.
        View(name: "pagetable-bits", keys: [.character("/")] + typed("HWPT_PAGING") + [.enter, .character("3"), .enter, .enter,
                                                                                       .character("b")]),
        View(name: "walk-bits", keys: [.character("/")] + typed("DEVICE 1  nic0") + [.enter, .character("4"), .character("b"),
                                                                                    .character("j"), .character("j")]),
        // A vEVENTQ made and fed from the command line: the queued SMMUv3 event of a guest
        // stage-1 fault (arm_smmu_handle_event forwarding it with the vSID) in the details.
        View(name: "details-veventq", keys: [.character(":")] + typed("veventq_alloc viommu_id=5 type=arm_smmuv3 veventq_depth=4")
             + [.enter, .character(":")] + typed("translate dev_id=1 iova=0x0") + [.enter, .character("/")] + typed("VEVENTQ")
             + [.enter, .character("2")]),
        View(name: "walk-step", keys: [.character("/")] + typed("DEVICE 1  nic0") + [.enter, .character("4"), .character("s"),
                                                                                     .character(" "), .character(" "), .character(" ")]),
        // The inspector on a host: units, groups, devices and kernel domains; a unit's
        // registers; a kernel domain's L3 table with the undumped range unknown; the faults
        // pane; a fault's walk opened with Enter.
        View(name: "host-tree", keys: [], model: .host),
        View(name: "host-unit", keys: [.character("j")], model: .host),
        View(name: "host-pagetable", keys: [.character("/")] + typed("DMA-FQ domain") + [.enter, .character("3"), .enter], model: .host),
        View(name: "host-faults", keys: [.character("6")], model: .host),
        View(name: "host-fault-walk", keys: [.character("6"), .enter], model: .host),
        // The timeline: the default scenario's lines stepped back to mid-way (the marker
        // between applied and not applied); the mtty trace as `tui --qemu-trace` opens it; the
        // corrupted trace at its first mark, reached with `e` from the start.
        View(name: "timeline-scenario", keys: [.character("7")] + Array(repeating: .character("["), count: 9)),
        View(name: "timeline-trace", keys: [], model: .trace),
        View(name: "timeline-mark", keys: [.character("{"), .character("e")], model: .corruptedTrace),
        // The results pane: a failing scenario's fault and failed expectation; a host's logged
        // faults; the corrupted trace's two failed lines.
        View(name: "results-failing", keys: [.character("8")], model: .failing),
        View(name: "results-host", keys: [.character("8")], model: .host),
        View(name: "results-trace", keys: [.character("8")], model: .corruptedTrace),
        // The diff pane: without a mark, how to set one; marked at the guest's first map
        // (line 18) with the model at the end, the stale entry of the remap without an invalidation selected.
        View(name: "diff-nomark", keys: [.character("9")]),
        View(name: "diff-stale", keys: DiffPaneTests.markAt(18) + [.character("9"), .character("G")], model: .staleIOTLB),
        // Without UTF-8 the walk's help names the arrow keys in words (Right, Up Down), as the
        // help's scroll keys and legend do.
        View(name: "help-walk-ascii", keys: [.character("4"), .character("?")], ascii: true),
    ]

    /// The layouts of issue 11, at 80x24 and the minimum 60x16: the walk maximised (`z`), the
    /// walk beside a hidden tree (`<` past the narrowest), the tree at its widest with the tab
    /// strip cut, the help overlay and the help scrolled to its legend.
    static let layoutViews: [View] = [
        View(name: "layout-walk-zoomed", keys: [.character("/")] + typed("DEVICE 1  nic0") + [.enter, .character("4"), .character("z")]),
        View(name: "layout-tree-hidden", keys: [.character("/")] + typed("DEVICE 1  nic0") + [.enter, .character("4")]
             + Array(repeating: .character("<"), count: 6)),
        View(name: "layout-tree-widest", keys: [.character("4")] + Array(repeating: .character(">"), count: 10)),
        View(name: "layout-help", keys: [.character("4"), .character("?")]),
        View(name: "layout-help-end", keys: [.character("4"), .character("?"), .character("G")]),
    ]

    static let mtty = repository.appendingPathComponent("Tests/HostImportTests/Fixtures/samples/qemu-trace/iommufd-backend-mtty-mdev-x86-2024.txt")

    /// The mtty sample as a wrong kernel would have printed it: EINVAL for the second map
    /// (trace line 12) and ENOMEM for the third (line 13).
    static func corruptedMtty() throws -> String {
        let text = try String(contentsOf: mtty, encoding: .utf8)
        return text.replacingOccurrences(of: "addr=0x7fb80d400000 readonly=1 (0)", with: "addr=0x7fb80d400000 readonly=1 (-22)")
            .replacingOccurrences(of: "addr=0x7fb80f700000 readonly=0 (0)", with: "addr=0x7fb80f700000 readonly=0 (-12)")
    }

    /// The inspector on a trace's replay, opened on the timeline as `tui --qemu-trace` opens it.
    static func traceApp(_ text: String, theme: String, symbols: Symbols = .unicode) throws -> InspectorApp {
        let replay = QEMUTraceScenario.replay(QEMUTraceReader.read(Array(text.utf8), file: "mtty").records, file: "mtty")
        let app = InspectorApp(model: try InspectorModel(replay: replay, unit: "trace line", title: "mtty"),
                               theme: try InspectorThemes.load(theme), symbols: symbols)
        app.show(.timeline)
        return app
    }

    static func app(theme: String, symbols: Symbols = .unicode) throws -> InspectorApp {
        let source = try String(contentsOf: repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu"), encoding: .utf8)
        let model = try InspectorModel(scenario: source, title: "default")
        return InspectorApp(model: model, theme: try InspectorThemes.load(theme), symbols: symbols)
    }

    /// The frame as text plus a style map: one letter per distinct style, in order of use.
    static func serialize(_ buffer: CellBuffer) -> String {
        var legend: [Style: Character] = [:]
        var order: [Style] = []
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rows: [String] = []
        for y in 0..<buffer.height {
            var row = ""
            for x in 0..<buffer.width {
                let style = buffer[x, y].style
                if legend[style] == nil {
                    legend[style] = letters[min(order.count, letters.count - 1)]
                    order.append(style)
                }
                row.append(legend[style]!)
            }
            rows.append(row)
        }
        let key = order.map { "\(legend[$0]!) = \(describe($0))" }
        return buffer.text + "\n--- styles ---\n" + rows.joined(separator: "\n") + "\n--- legend ---\n" + key.joined(separator: "\n") + "\n"
    }

    static func describe(_ style: Style) -> String {
        var words: [String] = []
        if style.foreground != .default { words.append("fg \(style.foreground)") }
        if style.background != .default { words.append("bg \(style.background)") }
        if style.bold { words.append("bold") }
        if style.dim { words.append("dim") }
        if style.underline { words.append("underline") }
        if style.reverse { words.append("reverse") }
        return words.isEmpty ? "plain" : words.joined(separator: " ")
    }

    static let cases: [(View, Int, Int, String)] = views.flatMap { view in
        [(80, 24), (120, 40)].flatMap { size in ["dark", "mono"].map { (view, size.0, size.1, $0) } }
    }

    /// The high-contrast theme on the tree, the walk and the help, at 80x24.
    static let themeCases: [(View, Int, Int, String)] = ["tree", "walk-nested", "help"].compactMap { name in
        views.first { $0.name == name }.map { ($0, 80, 24, "high-contrast") }
    }

    static let layoutCases: [(View, Int, Int, String)] = layoutViews.flatMap { view in
        [(80, 24), (60, 16)].flatMap { size in ["dark", "mono"].map { (view, size.0, size.1, $0) } }
    }

    @Test(arguments: cases.map { "\($0.0.name)-\($0.1)x\($0.2)-\($0.3)" })
    func frameMatchesGolden(_ name: String) throws {
        try Self.check(Self.cases.first { "\($0.0.name)-\($0.1)x\($0.2)-\($0.3)" == name }!, name: name)
    }

    @Test(arguments: themeCases.map { "\($0.0.name)-\($0.1)x\($0.2)-\($0.3)" })
    func themeFrameMatchesGolden(_ name: String) throws {
        try Self.check(Self.themeCases.first { "\($0.0.name)-\($0.1)x\($0.2)-\($0.3)" == name }!, name: name)
    }

    @Test(arguments: layoutCases.map { "\($0.0.name)-\($0.1)x\($0.2)-\($0.3)" })
    func layoutFrameMatchesGolden(_ name: String) throws {
        try Self.check(Self.layoutCases.first { "\($0.0.name)-\($0.1)x\($0.2)-\($0.3)" == name }!, name: name)
    }

    /// Renders `view` at its size and theme, the keys typed, and compares it with its frame.
    static func check(_ frame: (View, Int, Int, String), name: String) throws {
        let (view, width, height, theme) = frame
        let app: InspectorApp
        switch view.model {
        case .scenario: app = try Self.app(theme: theme, symbols: view.ascii ? .ascii : .unicode)
        case .host: app = InspectorApp(model: try HostFixtures.vtdWithFaults(), theme: try InspectorThemes.load(theme), symbols: .unicode)
        case .trace: app = try Self.traceApp(try String(contentsOf: Self.mtty, encoding: .utf8), theme: theme)
        case .corruptedTrace: app = try Self.traceApp(try Self.corruptedMtty(), theme: theme)
        case .failing: app = try ResultsPaneTests.app(theme: theme)
        case .staleIOTLB: app = try DiffPaneTests.app("stale_iotlb_vtd", theme: theme)
        }
        _ = app.render(width: width, height: height)
        for key in view.keys {
            _ = app.handle(.key(key))
            _ = app.render(width: width, height: height)
        }
        let actual = Self.serialize(app.render(width: width, height: height))
        let file = frames.appendingPathComponent(name + ".frame")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try actual.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(actual == expected, "\(name): the frame differs from Frames/\(name).frame (UPDATE_GOLDEN=1 rewrites it)")
    }

    /// Below the minimum size the inspector says so instead of drawing panes, at any size.
    @Test(arguments: [(0, 0), (1, 1), (10, 3), (59, 30), (80, 15)])
    func tooSmall(_ width: Int, _ height: Int) throws {
        let app = try Self.app(theme: "mono")
        let frame = app.render(width: width, height: height)
        if width >= 10 && height >= 1 { #expect(frame.text.hasPrefix("terminal too") || frame.text.isEmpty || width < 20) }
    }

    /// Without a UTF-8 locale the frame uses ASCII borders and markers only.
    @Test func asciiFallback() throws {
        let app = try Self.app(theme: "mono", symbols: .ascii)
        let text = app.render(width: 80, height: 24).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(text.contains("+=") || text.contains("+-"))
    }
}
