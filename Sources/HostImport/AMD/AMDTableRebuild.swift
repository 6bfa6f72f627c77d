import IOMMUCore

/// Writes the DTEs a snapshot's AMD-Vi debugfs shows (`devtbl`) into `machine`'s memory, at
/// `base + devid * 32` of the unit's device table, so `translate` of that device reads the
/// host's DTE.
///
/// No debugfs file dumps AMD-Vi page tables, so a translating DTE gives a table whose root
/// and format (v1, Mode levels) are known and whose entries are not: its coverage is
/// `.rootOnly`. The DTEs land in the host's own device table (MMIO offset 0x00, when `mmio`
/// shows it), at the host's addresses; otherwise in a table the unit allocates, noted as
/// synthesized.
public enum AMDTableRebuild {
    /// `MMIO_DEV_TABLE_OFFSET`: the Device Table Base Address Register (base in bits 51:12,
    /// size in 4K pages − 1 in bits 8:0).
    static let deviceTableBaseOffset: UInt32 = 0x00

    public static func rebuild(_ snapshot: HostSnapshot, into machine: Machine) -> TableRebuildReport {
        var report = TableRebuildReport()
        for entry in snapshot.amd.deviceTableEntries {
            let device = entry.device.description
            guard let unit = machine.iommu(named: entry.unitName) as? AMDVi else {
                report.notes.append("\(entry.unitName): no AMD-Vi unit of that name on the platform: the DTE of \(device) is not placed")
                continue
            }
            let hostBase = snapshot.amd.registerReads.last {
                $0.unitIndex == entry.unitIndex && $0.space == .mmio && $0.offset == deviceTableBaseOffset
            }.map { $0.value & AMDViDeviceTable.rootMask }
            if let hostBase, unit.deviceTable == nil, !unit.adoptDeviceTable(hostBase, memory: machine.physical) {
                report.notes.append("\(entry.unitName): the host device table at \(RegisterText.hex(hostBase)) overlaps simulated memory: "
                    + "a simulated table is used")
            }
            let placed: UInt64
            do throws(Refusal) {
                placed = try unit.placeDeviceTableEntry(entry.words, deviceID: entry.device.requesterID, memory: machine.physical)
            } catch {
                report.notes.append("\(entry.unitName): no memory for the device table (\(error)): the DTE of \(device) is not placed")
                continue
            }
            report.descriptorsPlaced += 1
            let tableAt = placed - UInt64(entry.device.requesterID) * AMDViDeviceTable.entrySize
            if hostBase == nil {
                report.notes.append("\(entry.unitName): mmio did not show offset 0x00: the device table base is synthesized "
                    + "(\(RegisterText.hex(tableAt))) for the DTE of \(device)")
            }
            let dte = entry.decoded
            switch (dte.valid, dte.translationValid, dte.mode) {
            case (false, _, _):
                report.notes.append("\(device): DTE V = 0: DMA passes untranslated (spec: the entry is not valid)")
            case (true, false, _):
                report.notes.append("\(device): DTE TV = 0: no translation information; requests that need a walk fault")
            case (true, true, 0):
                report.notes.append("\(device): DTE Mode 0: DMA passes untranslated (pass-through, the identity domain)")
            case (true, true, 1...6):
                report.tables.append(HostDomainTable(
                    unit: entry.unitName, device: device, pasid: nil, format: AMDv1(mode: dte.mode), root: dte.root,
                    coverage: .rootOnly(reason: "AMD-Vi debugfs dumps DTEs, not page tables: the entries below the root are unknown")))
            default:
                report.notes.append("\(device): DTE Mode \(dte.mode) is reserved: a request is an ILLEGAL_DEV_TABLE_ENTRY")
            }
        }
        return report
    }
}
