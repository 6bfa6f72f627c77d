import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

/// What a stretch of IOVA holds. The raw value is the drawing priority: a bar cell that
/// spans several kinds shows the most important one.
public enum IOVAKind: Int, CaseIterable, Comparable, Sendable {
    case hole, allowed, outside, reserved, direct, msi, swMSI, partlyMapped, mapped

    public static func < (a: IOVAKind, b: IOVAKind) -> Bool { a.rawValue < b.rawValue }

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

    /// A glyph per kind, so that the map reads without colour (ASCII without UTF-8).
    public func glyph(_ symbols: Symbols) -> String {
        let ascii = symbols == .ascii
        switch self {
        case .mapped: return symbols.full
        case .partlyMapped: return ascii ? "+" : "▌"
        case .swMSI: return ascii ? "S" : "◆"
        case .msi: return ascii ? "M" : "◇"
        case .direct: return ascii ? "D" : "▚"
        case .reserved: return symbols.shade
        case .outside: return "~"
        case .allowed: return symbols.light
        case .hole: return " "
        }
    }

    public var label: String {
        switch self {
        case .mapped: "mapped"
        case .partlyMapped: "partly mapped"
        case .swMSI: "sw_msi"
        case .msi: "msi"
        case .direct: "direct"
        case .reserved: "reserved"
        case .outside: "outside aperture"
        case .allowed: "allowed, free"
        case .hole: "hole"
        }
    }

    /// The kind a reservation gives the addresses it covers.
    init(_ owner: ReservationOwner) {
        switch owner {
        case .device(_, let type):
            switch type {
            case .swMSI: self = .swMSI
            case .msi: self = .msi
            case .direct, .directRelaxable: self = .direct
            case .reserved: self = .reserved
            }
        case .domain: self = .outside
        case .test: self = .reserved
        }
    }
}

/// One row of the IOVA map: a window of the address space, its bar (one kind per cell, each
/// cell an equal slice of the window) and a short summary of what is there.
public struct IOVAMapRow: Equatable {
    public var window: IOVARange
    public var cells: [IOVAKind]
    public var summary: String
    /// The most important kind anywhere in the window.
    public var kind: IOVAKind
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
    private var height = 1
    /// Rows above the list (legend and zoom line) in the last frame, for clicks.
    private var headerRows = 2
    private var segmentCache: (key: [UInt64], segments: [IOVARange])?
    /// Rows already computed for this state of the IOAS and this bar width: a frame that
    /// changes nothing (or only the selection) asks the tree nothing again.
    private var rowCache: (key: [UInt64], rows: [IOVARange: IOVAMapRow])?

    /// Rows a zoom level splits a window into (at most, plus one for misalignment).
    static let rowsPerZoom: UInt64 = 32
    /// The finest window: one page.
    static let finest: UInt64 = pageSize
    /// Areas are counted up to this many per row (counting costs what it counts).
    static let countLimit = 500
    /// At most this many clusters of areas become segments at zoom 0.
    static let clusterLimit = 16

    public init() {}

