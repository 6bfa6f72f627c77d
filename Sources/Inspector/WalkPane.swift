import Foundation
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

/// One DMA transaction walked by the core: pick a device, an IOVA, the access (and a PASID);
/// the pane probes the walk with `ModelReader.probe` (bypassing the IOMMU's caches when
/// cold, consulting them when warm, never changing them), then shows every
/// descriptor fetch in order with the bits that decided it, the two-dimensional grid of a
/// nested walk, and a fault's stage, level and reason. Step mode replays the walk one memory
/// access per key press.
public struct WalkPane: InspectorPane {
    public let kind = PaneKind.walk

    public var list = ListState()
    /// The device walked (its iommufd id); nil picks the selection's device or the first bound one.
    public private(set) var deviceID: UInt32?
    /// The IOVA walked; nil picks a mapped one.
    public private(set) var iova: UInt64?
    public private(set) var write = false
    public private(set) var pasid: UInt32?
    /// Walk past the IOMMU's caches (cold) or through them as the scenario left them (warm).
    public private(set) var cold = true
    public private(set) var stepMode = false
    /// The bits view (`b`): the index strip of the highlighted fetch's input address above the
    /// fetches, and its descriptor's fields as a table of bits, values, meanings and spec
    /// sections below them.
    public private(set) var showsBits = false
    /// In step mode, the memory access shown last.
    public private(set) var current = 0
    /// The inline IOVA input, while `i` edits it.
    public private(set) var editing: String?
    public var capturesInput: Bool { editing != nil }
    private var lastSelection: ObjectID?
    /// The host item walked last (a new one walks its own first leaf).
    private var lastHost: HostItem?
    /// Why a host item has no walk (a kernel domain without a table).
    private var absence: String?
    private var walk: WalkModel?
    /// The stale IOTLB entry the walked transaction hits, checked when the walk is made.
    private var stale: StaleFlag?
    /// The tree's selection when a result's DMA was revealed: the walk keeps that DMA, even on
    /// a host item, until the tree moves.
    private var revealedAt: (selection: ObjectID?, host: HostItem?)?
    private var listHeight = 1
    private var listTop = 0
    /// The nested grid in large glyphs, for a projector (`--projector`): each cell the fetch's
    /// number in three-row digits, so the order of the reads reads from the back of a room.
    public var largeGrid = false

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("d / D", "next / previous bound device (same IOVA)"), ("i", "type the IOVA in hex (Enter sets, Esc cancels)"),
         ("/ ADDRESS", "walk this hex IOVA"), ("w", "toggle read / write access"), ("p", "cycle PASID none / 1 (same IOVA)"),
         ("c", "toggle cold (caches bypassed) / warm (the caches as the scenario left them)"),
         ("s", "step mode: one memory access per key"), ("Space / \(symbols.rightKey) / l", "step mode: next access"),
         ("\(symbols.leftKey) / h / Backspace", "step mode: previous access"), ("\(symbols.upDownKeys) j k g G", "select a fetch (its fields show below)"),
         ("b", "bits: the fetch's input split into its level indices and page offset; its fields' bits, meaning, spec section"),
         ("on a host", "a kernel domain walks its rebuilt table (i, / set the IOVA); Enter on a fault (6) shows its walk")]
    }

    // MARK: Making the walk

    private static func deviceID(for selection: ObjectID?, reader: ModelReader) -> UInt32? {
        guard let selection, let object = reader.object(selection) else { return nil }
        switch object {
        case .device(let device): return device.id.rawValue
        case .vdevice(let vdevice): return vdevice.device.id.rawValue
        case .hwptPaging, .hwptNested: return reader.graph.attachments(of: selection).first?.device.id.rawValue
        case .ioas, .viommu, .selftest, .fault, .veventq, .access: return nil
        }
    }

    private func devices(_ reader: ModelReader) -> [Device] { reader.graph.devices.sorted { $0.id < $1.id } }

    /// Follows the tree, fills the defaults, and walks again when the request changed.
    private mutating func refresh(_ context: RenderContext) {
        let reader = context.reader
        if let revealedAt, revealedAt.selection != context.selection || revealedAt.host != context.hostSelection { self.revealedAt = nil }
        if revealedAt == nil, refreshHost(context) { return }
        absence = nil
        if context.selection != lastSelection {
            lastSelection = context.selection
            if let id = Self.deviceID(for: context.selection, reader: reader), id != deviceID {
                deviceID = id
                iova = nil
            }
        }
        let bound = devices(reader)
        if deviceID == nil || !bound.contains(where: { $0.id.rawValue == deviceID }) {
            deviceID = bound.first?.id.rawValue
            iova = nil
        }
        guard let deviceID, let device = bound.first(where: { $0.id.rawValue == deviceID }) else {
            walk = nil
            return
        }
        if iova == nil { iova = defaultIOVA(device, reader: reader) }
        let request = WalkModel.Request(generation: context.model.generation, device: deviceID, iova: iova ?? 0, pasid: pasid,
                              write: write, cold: cold)
        guard walk?.request != request else { return }
        reset(WalkModel(request, device: device, reader: reader))
        stale = Self.staleFlag(request, device: device.id, reader: reader, model: context.model)
    }

    /// The stale IOTLB entry (`ModelView.staleIOTLB`) the transaction hits, against a walk of
    /// the tables past the caches at its IOVA; nil when none covers it or they agree there.
    private static func staleFlag(_ request: WalkModel.Request, device: ObjectID, reader: ModelReader, model: ModelView) -> StaleFlag? {
        guard let entry = StaleFlag.entry(in: model.staleIOTLB, device: request.device, pasid: request.pasid, iova: request.iova),
              let cached = StaleFlag.cached(entry, at: request.iova) else { return nil }
        let access: AccessRights = request.write ? .write : .read
        let table: String
        switch try? reader.probe(deviceID: device, iova: request.iova, pasid: request.pasid, access: access, caches: .bypass) {
        case .success(let fresh)?:
            guard fresh.output != cached || fresh.rights.shortDescription != entry.rights else { return nil }
            table = fresh.output.hex
        case .failure(let fault)?:
            table = "fault: \(FaultText.reason(fault)) at stage \(fault.stage.number) level \(fault.level)"
        case nil:
            return nil
        }
        return StaleFlag(iova: request.iova, cached: cached, table: table)
    }

    /// A faulting `translate` the results pane went to: its device, IOVA, PASID and access.
    public mutating func reveal(_ target: PaneTarget, context: RenderContext) {
        guard case .translation(let line) = target, let request = context.model.timeline.dmaRequest(ofLine: line) else { return }
        let transaction = request.transaction
        deviceID = request.deviceID
        iova = transaction.iova
        pasid = transaction.pasid
        write = transaction.access.contains(.write)
        lastSelection = context.selection
        revealedAt = (context.selection, context.hostSelection)
        absence = nil
    }

    /// On a host, with no iommufd object selected: a kernel domain (or a device's) walked in
    /// software through its rebuilt table, or a logged fault's walk as its explanation made
    /// it. False when the selection is not one of these (the walk then follows the tree).
    private mutating func refreshHost(_ context: RenderContext) -> Bool {
        guard let item = context.hostSelection, context.selection == nil else { return false }
        let faults = context.model.faults
        if item != lastHost {
            lastHost = item
            iova = nil
        }
        let generation = context.model.generation
        switch item {
        case .fault(let index):
            guard faults.indices.contains(index) else { return false }
            let explanation = faults[index], record = explanation.record
            let request = WalkModel.Request(generation: generation, device: 0, iova: record.address ?? 0, pasid: record.pasid,
                                            write: record.access == .write, cold: true, subject: "fault:\(index)")
            if walk?.request != request { reset(WalkModel(request, explanation: explanation)) }
        case .kernelDomain, .device:
            let resolved = PageTableSources.resolve(context)
            guard case .table(let source) = resolved else {
                if case .none(let reason) = resolved { absence = reason }
                walk = nil
                return true
            }
            if iova == nil { iova = source.firstLeaf() ?? 0 }
            let request = WalkModel.Request(generation: generation, device: 0, iova: iova ?? 0, pasid: nil, write: write, cold: true,
                                            subject: source.key)
            if walk?.request != request { reset(WalkModel(request, kernelTable: source)) }
        case .host, .unit, .group:
            return false
        }
        absence = nil
        return true
    }

    /// A new walk: step mode starts at the first fetch; the list selects the fetch that
    /// faulted (the last one), so `y` copies the descriptor that matters.
    private mutating func reset(_ made: WalkModel) {
        walk = made
        stale = nil
        current = 0
        list = ListState()
        if case .fault = made.outcome, !made.steps.isEmpty { list.selected = made.steps.count - 1 }
    }

    /// The first mapped IOVA of the device's table (a guest stage-1 table when nested), found
    /// by reading a bounded number of descriptors; else the IOAS's first area; else 0.
    private func defaultIOVA(_ device: Device, reader: ModelReader) -> UInt64 {
        guard let hwpt = device.attachments[pasid ?? noPASID] else { return 0 }
        if case .table(let source) = PageTableSources.resolve(hwpt, reader: reader), let leaf = source.firstLeaf() { return leaf }
        if let paging = hwpt as? HWPTPaging {
            var first: UInt64?
            paging.ioas.areas.forEach(intersecting: .all) { range, _ in first = range.start; return false }
            return first ?? 0
        }
        return 0
    }

    /// How many steps are on screen: all, or up to the current one in step mode.
    private func visibleCount(_ walk: WalkModel) -> Int {
        stepMode ? min(walk.steps.count, current + 1) : walk.steps.count
    }

    /// The step highlighted: the current one in step mode, else the selected one.
    private func highlighted(_ walk: WalkModel) -> Int? {
        guard !walk.steps.isEmpty else { return nil }
        return stepMode ? min(current, walk.steps.count - 1) : min(list.selected, walk.steps.count - 1)
    }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0, area.width > 0 else { return }
        if !context.focused { editing = nil }
        refresh(context)
        let symbols = context.symbols, theme = context.theme
        var y = 0
        func line(_ text: String, _ role: String) {
            guard y < area.height else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: area.y + y, style: theme[role])
            y += 1
        }
        guard let walk else {
            line(absence ?? "No bound DEVICE to walk: bind one (device_bind) and attach it.", "dim")
            return
        }
        for head in headLines(walk, symbols: symbols) { line(head.text, head.role) }

        let visible = visibleCount(walk)
        let highlight = highlighted(walk)
        if showsBits { line(indexStrip(walk, highlight: highlight), "heading") }
        if !walk.grid.isEmpty {
            if largeGrid {
                drawLargeGrid(&buffer, area, &y, walk, visible: visible, highlight: highlight, context: context)
            } else {
                drawGrid(&buffer, area, &y, walk, visible: visible, highlight: highlight, context: context)
            }
        }
        if stepMode, let highlight {
            let words = WalkNarration.sentence(highlight, walk, symbols: symbols).split(separator: " ").map(String.init)
            for text in TableText.wrap(words, width: area.width, separator: " ").prefix(3) { line(text, "text") }
        }
        guard y < area.height else { return }
        line(WalkNarration.stepHeader, "dim")
        let bitsTable = showsBits ? highlight.flatMap { fieldTable(walk, step: $0) } : nil
        let stripHeight = area.height - y >= 8 ? max(3, min((area.height - y) / 2, (bitsTable?.count ?? 0) + 2)) : 0
        listTop = y
        listHeight = max(1, area.height - y - stripHeight)
        if stepMode {
            list.selected = max(0, visible - 1)
            list.reveal(height: listHeight)
        } else {
            list.move(by: 0, count: visible, height: listHeight)
        }
        let isFault: Bool
        if case .fault = walk.outcome { isFault = true } else { isFault = false }
        for (offset, index) in (list.offset..<min(visible, list.offset + listHeight)).enumerated() {
            let step = walk.steps[index]
            var role = step.stage == .stage2 ? "stage2" : "stage1"
            if step.kind == .invalid || (isFault && index == walk.steps.count - 1) { role = "fault" }
            let text = WalkNarration.stepText(index, walk, symbols: symbols)
            if let search = context.search?.lowercased(), !search.isEmpty, TableText.parseAddress(search) == nil,
               text.lowercased().contains(search) { role = "match" }
            let row = area.y + y + offset
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: row, style: theme[role])
            if index == highlight {
                buffer.restyle(Rect(x: area.x, y: row, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
        if walk.steps.isEmpty {
            switch walk.outcome {
            case .translation: buffer.put("(no descriptor fetched)", x: area.x, y: area.y + y, style: theme["dim"], clip: area)
            case .fault: buffer.put("(no table descriptor fetched: the configuration ended the walk)", x: area.x, y: area.y + y,
                                    style: theme["dim"], clip: area)
            default: break
            }
        }
        guard stripHeight > 0, let highlight else { return }
        y = area.height - stripHeight
        line(String(repeating: symbols.horizontal, count: area.width), "border")
        let step = walk.steps[highlight]
        if let bitsTable {
            let fields = step.format.fields(of: step.descriptor, level: step.level)
            line("#\(highlight + 1) \(step.format.name), \(StepText.stage(step)) L\(step.level) " + FieldTable.heading(fields), "dim")
            for text in bitsTable.prefix(stripHeight - 2) { line(text, "text") }
        } else if let format = walk.formats[step.stage] {
            let fields = format.fields(of: step.descriptor, level: step.level).map(TableText.field)
            let head = "#\(highlight + 1) \(format.name): "
            for text in TableText.wrap([head] + fields, width: area.width, separator: " ").prefix(2) { line(text, "dim") }
        } else {
            line("#\(highlight + 1) descriptor \(Units.word(step.descriptor)) (no format to decode it with)", "dim")
        }
    }

    /// The highlighted fetch's input address (the IOVA, or the IPA/GPA a nested stage 2
    /// translates) as its table's format indexes it; before any fetch, the IOVA's.
    private func indexStrip(_ walk: WalkModel, highlight: Int?) -> String {
        if let highlight {
            let step = walk.steps[highlight]
            let space = step.stage == .stage2 && step.role != .stage2 ? step.format.intermediateAddressName : "IOVA"
            return "\(space) \(step.input.hex): " + FieldTable.indexStrip(step.format, address: step.input)
        }
        guard let format = walk.formats[.stage1] ?? walk.formats[.stage2] else { return "IOVA \(walk.request.iova.hex)" }
        return "IOVA \(walk.request.iova.hex): " + FieldTable.indexStrip(format, address: walk.request.iova)
    }

    /// The lines of the bits view's field table for fetch `step`.
    private func fieldTable(_ walk: WalkModel, step index: Int) -> [String]? {
        guard walk.steps.indices.contains(index) else { return nil }
        let step = walk.steps[index]
        return FieldTable.table(step.format.fields(of: step.descriptor, level: step.level)).lines()
    }

    /// The walk's first lines: what was walked (device, IOVA, access, PASID, caches) and its outcome.
    private func headLines(_ walk: WalkModel, symbols: Symbols) -> [(text: String, role: String)] {
        var controls = WalkNarration.requestParts(walk, iova: editing.map { "IOVA \($0)▏ (hex; Enter sets, Esc cancels; / ADDRESS also walks)" })
        if stepMode { controls.append("step \(min(current + 1, walk.steps.count))/\(walk.steps.count)") }
        var lines = [(controls.joined(separator: symbols.breadcrumb), "heading")] + WalkNarration.outcomeLines(walk, symbols: symbols)
        if let stale { lines.append((stale.text(symbols), "stale")) }
        return lines
    }

    /// The walk as `S` saves it: the lines on screen with every fetch, or JSON (`json`).
    mutating func export(json: Bool, context: RenderContext) -> String? {
        refresh(context)
        guard let walk else { return nil }
        let symbols = context.symbols
        if !json {
            let head = headLines(walk, symbols: symbols).map(\.text)
            let steps = walk.steps.indices.map { WalkNarration.stepText($0, walk, symbols: symbols) }
            return (head + [WalkNarration.stepHeader] + steps).map { $0 + "\n" }.joined()
        }
        let request = walk.request
        let steps = walk.steps.map { step in
            JSONText.object([("stage", "\(step.stage.number)"), ("level", "\(step.level)"), ("index", "\(step.index)"),
                             ("entry_address", JSONText.string(step.entryAddress.hex)),
                             ("descriptor", JSONText.string(Units.word(step.descriptor))), ("kind", JSONText.string(step.kind.rawValue))])
        }
        return JSONText.object([("device", JSONText.string(walk.deviceName)), ("iova", JSONText.string(request.iova.hex)),
                                ("write", "\(request.write)"), ("pasid", request.pasid.map { "\($0)" } ?? "null"),
                                ("cold", "\(request.cold)"),
                                ("outcome", JSONText.string(headLines(walk, symbols: symbols).dropFirst().first?.text ?? "")),
                                ("steps", "[" + steps.joined(separator: ",") + "]")]) + "\n"
    }

    /// The selected fetch: its entry address and descriptor; else the walked IOVA.
    public mutating func yankText(context: RenderContext) -> String? {
        refresh(context)
        guard let walk else { return nil }
        if let index = highlighted(walk), walk.steps.indices.contains(index) {
            let step = walk.steps[index]
            return "\(step.entryAddress.hex) \(Units.word(step.descriptor))"
        }
        return walk.request.iova.hex
    }

    /// The nested walk as a grid: rows are stage-1 levels (and the CD pointer, and the output),
    /// columns stage-2 levels, each cell the descriptor read, "·" before it is read.
    private func drawGrid(_ buffer: inout CellBuffer, _ area: Rect, _ y: inout Int, _ walk: WalkModel, visible: Int, highlight: Int?,
                          context: RenderContext) {
        let theme = context.theme, symbols = context.symbols
        let label = 8
        let columns = walk.stage2Levels.count + 1
        let width = max(4, (area.width - label) / max(1, columns))
        func cell(_ text: String, _ column: Int, _ style: Style) {
            let x = area.x + label + column * width
            guard x < area.maxX else { return }
            buffer.put(Widgets.fit(text, width: min(width - 1, area.maxX - x), symbols: symbols), x: x, y: area.y + y, style: style,
                       clip: area)
        }
        guard y < area.height else { return }
        buffer.put(Widgets.fit("nested", width: label, symbols: symbols), x: area.x, y: area.y + y, style: theme["dim"])
        for (column, level) in walk.stage2Levels.enumerated() { cell("S2 L\(level)", column, theme["stage2"]) }
        cell("S1 entry", walk.stage2Levels.count, theme["stage1"])
        y += 1
        for row in walk.grid {
            guard y < area.height else { return }
            buffer.put(Widgets.fit(row.name, width: label, symbols: symbols), x: area.x, y: area.y + y, style: theme["heading"])
            func style(_ step: Int, _ role: String) -> Style {
                step == highlight ? theme["selection"] : theme[role]
            }
            for (column, level) in walk.stage2Levels.enumerated() {
                if let entry = row.cells.first(where: { $0.level == level }), entry.step < visible {
                    cell(String(walk.steps[entry.step].descriptor, radix: 16), column, style(entry.step, "stage2"))
                } else {
                    cell(symbols.leaf, column, theme["dim"])
                }
            }
            if let step = row.stage1Step, step < visible {
                cell(String(walk.steps[step].descriptor, radix: 16), walk.stage2Levels.count, style(step, "stage1"))
            } else if row.role == .output, let last = row.cells.last, last.step < visible, case .translation(let translation) = walk.outcome {
                cell("PA \(translation.output.hex)", walk.stage2Levels.count, theme["mapped"])
            } else {
                cell(symbols.leaf, walk.stage2Levels.count, theme["dim"])
            }
            y += 1
        }
    }

    /// The nested grid for a projector: the rows and columns of `drawGrid`, each cell three
    /// rows tall holding the number of the fetch it is (1 the first read), in `BigDigits`.
    private func drawLargeGrid(_ buffer: inout CellBuffer, _ area: Rect, _ y: inout Int, _ walk: WalkModel, visible: Int, highlight: Int?,
                               context: RenderContext) {
        let theme = context.theme, symbols = context.symbols
        let label = 8, width = 9
        func put(_ text: String, column: Int, row: Int, _ style: Style) {
            let x = area.x + label + column * width
            guard x < area.maxX, row < area.height else { return }
            buffer.put(Widgets.fit(text, width: min(width - 1, area.maxX - x), symbols: symbols), x: x, y: area.y + row, style: style, clip: area)
        }
        func cell(_ step: Int?, column: Int, role: String) {
            guard let step, step < visible else {
                put(symbols.leaf, column: column, row: y + 1, theme["dim"])
                return
            }
            var style = step == highlight ? theme["selection"] : theme[role]
            style.bold = true
            for (offset, text) in BigDigits.rows(step + 1, symbols: symbols).enumerated() { put(text, column: column, row: y + offset, style) }
        }
        guard y < area.height else { return }
        buffer.put(Widgets.fit("nested", width: label, symbols: symbols), x: area.x, y: area.y + y, style: theme["dim"])
        for (column, level) in walk.stage2Levels.enumerated() { put("S2 L\(level)", column: column, row: y, theme["stage2"]) }
        put("S1", column: walk.stage2Levels.count, row: y, theme["stage1"])
        y += 1
        for row in walk.grid {
            guard y + 2 < area.height else { return }
            buffer.put(Widgets.fit(row.name, width: label, symbols: symbols), x: area.x, y: area.y + y + 1, style: theme["heading"])
            for (column, level) in walk.stage2Levels.enumerated() {
                cell(row.cells.first { $0.level == level }?.step, column: column, role: "stage2")
            }
            if row.role == .output, let last = row.cells.last, last.step < visible, case .translation = walk.outcome {
                put("PA", column: walk.stage2Levels.count, row: y + 1, theme["mapped"])
            } else {
                cell(row.stage1Step, column: walk.stage2Levels.count, role: "stage1")
            }
            y += 3
        }
    }

    // MARK: Input

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        if let text = editing {
            switch key {
            case .character(let c) where c.isHexDigit || c == "x" || c == "X" || c == "_":
                editing = text + String(c)
            case .backspace:
                editing = String(text.dropLast())
            case .enter:
                editing = nil
                guard let address = TableText.parseAddress(text) else { return .message("not a hex address: \(text)") }
                iova = address
            case .escape:
                editing = nil
            default:
                break
            }
            return .none
        }
        refresh(context)
        guard let walk else { return .ignored }
        let count = walk.steps.count
        // A host item's walk is fixed by the item (a fault's by its record): only its IOVA
        // (for a kernel domain) and the step keys apply.
        if let origin = walk.origin, [.character("d"), .character("D"), .character("p"), .character("c"), .character("w")].contains(key) {
            return .message("this walk is fixed (\(origin)): d, p, c and w walk a DEVICE, select one in the tree (1)")
        }
        if stepMode {
            switch key {
            case .character(" "), .right, .character("l"), .down, .character("j"): current = min(current + 1, max(0, count - 1)); return .none
            case .left, .character("h"), .backspace, .up, .character("k"): current = max(0, current - 1); return .none
            case .character("g"), .home: current = 0; return .none
            case .character("G"), .end: current = max(0, count - 1); return .none
            default: break
            }
        }
        switch key {
        case .character("i"):
            editing = ""
        case .character("w"):
            write.toggle()
        case .character("p"):
            // The IOVA stays: the same address walked with and without the PASID.
            pasid = pasid == nil ? 1 : nil
        case .character("c"):
            cold.toggle()
        case .character("b"):
            showsBits.toggle()
        case .character("s"):
            stepMode.toggle()
            current = 0
            list = ListState()
        case .character("d"), .character("D"):
            let bound = devices(context.reader)
            guard let position = bound.firstIndex(where: { $0.id.rawValue == deviceID }) else { return .none }
            let next = (position + (key == .character("d") ? 1 : bound.count - 1)) % bound.count
            // The IOVA stays: the same address walked by the next device.
            deviceID = bound[next].id.rawValue
        default:
            if !stepMode, list.handle(key, count: count, height: listHeight) { return .none }
            return .ignored
        }
        return .none
    }

    /// A hex address walks that IOVA; other text selects the next step that contains it.
    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        // The defaults first (a device picked), so the address typed is not replaced by one.
        refresh(context)
        if let address = TableText.parseAddress(text) {
            iova = address
            refresh(context)
            return true
        }
        guard let walk else { return false }
        let texts = walk.steps.indices.map { WalkNarration.stepText($0, walk, symbols: context.symbols) }
        guard let index = nextMatch(in: texts, after: highlighted(walk) ?? 0, needle: text, forward: forward) else { return false }
        if stepMode { current = index } else { list.select(index, count: texts.count, height: listHeight) }
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        guard let walk, row >= listTop, row < listTop + listHeight else { return .none }
        let index = list.offset + row - listTop
        guard index < visibleCount(walk) else { return .none }
        if stepMode { current = index } else { list.select(index, count: walk.steps.count, height: listHeight) }
        return .none
    }
}
