import Foundation
import IOMMUCore
import ScenarioScript
import TerminalUI
import Testing
@testable import Inspector

/// The IOVA map: segments of the default scenario's IOAS, zoom, pan, jump, legend, the
/// ASCII fallback, and a frame over 100 000 areas.
@Suite struct IOVAMapTests {
    static let scenarioURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu")

    static func defaultModel() throws -> InspectorModel {
        let source = try String(contentsOf: scenarioURL, encoding: .utf8)
        return try InspectorModel(scenario: source, title: "default")
    }

    static func context(_ model: InspectorModel, symbols: Symbols = .unicode, selection: ObjectID? = nil) throws -> RenderContext {
        RenderContext(model: model.view, selection: selection, theme: try InspectorThemes.load("dark"), symbols: symbols,
                      focused: true, search: nil)
    }

    static func firstIOAS(_ model: InspectorModel) -> IOAS {
        model.graph.ioases.first!
    }

    /// The pane drawn alone into a 90x30 area.
    static func draw(_ pane: inout IOVAMapPane, _ context: RenderContext, width: Int = 90, height: Int = 30) -> CellBuffer {
        var buffer = CellBuffer(width: width, height: height)
        pane.render(into: &buffer, area: buffer.area, context: context)
        return buffer
    }

    /// The rows at the current zoom, with a bar of `bar` cells.
    static func rows(_ pane: inout IOVAMapPane, _ model: InspectorModel, bar: Int = 32) -> [IOVAMapRow] {
        let ioas = firstIOAS(model)
        return pane.windows(ioas, model: model.view).map { IOVAMap.row($0, ioas: ioas, barWidth: bar) }
    }

    @Test func defaultScenarioSegments() throws {
        let model = try Self.defaultModel()
        var pane = IOVAMapPane()
        let rows = Self.rows(&pane, model)
        // The whole space, cut at the SW_MSI window, the area and the aperture's end.
        #expect(rows.first?.window.start == 0)
        #expect(rows.last?.window.last == .max)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.window.last &+ 1 == $1.window.start })
        #expect(rows.count < 12)
        let swMSI = try #require(rows.first { $0.window == IOVARange(start: 0x800_0000, last: 0x80f_ffff) })
        #expect(swMSI.kind == .swMSI)
        #expect(swMSI.summary == "sw_msi DEVICE 1,2")
        #expect(swMSI.cells.allSatisfy { $0 == .swMSI })
        let area = try #require(rows.first { $0.window == IOVARange(start: 0x4000_0000, last: 0x43ff_ffff) })
        #expect(area.kind == .mapped)
        #expect(area.cells.allSatisfy { $0 == .mapped })
        #expect(area.summary == "1 area, 2M blocks")
        let outside = try #require(rows.first { $0.window == IOVARange(start: 1 << 48, last: .max) })
        #expect(outside.kind == .outside)
        #expect(outside.cells.allSatisfy { $0 == .outside })
        #expect(outside.summary == "outside aperture HWPT 4")
        let free = try #require(rows.first { $0.window == IOVARange(start: 0, last: 0x7ff_ffff) })
        #expect(free.summary == "free" && free.cells.allSatisfy { $0 == .hole })

        // Drawn: legend first, then rows with range, size, bar and summary.
        let text = Self.draw(&pane, try Self.context(model)).text
        #expect(text.contains("0x8000000 +1M    ◆◆◆◆"))
        #expect(text.contains("sw_msi DEVICE 1,2"))
        #expect(text.contains("0x40000000 +64M   ████"))
        #expect(text.contains("1 area, 2M blocks"))
        #expect(text.contains("0x44000000 +~256T"))
        #expect(text.contains("0x1000000000000 +~16E  ~~~~"))
        #expect(text.contains("outside aperture HWPT 4"))
    }

    @Test func legend() throws {
        let model = try Self.defaultModel()
        var pane = IOVAMapPane()
        let buffer = Self.draw(&pane, try Self.context(model), width: 160)
        let legend = buffer.text.split(separator: "\n").first.map(String.init) ?? ""
        for (glyph, label) in [("█", "mapped"), ("▌", "partly mapped"), ("◆", "sw_msi"), ("◇", "msi"), ("▚", "direct"),
                               ("▒", "reserved"), ("~", "outside aperture"), ("░", "allowed, free"), ("' '", "hole")] {
            #expect(legend.contains("\(glyph) \(label)"), "legend lacks \(glyph) \(label): \(legend)")
        }
        // Each glyph in its theme role, so colour and glyph agree.
        let theme = try InspectorThemes.load("dark")
        let x = Array(legend).firstIndex(of: "◆")!
        #expect(buffer[x, 0].style == theme["sw_msi"])
        // Narrow panes wrap the legend rather than cut it.
        var narrow = IOVAMapPane()
        let lines = Self.draw(&narrow, try Self.context(model), width: 48).text.split(separator: "\n").prefix(4).joined(separator: "\n")
        #expect(lines.contains("hole") && lines.contains("mapped"))
    }

