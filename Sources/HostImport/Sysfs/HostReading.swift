import IOMMUCore

/// One pass over a host: sysfs, procfs, then the debugfs readers, each file through its
/// `HostFileReader`. `HostReader.read` runs it; the same code serves the live host, a copied
/// tree and a capture, since all three are a `HostSource`.
struct HostReading {
    let source: any HostSource
    var snapshot = HostSnapshot()
    var warnings: [ImportWarning] = []

    static let groupsDirectory = "sys/kernel/iommu_groups"
    static let unitsDirectory = "sys/class/iommu"
    static let pciDirectory = "sys/bus/pci/devices"
    static let debugfsDirectory = "sys/kernel/debug"

    init(source: any HostSource) { self.source = source }

    mutating func run() {
        snapshot.kernel = value("proc/sys/kernel/osrelease", ProcLineFile.self)
        snapshot.cmdline = value("proc/cmdline", ProcLineFile.self)
        readGroups()
        readUnits()
        readDevices()
        snapshot.vtd = VTdDebugfsReader.read(from: source, warnings: &warnings)
        snapshot.amd = AMDDebugfsReader.read(from: source, warnings: &warnings)
        addNotes()
    }

    // MARK: Files

    /// A file read through its reader. A missing file is silent when `missing` says it may be
    /// (an attribute older kernels lack); every other failure is a located warning.
    private mutating func value<R: HostFileReader, T>(_ path: String, _ reader: R.Type, warnIfMissing: Bool = false) -> T? where R.Value == T? {
        guard let text = text(path, warnIfMissing: warnIfMissing) else { return nil }
        return R.parse(text, file: path, warnings: &warnings)
    }

    private mutating func text(_ path: String, warnIfMissing: Bool) -> String? {
        switch source.read(path) {
        case .success(let text): return text
        case .failure(.missing) where !warnIfMissing: return nil
        case .failure(let failure):
            warnings.append(ImportWarning(file: path, reason: failure.description))
            return nil
        }
    }

    /// The last component of a link's target: `../../../../kernel/iommu_groups/7` → `7`
    /// (the `../` depth varies, host-inputs §2.3).
    private func linkName(_ path: String) -> String? {
        guard let target = source.link(path), let name = target.split(separator: "/").last else { return nil }
        return String(name)
    }

    // MARK: Groups (§2.1–2.3)

    private mutating func readGroups() {
        var groups: [HostGroup] = []
        for name in source.list(Self.groupsDirectory) {
            guard name.count <= 10, name.allSatisfy(\.isASCII), let id = UInt32(name) else {
                warnings.append(ImportWarning(file: "\(Self.groupsDirectory)/\(terminalText([Substring(name)]))", reason: "not a group id"))
                continue
            }
            let directory = "\(Self.groupsDirectory)/\(name)"
            var group = HostGroup(id: id)
            group.type = value("\(directory)/type", GroupTypeFile.self)
            if let text = text("\(directory)/reserved_regions", warnIfMissing: false) {
                group.reservedRegions = ReservedRegionsFile.parse(text, file: "\(directory)/reserved_regions", warnings: &warnings)
            }
            group.devices = source.list("\(directory)/devices")
            groups.append(group)
        }
        snapshot.groups = groups.sorted { $0.id < $1.id }
    }

    // MARK: Units (§2.4)

    private mutating func readUnits() {
        for name in source.list(Self.unitsDirectory) {
            let directory = "\(Self.unitsDirectory)/\(name)"
            guard let architecture = architecture(of: name, directory: directory) else { continue }
            var unit = HostIOMMU(name: name, architecture: architecture)
            switch architecture {
            case .intelVTd: readVTdAttributes(&unit, directory: "\(directory)/intel-iommu")
            case .amdVi: readAMDAttributes(&unit, directory: "\(directory)/amd-iommu")
            case .armSMMUv3, .mock: break  // arm-smmu-v3 has no attribute group upstream
            }
            unit.devices = source.list("\(directory)/devices")
            snapshot.iommus.append(unit)
        }
    }

