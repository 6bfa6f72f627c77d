import HostImport
import IOMMUCore
import Presentation

/// A real host opened in the inspector (`tui --host`): what its sysfs and debugfs said, the
/// platform a scenario runs on, and how its dumped tables are rebuilt in a machine's memory.
public struct HostInspection {
    public var snapshot: HostSnapshot
    /// The units, groups and devices a scenario on the host runs against (`HostPlatform.description`).
    public var platform: PlatformDescription
    /// Writes the host's dumped tables into a machine's memory (`HostPlatform.rebuildTables`).
    /// It runs on every machine the timeline starts from, so a step back finds them again.
    public var rebuild: (Machine) -> TableRebuildReport

    public init(snapshot: HostSnapshot, platform: PlatformDescription, rebuild: @escaping (Machine) -> TableRebuildReport) {
        self.snapshot = snapshot
        self.platform = platform
        self.rebuild = rebuild
    }
}

/// What views see of the host: the snapshot, the tables as rebuilt in the live machine, and
/// a read-only peek at the memory the kernel tables were written to.
public struct HostView {
    public let snapshot: HostSnapshot
    public let tables: TableRebuildReport
    /// One descriptor of the rebuilt kernel tables; nil where nothing was written (unbacked).
    let read: (UInt64) -> UInt64?

    /// The group a device is in, by its `iommu_group` link or the group's `devices/`.
    func group(of device: HostDevice) -> HostGroup? {
        if let id = device.group { return snapshot.group(id) }
        return snapshot.groups.first { $0.devices.contains(device.name) }
    }

    /// The unit translating a device: its `iommu` link, else the unit listing it in `devices/`.
    func unit(of device: String) -> String? {
        snapshot.device(named: device)?.iommu ?? snapshot.iommus.first { $0.devices.contains(device) }?.name
    }

    /// The host device named `name`, or one known only as a group member.
    func device(_ name: String) -> HostDevice {
        snapshot.device(named: name) ?? HostDevice(name: name)
    }

    /// The kernel domains a device translates through: the RID's, then each dumped PASID's.
    func domains(of device: String) -> [KernelDomain] {
        let groupType = group(of: self.device(device))?.type
        var domains = [KernelDomain(device: device, pasid: nil, groupType: groupType, table: tables.table(device: device))]
        for table in tables.tables where table.device == device && table.pasid != nil {
            domains.append(KernelDomain(device: device, pasid: table.pasid, groupType: groupType, table: table))
        }
        return domains
    }

    func domain(device: String, pasid: UInt32?) -> KernelDomain? { domains(of: device).first { $0.pasid == pasid } }
}

/// What the tree, the details and the faults pane select that is the host's, not iommufd's.
public enum HostItem: Hashable, Sendable {
    /// The host as a whole: its kernel, command line, and what could not be read.
    case host
    /// `/sys/class/iommu/<name>`.
    case unit(String)
    /// `/sys/kernel/iommu_groups/<id>`.
    case group(UInt32)
    /// A device by its sysfs name.
    case device(String)
    /// The kernel's domain of a device (its RID's, or a PASID's).
    case kernelDomain(device: String, pasid: UInt32?)
    /// A logged fault, by its index in the faults pane.
    case fault(Int)

    /// The title bar's breadcrumb for it, escaped: the names came from the host.
    var crumb: String {
        switch self {
        case .host: "Host"
        case .unit(let name): terminalSafe(name)
        case .group(let id): "group \(id)"
        case .device(let name): terminalSafe(name)
        case .kernelDomain(let device, let pasid): terminalSafe(device) + (pasid.map { " pasid \($0)" } ?? "") + " domain"
        case .fault(let index): "fault \(index + 1)"
        }
    }
}

/// The domain the kernel has a device in, as far as the host showed it: the group's default
/// domain type (`iommu_group_show_type`) and, for a translating domain, the table rebuilt
/// from debugfs.
struct KernelDomain {
    enum Kind: Equatable {
        /// A DMA API domain (`DMA`, `DMA-FQ`) or a driver's own (`unmanaged`) whose table was dumped.
        case translated
        /// A translating domain whose table debugfs did not show.
        case notDumped
        /// `identity`: DMA addresses are physical addresses (pass-through).
        case identity
        /// `blocked`: every DMA faults.
        case blocked
        /// No `type` file (before v5.11) or a word the kernel did not print then: a table
        /// dumped for the device still shows it translates.
        case unknown
    }

    var device: String
    var pasid: UInt32?
    /// The group's `type` as the file says it.
    var groupType: String?
    var table: HostDomainTable?

    var kind: Kind {
        if table != nil { return .translated }
        switch groupType.flatMap(DefaultDomainType.init(rawValue:)) {
        case .identity?: return .identity
        case .blocked?: return .blocked
        case .dma?, .dmaFQ?, .unmanaged?: return .notDumped
        case nil: return .unknown
        }
    }

    var item: HostItem { .kernelDomain(device: device, pasid: pasid) }

    /// "DMA-FQ domain", "identity (pass-through)", "pasid 1 domain".
    var title: String {
        let prefix = pasid.map { "pasid \($0) " } ?? ""
        switch kind {
        case .identity: return prefix + "identity (pass-through)"
        case .blocked: return prefix + "blocked"
        case .unknown: return prefix + "domain (type unknown)"
        case .translated, .notDumped: return prefix + (pasid == nil ? groupType ?? "DMA" : "PASID") + " domain"
        }
    }

    /// A short word on the table: its format and coverage, or why there is none.
    var summary: String {
        switch kind {
        case .translated:
            guard let table else { return "" }
            return "\(table.format.name) @ \(table.root.hex)  " + Self.coverageWord(table.coverage)
        case .notDumped: return "table unknown (not dumped)"
        case .identity: return "no table: DMA address = PA"
        case .blocked: return "no table: DMA faults"
        case .unknown: return "not dumped"
        }
    }

    static func coverageWord(_ coverage: TableCoverage) -> String {
        switch coverage {
        case .complete: "complete"
        case .partial(let unknown): "partial (" + Units.count(unknown.count, "range") + " unknown)"
        case .rootOnly: "root only"
        }
    }

    /// The input ranges whose entries are unknown: not dumped, so neither mapped nor empty.
    static func unknownRanges(_ table: HostDomainTable) -> [IOVARange] {
        switch table.coverage {
        case .complete: return []
        case .partial(let unknown): return unknown
        case .rootOnly:
            let bits = table.format.inputBits
            return [IOVARange(start: 0, last: bits >= 64 ? .max : (1 << UInt64(bits)) - 1)]
        }
    }
}
