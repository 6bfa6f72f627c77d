import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

/// How each kind is drawn.
extension IOVAKind {
    /// The theme role the kind is drawn in.
    public var role: String {
        switch self {
        case .hole: "hole"
        case .allowed: "allowed"
        case .outside: "outside"
        case .reserved: "reserved"
        case .direct: "direct"
        case .msi: "msi"
        case .swMSI: "sw_msi"
        case .partlyMapped, .mapped: "mapped"
        }
    }

    /// A glyph per kind, so that the map reads without colour (ASCII without UTF-8); no
    /// ASCII glyph is one the frame uses for something else (`+` corners, `~` approximate sizes).
    public func glyph(_ symbols: Symbols) -> String {
        let ascii = symbols == .ascii
        switch self {
        case .mapped: return symbols.full
        case .partlyMapped: return ascii ? "o" : "▌"
        case .swMSI: return ascii ? "S" : "◆"
        case .msi: return ascii ? "M" : "◇"
        case .direct: return ascii ? "D" : "▚"
        case .reserved: return symbols.shade
        case .outside: return ascii ? "x" : "~"
        case .allowed: return symbols.light
        case .hole: return " "
        }
    }
}

/// The IOAS address space as a zoomable map. At zoom 0 the 64-bit space is cut into
/// segments at every boundary that matters (reservations, allowed ranges, aperture edges,
/// clusters of areas), so a person reads it in a dozen rows; zooming into a row splits it
/// into up to 32 power-of-two aligned windows, down to single pages. A frame asks the
/// interval tree O(log n) questions per visible cell and row, never walking every area.
public struct IOVAMapPane: InspectorPane {
    public let kind = PaneKind.iovaMap
    public var list = ListState()
    /// The windows zoomed into, outermost first; empty shows the whole space in segments.
    public private(set) var zoom: [IOVARange] = []
    /// The IOAS drawn last (a different one resets the zoom).
    public private(set) var shownIOAS: ObjectID?
    var height = 1
    /// Rows above the list (legend and zoom line) in the last frame, for clicks.
    private var headerRows = 2
    /// The rows of the IOAS shown, for its current state.
    private var map: IOVAMap?
    /// On a nested HWPT, show the IOAS behind it (`g`) instead of the guest's view.
    public internal(set) var ioasOverGuest = false
    /// The guest's view shown last: the nested HWPT and generation it was read at, its rows.
    var guest: (key: String, nested: ObjectID, mappings: [GuestMapping])?
    /// The selection in the guest's view.
    var guestList = ListState()

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("Enter / +", "zoom into the selected row"), ("- / Backspace", "zoom out"),
         ("\(symbols.leftKey) \(symbols.rightKey) / h l", "pan by one window at this zoom"), ("/0x8000000", "jump: zoom to the page holding a hex address"),
         ("/text", "find a row whose summary contains text (zooming out to it)"), ("r", "back to the whole space"),
         ("g", "on a HWPT_NESTED: its guest's view (stage-1 IOVA ranges, each with its IPA/GPA and final PA) or the IOAS map")]
    }

    // MARK: Which IOAS

    /// The IOAS the selection works in (an HWPT, vIOMMU, vDEVICE or DEVICE goes to the IOAS
    /// behind it), else the first IOAS.
    static func ioas(for selection: ObjectID?, in graph: ObjectGraph) -> IOAS? {
        selection.flatMap(graph.ioas(behind:)) ?? graph.ioases.first
    }

    private mutating func follow(_ ioas: IOAS) {
        guard shownIOAS != ioas.id else { return }
        shownIOAS = ioas.id
        zoom = []
        list = ListState()
    }

    // MARK: Windows

    /// The row windows at the current zoom.
    mutating func windows(_ ioas: IOAS, model: ModelView) -> [IOVARange] {
        if let top = zoom.last { return IOVAMap.subdivide(top) }
        return map(ioas, model: model).segments
    }

    /// The map of `ioas` at the model's current state, made again when either changed.
    private mutating func map(_ ioas: IOAS, model: ModelView) -> IOVAMap {
        if let map, map.key == IOVAMap.key(ioas, model: model) { return map }
        let fresh = IOVAMap(ioas: ioas, model: model)
        map = fresh
        return fresh
    }

    static func padded(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    // MARK: Rendering

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.width > 0, area.height > 0 else { return }
        let symbols = context.symbols, theme = context.theme
        if let nested = guestNested(context) {
            renderGuest(nested, into: &buffer, area: area, context: context)
            return
        }
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else {
            buffer.put(Widgets.fit("No IOAS yet (ioas_alloc makes one).", width: area.width, symbols: symbols),
                       x: area.x, y: area.y, style: theme["dim"])
            return
        }
        follow(ioas)
        var y = area.y
        for line in IOVAMapNarration.legendLines(width: area.width, symbols: symbols) where y < area.maxY {
            var x = area.x
            for (text, role) in line { x = buffer.put(text, x: x, y: y, style: theme[role], clip: area) }
            y += 1
        }
        let windows = windows(ioas, model: context.model)
        let map = map(ioas, model: context.model)
        if y < area.maxY {
            buffer.put(Widgets.fit(IOVAMapNarration.crumb(ioas, zoom: zoom, rows: windows.count, symbols: symbols), width: area.width, symbols: symbols), x: area.x, y: y, style: theme["heading"])
            y += 1
        }
        headerRows = y - area.y
        let remaining = area.maxY - y
        let stripHeight = remaining >= 8 ? min(6, max(2, remaining / 3)) : 0
        let listHeight = max(0, remaining - (stripHeight > 0 ? stripHeight + 1 : 0))
        height = max(1, listHeight)
        list.move(by: 0, count: windows.count, height: listHeight)
        let visible = windows.indices.clamped(to: list.offset..<min(windows.count, list.offset + listHeight))
        let startWidth = visible.map { windows[$0].start.hex.count }.max() ?? 3
        let sizeWidth = 5
        let fixed = 2 + startWidth + 2 + sizeWidth + 1
        let barWidth = min(40, max(8, (area.width - fixed) * 2 / 5))
        let selectionStyle = theme[context.focused ? "selection" : "selection_unfocused"]
        for (line, index) in visible.enumerated() {
            let row = map.row(windows[index], barWidth: barWidth)
            let rowY = y + line
            let selected = index == list.selected
            let prefix = (selected ? symbols.collapsed : " ") + " " + String(repeating: " ", count: startWidth - row.window.start.hex.count)
                + row.window.start.hex + " +" + Self.padded(Units.size(of: row.window), to: sizeWidth) + " "
            var x = buffer.put(prefix, x: area.x, y: rowY, style: selected ? selectionStyle : theme["text"], clip: area)
            let bar = x
            for cell in row.cells { x = buffer.put(cell.glyph(symbols), x: x, y: rowY, style: theme[cell.role], clip: area) }
            let barEnd = x
            let summaryWidth = area.maxX - x - 1
            if summaryWidth > 0 {
                buffer.put(" " + Widgets.fit(row.summary, width: summaryWidth, symbols: symbols), x: x, y: rowY,
                           style: selected ? selectionStyle : theme[row.kind == .hole ? "dim" : "text"], clip: area)
            }
            // The selected row is one band across the pane: the bar's cells keep their
            // glyph and colour under the selection's reverse video and background.
            if selected {
                buffer.restyle(Rect(x: barEnd, y: rowY, width: max(0, area.maxX - barEnd), height: 1)) { $0 = selectionStyle }
                buffer.restyle(Rect(x: bar, y: rowY, width: max(0, barEnd - bar), height: 1)) { style in
                    style.reverse = style.reverse || selectionStyle.reverse
                    style.bold = style.bold || selectionStyle.bold
                    if selectionStyle.background != .default { style.background = selectionStyle.background }
                }
            }
        }
        guard stripHeight > 0, windows.indices.contains(list.selected) else { return }
        let stripTop = y + listHeight
        let rule = String(repeating: symbols.horizontal, count: 2) + " selected "
        buffer.put(rule + String(repeating: symbols.horizontal, count: max(0, area.width - CellBuffer.width(of: rule))),
                   x: area.x, y: stripTop, style: theme["border"], clip: area)
        let lines = map.ownerLines(windows[list.selected], symbols: symbols)
        for (offset, line) in lines.prefix(stripHeight).enumerated() {
            buffer.put(Widgets.fit(line.text, width: area.width, symbols: symbols), x: area.x, y: stripTop + 1 + offset,
                       style: theme[line.role], clip: area)
        }
    }

    // MARK: Input

    /// The selected window: its first and last IOVA, then its summary.
    public mutating func yankText(context: RenderContext) -> String? {
        if let nested = guestNested(context) {
            let rows = guestMappings(nested, context: context)
            return rows.indices.contains(guestList.selected) ? guestText(rows[guestList.selected], nested, symbols: context.symbols) : nil
        }
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return nil }
        follow(ioas)
        let rows = windows(ioas, model: context.model)
        guard rows.indices.contains(list.selected) else { return nil }
        let window = rows[list.selected]
        return "\(window.start.hex)-\(window.last.hex) " + IOVAMap.row(window, ioas: ioas, barWidth: 0).summary
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        if key == .character("g") { return toggleGuest(context) }
        if let nested = guestNested(context) { return handleGuest(key, nested, context: context) }
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return .ignored }
        follow(ioas)
        let rows = windows(ioas, model: context.model)
        if list.handle(key, count: rows.count, height: height) { return .none }
        switch key {
        case .enter, .character("+"), .character("="):
            guard rows.indices.contains(list.selected) else { return .none }
            let window = rows[list.selected]
            guard IOVAMap.childSize(of: window) != nil else { return .message("finest zoom: this row is one page") }
            zoom.append(window)
            list = ListState()
            return .none
        case .character("-"), .backspace:
            guard let popped = zoom.popLast() else { return .message("already showing the whole space") }
            if let parent = zoom.last, !parent.contains(popped.start) { zoom[zoom.count - 1] = IOVAMap.shift(parent, toContain: popped.start) }
            let outer = windows(ioas, model: context.model)
            list = ListState()
            list.select(outer.firstIndex { $0.contains(popped.start) } ?? 0, count: outer.count, height: height)
            return .none
        case .left, .character("h"), .right, .character("l"):
            guard let top = zoom.last else { return .message("zoom in (Enter) to pan") }
            let forward = key == .right || key == .character("l")
            let moved = IOVAMap.pan(top, forward: forward)
            if moved == top { return .message(forward ? "at the top of the space" : "at the bottom of the space") }
            zoom[zoom.count - 1] = moved
            return .none
        case .character("r"):
            zoom = []
            list = ListState()
            return .none
        default:
            return .ignored
        }
    }

    /// Zooms until the rows are single pages, with the row holding `address` selected.
    mutating func jump(to address: UInt64, ioas: IOAS, model: ModelView) {
        follow(ioas)
        zoom = []
        var rows = windows(ioas, model: model)
        var index = rows.firstIndex { $0.contains(address) } ?? 0
        while IOVAMap.childSize(of: rows[index]) != nil {
            zoom.append(rows[index])
            rows = IOVAMap.subdivide(rows[index])
            index = rows.firstIndex { $0.contains(address) } ?? 0
        }
        // Show a full screen of pages around the address, not just the last window's few.
        let pages = IOVAMap.rowsPerZoom * IOVAMap.finest
        if let top = zoom.last, top.last - top.start < pages - 1 {
            let start = address.alignedDown(to: pages)
            zoom[zoom.count - 1] = IOVARange(start: start, last: start + (pages - 1))
            rows = IOVAMap.subdivide(zoom[zoom.count - 1])
            index = rows.firstIndex { $0.contains(address) } ?? 0
        }
        list = ListState()
        list.select(index, count: rows.count, height: height)
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return false }
        if let address = TableText.parseAddress(text) {
            jump(to: address, ioas: ioas, model: context.model)
            return true
        }
        follow(ioas)
        let rows = windows(ioas, model: context.model)
        let summaries = rows.map { IOVAMap.row($0, ioas: ioas, barWidth: 0).summary }
        if let index = nextMatch(in: summaries, after: list.selected, needle: text, forward: forward) {
            list.select(index, count: rows.count, height: height)
            return true
        }
        // Not at this zoom: each zoom level out, to the whole space, searched from the row
        // that holds the window left; the zoom stays where it was when nothing matches.
        let (zoomed, position) = (zoom, list)
        while let inner = zoom.popLast() {
            let outer = windows(ioas, model: context.model)
            let start = outer.firstIndex { $0.contains(inner.start) } ?? 0
            let texts = outer.map { IOVAMap.row($0, ioas: ioas, barWidth: 0).summary }
            if let index = nextMatch(in: texts, after: start, needle: text, forward: forward) {
                list = ListState()
                list.select(index, count: outer.count, height: height)
                return true
            }
        }
        (zoom, list) = (zoomed, position)
        return false
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        if let nested = guestNested(context) {
            let rows = guestMappings(nested, context: context)
            let index = guestList.offset + row - 2
            if rows.indices.contains(index) { guestList.select(index, count: rows.count, height: height) }
            return .none
        }
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return .none }
        let rows = windows(ioas, model: context.model)
        let index = list.offset + row - headerRows
        guard rows.indices.contains(index) else { return .none }
        list.select(index, count: rows.count, height: height)
        return .none
    }
}
