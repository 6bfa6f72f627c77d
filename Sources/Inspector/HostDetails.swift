import HostImport
import IOMMUCore
import Presentation
import ScenarioScript

/// The details pane on a host item: a unit's decoded ID registers, a group's default domain
/// and reserved regions (and what they mean for assigning its devices), a device's place,
/// a kernel domain's table and coverage, and a logged fault with the model's explanation.
/// Everything the host or the log said is escaped (`terminalSafe`).
enum HostDetails {
    /// Sentences are wrapped to this many cells: the details pane at 80 columns is 48 wide.
    static let wrapWidth = 46

    /// A unit's ID registers and their decoded fields (a host's, or a scenario unit's whose
    /// description has them); `note` follows the AMD-Vi feature registers.
    static func registerLines(_ registers: UnitRegisters, note: String = "", _ text: (String, String) -> Void) {
        switch registers {
        case .intelVTd(let cap, let ecap): text("cap \(cap.hex)  ecap \(ecap.hex)", "text")
        case .amdVi(let efr, let efr2): text("EFR \(efr.hex)  EFR2 \(efr2.hex)" + note, "text")
        case .armSMMUv3(let idr, let iidr, let aidr):
            text(idr.enumerated().map { "IDR\($0.offset) \(UInt64($0.element).hex)" }.joined(separator: " "), "text")
            text("IIDR \(UInt64(iidr).hex)  AIDR \(UInt64(aidr).hex)", "text")
        }
        decodedLines(registers, text)
    }

    /// What a unit's ID registers say, field by field.
    static func decodedLines(_ registers: UnitRegisters, _ text: (String, String) -> Void) {
        let fields = UnitCapabilities.decode(registers).fields
        text(fields.isEmpty ? "no fields decoded" : "decoded (" + Units.count(fields.count, "field") + "):", "heading")
        for field in fields {
            text("  \(field.name) [\(field.bits)] = \(field.value > 9 ? field.value.hex : String(field.value))  \(field.meaning)", "text")
        }
    }