    /// The unit's architecture from its name (`iommu_device_sysfs_add()` callers: `dmar%d`,
    /// `ivhd%d`, `smmu3.%pa`), else from its attribute group; nil, with a note, for units
    /// iommuscope does not model (SMMUv1/v2's `smmu.%pa`, virtio-iommu).
    private mutating func architecture(of name: String, directory: String) -> IOMMUArchitecture? {
        func numbered(_ prefix: String) -> Bool {
            name.hasPrefix(prefix) && name.count > prefix.count && name.count <= prefix.count + 5
                && name.dropFirst(prefix.count).allSatisfy { $0.isASCII && $0.isNumber }
        }
        if numbered("dmar") || source.exists("\(directory)/intel-iommu") { return .intelVTd }
        if numbered("ivhd") || source.exists("\(directory)/amd-iommu") { return .amdVi }
        if name.hasPrefix("smmu3.") { return .armSMMUv3 }
        let what = name.hasPrefix("smmu.") ? "an Arm SMMUv1/v2" : "not a VT-d, AMD-Vi or SMMUv3 unit (virtio-iommu?)"
        snapshot.notes.append("unit \(terminalText([Substring(name)])): \(what), which iommuscope does not model; skipped")
        return nil
    }

    /// `intel-iommu/{cap,ecap,address,version}`: `"%llx\n"` without `0x`, version `"%d:%d\n"`.
    private mutating func readVTdAttributes(_ unit: inout HostIOMMU, directory: String) {
        let cap = value("\(directory)/cap", BareHexFile.self, warnIfMissing: true)
        let ecap = value("\(directory)/ecap", BareHexFile.self, warnIfMissing: true)
        if let cap, let ecap { unit.registers = .intelVTd(cap: cap, ecap: ecap) }
        unit.registerBase = value("\(directory)/address", BareHexFile.self)
        unit.version = value("\(directory)/version", VTdVersionFile.self)
    }

    /// `amd-iommu/cap` (`"%x\n"`, the PCI capability header) and `features` in any of its
    /// three forms (`AMDFeaturesForm.parse` decides the order).
    private mutating func readAMDAttributes(_ unit: inout HostIOMMU, directory: String) {
        if let header = value("\(directory)/cap", BareHexFile.self) {
            if let header = UInt32(exactly: header) {
                unit.capabilityHeader = header
            } else {
                warnings.append(ImportWarning(file: "\(directory)/cap", line: 1, reason: "wider than the 32-bit capability header"))
            }
        }
        let path = "\(directory)/features"
        guard let text = text(path, warnIfMissing: true) else { return }
        var ignored: [ImportWarning] = []
        guard let (line, word) = OneLineText.value(text, file: path, warnings: &ignored),
              let features = AMDFeaturesForm.parse(word) else {
            warnings.append(ImportWarning(file: path, line: 1, reason: "not EFR (%llx) or EFR:EFR2 (%llx:%llx)"))
            return
        }
        _ = line
        unit.registers = .amdVi(efr: features.efr, efr2: features.efr2)
        unit.featuresForm = features.form
    }

    // MARK: Devices (§2.3)

    /// Every device the host names: the PCI functions, the groups' members and the units'
    /// devices, each read from its own sysfs directory.
    private mutating func readDevices() {
        var directories: [String: String] = [:]
        for name in source.list(Self.pciDirectory) { directories[name] = "\(Self.pciDirectory)/\(name)" }
        for group in snapshot.groups {
            for name in group.devices where directories[name] == nil {
                directories[name] = "\(Self.groupsDirectory)/\(group.id)/devices/\(name)"
            }
        }
        for unit in snapshot.iommus {
            for name in unit.devices where directories[name] == nil {
                directories[name] = "\(Self.unitsDirectory)/\(unit.name)/devices/\(name)"
            }
        }
        var devices: [HostDevice] = []
        for (name, directory) in directories.sorted(by: { $0.key < $1.key }) {
            var device = HostDevice(name: name)
            if let group = linkName("\(directory)/iommu_group") {
                device.group = group.count <= 10 ? UInt32(group) : nil
                if device.group == nil {
                    warnings.append(ImportWarning(file: "\(directory)/iommu_group", reason: "link names no group id: \(terminalText([Substring(group)]))"))
                }
            }
            device.iommu = linkName("\(directory)/iommu")
            device.driver = linkName("\(directory)/driver")
            if device.pci != nil {
                device.vendor = value("\(directory)/vendor", PCIIDFile<UInt16>.self)
                device.deviceID = value("\(directory)/device", PCIIDFile<UInt16>.self)
                device.classCode = value("\(directory)/class", PCIIDFile<UInt32>.self)
            }
            crossCheck(&device, directory: directory)
            devices.append(device)
        }
        snapshot.devices = devices
    }

