import HostImport
import IOMMUCore
import ScenarioScript
@testable import Inspector

/// Hosts built in the tests, one per architecture, with kernel tables written into the
/// machine's memory by the core's own page-table code (real descriptors of each format), as
/// the table rebuild will write the dumped ones.
enum HostFixtures {
    /// The VT-d host's mapped DMA buffer: 0000:00:02.0's IOVA 0x8d800000 (8 KiB) to this PA.
    static let vtdIOVA: UInt64 = 0x8d80_0000
    static let vtdOutput: UInt64 = 0x4_5670_0000
    /// The range the VT-d dump did not cover.
    static let vtdUnknown = IOVARange(start: 0x1_0000_0000, last: 0x1_ffff_ffff)

    enum Architecture: String, CaseIterable, Sendable { case vtd, amd, arm }

    static func snapshot(_ architecture: Architecture) -> HostSnapshot {
        var snapshot = HostSnapshot()
        snapshot.kernel = "6.8.0-45-generic"
        snapshot.cmdline = "BOOT_IMAGE=/vmlinuz intel_iommu=on"
        snapshot.notes = ["no domain dump for 0000:00:1f.3: its tables are unknown"]
        func group(_ id: UInt32, _ type: String?, _ devices: [String], _ regions: [HostReservedRegion] = []) {
            var group = HostGroup(id: id)
            group.type = type
            group.devices = devices
            group.reservedRegions = regions
            snapshot.groups.append(group)
        }
        func device(_ name: String, group: UInt32, unit: String, driver: String?) {
            var device = HostDevice(name: name)
            device.group = group
            device.iommu = unit
            device.driver = driver
            device.vendor = 0x8086
            device.deviceID = 0x46a6
            device.classCode = 0x030000
            snapshot.devices.append(device)
        }
        let msi = HostReservedRegion(range: IOVARange(start: 0xfee0_0000, last: 0xfeef_ffff), type: .msi)
        switch architecture {
        case .vtd:
            var unit = HostIOMMU(name: "dmar0", architecture: .intelVTd)
            unit.registers = .intelVTd(cap: 0x00d2_008c_4066_0462, ecap: 0x0000_0000_00f0_50da)
            unit.registerBase = 0xfed9_0000
            unit.version = "1:0"
            unit.devices = ["0000:00:02.0", "0000:00:14.0", "0000:00:1f.3"]
            snapshot.iommus = [unit]
            group(1, "DMA-FQ", ["0000:00:02.0"],
                  [HostReservedRegion(range: IOVARange(start: 0x7b80_0000, last: 0x7fff_ffff), type: .direct), msi])
            group(2, "identity", ["0000:00:14.0"],
                  [HostReservedRegion(range: IOVARange(start: 0x6c00_0000, last: 0x6c0f_ffff), type: .directRelaxable), msi])
            group(3, "DMA", ["0000:00:1f.3"], [msi])
            device("0000:00:02.0", group: 1, unit: "dmar0", driver: "i915")
            device("0000:00:14.0", group: 2, unit: "dmar0", driver: "xhci_hcd")
            device("0000:00:1f.3", group: 3, unit: "dmar0", driver: "snd_hda_intel")
        case .amd:
            var unit = HostIOMMU(name: "ivhd0", architecture: .amdVi)
            unit.registers = .amdVi(efr: 0x0000_4a5b_6c7d_8e9f, efr2: 0)
            unit.featuresForm = .efrThenEFR2
            unit.capabilityHeader = 0x0019_0f0f
            unit.devices = ["0000:03:00.0", "0000:00:14.3"]
            snapshot.iommus = [unit]
            group(5, "DMA", ["0000:03:00.0"], [msi])
            group(6, "blocked", ["0000:00:14.3"])
            device("0000:03:00.0", group: 5, unit: "ivhd0", driver: "nvme")
            device("0000:00:14.3", group: 6, unit: "ivhd0", driver: nil)
        case .arm:
            var unit = HostIOMMU(name: "smmu3.0x00000000fc900000", architecture: .armSMMUv3)
            unit.devices = ["fc800000.gpu"]
            snapshot.iommus = [unit]
            // No type file (a kernel before v5.11) and no page-table dump (SMMUv3 has none).
            group(0, nil, ["fc800000.gpu"])
            device("fc800000.gpu", group: 0, unit: unit.name, driver: "panfrost")
        }
        return snapshot
    }

    static func platform(_ architecture: Architecture) -> PlatformDescription {
        let snapshot = snapshot(architecture)
        let units = snapshot.iommus.map { unit -> IOMMUUnit in
            switch unit.architecture {
            case .intelVTd: IOMMUUnit(name: unit.name, configuration: .intelVTd(IntelVTd.Configuration()), registers: unit.registers)
            case .amdVi: IOMMUUnit(name: unit.name, configuration: .amdVi(AMDVi.Configuration()), registers: unit.registers)
            default: IOMMUUnit(name: unit.name, configuration: .armSMMUv3(ArmSMMUv3.Configuration()))
            }
        }
        let groups = snapshot.groups.map { IOMMUGroup(id: $0.id, defaultDomain: $0.defaultDomain ?? .dma) }
        let devices = snapshot.devices.map { device in
            DeviceDescription(name: device.name, requesterID: device.pci.map { .requesterID($0.requesterID) } ?? .streamID(0x10),
                              unit: device.iommu ?? "", group: device.group ?? 0)
        }
        return PlatformDescription(units: units, groups: groups, devices: devices)
    }