    /// The lines of `item`; nil when it needs a host and the model has none.
    static func lines(_ item: HostItem, model: ModelView, arrow: String) -> [DetailLine]? {
        if case .fault(let index) = item {
            return model.faults.indices.contains(index) ? lines(of: model.faults[index]) : nil
        }
        guard let host = model.host else { return nil }
        let reader = model.reader
        var writer = Writer()
        func text(_ value: String, _ role: String = "text") { writer.text(value, role) }
        func sentence(_ value: String, _ role: String = "text", indent: String = "  ") { writer.sentence(value, role, indent: indent) }
        let snapshot = host.snapshot
        switch item {
        case .host:
            text("Host" + (snapshot.kernel.map { "  kernel " + terminalSafe($0) } ?? "  kernel unknown"), "heading")
            if let cmdline = snapshot.cmdline { sentence("cmdline " + terminalSafe(cmdline), indent: "") }
            text(Units.count(snapshot.iommus.count, "IOMMU unit") + "  " + Units.count(snapshot.groups.count, "group") + "  "
                 + Units.count(snapshot.devices.count, "device"))
            text("kernel tables rebuilt: " + Units.count(host.tables.tables.count, "table") + ", "
                 + Units.count(host.tables.descriptorsPlaced, "descriptor") + " placed")
            let notes = snapshot.notes + host.tables.notes
            if !notes.isEmpty { text("notes:", "heading") }
            for note in notes { sentence("- " + terminalSafe(note), "dim") }
            if !host.tables.warnings.isEmpty { text(Units.count(host.tables.warnings.count, "warning") + " rebuilding the tables:", "heading") }
            for warning in host.tables.warnings.prefix(8) { sentence(terminalSafe(warning.description), "warning") }
        case .unit(let name):
            guard let unit = snapshot.iommu(named: name) else { text("no unit \(terminalSafe(name))", "dim"); break }
            text("\(terminalSafe(unit.name))  \(unit.architecture.rawValue)", "heading")
            let facts = [unit.version.map { "version " + terminalSafe($0) }, unit.registerBase.map { "registers @ \($0.hex)" },
                         unit.capabilityHeader.map { "capability header \(UInt64($0).hex)" }].compactMap { $0 }
            if !facts.isEmpty { text(facts.joined(separator: "  ")) }
            guard let registers = unit.registers else {
                text("ID registers not shown by sysfs: capabilities unknown", "dim")
                break
            }
            registerLines(registers, note: unit.featuresForm.map { "  (features read as \($0.rawValue))" } ?? "", text)
            text("translates " + Units.count(unit.devices.count, "device"), "dim")
        case .group(let id):
            guard let group = snapshot.group(id) else { text("no group \(id)", "dim"); break }
            text("iommu group \(group.id)  default domain \(group.type.map(terminalSafe) ?? "unknown")", "heading")
            sentence(typeMeaning(group.type))
            text("devices: " + group.devices.map(terminalSafe).joined(separator: " "))
            text(group.reservedRegions.isEmpty ? "no reserved regions" : "reserved regions (sysfs, last inclusive):", "heading")
            for region in group.reservedRegions {
                text("  \(region.range.start.hex)-\(region.range.last.hex)  \(region.type.rawValue)")
                sentence(regionMeaning(region.type), "dim", indent: "    ")
            }
        case .device(let name):
            let device = host.device(name)
            text(terminalSafe(device.name), "heading")
            if let pci = device.pci {
                text("PCI segment \(UInt64(pci.segment).hex) bus \(UInt64(pci.bus).hex) device \(UInt64(pci.device).hex) function \(pci.function)"
                     + "  requester id \(UInt64(pci.requesterID).hex)")
            }
            var ids: [String] = []
            if let vendor = device.vendor { ids.append("vendor \(UInt64(vendor).hex)") }
            if let product = device.deviceID { ids.append("device \(UInt64(product).hex)") }
            if let code = device.classCode { ids.append("class \(UInt64(code).hex)") }
            if !ids.isEmpty { text(ids.joined(separator: "  ")) }
            text("driver " + (device.driver.map(terminalSafe) ?? "none bound"))
            let group = host.group(of: device)
            text("group " + (group.map { "\($0.id) (\($0.type.map(terminalSafe) ?? "type unknown"))" } ?? "unknown")
                 + "  unit " + (host.unit(of: name).map(terminalSafe) ?? "unknown"))
            for domain in host.domains(of: name) { text("\(domain.title)  \(domain.summary)", domain.kind == .translated ? "mapped" : "dim") }
            if let bound = reader.device(boundTo: name) {
                writer.lines.append(DetailLine(text: "\(arrow) bound: DEVICE \(bound.id)", role: "link", target: bound.id))
            }
        case .kernelDomain(let name, let pasid):
            guard let domain = host.domain(device: name, pasid: pasid) else { text("no such domain", "dim"); break }
            text("\(terminalSafe(name))  \(domain.title)", "heading")
            text("unit " + ((domain.table?.unit ?? host.unit(of: name)).map(terminalSafe) ?? "unknown"))
            switch domain.kind {
            case .translated:
                guard let table = domain.table else { break }
                text("format \(table.format.name)  root \(table.root.hex)")
                text("input \(table.format.inputBits) bits  levels \(table.format.levels.map(String.init).joined(separator: " "))")
                switch table.coverage {
                case .complete:
                    sentence("coverage complete: every present leaf was dumped, so an entry not shown is not present.", indent: "")
                case .partial(let unknown):
                    sentence("coverage partial: these input ranges were not dumped; their entries are unknown, not empty:", indent: "")
                    for range in unknown.prefix(8) { text("  unknown \(range.start.hex)-\(range.last.hex)", "warning") }
                    if unknown.count > 8 { text("  and \(unknown.count - 8) more", "warning") }
                case .rootOnly(let reason):
                    sentence("only the root is known: " + terminalSafe(reason) + ". Every entry below it is unknown.", "warning", indent: "")
                }
                text("3 shows the table, 4 walks it", "dim")
            case .notDumped:
                sentence("The kernel translates this device's DMA, but debugfs did not show the table: its entries are unknown.",
                         "warning", indent: "")
            case .identity:
                sentence("No table: the IOMMU passes the device's DMA through, so a DMA address is the physical address.", indent: "")
            case .blocked:
                sentence("No table: the IOMMU blocks every DMA of the device.", indent: "")
            case .unknown:
                sentence("The group's default domain type is not known (no type file before v5.11) and no table was dumped.",
                         "dim", indent: "")
            }
        case .fault:
            break
        }
        return writer.lines
    }

