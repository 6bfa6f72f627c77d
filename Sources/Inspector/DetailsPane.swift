import IOMMUCore
import ScenarioScript
import TerminalUI

/// One line of the details pane; a line with a `target` is an edge of the object graph that
/// Enter follows.
public struct DetailLine: Equatable {
    public var text: String
    public var role: String
    public var target: ObjectID?
}

/// The selected object's details: ids, flags, apertures, alignment, reservations, users, its
/// edges in both directions, and its device's configuration structures decoded.
public struct DetailsPane: InspectorPane {
    public let kind = PaneKind.details
    public var list = ListState()
    private var height = 1

    public init() {}

    public var keyHelp: [(key: String, action: String)] {
        [("Enter", "follow the edge on this line (an arrow marks one)")]
    }

    public func lines(_ context: RenderContext) -> [DetailLine] {
        let fd = context.model.session.iommufd
        guard let id = context.selection, let object = try? fd.object(id.rawValue) else {
            return [DetailLine(text: "Select an object in the tree (1).", role: "dim", target: nil)]
        }
        var lines: [DetailLine] = []
        func text(_ value: String, _ role: String = "text") { lines.append(DetailLine(text: value, role: role, target: nil)) }
        func edge(_ value: String, _ target: IOMMUFDObject) {
            lines.append(DetailLine(text: context.symbols.arrow + " " + value + " \(target.type) \(target.id)", role: "link", target: target.id))
        }
        text("\(object.type) \(object.id)", "heading")
        text("users \(fd.users(of: object))  (destroy is EBUSY above 1)")
        switch object {
        case let ioas as IOAS:
            text("areas \(ioas.areas.count)  iova_alignment \(ioas.iovaAlignment.hex)  huge pages \(ioas.largePagesDisabled ? "off" : "on")")
            for reservation in ioas.reservations.prefix(16) { text("reserved \(reservation.range)  \(describe(reservation.owner))") }
            for allowed in ioas.allowedRanges.prefix(16) { text("allowed  \(allowed)") }
            if let ranges = try? fd.ioasIOVARanges(ioasID: ioas.id.rawValue) {
                text("usable   " + ranges.ranges.prefix(8).map(\.description).joined(separator: ", "))
            }
            for hwpt in fd.objects.compactMap({ $0 as? HWPTPaging }) where hwpt.ioas === ioas { edge("domain", hwpt) }
        case let hwpt as HWPTPaging:
            let domain = hwpt.domain
            text("\(hwpt.isAutomatic ? "automatic" : "user") \(domain.stage.rawValue) on \(domain.driver.name)"
                 + (hwpt.isNestParent ? "  NEST_PARENT" : "") + (domain.dirtyTracking ? "  DIRTY_TRACKING" : "")
                 + (hwpt.pasidCompatible ? "  PASID" : ""))
            text("aperture \(domain.aperture)  page sizes \(domain.pageSizes.hex)")
            if let table = domain.table as? DescriptorPageTable {
                text("format \(table.format.name)  root \(table.root.hex)  \(table.tables.count) tables")
            } else {
                text("xarray of \(domain.table.mappingCount) runs (the selftest mock keeps no descriptors)")
            }
            text("mapped runs \(domain.table.mappingCount)  SW_MSI doorbells \(hwpt.presentSWMSI.count)")
            edge("IOAS", hwpt.ioas)
            for (device, pasid) in fd.attachments(of: hwpt) { edge("attached" + (pasid == noPASID ? "" : " pasid \(pasid)"), device) }
            for other in fd.objects {
                if let nested = other as? HWPTNested, nested.stage2 === hwpt { edge("nested on it", nested) }
                if let viommu = other as? VIOMMU, viommu.parent === hwpt { edge("vIOMMU on it", viommu) }
            }
        case let nested as HWPTNested:
            switch nested.domain.configuration {
            case .selftest(let iotlb): text("selftest iotlb " + iotlb.map { UInt64($0).hex }.joined(separator: " "))
            case .armSMMUv3(let ste): text("guest STE " + ste.map(\.hex).joined(separator: " "))
            case .vtdS1(let flags, let root, let width): text("vtd_s1 pgtbl_addr \(root.hex) addr_width \(width) flags \(flags.hex)")
            }
            switch nested.parent {
            case .hwpt(let parent): edge("parent", parent)
            case .viommu(let viommu): edge("vIOMMU", viommu); edge("stage 2", viommu.parent)
            }
            for (device, _) in fd.attachments(of: nested) { edge("attached", device) }
        case let viommu as VIOMMU:
            text("type \(UInt64(viommu.viommuType).hex) on \(viommu.driver.name)")
            edge("nest parent", viommu.parent)
            for vdevice in fd.objects.compactMap({ $0 as? VDevice }) where vdevice.viommu === viommu { edge("vDEVICE", vdevice) }
        case let vdevice as VDevice:
            text("virt_id \(vdevice.virtualID.hex)")
            edge("vIOMMU", vdevice.viommu)
            edge("device", vdevice.device)
        case let device as Device:
            let platform = device.platform
            text("\(platform.name) behind \(platform.iommu.name) (\(platform.iommu.architecture.rawValue))  sid \(UInt64(platform.streamID).hex)")
            for region in platform.reservedRegions { text("region \(region.type.rawValue) \(region.range)") }
            for (pasid, hwpt) in device.attachments.sorted(by: { $0.key < $1.key }) {
                edge("attached" + (pasid == noPASID ? "" : " pasid \(pasid)") + " to", hwpt)
            }
            if let vdevice = device.vdevice { edge("vDEVICE", vdevice) }
            for structure in platform.iommu.configurationStructures(for: platform, memory: context.model.session.machine.physical) {
                text("\(structure.name) @ \(structure.address.hex): " + structure.words.map(\.hex).joined(separator: " "), "heading")
                let fields = structure.fields.map { "\($0.name)=\($0.value > 9 ? $0.value.hex : String($0.value))" }
                for start in stride(from: 0, to: fields.count, by: 4) {
                    text("  " + fields[start..<min(fields.count, start + 4)].joined(separator: "  "))
                }
            }
        default:
            break
        }
        return lines
    }

    private func describe(_ owner: ReservationOwner) -> String {
        switch owner {
        case .device(let id, let type): "\(type.rawValue) of DEVICE \(id)"
        case .domain(let id): "outside HWPT \(id)'s aperture"
        case .test: "test_add_reserved"
        }
    }

    public mutating func render(into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        height = area.height
        let all = lines(context)
        list.move(by: 0, count: all.count, height: area.height)
        for (row, index) in (list.offset..<min(all.count, list.offset + area.height)).enumerated() {
            let line = all[index]
            buffer.put(Widgets.fit(line.text, width: area.width, symbols: context.symbols), x: area.x, y: area.y + row,
                       style: context.theme[line.role])
            if index == list.selected && context.focused {
                buffer.restyle(Rect(x: area.x, y: area.y + row, width: area.width, height: 1)) { $0 = context.theme["selection"] }
            }
        }
    }

    public mutating func handle(_ key: Key, context: RenderContext) -> PaneAction {
        let all = lines(context)
        if list.handle(key, count: all.count, height: height) { return .none }
        if key == .enter, all.indices.contains(list.selected), let target = all[list.selected].target {
            list = ListState()
            return .select(target)
        }
        return .ignored
    }

    public mutating func search(_ text: String, forward: Bool, context: RenderContext) -> Bool {
        let all = lines(context)
        guard let index = nextMatch(in: all.map(\.text), after: list.selected, needle: text, forward: forward) else { return false }
        list.select(index, count: all.count, height: height)
        return true
    }
}
