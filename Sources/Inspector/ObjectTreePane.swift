import HostImport
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

/// One row of the object tree.
public struct TreeRow: Equatable {
    /// Stable across steps: `ioas:3`, `iommu:smmu0`, `device:nic0`.
    public var key: String
    public var depth: Int
    public var label: String
    public var object: ObjectID?
    public var hasChildren: Bool
    /// A style role for the label.
    public var role: String
    /// The row's iommufd object appeared or changed with the last step or command.
    public var changed: Bool
    /// The host item of a row of `tui --host`'s tree (a unit, group, device or kernel domain).
    public var host: HostItem? = nil
}

/// The object tree: platforms (IOMMU units and their devices), then the iommufd objects
/// IOAS → HWPT_PAGING → HWPT_NESTED / VIOMMU → VDEVICE, then the bound DEVICEs.
public struct ObjectTreePane: InspectorPane {
    public let kind = PaneKind.tree
    public var list = ListState()
    /// Keys of collapsed rows (everything starts expanded).
    public var collapsed: Set<String> = []
    /// The key of the selected row: the cursor stays on that object when the rows change
    /// (a timeline step, a command), wherever its row moved, while it still exists.
    private var selectedKey: String?
    private var height = 1

    public init() {}

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("Enter / l / \(symbols.rightKey)", "expand, or follow to the object's detail"), ("h / \(symbols.leftKey)", "collapse, or go to the parent"),
         ("Space", "expand or collapse"), ("d", "show the details pane")]
    }

    /// The rows of the last model generation drawn. Every frame, key, search and click reads
    /// the rows, which change only with the model, what is collapsed and the symbols.
    private final class RowCache {
        var key: (generation: Int, collapsed: Set<String>, symbols: Symbols)?
        var rows: [TreeRow] = []
        /// The index of each key's first row.
        var indexOfKey: [String: Int] = [:]
    }
    private let cache = RowCache()

    /// The visible rows, walking the model's object graph once per model generation.
    public func rows(_ model: ModelView, symbols: Symbols = .unicode) -> [TreeRow] {
        if let key = cache.key, key.generation == model.generation, key.collapsed == collapsed, key.symbols == symbols {
            return cache.rows
        }
        cache.rows = buildRows(model, symbols: symbols)
        cache.indexOfKey = Dictionary(cache.rows.enumerated().map { ($0.element.key, $0.offset) }, uniquingKeysWith: { first, _ in first })
        cache.key = (model.generation, collapsed, symbols)
        return cache.rows
    }

    private func buildRows(_ model: ModelView, symbols: Symbols) -> [TreeRow] {
        let arrow = symbols.arrow
        var rows: [TreeRow] = []
        let reader = model.reader, platform = reader.platform, graph = model.graph
        let marked = model.changes.marked
        func add(_ key: String, _ depth: Int, _ label: String, object: ObjectID? = nil, children: Bool, role: String = "text",
                 marks: Bool = false, host: HostItem? = nil) -> Bool {
            let changed = marks && object.map(marked.contains) == true
            rows.append(TreeRow(key: key, depth: depth, label: label, object: object, hasChildren: children, role: role, changed: changed,
                                host: host))
            return children && !collapsed.contains(key)
        }
        /// A row of an iommufd object: marked when the last step or command changed it.
        func add(_ kind: ObjectKind, _ depth: Int, _ label: String, children: Bool) -> Bool {
            add(Self.key(kind), depth, label, object: kind.id, children: children, marks: true)
        }
        /// A nested HWPT and the devices attached to it (`← DEVICE 1, 2`), as a DEVICE row names its HWPT.
        func nestedLabel(_ nested: HWPTNested) -> String {
            let attached = graph.attachments(of: nested.id)
            var devices = attached.prefix(4).map { "\($0.device.id)" + ($0.pasid == noPASID ? "" : " pasid \($0.pasid)") }
            if attached.count > 4 { devices.append("\(attached.count - 4) more") }
            return "HWPT_NESTED \(nested.id)" + (devices.isEmpty ? "" : "  \(symbols.backArrow) DEVICE " + devices.joined(separator: ", "))
        }
        if let host = model.host {
            addHost(host, reader: reader, arrow: arrow, add)
        } else if add("platform", 0, "Platform", children: !platform.units.isEmpty, role: "heading") {
            let devicesByUnit = Dictionary(grouping: platform.devices, by: \.unit)
            for unit in platform.units {
                let devices = devicesByUnit[unit.name] ?? []
                if add("iommu:\(unit.name)", 1, "\(unit.name)  \(unit.architecture.rawValue)", children: !devices.isEmpty,
                       host: .unit(unit.name)) {
                    for device in devices {
                        let bound = reader.device(boundTo: device.name)
                        _ = add("pdev:\(device.name)", 2, "\(device.name)  " + DetailsPane.requester(device.requesterID.value, on: unit.architecture)
                                + (bound.map { "  \(arrow) DEVICE \($0.id)" } ?? "  (unbound)"), object: bound?.id, children: false)
                    }
                }
            }
        }
        _ = add("iommufd", 0, "iommufd", children: !graph.nodes.isEmpty, role: "heading")
        guard !collapsed.contains("iommufd") else { return rows }
        for ioas in graph.ioases {
            let hwpts = graph.children(of: ioas.id)
            guard add(.ioas(ioas), 1, "IOAS \(ioas.id)  " + Units.count(ioas.areas.count, "area"), children: !hwpts.isEmpty) else { continue }
            for case .hwptPaging(let hwpt) in hwpts {
                let children = graph.children(of: hwpt.id)
                let label = "HWPT_PAGING \(hwpt.id)  \(hwpt.isAutomatic ? "auto" : "user") \(hwpt.domain.stage.rawValue)"
                    + (hwpt.isNestParent ? " nest-parent" : "")
                guard add(.hwptPaging(hwpt), 2, label, children: !children.isEmpty) else { continue }
                for case .hwptNested(let child) in children { _ = add(.hwptNested(child), 3, nestedLabel(child), children: false) }
                for case .viommu(let viommu) in children {
                    let onVIOMMU = graph.children(of: viommu.id)
                    guard add(.viommu(viommu), 3, "VIOMMU \(viommu.id)  on \(viommu.driver.name)", children: !onVIOMMU.isEmpty) else { continue }
                    for case .vdevice(let vdevice) in onVIOMMU {
                        _ = add(.vdevice(vdevice), 4, "VDEVICE \(vdevice.id)  virt_id \(vdevice.virtualID.hex) \(arrow) DEVICE \(vdevice.device.id)",
                                children: false)
                    }
                    for case .hwptNested(let child) in onVIOMMU { _ = add(.hwptNested(child), 4, nestedLabel(child), children: false) }
                    for case .veventq(let veventq) in onVIOMMU {
                        _ = add(.veventq(veventq), 4, "VEVENTQ \(veventq.id)  " + ObjectText.queueState(veventq), children: false)
                    }
                }
            }
            for case .access(let access) in hwpts {
                _ = add(.access(access), 2, "ACCESS \(access.id)  " + ObjectText.accessState(access), children: false)
            }
        }
        for device in graph.devices {
            let attached = device.attachments[noPASID].map { ObjectText.attachment($0, pasid: noPASID, arrow: arrow) } ?? "blocked"
            _ = add(.device(device), 1, "DEVICE \(device.id)  \(device.platform.name)  \(attached)", children: false)
        }
        for fault in graph.faultQueues {
            _ = add(.fault(fault), 1, "FAULT \(fault.id)  " + ObjectText.queueState(fault), children: false)
        }
        return rows
    }

    /// A host's rows: units, their groups (by the default domain type), the groups' devices
    /// (and the iommufd DEVICE a scenario bound), and each device's kernel domains. Every
    /// name and word came from the host, so each is escaped (`terminalSafe`).
    private func addHost(_ host: HostView, reader: ModelReader, arrow: String,
                         _ add: (String, Int, String, ObjectID?, Bool, String, Bool, HostItem?) -> Bool) {
        let snapshot = host.snapshot
        let title = "Host" + (snapshot.kernel.map { "  " + terminalSafe($0) } ?? "")
        guard add("host", 0, title, nil, !snapshot.iommus.isEmpty || !snapshot.groups.isEmpty, "heading", false, .host) else { return }
        func device(_ name: String, _ depth: Int) {
            let bound = reader.device(boundTo: name)
            let driver = host.device(name).driver.map { "  " + terminalSafe($0) } ?? ""
            let domains = host.domains(of: name)
            guard add("hdev:\(name)", depth, terminalSafe(name) + driver + (bound.map { "  \(arrow) DEVICE \($0.id)" } ?? ""),
                      bound?.id, true, "text", false, .device(name)) else { return }
            for domain in domains {
                _ = add("kdom:\(name):\(domain.pasid.map(String.init) ?? "-")", depth + 1, domain.title + "  " + domain.summary, nil,
                        false, domain.kind == .translated ? "mapped" : "dim", false, domain.item)
            }
        }
        func group(_ group: HostGroup, _ depth: Int) {
            let label = "group \(group.id)  \(group.type.map(terminalSafe) ?? "type unknown")  " + Units.count(group.devices.count, "device")
            guard add("group:\(group.id)", depth, label, nil, !group.devices.isEmpty, "text", false, .group(group.id)) else { return }
            for name in group.devices { device(name, depth + 1) }
        }
        let unitOfGroup = snapshot.groups.map { group in group.devices.lazy.compactMap(host.unit(of:)).first }
        let groupsByUnit = Dictionary(grouping: snapshot.groups.indices) { unitOfGroup[$0] }.mapValues { $0.map { snapshot.groups[$0] } }
        for unit in snapshot.iommus {
            let groups = groupsByUnit[unit.name] ?? []
            let label = terminalSafe(unit.name) + "  \(unit.architecture.rawValue)  " + Units.count(groups.count, "group")
            guard add("unit:\(unit.name)", 1, label, nil, !groups.isEmpty, "text", false, .unit(unit.name)) else { continue }
            for member in groups { group(member, 2) }
        }
        // Groups no known unit translates (their devices name none) stay visible.
        let units = Set(snapshot.iommus.map(\.name))
        for (index, member) in snapshot.groups.enumerated() where unitOfGroup[index].map(units.contains) != true { group(member, 1) }
    }

    /// The host item of the selected row (on a host), or the IOMMU unit of a platform row.
    public func selectedHost(_ model: ModelView) -> HostItem? {
        let all = rows(model)
        return selectedIndex(all).map { all[$0].host } ?? nil
    }

    /// The selected row of `all`: the row of the selected key where it still is, else the
    /// same position (clamped). Reading the selection never waits for a frame to move it.
    private func selectedIndex(_ all: [TreeRow]) -> Int? {
        guard !all.isEmpty else { return nil }
        if let selectedKey, let index = cache.indexOfKey[selectedKey], all.indices.contains(index), all[index].key == selectedKey {
            return index
        }
        return min(list.selected, all.count - 1)
    }

    /// Moves the cursor to the selected key's row in `all` (its object's new place after a
    /// step), then remembers the key of the row it is on.
    private mutating func follow(_ all: [TreeRow]) {
        if let index = selectedIndex(all), index != list.selected { list.select(index, count: all.count, height: height) }
        remember(all)
    }

    private mutating func remember(_ all: [TreeRow]) {
        selectedKey = all.indices.contains(list.selected) ? all[list.selected].key : nil
    }

    /// The stable key of an object's row: `ioas:3`, `hwpt:4` (both kinds of HWPT), `device:1`.
    static func key(_ kind: ObjectKind) -> String {
        let prefix = switch kind {
        case .ioas: "ioas"
        case .hwptPaging, .hwptNested: "hwpt"
        case .viommu: "viommu"
        case .vdevice: "vdevice"
        case .device: "device"
        case .selftest: "selftest"
        case .fault: "fault"
        case .veventq: "veventq"
        case .access: "access"
        }
        return "\(prefix):\(kind.id)"
    }

    /// The selected row's label (an object's ids, a host unit's name).
    public func yankText(context: RenderContext) -> String? {
        let all = rows(context.model, symbols: context.symbols)
        return selectedIndex(all).map { all[$0].label }
    }

    /// The object of the selected row.
    public func selectedObject(_ model: ModelView) -> ObjectID? {
        let all = rows(model)
        return selectedIndex(all).map { all[$0].object } ?? nil
    }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        guard area.height > 0 else { return }
        let all = rows(context.model, symbols: context.symbols)
        // When the rows overflow, the last line says how many are above and below.
        let overflows = all.count > area.height && area.height > 1
        height = overflows ? area.height - 1 : area.height
        follow(all)
        list.move(by: 0, count: all.count, height: height)
        // A taller pane (a resize, the first frame) shows rows above rather than blank ones below.
        list.offset = min(list.offset, max(0, all.count - height))
        let symbols = context.symbols
        for (line, index) in (list.offset..<min(all.count, list.offset + height)).enumerated() {
            let row = all[index]
            let marker = row.hasChildren ? (collapsed.contains(row.key) ? symbols.collapsed : symbols.expanded) : symbols.leaf
            // Objects the last step or command changed carry a mark before their expander
            // (in the indent: every iommufd object is below a heading) and the changed style.
            var indent = String(repeating: "  ", count: row.depth)
            if row.changed, !indent.isEmpty { indent = String(indent.dropLast()) + symbols.changed }
            let text = indent + marker + " " + row.label
            var style = context.theme[row.changed ? "changed" : row.role]
            if let search = context.search, !search.isEmpty, row.label.lowercased().contains(search.lowercased()) {
                style = context.theme["match"]
            }
            let y = area.y + line
            buffer.put(Widgets.fit(text, width: area.width, symbols: context.symbols), x: area.x, y: y, style: style)
            if index == list.selected {
                buffer.restyle(Rect(x: area.x, y: y, width: area.width, height: 1)) { style in
                    style = context.focused ? context.theme["selection"] : context.theme["selection_unfocused"]
                }
            }
        }
        if overflows {
            let above = list.offset, below = max(0, all.count - list.offset - height)
            let text = "\(above) above, \(below) below "
            let width = CellBuffer.width(of: text)
            buffer.put(Widgets.fit(text, width: min(width, area.width), symbols: symbols), x: area.x + max(0, area.width - width),
                       y: area.maxY - 1, style: context.theme["dim"])
        }
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        let all = rows(context.model, symbols: context.symbols)
        follow(all)
        defer { remember(rows(context.model, symbols: context.symbols)) }
        if list.handle(key, count: all.count, height: height) { return selectionAction(all) }
        guard all.indices.contains(list.selected) else { return .ignored }
        let row = all[list.selected]
        switch key {
        case .character(" "):
            toggle(row)
        case .enter, .right, .character("l"):
            if row.hasChildren && collapsed.contains(row.key) { collapsed.remove(row.key) }
            // A kernel domain's detail is its table.
            else if case .kernelDomain? = row.host { return .show(.pageTable) }
            else { return .show(.details) }
        case .left, .character("h"):
            if row.hasChildren && !collapsed.contains(row.key) {
                collapsed.insert(row.key)
            } else if let parent = all[..<list.selected].lastIndex(where: { $0.depth < row.depth }) {
                list.select(parent, count: all.count, height: height)
                return selectionAction(all)
            }
        case .character("d"):
            return .show(.details)
        default:
            return .ignored
        }
        return .none
    }

    private mutating func toggle(_ row: TreeRow) {
        guard row.hasChildren else { return }
        if collapsed.contains(row.key) { collapsed.remove(row.key) } else { collapsed.insert(row.key) }
    }

    private func selectionAction(_ rows: [TreeRow]) -> PaneAction {
        guard rows.indices.contains(list.selected), let object = rows[list.selected].object else { return .none }
        return .select(object)
    }

    /// Selects the row of `object` (expanding nothing: rows of collapsed parents stay hidden).
    public mutating func reveal(_ object: ObjectID, model: ModelView) {
        let all = rows(model)
        // An iommufd object's own row, before a host device row that links to it.
        if let index = all.firstIndex(where: { $0.object == object && $0.host == nil }) ?? all.firstIndex(where: { $0.object == object }) {
            list.select(index, count: all.count, height: height)
            remember(all)
        }
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        let all = rows(context.model, symbols: context.symbols)
        follow(all)
        guard let index = nextMatch(in: all.map(\.label), after: list.selected, needle: text, forward: forward) else { return false }
        list.select(index, count: all.count, height: height)
        remember(all)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        let all = rows(context.model, symbols: context.symbols)
        follow(all)
        let index = list.offset + row
        guard all.indices.contains(index), row < height else { return .none }
        if index == list.selected { toggle(all[index]) }
        list.select(index, count: all.count, height: height)
        remember(all)
        return selectionAction(all)
    }
}