    /// Lines, and sentences wrapped to the pane's narrowest width.
    struct Writer {
        var lines: [DetailLine] = []

        mutating func text(_ value: String, _ role: String = "text") { lines.append(DetailLine(text: value, role: role, target: nil)) }

        mutating func sentence(_ value: String, _ role: String = "text", indent: String = "  ") {
            for line in TableText.wrap(value.split(separator: " ").map(String.init), width: HostDetails.wrapWidth, separator: " ") {
                text(indent + line, role)
            }
        }
    }

    /// A logged record's fields as the log gave them, then the model's walk and cause.
    static func lines(of explanation: FaultExplanation) -> [DetailLine] {
        var writer = Writer()
        let record = explanation.record
        writer.text("fault at line \(record.sourceLine)  \(record.architecture.rawValue)" + (record.iommu.map { "  " + terminalSafe($0) } ?? ""),
                    "heading")
        var facts = [record.device.map { "device " + terminalSafe($0.description) }, record.sid.map { "sid \(UInt64($0).hex)" },
                     record.pasid.map { "pasid \($0)" }, record.address.map { "address \($0.hex)" }, record.ipa.map { "ipa \($0.hex)" },
                     record.access?.rawValue].compactMap { $0 }
        if let stage = record.stage { facts.append("stage \(stage)") }
        if let flags = record.flags { facts.append("flags \(flags.hex)") }
        if !facts.isEmpty { writer.text(facts.joined(separator: "  ")) }
        writer.sentence("logged " + terminalSafe(record.reason) + (record.reasonText.map { ": " + terminalSafe($0) } ?? ""), "fault", indent: "")
        if !record.raw.isEmpty { writer.text("raw " + record.raw.map(\.hex).joined(separator: " "), "dim") }
        writer.text("model: " + (explanation.device.map { "walks " + terminalSafe($0) } ?? "no device matched")
                    + "  cause \(explanation.cause.rawValue)", "heading")
        writer.sentence(terminalSafe(explanation.sentence))
        switch explanation.outcome {
        case .faulted, .translated: writer.text("Enter in the faults pane (6) opens the walk", "dim")
        case .notWalked(let reason): writer.sentence("not walked: " + terminalSafe(reason), "dim")
        }
        return writer.lines
    }

    /// What a group's `type` means for its devices' DMA (`iommu_group_show_type`'s words).
    static func typeMeaning(_ type: String?) -> String {
        switch type.flatMap(DefaultDomainType.init(rawValue:)) {
        case .dma?: "Translated by the DMA API: each buffer is mapped, and an unmap invalidates the IOTLB at once (strict)."
        case .dmaFQ?: "Translated by the DMA API with a flush queue: unmapped IOVAs are invalidated in batches (lazy), so a stale IOVA can still reach memory for a while."
        case .identity?: "Pass-through: the device's DMA addresses are physical addresses (iommu=pt or a quirk)."
        case .blocked?: "Blocked: every DMA of the group's devices faults."
        case .unmanaged?: "A domain a driver owns (VFIO, iommufd, a GPU driver), not the DMA API."
        case nil: type == nil ? "No type file: the kernel is older than v5.11." : "A type this kernel prints for a domain it has no word for."
        }
    }

    /// What a reserved region means when the group's devices are assigned (VFIO, iommufd).
    static func regionMeaning(_ type: HostReservedRegionType) -> String {
        switch type {
        case .direct: "Firmware needs it mapped 1:1 (RMRR, IVMD, IORT RMR): the kernel refuses to take the device off its 1:1 mapping, so assignment fails (\"Firmware has requested this device have a 1:1 IOMMU mapping\")."
        case .directRelaxable: "A 1:1 window for firmware (USB, graphics RMRRs) the kernel lets go: assignment works, and the region is not reserved in the assigned domain."
        case .reserved: "Never usable as IOVA (a host bridge window, peer-to-peer space): iommufd keeps it out of every IOAS the device attaches to."
        case .msi: "The MSI window: on x86 the interrupt doorbell, not memory; with SW_MSI (ARM) iommufd maps the ITS doorbell here. Guest RAM cannot be mapped over it."
        }
    }
}