    public var keyHelp: [(key: String, action: String)] {
        [("Enter / +", "zoom into the selected row"), ("- / Backspace", "zoom out"),
         ("← → / h l", "pan by one window at this zoom"), ("/0x8000000", "jump: zoom to the page holding a hex address"),
         ("/text", "find a row whose summary contains text"), ("r", "back to the whole space")]
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
    mutating func windows(_ ioas: IOAS, model: InspectorModel) -> [IOVARange] {
        if let top = zoom.last { return Self.subdivide(top) }
        return segments(ioas, model: model)
    }

    /// Zoom 0: the whole space cut at every interesting boundary (cached per model change).
    mutating func segments(_ ioas: IOAS, model: InspectorModel) -> [IOVARange] {
        let key = Self.stateKey(ioas, model: model)
        if let segmentCache, segmentCache.key == key { return segmentCache.segments }
        let segments = Self.segments(of: ioas)
        segmentCache = (key, segments)
        return segments
    }

    /// What the cached segments and rows depend on: the IOAS and the model's generation
    /// (bumped by every step and command), plus counts as a guard.
    static func stateKey(_ ioas: IOAS, model: InspectorModel) -> [UInt64] {
        [UInt64(ioas.id.rawValue), UInt64(model.generation), UInt64(ioas.areas.count), UInt64(ioas.reservations.count),
         UInt64(ioas.allowedRanges.count), UInt64(ioas.hwpts.count),
         UInt64(ioas.hwpts.reduce(0) { $0 + $1.domain.table.mappingCount })]
    }

    /// The row of `window`, from the cache when the IOAS has not changed.
    private mutating func cachedRow(_ window: IOVARange, ioas: IOAS, model: InspectorModel, barWidth: Int) -> IOVAMapRow {
        let key = Self.stateKey(ioas, model: model) + [UInt64(barWidth)]
        if rowCache?.key != key || rowCache!.rows.count > 4096 { rowCache = (key, [:]) }
        if let row = rowCache?.rows[window] { return row }
        let row = Self.row(window, ioas: ioas, barWidth: barWidth)
        rowCache?.rows[window] = row
        return row
    }

    static func segments(of ioas: IOAS) -> [IOVARange] {
        var cuts: Set<UInt64> = [0]
        func cut(_ range: IOVARange) {
            cuts.insert(range.start)
            if range.last < .max { cuts.insert(range.last + 1) }
        }
        for reservation in ioas.reservations.prefix(256) { cut(reservation.range) }
        for allowed in ioas.allowedRanges.prefix(256) { cut(allowed) }
        for hwpt in ioas.hwpts { cut(hwpt.domain.aperture) }
        for cluster in clusters(of: ioas.areas) { cut(cluster) }
        let starts = cuts.sorted()
        return starts.indices.map { index in
            IOVARange(start: starts[index], last: index + 1 < starts.count ? starts[index + 1] - 1 : .max)
        }
    }

    /// Groups of areas separated by large holes: the holes of at least 2^k, for the smallest
    /// k (down to 64K) that leaves at most `clusterLimit` groups. Each try stops as soon as it
    /// finds too many holes, so this is O(clusters · log n) however many areas there are.
    static func clusters(of areas: IntervalTree<IOASArea>) -> [IOVARange] {
        guard !areas.isEmpty else { return [] }
        var first: UInt64 = 0
        areas.forEach(intersecting: .all) { range, _ in first = range.start; return false }
        // The last area's end: the largest address from which some area still lies above.
        var low: UInt64 = first, high: UInt64 = .max
        while low < high {
            let middle = low + (high - low) / 2 + 1
            if areas.intersects(IOVARange(start: middle, last: .max)) { low = middle } else { high = middle - 1 }
        }
        let extent = IOVARange(start: first, last: low)
        var chosen: [IOVARange] = []
        var exponent: UInt64 = 60
        while exponent >= 16 {
            var holes: [IOVARange] = []
            var tooMany = false
            areas.forEachHole(in: extent, minimumLength: 1 << exponent) { hole in
                holes.append(hole)
                if holes.count >= clusterLimit { tooMany = true; return false }
                return true
            }
            if tooMany { break }
            chosen = holes
            exponent -= 4
        }
        var clusters: [IOVARange] = []
        var start = extent.start
        for hole in chosen {
            if hole.start > start { clusters.append(IOVARange(start: start, last: hole.start - 1)) }
            start = hole.last &+ 1
        }
        if start <= extent.last && start >= extent.start { clusters.append(IOVARange(start: start, last: extent.last)) }
        return clusters
    }

    /// The size of the rows a window splits into: a power of two, at least a page; nil when
    /// the window is a page already.
    static func childSize(of window: IOVARange) -> UInt64? {
        let span = window.last - window.start
        guard span >= finest else { return nil }
        return max(finest, (span / rowsPerZoom + 1).roundedUpToPowerOfTwo)
    }

    /// A window split into aligned children of `childSize`, clipped to the window.
    static func subdivide(_ window: IOVARange) -> [IOVARange] {
        guard let size = childSize(of: window) else { return [window] }
        var children: [IOVARange] = []
        var start = window.start.alignedDown(to: size)
        while true {
            let last = start.checkedAdd(size - 1) ?? .max
            children.append(IOVARange(start: max(start, window.start), last: min(last, window.last)))
            guard last < window.last, let next = start.checkedAdd(size) else { break }
            start = next
        }
        return children
    }

    // MARK: Rows

    /// The row of one window, with a bar of `barWidth` cells.
    static func row(_ window: IOVARange, ioas: IOAS, barWidth: Int) -> IOVAMapRow {
        let areas = ioas.areas
        let hasArea = areas.intersects(window)
        let reservations = ioas.reservations.filter { $0.range.intersects(window) }
        let allowed = ioas.allowedRanges.filter { $0.intersects(window) }
        var cells: [IOVAKind] = []
        cells.reserveCapacity(barWidth)
        for index in 0..<max(0, barWidth) {
            let cell = slice(window, index, of: barWidth)
            cells.append(classify(cell, areas: hasArea ? areas : nil, reservations: reservations, allowed: allowed))
        }
        var kind = cells.max() ?? .hole
        var parts: [String] = []
        if hasArea {
            var count = 0
            areas.forEach(intersecting: window) { _, _ in count += 1; return count < countLimit }
            var text = count >= countLimit ? "\(countLimit)+ areas" : count == 1 ? "1 area" : "\(count) areas"
            if let sizes = pageSizeSummary(window, ioas: ioas) { text += ", " + sizes }
            parts.append(text)
            kind = max(kind, .partlyMapped)
        }
        // Reservations grouped by what they are, with their owners.
        var groups: [(label: String, owners: [String])] = []
        for reservation in reservations {
            let (label, owner) = ObjectText.ownerParts(reservation.owner)
            kind = max(kind, IOVAKind(reservation.owner))
            if let index = groups.firstIndex(where: { $0.label == label }) {
                if let owner, !groups[index].owners.contains(owner) { groups[index].owners.append(owner) }
            } else {
                groups.append((label, owner.map { [$0] } ?? []))
            }
        }
        parts += groups.map { group in
            guard !group.owners.isEmpty else { return group.label }
            // "sw_msi DEVICE 1,2": the owner's type once, then the ids.
            let type = group.owners[0].split(separator: " ").first.map(String.init) ?? ""
            let ids = group.owners.map { $0.hasPrefix(type + " ") ? String($0.dropFirst(type.count + 1)) : $0 }
            return group.label + " " + type + " " + ids.joined(separator: ",")
        }
        if parts.isEmpty {
            if !allowed.isEmpty {
                parts.append("allowed, free")
                kind = max(kind, .allowed)
            } else {
                parts.append(ioas.allowedRanges.isEmpty ? "free" : "free, not allowed")
            }
        }
        return IOVAMapRow(window: window, cells: cells, summary: parts.joined(separator: "; "), kind: kind)
    }

    /// Cell `index` of `count` equal slices of `window` (128-bit arithmetic: a window may be 2^64).
    static func slice(_ window: IOVARange, _ index: Int, of count: Int) -> IOVARange {
        let length = UInt128(window.last - window.start) + 1
        let start = window.start + UInt64(length * UInt128(index) / UInt128(count))
        let end = UInt128(window.start) + length * UInt128(index + 1) / UInt128(count)
        let last = end == 0 ? start : UInt64(end - 1)
        return IOVARange(start: start, last: max(start, last))
    }

    /// The most important kind inside `cell`: O(log n) tree questions, whatever it holds.
    static func classify(_ cell: IOVARange, areas: IntervalTree<IOASArea>?, reservations: [Reservation], allowed: [IOVARange]) -> IOVAKind {
        if let areas, areas.intersects(cell) {
            if let entry = areas.entry(containing: cell.start), entry.range.last >= cell.last { return .mapped }
            var hole = false
            areas.forEachHole(in: cell, minimumLength: 1) { _ in hole = true; return false }
            return hole ? .partlyMapped : .mapped
        }
        var best = IOVAKind.hole
        for reservation in reservations where reservation.range.intersects(cell) { best = max(best, IOVAKind(reservation.owner)) }
        if best != .hole { return best }
        return allowed.contains { $0.intersects(cell) } ? .allowed : .hole
    }

    /// The first attached domain with real descriptors.
    static func descriptorDomain(_ ioas: IOAS) -> (hwpt: HWPTPaging, table: DescriptorPageTable)? {
        for hwpt in ioas.hwpts { if let table = hwpt.domain.table as? DescriptorPageTable { return (hwpt, table) } }
        return nil
    }

    /// The leaf size that maps `iova`, read by walking the descriptors.
    static func leafSize(_ table: DescriptorPageTable, at iova: UInt64) -> UInt64? {
        guard let step = table.path(to: iova).last, step.kind == .block || step.kind == .page else { return nil }
        return table.format.leafSize(of: step.descriptor, level: step.level)
    }

    /// The leaf sizes a domain uses for the first `areaLimit` areas of a window, at most
    /// `leafLimit` leaves in all; `complete` is false when the sample stopped early.
    static func leafSizes(_ table: DescriptorPageTable, areas: IntervalTree<IOASArea>, in window: IOVARange,
                          areaLimit: Int, leafLimit: Int) -> (sizes: [UInt64: Int], complete: Bool) {
        var sizes: [UInt64: Int] = [:]
        var complete = true, seen = 0, leaves = 0
        areas.forEach(intersecting: window) { range, _ in
            if seen >= areaLimit { complete = false; return false }
            seen += 1
            var address = max(range.start, window.start)
            let end = min(range.last, window.last)
            while true {
                if leaves >= leafLimit { complete = false; return false }
                guard let size = leafSize(table, at: address) else { break }
                sizes[size, default: 0] += 1
                leaves += 1
                guard let next = address.alignedDown(to: size).checkedAdd(size), next <= end else { break }
                address = next
            }
            return true
        }
        return (sizes, complete)
    }

    /// "2M blocks", "4K pages", "4K+2M pages": what the first descriptor domain uses here.
    static func pageSizeSummary(_ window: IOVARange, ioas: IOAS) -> String? {
        guard let (_, table) = descriptorDomain(ioas) else { return nil }
        let (sizes, _) = leafSizes(table, areas: ioas.areas, in: window, areaLimit: 2, leafLimit: 8)
        guard !sizes.isEmpty else { return nil }
        let sorted = sizes.keys.sorted()
        let names = sorted.map { Units.size($0) }.joined(separator: "+")
        return names + (sorted.count == 1 && sorted[0] > table.format.granule ? " blocks" : " pages")
    }

    static func padded(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    // MARK: Rendering

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.width > 0, area.height > 0 else { return }
        let symbols = context.symbols, theme = context.theme
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else {
            buffer.put(Widgets.fit("No IOAS yet (ioas_alloc makes one).", width: area.width, symbols: symbols),
                       x: area.x, y: area.y, style: theme["dim"])
            return
        }
        follow(ioas)
        var y = area.y
        for line in legendLines(width: area.width, symbols: symbols) where y < area.maxY {
            var x = area.x
            for (text, role) in line { x = buffer.put(text, x: x, y: y, style: theme[role], clip: area) }
            y += 1
        }
        let windows = windows(ioas, model: context.model)
        if y < area.maxY {
            buffer.put(Widgets.fit(crumb(ioas, rows: windows.count, symbols: symbols), width: area.width, symbols: symbols), x: area.x, y: y, style: theme["heading"])
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
            let row = cachedRow(windows[index], ioas: ioas, model: context.model, barWidth: barWidth)
            let rowY = y + line
            let selected = index == list.selected
            let prefix = (selected ? symbols.collapsed : " ") + " " + String(repeating: " ", count: startWidth - row.window.start.hex.count)
                + row.window.start.hex + " +" + Self.padded(Units.size(of: row.window), to: sizeWidth) + " "
            var x = buffer.put(prefix, x: area.x, y: rowY, style: selected ? selectionStyle : theme["text"], clip: area)
            for cell in row.cells { x = buffer.put(cell.glyph(symbols), x: x, y: rowY, style: theme[cell.role], clip: area) }
            let summaryWidth = area.maxX - x - 1
            if summaryWidth > 0 {
                buffer.put(" " + Widgets.fit(row.summary, width: summaryWidth, symbols: symbols), x: x, y: rowY,
                           style: selected ? selectionStyle : theme[row.kind == .hole ? "dim" : "text"], clip: area)
            }
        }
        guard stripHeight > 0, windows.indices.contains(list.selected) else { return }
        let stripTop = y + listHeight
        let rule = String(repeating: symbols.horizontal, count: 2) + " selected "
        buffer.put(rule + String(repeating: symbols.horizontal, count: max(0, area.width - CellBuffer.width(of: rule))),
                   x: area.x, y: stripTop, style: theme["border"], clip: area)
        let lines = Self.ownerLines(windows[list.selected], ioas: ioas, symbols: symbols)
        for (offset, line) in lines.prefix(stripHeight).enumerated() {
            buffer.put(Widgets.fit(line.text, width: area.width, symbols: symbols), x: area.x, y: stripTop + 1 + offset,
                       style: theme[line.role], clip: area)
        }
    }

    /// The legend, wrapped to `width`: glyph and label pairs, each glyph in its role.
    func legendLines(width: Int, symbols: Symbols) -> [[(String, String)]] {
        var lines: [[(String, String)]] = [[]]
        var used = 0
        for kind in IOVAKind.allCases.reversed() {
            let glyph = kind == .hole ? "' '" : kind.glyph(symbols)
            let entry = CellBuffer.width(of: glyph) + 1 + kind.label.count + 2
            if used > 0 && used + entry > width {
                lines.append([])
                used = 0
            }
            lines[lines.count - 1] += [(glyph, kind.role), (" " + kind.label + "  ", "dim")]
            used += entry
        }
        return lines
    }

    private func crumb(_ ioas: IOAS, rows: Int, symbols: Symbols) -> String {
        guard let top = zoom.last else { return "IOAS \(ioas.id)  whole space in \(rows) segments  (Enter zooms, /0x\(symbols.ellipsis) jumps)" }
        let per = Self.childSize(of: top).map(Units.size) ?? Units.size(of: top)
        return "IOAS \(ioas.id)  zoom \(zoom.count): \(top) (\(Units.size(of: top))), \(per) per row"
    }

    /// Who owns the selected window: its areas (user VA, prot), its reservations and their
    /// owners, the allowed ranges, and what each attached domain maps there.
    static func ownerLines(_ window: IOVARange, ioas: IOAS, symbols: Symbols) -> [DetailLine] {
        let ascii = symbols == .ascii
        let arrow = ascii ? "->" : "→", times = ascii ? "x" : "×"
        var lines: [DetailLine] = []
        func add(_ text: String, _ role: String = "text") { lines.append(DetailLine(text: text, role: role, target: nil)) }
        add("\(window)  \(Units.size(of: window))", "heading")
        var shown = 0, total = 0
        ioas.areas.forEach(intersecting: window) { range, area in
            total += 1
            if shown < 3 {
                add("area \(range)  \(area.prot.shortDescription)  user_va \(area.userVA.hex)", "mapped")
                shown += 1
            }
            return total < countLimit
        }
        if total > shown { add("  \(symbols.ellipsis) and \(total >= countLimit ? "\(countLimit - shown)+" : String(total - shown)) more areas", "dim") }
        let reservations = ioas.reservations.filter { $0.range.intersects(window) }
        for reservation in reservations.prefix(4) {
            add("reserved \(reservation.range)  \(ObjectText.owner(reservation.owner))", IOVAKind(reservation.owner).role)
        }
        for allowed in ioas.allowedRanges.filter({ $0.intersects(window) }).prefix(2) { add("allowed  \(allowed)", "allowed") }
        for hwpt in ioas.hwpts.prefix(3) {
            let domain = hwpt.domain
            let name = "HWPT \(hwpt.id) \(domain.stage.rawValue) on \(domain.driver.name)"
            if total > 0 {
                if let table = domain.table as? DescriptorPageTable {
                    let (sizes, complete) = leafSizes(table, areas: ioas.areas, in: window, areaLimit: 16, leafLimit: 64)
                    add(name + ": " + (sizes.isEmpty ? "nothing mapped under the areas here"
                        : sizes.sorted { $0.key > $1.key }.map { "\($0.value)\(complete ? "" : "+")\(times)\(Units.size($0.key))" }
                            .joined(separator: " ") + (complete ? " leaves" : " leaves (sampled)")))
                } else {
                    add(name + ": mirrors the areas as xarray runs (no descriptors)")
                }
            }
            // Mappings inside reservations are the SW_MSI doorbells (areas never overlap them).
            for reservation in reservations {
                if case .domain = reservation.owner { continue }
                let cut = IOVARange(start: max(reservation.range.start, window.start), last: min(reservation.range.last, window.last))
                for mapping in domain.table.mappings(in: cut).prefix(2) {
                    add("HWPT \(hwpt.id) maps \(mapping.iova.start.hex) \(arrow) \(mapping.output.hex)"
                        + (mapping.prot.contains(.mmio) ? " (MSI doorbell)" : ""), IOVAKind(reservation.owner).role)
                }
            }
        }
        if lines.count == 1 { add("free IOVA: no area, reservation or allowed range here", "dim") }
        return lines
    }

    // MARK: Input

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return .ignored }
        follow(ioas)
        let rows = windows(ioas, model: context.model)
        if list.handle(key, count: rows.count, height: height) { return .none }
        switch key {
        case .enter, .character("+"), .character("="):
            guard rows.indices.contains(list.selected) else { return .none }
            let window = rows[list.selected]
            guard Self.childSize(of: window) != nil else { return .message("finest zoom: this row is one page") }
            zoom.append(window)
            list = ListState()
            return .none
        case .character("-"), .backspace:
            guard let popped = zoom.popLast() else { return .message("already showing the whole space") }
            if let parent = zoom.last, !parent.contains(popped.start) { zoom[zoom.count - 1] = Self.shift(parent, toContain: popped.start) }
            let outer = windows(ioas, model: context.model)
            list = ListState()
            list.select(outer.firstIndex { $0.contains(popped.start) } ?? 0, count: outer.count, height: height)
            return .none
        case .left, .character("h"), .right, .character("l"):
            guard let top = zoom.last else { return .message("zoom in (Enter) to pan") }
            let forward = key == .right || key == .character("l")
            let moved = Self.pan(top, forward: forward)
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

    /// The window moved by its own length, clamped to the 64-bit space.
    static func pan(_ window: IOVARange, forward: Bool) -> IOVARange {
        let span = window.last - window.start
        guard span < .max else { return window }
        let length = span + 1
        if forward {
            guard window.last < .max else { return window }
            if let last = window.last.checkedAdd(length) { return IOVARange(start: window.start + length, last: last) }
            return IOVARange(start: .max - span, last: .max)
        }
        guard window.start > 0 else { return window }
        if window.start >= length { return IOVARange(start: window.start - length, last: window.last - length) }
        return IOVARange(start: 0, last: span)
    }

    /// `window` moved by whole multiples of its length until it holds `address`.
    static func shift(_ window: IOVARange, toContain address: UInt64) -> IOVARange {
        let span = window.last - window.start
        guard span < .max else { return window }
        let length = span + 1
        let start: UInt64
        if address > window.last {
            start = window.start + (address - window.start) / length * length
        } else {
            let steps = (window.start - address + length - 1) / length
            start = window.start - steps * length
        }
        return IOVARange(start: start, last: start.checkedAdd(span) ?? .max)
    }

    /// A hex address as typed after `/`: `0x8000000`, `8000000`, `0x4000_0000`.
    static func parseAddress(_ text: String) -> UInt64? {
        var digits = String(text.lowercased().filter { $0 != "_" && $0 != " " })
        if digits.hasPrefix("0x") { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.count <= 16, digits.allSatisfy(\.isHexDigit) else { return nil }
        return UInt64(digits, radix: 16)
    }

    /// Zooms until the rows are single pages, with the row holding `address` selected.
    mutating func jump(to address: UInt64, ioas: IOAS, model: InspectorModel) {
        follow(ioas)
        zoom = []
        var rows = windows(ioas, model: model)
        var index = rows.firstIndex { $0.contains(address) } ?? 0
        while Self.childSize(of: rows[index]) != nil {
            zoom.append(rows[index])
            rows = Self.subdivide(rows[index])
            index = rows.firstIndex { $0.contains(address) } ?? 0
        }
        // Show a full screen of pages around the address, not just the last window's few.
        let pages = Self.rowsPerZoom * Self.finest
        if let top = zoom.last, top.last - top.start < pages - 1 {
            let start = address.alignedDown(to: pages)
            zoom[zoom.count - 1] = IOVARange(start: start, last: start + (pages - 1))
            rows = Self.subdivide(zoom[zoom.count - 1])
            index = rows.firstIndex { $0.contains(address) } ?? 0
        }
        list = ListState()
        list.select(index, count: rows.count, height: height)
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return false }
        if let address = Self.parseAddress(text) {
            jump(to: address, ioas: ioas, model: context.model)
            return true
        }
        follow(ioas)
        let rows = windows(ioas, model: context.model)
        let summaries = rows.map { Self.row($0, ioas: ioas, barWidth: 0).summary }
        guard let index = nextMatch(in: summaries, after: list.selected, needle: text, forward: forward) else { return false }
        list.select(index, count: rows.count, height: height)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        guard let ioas = Self.ioas(for: context.selection, in: context.model.graph) else { return .none }
        let rows = windows(ioas, model: context.model)
        let index = list.offset + row - headerRows
        guard rows.indices.contains(index) else { return .none }
        list.select(index, count: rows.count, height: height)
        return .none
    }
}