    @Test func zoomPanAndJump() throws {
        let model = try Self.defaultModel()
        let context = try Self.context(model)
        var pane = IOVAMapPane()
        _ = Self.draw(&pane, context)
        let top = Self.rows(&pane, model)
        let areaIndex = try #require(top.firstIndex { $0.window.start == 0x4000_0000 })
        for _ in 0..<areaIndex { _ = pane.handle(.down, context: context) }
        // Zoom in: the 64M area in 32 rows of 2M, each one 2M block.
        #expect(pane.handle(.enter, context: context) == .none)
        var rows = Self.rows(&pane, model)
        #expect(pane.zoom == [IOVARange(start: 0x4000_0000, last: 0x43ff_ffff)])
        #expect(rows.count == 32)
        #expect(rows.allSatisfy { ($0.window.last - $0.window.start) == 0x1f_ffff && $0.summary == "1 area, 2M blocks" })
        // Pan right by the window's width: the 64M after the area is free.
        _ = pane.handle(.character("l"), context: context)
        #expect(pane.zoom.last == IOVARange(start: 0x4400_0000, last: 0x47ff_ffff))
        rows = Self.rows(&pane, model)
        #expect(rows.allSatisfy { $0.kind == .hole })
        _ = pane.handle(.left, context: context)
        #expect(pane.zoom.last == IOVARange(start: 0x4000_0000, last: 0x43ff_ffff))
        // Zoom out: back to the segments, the area's row selected.
        _ = pane.handle(.character("-"), context: context)
        #expect(pane.zoom.isEmpty)
        #expect(pane.list.selected == areaIndex)
        #expect(pane.handle(.backspace, context: context) == .message("already showing the whole space"))
        #expect(pane.handle(.right, context: context) == .message("zoom in (Enter) to pan"))

        // Jump: down to the page holding the SW_MSI doorbell, whose owners show below.
        let found1 = pane.search("0x8000abc", forward: true, context: context)
        #expect(found1)
        rows = Self.rows(&pane, model)
        let selected = rows[pane.list.selected]
        #expect(selected.window == IOVARange(start: 0x800_0000, last: 0x800_0fff))
        #expect(selected.kind == .swMSI)
        let text = Self.draw(&pane, context).text
        #expect(text.contains("0x8000000-0x8000fff  4K"))
        #expect(text.contains("reserved 0x8000000-0x80fffff  sw_msi of DEVICE 1"))
        #expect(text.contains("HWPT 4 maps 0x8000000 → 0x8090000 (MSI doorbell)"))
        #expect(rows.count == 32)
        // Zooming past a page is refused.
        #expect(pane.handle(.enter, context: context) == .message("finest zoom: this row is one page"))
        // A jump into the area names it, with its user VA and the leaf size in the domain.
        let found2 = pane.search("4000_1000", forward: true, context: context)
        #expect(found2)
        let area = Self.draw(&pane, context).text
        #expect(area.contains("area 0x40000000-0x43ffffff  rw  user_va 0x7f0000000000"))
        #expect(area.contains("HWPT 4 stage-2 on smmu0: 1×2M leaves"))
        // Text that is not an address finds a row by its summary; r goes back to the top.
        _ = pane.handle(.character("r"), context: context)
        let found3 = pane.search("outside", forward: true, context: context)
        #expect(found3)
        #expect(Self.rows(&pane, model)[pane.list.selected].kind == .outside)
    }

    @Test func subdivision() {
        // Windows split into power-of-two rows, at most 33, never finer than a page.
        #expect(IOVAMap.subdivide(.all).count == 32)
        #expect(IOVAMap.subdivide(IOVARange(start: 0x1000, last: 0x4000_0fff)).count == 33)
        #expect(IOVAMap.subdivide(IOVARange(start: 0, last: 0x7fff)).allSatisfy { $0.last - $0.start == 0xfff })
        #expect(IOVAMap.childSize(of: IOVARange(start: 0, last: 0xfff)) == nil)
    }

    @Test func followsTheTreeSelection() throws {
        let model = try Self.defaultModel()
        let graph = model.graph
        let device = try #require(graph.devices.first)
        #expect(IOVAMapPane.ioas(for: device.id, in: graph) === Self.firstIOAS(model))
        let nested = try #require(graph.nodes.first { $0.kind.object is HWPTNested })
        #expect(IOVAMapPane.ioas(for: nested.id, in: graph) === Self.firstIOAS(model))
        #expect(IOVAMapPane.ioas(for: nil, in: graph) === Self.firstIOAS(model))
    }

    @Test func asciiFallback() throws {
        let model = try Self.defaultModel()
        var pane = IOVAMapPane()
        let text = Self.draw(&pane, try Self.context(model, symbols: .ascii), width: 160).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(text.contains("0x8000000 +1M    SSSS"))
        #expect(text.contains("0x40000000 +64M   ####"))
        // Outside the aperture is `x`, not the `~` of an approximate size; partly mapped `o`,
        // not a border's `+`.
        #expect(text.contains("xxxx") && !text.contains("~~~~"))
        #expect(text.contains("# mapped") && text.contains("o partly mapped") && text.contains(": allowed, free"))
    }

