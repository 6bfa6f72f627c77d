import HostImport
import IOMMUCore
import Presentation
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

    public func keyHelp(_ symbols: Symbols) -> [(key: String, action: String)] {
        [("Enter", "follow the edge on this line (an arrow marks one), or to a reservation's owner")]
    }

    public func lines(_ context: RenderContext) -> [DetailLine] {
        let reader = context.reader, graph = context.model.graph
        // On a host, a host row's details (a device row bound by a scenario links to its DEVICE).
        if let item = context.hostSelection, let lines = HostDetails.lines(item, model: context.model, arrow: context.symbols.arrow) {
            return lines
        }
        if case .unit(let name)? = context.hostSelection, context.model.host == nil {
            return unitLines(name, context)
        }
        guard let id = context.selection, let node = graph.node(id) else {
            return [DetailLine(text: "Select an object in the tree (1).", role: "dim", target: nil)]
        }
        var lines: [DetailLine] = []
        func text(_ value: String, _ role: String = "text") { lines.append(DetailLine(text: value, role: role, target: nil)) }
        /// An edge named by its role, unless the role only repeats the target's type
        /// ("→ IOAS 4", not "→ IOAS IOAS 4").
        func edge(_ value: String, _ target: IOMMUFDObject) {
            let label = ObjectText.label(target)
            let repeatsType = label.lowercased().hasPrefix(value.lowercased() + " ")
            lines.append(DetailLine(text: context.symbols.arrow + " " + (repeatsType ? label : value + " " + label), role: "link",
                                    target: target.id))
        }
        text(ObjectText.label(node.kind.object), "heading")
        text("users \(node.users)  (destroy is EBUSY above 1)")
        switch node.kind {
        case .ioas(let ioas):
            text(Units.count(ioas.areas.count, "area") + "  iova_alignment \(ioas.iovaAlignment.hex)  huge pages \(ioas.largePagesDisabled ? "off" : "on")")
            // Enter on a reservation follows to the device or HWPT that owns it.
            for (reservation, owner) in graph.reservations(of: ioas).prefix(16) {
                lines.append(DetailLine(text: "reserved \(reservation.range)  \(ObjectText.owner(reservation.owner))", role: "text",
                                        target: owner?.id))
            }
            for allowed in ioas.allowedRanges.prefix(16) { text("allowed  \(allowed)") }
            if let ranges = reader.usableRanges(of: ioas) {
                text("usable   " + ranges.ranges.prefix(8).map(\.description).joined(separator: ", "))
            }
            for child in graph.children(of: ioas.id) {
                if case .access(let access) = child { edge("access", access) } else { edge("domain", child.object) }
            }
        case .hwptPaging(let hwpt):
            let domain = hwpt.domain
            text("\(hwpt.isAutomatic ? "automatic" : "user") \(domain.stage.rawValue) on \(domain.driver.name)"
                 + (hwpt.isNestParent ? "  NEST_PARENT" : "") + (domain.dirtyTracking ? "  DIRTY_TRACKING " + (domain.dirtyTrackingEnabled ? "enabled" : "disabled") : "")
                 + (hwpt.pasidCompatible ? "  PASID" : ""))
            text("aperture \(domain.aperture)  page sizes \(Self.pageSizes(domain.pageSizes))")
            if let table = domain.table as? DescriptorPageTable {
                text("format \(table.format.name)  root \(table.root.hex)  \(table.tables.count) tables")
            } else {
                text("xarray of \(domain.table.mappingCount) runs (the selftest mock keeps no descriptors)")
            }
            text("mapped runs \(domain.table.mappingCount)  SW_MSI doorbells \(hwpt.presentSWMSI.count)")
            edge("IOAS", hwpt.ioas)
            if let fault = hwpt.fault { edge("faults to", fault) }
            for (device, pasid) in graph.attachments(of: hwpt.id) { edge("attached" + (pasid == noPASID ? "" : " pasid \(pasid)"), device) }
            // What stands on it: nested HWPTs (also those on its vIOMMUs, whose stage 2 it is) and vIOMMUs.
            let children = graph.children(of: hwpt.id)
            let above = children + children.flatMap { child -> [ObjectKind] in
                if case .viommu(let viommu) = child { return graph.referrers(of: viommu.id, role: .viommu) }
                return []
            }
            for kind in above.sorted(by: { $0.id < $1.id }) {
                switch kind {
                case .hwptNested(let nested): edge("nested on it", nested)
                case .viommu(let viommu): edge("vIOMMU on it", viommu)
                case .ioas, .hwptPaging, .device, .vdevice, .selftest, .fault, .veventq, .access: break
                }
            }
        case .hwptNested(let nested):
            switch nested.domain.configuration {
            case .selftest(let iotlb): text("selftest iotlb " + iotlb.map { UInt64($0).hex }.joined(separator: " "))
            case .armSMMUv3(let ste): text("guest STE " + ste.map(\.hex).joined(separator: " "))
            case .vtdS1(let flags, let root, let width): text("vtd_s1 pgtbl_addr \(root.hex) addr_width \(width) flags \(flags.hex)")
            }
            switch nested.parent {
            case .hwpt(let parent): edge("parent", parent)
            case .viommu(let viommu): edge("vIOMMU", viommu); edge("stage 2", viommu.parent)
            }
            if let fault = nested.fault { edge("faults to", fault) }
            for (device, _) in graph.attachments(of: nested.id) { edge("attached", device) }
        case .viommu(let viommu):
            text("type \(ObjectText.uapiName(VIOMMUType.self, viommu.viommuType)) on \(viommu.driver.name)")
            edge("nest parent", viommu.parent)
            for case .vdevice(let vdevice) in graph.children(of: viommu.id) { edge("vDEVICE", vdevice) }
            for veventq in viommu.veventqs { edge("vEVENTQ", veventq) }
        case .vdevice(let vdevice):
            text("virt_id \(vdevice.virtualID.hex)")
            edge("vIOMMU", vdevice.viommu)
            edge("device", vdevice.device)
        case .device(let device):
            let platform = device.platform
            text("\(platform.name) behind \(platform.iommu.name) (\(platform.iommu.architecture.rawValue))  "
                 + Self.requester(platform.streamID, on: platform.iommu.architecture))
            for region in platform.reservedRegions { text("region \(region.type.rawValue) \(region.range)") }
            for (pasid, hwpt) in device.attachments.sorted(by: { $0.key < $1.key }) {
                edge("attached" + (pasid == noPASID ? "" : " pasid \(pasid)") + " to", hwpt)
            }
            if let vdevice = device.vdevice { edge("vDEVICE", vdevice) }
            // The RID's structures, then what each attached PASID adds (its CD, PASID entry
            // or GCR3 entries); a structure both read (root, context, STE, DTE) shows once.
            var shown = Set<UInt64>()
            let pasids: [UInt32?] = [nil] + device.attachments.keys.filter { $0 != noPASID }.sorted().map(Optional.some)
            for pasid in pasids {
                for structure in reader.configurationStructures(of: device, pasid: pasid) where shown.insert(structure.address).inserted {
                    text("\(structure.name) @ \(structure.address.hex): " + structure.words.map(\.hex).joined(separator: " "), "heading")
                    let fields = structure.fields.map { "\($0.name)=\($0.value > 9 ? $0.value.hex : String($0.value))" }
                    for start in stride(from: 0, to: fields.count, by: 4) {
                        text("  " + fields[start..<min(fields.count, start + 4)].joined(separator: "  "))
                    }
                }
            }
        case .selftest(let stdev):
            edge("device", stdev.device)
        case .fault(let fault):
            text(ObjectText.queueState(fault))
            for group in fault.pending.prefix(8) { text("pending  " + ObjectText.pageRequests(group)) }
            for (cookie, group) in fault.awaitingResponse.sorted(by: { $0.key < $1.key }).prefix(8) {
                text("cookie \(cookie)  " + ObjectText.pageRequests(group))
            }
            for answer in fault.answers.suffix(4) { text("answered \(answer.code.name)  " + ObjectText.pageRequests(answer.group)) }
            for case let hwpt as HWPT in graph.referrers(of: fault.id, role: .fault).map(\.object) { edge("HWPT using it", hwpt) }
        case .access(let access):
            text(ObjectText.accessState(access))
            for pin in access.pins.prefix(16) { text("pinned #\(pin.id)  " + (IOVARange(start: pin.iova, length: pin.length)?.description ?? pin.iova.hex)) }
            if let ioas = access.ioas { edge("IOAS", ioas) }
        case .veventq(let veventq):
            text(ObjectText.queueState(veventq))
            for entry in veventq.deliver.prefix(8) { text(ObjectText.vevent(entry)) }
            edge("vIOMMU", veventq.viommu)
        }
        return lines
    }

    /// An IOMMU unit of the scenario's platform: its devices (Enter follows a bound one to its
    /// DEVICE), the ID registers its description gives, and what `IOMMU_GET_HW_INFO` returns
    /// for it, decoded.
    private func unitLines(_ name: String, _ context: RenderContext) -> [DetailLine] {
        let reader = context.reader, arrow = context.symbols.arrow
        var lines: [DetailLine] = []
        func text(_ value: String, _ role: String = "text") { lines.append(DetailLine(text: value, role: role, target: nil)) }
        guard let unit = reader.platform.units.first(where: { $0.name == name }) else { return [DetailLine(text: "no unit \(name)", role: "dim")] }
        text("\(unit.name)  \(unit.architecture.rawValue)", "heading")
        let devices = reader.platform.devices.filter { $0.unit == name }
        let bound = devices.compactMap { reader.device(boundTo: $0.name) }
        text(Units.count(devices.count, "device") + ":", "heading")
        for device in devices {
            let label = "\(device.name)  " + Self.requester(device.requesterID.value, on: unit.architecture)
            if let iommufd = reader.device(boundTo: device.name) {
                lines.append(DetailLine(text: "\(arrow) \(label)  DEVICE \(iommufd.id)", role: "link", target: iommufd.id))
            } else {
                text("  \(label)  (unbound)", "dim")
            }
        }
        if let registers = unit.registers {
            HostDetails.registerLines(registers) { text($0, $1) }
        }
        // The driver answers GET_HW_INFO per device; every device of the unit gets the same.
        if let device = bound.first {
            text("PASID bits \(device.platform.iommu.maxPASIDLog2)")
            if let info = reader.hardwareInfo(of: device) {
                text("IOMMU_GET_HW_INFO \(info.type.name) (\(info.length) bytes):", "heading")
                for field in info.fields { text("  \(field.name) = \(field.value > 9 ? field.value.hex : String(field.value))") }
                // The registers it reports, decoded as a host's would be.
                if unit.registers == nil, let registers = Self.registers(info) { HostDetails.decodedLines(registers) { text($0, $1) } }
            }
        } else if unit.registers == nil {
            text("no DEVICE bound: IOMMU_GET_HW_INFO needs one (device_bind)", "dim")
        }
        return lines
    }

    /// How a device's requester ID reads on its IOMMU: an Arm StreamID in hex (`sid 0x100`);
    /// a PCI requester ID as the kernel prints a BDF, bus:device.function (`rid 00:02.0`).
    static func requester(_ id: UInt32, on architecture: IOMMUArchitecture) -> String {
        switch architecture {
        case .armSMMUv3: "sid \(UInt64(id).hex)"
        case .intelVTd, .amdVi: "rid " + FaultText.bdf(UInt16(truncatingIfNeeded: id))
        case .mock: "id \(UInt64(id).hex)"
        }
    }

    /// The ID registers a GET_HW_INFO answer carries (`struct iommu_hw_info_arm_smmuv3`'s
    /// idr[6], iidr and aidr; `struct iommu_hw_info_vtd`'s cap_reg and ecap_reg).
    static func registers(_ info: HWInfo) -> UnitRegisters? {
        let fields = Dictionary(info.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        switch info.type {
        case .armSMMUv3:
            let idr = (0..<6).compactMap { fields["idr\($0)"].map { UInt32(truncatingIfNeeded: $0) } }
            guard idr.count == 6, let iidr = fields["iidr"], let aidr = fields["aidr"] else { return nil }
            return .armSMMUv3(idr: idr, iidr: UInt32(truncatingIfNeeded: iidr), aidr: UInt32(truncatingIfNeeded: aidr))
        case .intelVTd:
            guard let cap = fields["cap_reg"], let ecap = fields["ecap_reg"] else { return nil }
            return .intelVTd(cap: cap, ecap: ecap)
        case .default, .tegra241CMDQV, .selftest:
            return nil
        }
    }

    /// A page-size bitmap as its sizes, smallest first (`4K|2M|1G`).
    static func pageSizes(_ bitmap: UInt64) -> String {
        let sizes = (0..<64).filter { bitmap & (1 << UInt64($0)) != 0 }.map { Units.exactSize(1 << UInt64($0)) }
        return sizes.isEmpty ? "none" : sizes.joined(separator: "|")
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

    /// The selected line, its indentation dropped; nil before anything is selected.
    public func yankText(context: RenderContext) -> String? {
        guard context.selection != nil || context.hostSelection != nil else { return nil }
        let all = lines(context)
        return all.indices.contains(list.selected) ? String(all[list.selected].text.drop { $0 == " " }) : nil
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
