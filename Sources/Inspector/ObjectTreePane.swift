import IOMMUCore
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
}

/// The object tree: platforms (IOMMU units and their devices), then the iommufd objects
/// IOAS → HWPT_PAGING → HWPT_NESTED / VIOMMU → VDEVICE, then the bound DEVICEs.
public struct ObjectTreePane: InspectorPane {
    public let kind = PaneKind.tree
    public var list = ListState()
    /// Keys of collapsed rows (everything starts expanded).
    public var collapsed: Set<String> = []
    private var height = 1

    public init() {}

    public var keyHelp: [(key: String, action: String)] {
        [("Enter / l / Right", "expand, or follow to the object's detail"), ("h / Left", "collapse, or go to the parent"),
         ("Space", "expand or collapse"), ("d", "show the details pane")]
    }

    /// The visible rows, walking the live object graph.
    public func rows(_ model: InspectorModel, symbols: Symbols = .unicode) -> [TreeRow] {
        let arrow = symbols.arrow
        var rows: [TreeRow] = []
        let fd = model.session.iommufd, machine = model.session.machine
        let objects = fd.objects
        func add(_ key: String, _ depth: Int, _ label: String, object: ObjectID? = nil, children: Bool, role: String = "text") -> Bool {
            rows.append(TreeRow(key: key, depth: depth, label: label, object: object, hasChildren: children, role: role))
            return children && !collapsed.contains(key)
        }
        if add("platform", 0, "Platform", children: !machine.iommus.isEmpty, role: "heading") {
            for iommu in machine.iommus {
                let devices = machine.devices.filter { $0.iommu === iommu }
                if add("iommu:\(iommu.name)", 1, "\(iommu.name)  \(iommu.architecture.rawValue)", children: !devices.isEmpty) {
                    for device in devices {
                        let bound = fd.devices.first { $0.platform === device }
                        _ = add("pdev:\(device.name)", 2, "\(device.name)  sid \(UInt64(device.streamID).hex)"
                                + (bound.map { "  \(arrow) DEVICE \($0.id)" } ?? "  (unbound)"), object: bound?.id, children: false)
                    }
                }
            }
        }
        _ = add("iommufd", 0, "iommufd", children: !objects.isEmpty, role: "heading")
        guard !collapsed.contains("iommufd") else { return rows }
        for ioas in objects.compactMap({ $0 as? IOAS }) {
            let hwpts = objects.compactMap { $0 as? HWPTPaging }.filter { $0.ioas === ioas }
            guard add("ioas:\(ioas.id)", 1, "IOAS \(ioas.id)  \(ioas.areas.count) areas", object: ioas.id, children: !hwpts.isEmpty) else { continue }
            for hwpt in hwpts {
                let nested = objects.compactMap { $0 as? HWPTNested }.filter { if case .hwpt(let p) = $0.parent { return p === hwpt }; return false }
                let viommus = objects.compactMap { $0 as? VIOMMU }.filter { $0.parent === hwpt }
                let label = "HWPT_PAGING \(hwpt.id)  \(hwpt.isAutomatic ? "auto" : "user") \(hwpt.domain.stage.rawValue)"
                    + (hwpt.isNestParent ? " nest-parent" : "")
                guard add("hwpt:\(hwpt.id)", 2, label, object: hwpt.id, children: !nested.isEmpty || !viommus.isEmpty) else { continue }
                for child in nested { _ = add("hwpt:\(child.id)", 3, "HWPT_NESTED \(child.id)", object: child.id, children: false) }
                for viommu in viommus {
                    let vdevices = objects.compactMap { $0 as? VDevice }.filter { $0.viommu === viommu }
                    let onVIOMMU = objects.compactMap { $0 as? HWPTNested }.filter { if case .viommu(let v) = $0.parent { return v === viommu }; return false }
                    guard add("viommu:\(viommu.id)", 3, "VIOMMU \(viommu.id)  on \(viommu.driver.name)", object: viommu.id,
                              children: !vdevices.isEmpty || !onVIOMMU.isEmpty) else { continue }
                    for vdevice in vdevices {
                        _ = add("vdevice:\(vdevice.id)", 4, "VDEVICE \(vdevice.id)  virt_id \(vdevice.virtualID.hex) \(arrow) DEVICE \(vdevice.device.id)",
                                object: vdevice.id, children: false)
                    }
                    for child in onVIOMMU { _ = add("hwpt:\(child.id)", 4, "HWPT_NESTED \(child.id)", object: child.id, children: false) }
                }
            }
        }
        for device in fd.devices {
            let attached = device.attachments[noPASID].map { "\(arrow) \($0.type) \($0.id)" } ?? "blocked"
            _ = add("device:\(device.id)", 1, "DEVICE \(device.id)  \(device.platform.name)  \(attached)", object: device.id, children: false)
        }
        return rows
    }

    /// The object of the selected row.
    public func selectedObject(_ model: InspectorModel) -> ObjectID? {
        let all = rows(model)
        return all.indices.contains(list.selected) ? all[list.selected].object : nil
    }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        height = area.height
        let all = rows(context.model, symbols: context.symbols)
        list.move(by: 0, count: all.count, height: area.height)
        for (line, index) in (list.offset..<min(all.count, list.offset + area.height)).enumerated() {
            let row = all[index]
            let marker = row.hasChildren ? (collapsed.contains(row.key) ? context.symbols.collapsed : context.symbols.expanded) : context.symbols.leaf
            // Objects the last step or command changed carry a "+" and the changed style.
            let changed = row.object != nil && context.model.changedSummaryLines.contains { line in
                line.contains(row.label.split(separator: " ").prefix(2).joined(separator: " ") + " ")
            }
            let text = String(repeating: "  ", count: row.depth) + (changed ? "+" : marker) + " " + row.label
            var style = context.theme[changed ? "changed" : row.role]
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
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        let all = rows(context.model, symbols: context.symbols)
        if list.handle(key, count: all.count, height: height) { return selectionAction(all) }
        guard all.indices.contains(list.selected) else { return .ignored }
        let row = all[list.selected]
        switch key {
        case .character(" "):
            toggle(row)
        case .enter, .right, .character("l"):
            if row.hasChildren && collapsed.contains(row.key) { collapsed.remove(row.key) } else { return .show(.details) }
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
    public mutating func reveal(_ object: ObjectID, model: InspectorModel) {
        let all = rows(model)
        if let index = all.firstIndex(where: { $0.object == object }) { list.select(index, count: all.count, height: height) }
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        let all = rows(context.model, symbols: context.symbols)
        guard let index = nextMatch(in: all.map(\.label), after: list.selected, needle: text, forward: forward) else { return false }
        list.select(index, count: all.count, height: height)
        return true
    }

    public mutating func click(row: Int, context: RenderContext) -> PaneAction {
        let all = rows(context.model, symbols: context.symbols)
        let index = list.offset + row
        guard all.indices.contains(index) else { return .none }
        if index == list.selected { toggle(all[index]) }
        list.select(index, count: all.count, height: height)
        return selectionAction(all)
    }
}