    /// Through the app: key 5 opens the map, `/` jumps, and the frame stays inside the screen.
    @Test func inTheApp() throws {
        let app = InspectorApp(model: try Self.defaultModel(), theme: try InspectorThemes.load("dark"), symbols: .unicode)
        _ = app.render(width: 120, height: 40)
        _ = app.handle(.key(.character("5")))
        #expect(app.main == .iovaMap)
        var text = app.render(width: 120, height: 40).text
        #expect(text.contains("IOAS 3  whole space in 6 segments"))
        for key in [Key.character("/")] + "0x12345000".map({ Key.character($0) }) + [.enter] { _ = app.handle(.key(key)) }
        text = app.render(width: 120, height: 40).text
        #expect(text.contains("0x12345000-0x12345fff  4K"))
        #expect(text.contains("free IOVA"))
        for size in [(80, 24), (60, 16)] { _ = app.render(width: size.0, height: size.1) }
    }

    /// 100 000 areas of one page, every other page, mirrored in a selftest mock domain; and a
    /// few 2M holes every 10 000 areas, so the segments show clusters.
    @Test func hundredThousandAreas() throws {
        let base = MockIOMMU.aperture.start
        let model = try InspectorModel(title: "big") {
            let session = Session()
            let fd = session.iommufd
            let ioas = try fd.ioasAlloc().rawValue
            _ = try fd.testMockDomain(ptID: ioas, deviceFlags: 0, iommu: MockIOMMU(name: "mock"))
            let buffer = try session.machine.mmap(length: 4096, alignment: 4096)
            let flags = IOASMapFlags([.readable, .writeable, .fixedIOVA]).rawValue
            var iova = base
            for index in 0..<100_000 {
                if index > 0 && index % 25_000 == 0 { iova += 1 << 26 }
                _ = try fd.ioasMap(flags: flags, ioasID: ioas, userVA: buffer, length: 4096, iova: iova)
                iova += 8192
            }
            return session
        }
        let context = try Self.context(model)
        var pane = IOVAMapPane()
        let text = Self.draw(&pane, context, width: 100, height: 40).text
        #expect(text.contains("500+ areas"))
        let rows = Self.rows(&pane, model)
        let clusters = rows.filter { $0.kind >= .partlyMapped }
        #expect(clusters.count == 4)
        #expect(clusters.first?.window.start == base)
        // Every other page is mapped: partly mapped cells, never a row per page.
        #expect(clusters.allSatisfy { $0.cells.contains(.partlyMapped) })
        // Zoomed to pages around one area: mapped, hole, mapped ...
        let found4 = pane.search((base + 0x2000 * 100).hex, forward: true, context: context)
        #expect(found4)
        let pages = Self.rows(&pane, model)
        #expect(pages[pane.list.selected].kind == .mapped)
        #expect(pages[pane.list.selected + 1].kind == .hole)
        let zoomed = Self.draw(&pane, context, width: 100, height: 40).text
        #expect(zoomed.contains("area \(IOVARange(start: base + 0x2000 * 100, length: 4096)!)  rw"))
        #expect(zoomed.contains("mirrors the areas as xarray runs"))
        // The app renders the whole frame at this scale too.
        let app = InspectorApp(model: model, theme: try InspectorThemes.load("dark"), symbols: .unicode)
        _ = app.handle(.key(.character("5")))
        #expect(app.render(width: 120, height: 40).text.contains("500+ areas"))
    }

    /// The map's rows belong to one state of the model: the same state answers from the rows
    /// already made, a command that changes the IOAS gives a new map whose rows say so.
    @Test func rowsBelongToOneModelState() throws {
        let model = try Self.defaultModel()
        let ioas = Self.firstIOAS(model)
        let map = IOVAMap(ioas: ioas, model: model.view)
        let window = IOVARange(start: 0x4000_0000, last: 0x43ff_ffff)
        #expect(map.row(window, barWidth: 16).summary == "1 area, 2M blocks")
        #expect(IOVAMap.key(ioas, model: model.view) == map.key)
        _ = model.run(command: "ioas_unmap ioas_id=3 iova=0 length=u64max")
        #expect(IOVAMap.key(ioas, model: model.view) != map.key)
        #expect(IOVAMap(ioas: ioas, model: model.view).row(window, barWidth: 16).summary == "free")
    }

    /// The details of an IOAS name each reservation's owner, and Enter follows to it.
    @Test func reservationsFollowToTheirOwners() throws {
        let model = try Self.defaultModel()
        var context = try Self.context(model, selection: ObjectID(3))
        var details = DetailsPane()
        let lines = details.lines(context)
        let index = try #require(lines.firstIndex { $0.text.hasPrefix("reserved") && $0.text.hasSuffix("sw_msi of DEVICE 1") })
        #expect(lines[index].target == ObjectID(1))
        let outside = try #require(lines.first { $0.text.hasSuffix("outside the aperture of HWPT 4") })
        #expect(outside.target == ObjectID(4))
        context.focused = true
        for _ in 0..<index { _ = details.handle(.down, context: context) }
        #expect(details.handle(.enter, context: context) == .select(ObjectID(1)))
    }
}