    /// The group and unit a device's links name against the groups' and units' listings: a
    /// missing link is filled in, a disagreement is warned about (the link wins).
    private mutating func crossCheck(_ device: inout HostDevice, directory: String) {
        if let member = snapshot.groups.first(where: { $0.devices.contains(device.name) }) {
            if device.group == nil {
                device.group = member.id
            } else if device.group != member.id {
                warnings.append(ImportWarning(file: "\(directory)/iommu_group",
                                              reason: "links to group \(device.group ?? 0), but group \(member.id) lists the device"))
            }
        }
        if let unit = snapshot.iommus.first(where: { $0.devices.contains(device.name) }) {
            if device.iommu == nil {
                device.iommu = unit.name
            } else if device.iommu != unit.name {
                warnings.append(ImportWarning(file: "\(directory)/iommu", reason: "links to \(terminalText([Substring(device.iommu ?? "")])), but \(unit.name) lists the device"))
            }
        }
    }

    // MARK: Notes

    private mutating func addNotes() {
        if snapshot.kernel == nil { snapshot.notes.append("no /proc/sys/kernel/osrelease: kernel release unknown") }
        if snapshot.cmdline == nil { snapshot.notes.append("no /proc/cmdline: boot options unknown") }
        if !source.exists(Self.groupsDirectory) {
            snapshot.notes.append("no /sys/kernel/iommu_groups: no IOMMU is on, or /sys was not captured")
        } else if snapshot.groups.isEmpty {
            snapshot.notes.append("no iommu groups: no device is behind an IOMMU")
        }
        let untyped = snapshot.groups.filter { $0.type == nil }.map(\.id)
        if !untyped.isEmpty {
            snapshot.notes.append("no type file in \(Self.count(untyped.count, "group")) (kernels before v5.11 have none): default domain type unknown")
        }
        if snapshot.iommus.isEmpty, !snapshot.groups.isEmpty {
            snapshot.notes.append("no /sys/class/iommu units: the groups' IOMMU is unknown")
        }
        addDebugfsNotes()
    }

    private mutating func addDebugfsNotes() {
        let architectures = Set(snapshot.iommus.map(\.architecture))
        let debugfs = Self.debugfsDirectory
        if architectures.contains(.armSMMUv3) {
            snapshot.notes.append("arm-smmu-v3 has no debugfs: SMMUv3 stream and page tables cannot be read")
        }
        guard !source.list(debugfs).isEmpty else {
            snapshot.notes.append("debugfs not mounted or not readable (it needs root): no page tables")
            return
        }
        if architectures.contains(.intelVTd) {
            if !source.exists("\(debugfs)/iommu/intel") {
                snapshot.notes.append("no debugfs iommu/intel (CONFIG_INTEL_IOMMU_DEBUGFS off?): no VT-d page tables")
            } else if snapshot.vtd.isEmpty {
                snapshot.notes.append("debugfs iommu/intel gave nothing readable: no VT-d page tables")
            }
        }
        for unit in snapshot.vtd.translationDisabled {
            snapshot.notes.append("\(terminalText([Substring(unit)])): DMA remapping is not enabled (translation off)")
        }
        for set in snapshot.vtd.registerSets {
            if let status = set["GSTS"], status & (1 << 31) == 0 {
                snapshot.notes.append("\(terminalText([Substring(set.unit)])): GSTS.TES is clear (translation off)")
            }
        }
        if architectures.contains(.amdVi) {
            if !source.exists("\(debugfs)/iommu/amd") {
                snapshot.notes.append("no debugfs iommu/amd (CONFIG_AMD_IOMMU_DEBUGFS off?): no AMD-Vi tables")
            } else if snapshot.amd.isEmpty {
                snapshot.notes.append("debugfs iommu/amd holds no data (AMD-Vi debugfs files are new in v6.17): no AMD-Vi tables")
            }
        }
        for read in snapshot.amd.registerReads where read.space == .mmio && read.offset == 0x18 && read.value & 1 == 0 {
            snapshot.notes.append("ivhd\(read.unitIndex): control register IommuEn is clear (translation off)")
        }
    }

    static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }
}