    /// The kernel's DMA domain of the first device, written by the core's own page-table
    /// code into the machine's memory (VT-d second stage, AMD-Vi v1; the SMMUv3 host has none).
    static func rebuild(_ architecture: Architecture) -> (Machine) -> TableRebuildReport {
        { machine in
            var report = TableRebuildReport()
            let (format, unit, device, coverage): (any PageTableFormat, String, String, TableCoverage)
            switch architecture {
            case .vtd: (format, unit, device, coverage) = (VTdSecondStage(addressWidth: 48), "dmar0", "0000:00:02.0", .partial(unknown: [vtdUnknown]))
            case .amd: (format, unit, device, coverage) = (AMDv1(mode: 3), "ivhd0", "0000:03:00.0", .complete)
            case .arm: return report
            }
            guard let table = try? DescriptorPageTable(format: format, memory: machine.physical),
                  (try? table.map(iova: vtdIOVA, output: vtdOutput, length: 0x2000, prot: [.read, .write])) != nil else { return report }
            report.tables = [HostDomainTable(unit: unit, device: device, pasid: nil, format: table.format, root: table.root, coverage: coverage)]
            report.descriptorsPlaced = table.tables.count
            return report
        }
    }

    static func inspection(_ architecture: Architecture) -> HostInspection {
        HostInspection(snapshot: snapshot(architecture), platform: platform(architecture), rebuild: rebuild(architecture))
    }

    static func model(_ architecture: Architecture, scenario: String? = nil, faults: [FaultExplanation] = []) throws -> InspectorModel {
        try InspectorModel(host: inspection(architecture), scenario: scenario, title: "host",
                           faults: faults)
    }

    /// Logged faults on the VT-d host: one the model's walk of the kernel table explains as
    /// unmapped (its steps read from the rebuilt table), one in a range the dump did not cover, one with no device.
    static func vtdFaults(_ model: InspectorModel) -> [FaultExplanation] {
        guard let host = model.view.host, let table = host.tables.table(device: "0000:00:02.0") else { return [] }
        let cursor = TableCursor(format: table.format, root: table.root, stage: .stage2, read: host.read)
        let missing: UInt64 = 0x8d90_0000
        var unmapped = HostImport.FaultRecord(sourceLine: 12, architecture: .intelVTd, reason: "0x06")
        unmapped.iommu = "dmar0"
        unmapped.device = .pci(PCIAddress(segment: 0, bus: 0, device: 2, function: 0))
        unmapped.address = missing
        unmapped.access = .read
        unmapped.reasonText = "PTE Read access is not set"
        let fault = TranslationFault(.vtd(VTdFaultRecord(.readNotSet, sourceID: 0x10, address: missing)), stage: .stage2, level: 1,
                                     origin: .walk, steps: cursor.steps(to: missing))
        var beyond = unmapped
        beyond.sourceLine = 14
        beyond.address = 0x1_2000_0000
        let undumped = TranslationFault(.vtd(VTdFaultRecord(.readNotSet, sourceID: 0x10, address: 0x1_2000_0000)), stage: .stage2,
                                        level: 3, origin: .walk, steps: cursor.steps(to: 0x1_2000_0000))
        var stranger = HostImport.FaultRecord(sourceLine: 20, architecture: .intelVTd, reason: "0x02")
        stranger.device = .pci(PCIAddress(segment: 0, bus: 0x42, device: 0, function: 0))
        stranger.address = 0x1000
        stranger.reasonText = "Present bit in context entry is clear\u{1b}[31m"
        return [
            FaultExplanation(record: unmapped, device: "0000:00:02.0", outcome: .faulted(fault), cause: .unmapped,
                             sentence: "0x8d900000 is not mapped in 0000:00:02.0's DMA domain: the walk stops at the empty PTE (level 1)"),
            FaultExplanation(record: beyond, device: "0000:00:02.0", outcome: .faulted(undumped), cause: .unknownTables,
                             sentence: "0x120000000 is in a range the dump did not cover: its tables are unknown, not empty"),
            FaultExplanation(record: stranger, device: nil, outcome: .notWalked("no device 0000:42:00.0 on the host"), cause: .noDevice,
                             sentence: "0000:42:00.0 is not a device of this host"),
        ]
    }

    /// The VT-d host with its faults loaded (the explanations need the model's rebuilt tables).
    static func vtdWithFaults() throws -> InspectorModel {
        let bare = try model(.vtd)
        return try model(.vtd, faults: vtdFaults(bare))
    }
}
