import IOMMUCore

/// Writes the VT-d structures and tables a snapshot's debugfs dumps show into `machine`'s
/// memory, at the physical addresses the host has them, and points each covered `IntelVTd`
/// unit at the host's root table in its translation table mode (RTADDR.TTM).
///
/// - Root entries at RTADDR + bus * 16, context entries at the context table the root entry
///   names: legacy 16 bytes at devfn * 16; scalable 32 bytes at (devfn & 0x7f) * 32 in the
///   lower (devfn < 128) or upper table.
/// - PASID entries: `dmar_translation_struct` prints them, but not the PASID directory
///   entries nor the PASID tables' addresses; the directory entry (at the context entry's
///   PASID directory) points to a PASID table made in fresh memory, and a note says so.
/// - Every entry of every `domain_translation_struct` row at table base + index(level, iova)
///   * 8, the next table from the entry's address, the last entry being the leaf.
/// Two rows writing different values at one address give a warning; the first value stays.
public enum VTdTableRebuild {
    public static func rebuild(_ snapshot: HostSnapshot, into machine: Machine) -> TableRebuildReport {
        var report = TableRebuildReport()
        for case let unit as IntelVTd in machine.iommus {
            var rebuild = VTdUnitRebuild(unit: unit, dump: snapshot.vtd, machine: machine)
            rebuild.run(into: &report)
        }
        return report
    }
}

/// One unit's rebuild: the words to place, gathered before anything is written so that the
/// host's frames are adopted before fresh memory (the synthesized PASID tables) is allocated.
private struct VTdUnitRebuild {
    static let translationStructFile = "\(VTdDebugfsReader.directory)/dmar_translation_struct"
    static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000

    let unit: IntelVTd
    let dump: VTdDebugfs
    let machine: Machine
    let devices: [PlatformDevice]

    /// Host words by address, with where they came from, in placement order.
    private var words: [UInt64: (value: UInt64, file: String, line: Int?)] = [:]
    private var order: [UInt64] = []
    private var descriptors = 0
    /// Context entries (legacy: lo, hi; scalable: lo, hi) and PASID entries (`val[0..2]`) by requester id.
    private var contexts: [UInt16: (lo: UInt64, hi: UInt64)] = [:]
    private var pasidEntries: [UInt16: [UInt32: [UInt64]]] = [:]
    /// The PASID directory entries the synthesized PASID tables hang from.
    private var directoryEntries = Set<UInt64>()
    /// ECAP.FLTS from `iommu_regset`, when dumped.
    private var firstStageCapable: Bool?

    init(unit: IntelVTd, dump: VTdDebugfs, machine: Machine) {
        self.unit = unit
        self.dump = dump
        self.machine = machine
        devices = machine.devices.filter { $0.iommu === unit }
    }

    private func device(named name: String) -> PlatformDevice? {
        let address = PCIAddress(parsing: name)
        return devices.first { $0.name == name || (address != nil && PCIAddress(parsing: $0.name) == address) }
    }

    private func requesterID(_ device: PlatformDevice) -> UInt16 { UInt16(truncatingIfNeeded: device.streamID) }

    mutating func run(into report: inout TableRebuildReport) {
        let name = unit.name
        let structure = dump.translationStructures.first { $0.unit == name }
        let registers = dump.registerSets.first { $0.unit == name }
        firstStageCapable = registers?["ECAP"].map { $0 >> 47 & 1 != 0 }
        let domains = dump.domains.filter { device(named: $0.device) != nil }
        guard structure != nil || !domains.isEmpty else { return }
        if dump.translationDisabled.contains(name) {
            report.notes.append("\(name): DMA remapping is not enabled: its requests are not translated")
            return
        }
        // The mode: RTADDR.TTM, else what the rows show.
        var mode = registers?.translationTableMode
        if mode == nil, let structure, structure.layout == .current, let first = structure.rows.first {
            mode = first.pasidEntry == nil ? .legacy : .scalable
        }
        if mode == nil, domains.contains(where: { $0.pasid != nil }) { mode = .scalable }
        let ttm = mode ?? .legacy
        if mode == nil { report.notes.append("\(name): translation table mode not dumped: legacy assumed") }
        // RTADDR: the table heading, else the register.
        let rtaddr = registers?["RTADDR"].map { $0 & ~0xfff }
        if let structure, let rtaddr, rtaddr != structure.rootTable & ~0xfff {
            report.warnings.append(ImportWarning(file: Self.translationStructFile, reason:
                "\(name): root table 0x\(hex(structure.rootTable)) differs from RTADDR 0x\(hex(rtaddr)): the dumps are from different moments; the table's is used"))
        }
        var root = structure?.rootTable ?? rtaddr
        if let found = root, found & 0xfff != 0 || found >= 1 << 52 {
            report.warnings.append(ImportWarning(file: Self.translationStructFile, reason: "\(name): 0x\(hex(found)) is not a root table address"))
            root = nil
        }
        for row in structure?.rows ?? [] { gather(row, root: root, mode: ttm, report: &report) }
        for domain in domains { place(domain, mode: ttm, report: &report) }
        noteUndumped(structure: structure, domains: domains, mode: ttm, report: &report)
        if let root { placeContexts(root: root, mode: ttm, report: &report) }
        let memory = machine.physical
        // Adopt every host frame first: then fresh allocations cannot land on them.
        if let root, !memory.adopt(IOVARange(start: root, length: 4096)!) {
            report.warnings.append(ImportWarning(file: Self.translationStructFile, reason: "\(name): root table 0x\(hex(root)) overlaps memory already in use"))
        }
        var refused = Set<UInt64>()
        for address in order where !memory.isAdopted(address) {
            let frame = address & ~0xfff
            if refused.contains(frame) || !memory.adopt(IOVARange(start: frame, length: 4096)!) { refused.insert(frame) }
        }
        if !refused.isEmpty {
            report.warnings.append(ImportWarning(file: Self.translationStructFile, reason:
                "\(name): \(refused.count) dumped frame(s) overlap memory already in use; their entries are not placed"))
        }
        if let root { synthesizePASIDTables(root: root, report: &report) }
        for address in order where !refused.contains(address & ~0xfff) {
            if let word = words[address] { try? memory.write64(address, word.value) }
        }
        report.descriptorsPlaced += descriptors
        let tableRoot: UInt64
        if let root {
            tableRoot = root
        } else if let fresh = try? memory.allocate(length: 4096) {
            tableRoot = fresh
            report.notes.append("\(name): no root table address dumped: an empty root table was made at 0x\(hex(fresh))")
        } else {
            return
        }
        unit.adoptRootTable(tableRoot, mode: ttm)
    }

    // MARK: Configuration entries

    /// A `dmar_translation_struct` row: its root and context entries, and its PASID entry.
    private mutating func gather(_ row: VTdTranslationStructure.Row, root: UInt64?, mode: VTd.TranslationTableMode,
                                 report: inout TableRebuildReport) {
        let rid = row.device.requesterID
        guard let root else { return }
        place(root + UInt64(row.device.bus) * VTd.rootEntrySize, [row.rootEntry.lo, row.rootEntry.hi], file: Self.translationStructFile,
              report: &report)
        contexts[rid] = (row.contextEntry.lo, row.contextEntry.hi)
        if mode == .scalable, let pasid = row.pasid, let entry = row.pasidEntry { pasidEntries[rid, default: [:]][pasid] = entry }
    }

    /// Where a device's context entry is, from the root entry placed for its bus.
    private func contextAddress(_ rid: UInt16, root: UInt64, mode: VTd.TranslationTableMode) -> UInt64? {
        let bus = UInt64(rid >> 8), devfn = UInt64(rid & 0xff)
        let entry = root + bus * VTd.rootEntrySize
        guard let lo = words[entry]?.value, let hi = words[entry + 8]?.value else { return nil }
        if mode == .legacy { return lo & 1 != 0 ? (lo & Self.addressMask) + devfn * VTd.legacyContextEntrySize : nil }
        let table = devfn < 0x80 ? lo : hi
        return table & 1 != 0 ? (table & Self.addressMask) + (devfn & 0x7f) * VTd.contextEntrySize : nil
    }

    // MARK: Page tables

    /// The format and root a device's configuration gives its (RID or PASID) table; nil
    /// fields when the configuration is not dumped; `passThrough` for TT 10b / PGTT 100b.
    private func configured(_ rid: UInt16, pasid: UInt32?, mode: VTd.TranslationTableMode)
        -> (format: (any PageTableFormat)?, root: UInt64?, passThrough: Bool) {
        guard let context = contexts[rid] else { return (nil, nil, false) }
        if mode == .legacy {
            let entry = VTd.ContextEntry(lo: context.lo, hi: context.hi)
            guard pasid == nil, entry.present else { return (nil, nil, false) }
            if entry.passThrough { return (nil, nil, true) }
            guard (1...3).contains(entry.legacyAddressWidth) else { return (nil, entry.secondLevelTable, false) }
            return (VTdSecondStage(levels: Int(entry.legacyAddressWidth) + 2), entry.secondLevelTable, false)
        }
        let index = pasid ?? VTd.ContextEntry(lo: context.lo, hi: context.hi).ridPASID
        guard let words = pasidEntries[rid]?[index] else { return (nil, nil, false) }
        let entry = VTd.PASIDEntry(words: words)
        switch entry.pgtt {
        case .firstStage?:
            return (X86FirstStage(levels: 4 + Int(entry.firstStagePagingMode & 1)), entry.firstStageTable, false)
        case .secondStage?, .nested?:
            guard (1...3).contains(entry.addressWidth) else { return (nil, entry.secondStageTable, false) }
            return (VTdSecondStage(levels: Int(entry.addressWidth) + 2), entry.secondStageTable, false)
        case .passThrough?: return (nil, nil, true)
        case nil: return (nil, nil, false)
        }
    }

    /// One `Device ... @0x%llx` dump: every row's entries at their addresses.
    private mutating func place(_ domain: VTdDomainDump, mode: VTd.TranslationTableMode, report: inout TableRebuildReport) {
        guard let device = device(named: domain.device) else { return }
        let rid = requesterID(device)
        let label = "\(unit.name): \(device.name)" + (domain.pasid.map { " PASID \($0)" } ?? "")
        guard domain.root & 0xfff == 0, domain.root < 1 << 52 else {
            report.warnings.append(ImportWarning(file: domain.file, reason: "\(label): 0x\(hex(domain.root)) is not a table address"))
            return
        }
        var (format, configuredRoot, passThrough) = configured(rid, pasid: domain.pasid, mode: mode)
        if passThrough {
            report.notes.append("\(label): pass-through (identity) per its \(mode == .legacy ? "context" : "PASID") entry, yet a table was dumped")
        }
        // Levels from the rows when the configuration does not say: the first non-zero entry is the top.
        if format == nil {
            let firstEntry: Int? = domain.rows.first.flatMap { row in row.entries.firstIndex { $0 != 0 } }
            let top = 5 - (firstEntry ?? 1)
            let levels = top >= 3 && top <= 5 ? top : 4
            // Linux gives paging domains the first stage when the unit has it (ECAP.FLTS, bit 47).
            let firstStage = mode == .scalable && (firstStageCapable ?? false)
            format = firstStage ? X86FirstStage(levels: levels) as any PageTableFormat : VTdSecondStage(levels: levels)
            report.notes.append("\(label): no configuration entry dumped: \(format!.name) assumed from the rows")
        }
        guard let format else { return }
        if let configuredRoot, configuredRoot != domain.root {
            report.warnings.append(ImportWarning(file: domain.file, reason:
                "\(label): the domain dump's table 0x\(hex(domain.root)) differs from the configured 0x\(hex(configuredRoot)): the dumps are from different moments; the domain dump's table is used"))
            retarget(rid, pasid: domain.pasid, to: domain.root, mode: mode)
        }
        let levels = format.levels.count
        var unknown: [IOVARange] = []
        var ends: [UInt64?] = []
        for row in domain.rows {
            let end = placeRow(row, domain: domain, levels: levels, label: label, unknown: &unknown, report: &report)
            ends.append(end)
        }
        // Lost rows lie between their neighbours (the walk prints in IOVA order).
        let last = levels == 5 ? (UInt64(1) << 57) - 1 : (UInt64(1) << UInt64(12 + 9 * levels)) - 1
        for gap in domain.gaps {
            let previous = gap.afterRow > 0 && gap.afterRow <= ends.count ? ends[gap.afterRow - 1] : 0
            let start = previous ?? 0
            let next = gap.afterRow < domain.rows.count ? (domain.rows[gap.afterRow].iovaPFN << 12) : last &+ 1
            if next > start { unknown.append(IOVARange(start: start, last: next &- 1)) }
        }
        let coverage: TableCoverage = unknown.isEmpty ? .complete : .partial(unknown: merge(unknown))
        report.tables.append(HostDomainTable(unit: unit.name, device: device.name, pasid: domain.pasid, format: format,
                                             root: domain.root, coverage: coverage))
    }

    /// Places one row's walk; returns the first IOVA after its leaf (nil when it has none).
    private mutating func placeRow(_ row: VTdDomainDump.Row, domain: VTdDomainDump, levels: Int, label: String,
                                   unknown: inout [IOVARange], report: inout TableRebuildReport) -> UInt64? {
        var entries = row.entries
        while entries.last == 0 { entries.removeLast() }
        let top = 5 - levels
        let iova = row.iovaPFN << 12
        guard entries.count > top, entries[..<top].allSatisfy({ $0 == 0 }) else {
            report.warnings.append(ImportWarning(file: domain.file, line: row.line, reason: "\(label): the row does not walk a \(levels)-level table"))
            unknown.append(IOVARange(start: iova, length: 4096)!)
            return nil
        }
        var table = domain.root
        for position in top..<entries.count {
            let level = VTdDomainDump.Row.level(ofEntry: position)
            let entry = entries[position]
            let index = (iova >> UInt64(12 + 9 * (level - 1))) & 0x1ff
            place(table + index * 8, [entry], file: domain.file, line: row.line, report: &report)
            let size = UInt64(1) << UInt64(12 + 9 * (level - 1))
            let leaf = level == 1 || ((level == 2 || level == 3) && entry & 1 << 7 != 0)
            if leaf {
                guard position == entries.count - 1 else { break }
                return (iova & ~(size - 1)).checkedAdd(size)
            }
            guard entry & 3 != 0, position < entries.count - 1 else {
                // The row stops above its leaf (a truncated or split row): what is below is unknown.
                report.warnings.append(ImportWarning(file: domain.file, line: row.line, reason: "\(label): the row ends at level \(level), above its leaf"))
                unknown.append(IOVARange(start: iova & ~(size - 1), length: size)!)
                return nil
            }
            table = entry & Self.addressMask
        }
        report.warnings.append(ImportWarning(file: domain.file, line: row.line, reason: "\(label): entries after the row's leaf are ignored"))
        return nil
    }

    /// Points a configuration entry at the dumped table (when the two dumps disagree).
    private mutating func retarget(_ rid: UInt16, pasid: UInt32?, to root: UInt64, mode: VTd.TranslationTableMode) {
        if mode == .legacy {
            if let context = contexts[rid] { contexts[rid] = (context.lo & ~Self.addressMask | root, context.hi) }
            return
        }
        guard let context = contexts[rid] else { return }
        let index = pasid ?? VTd.ContextEntry(lo: context.lo, hi: context.hi).ridPASID
        guard var entry = pasidEntries[rid]?[index], entry.count == 3 else { return }
        if VTd.PASIDEntry(words: entry).pgtt == .firstStage {
            entry[2] = entry[2] & ~Self.addressMask | root
        } else {
            entry[0] = entry[0] & ~Self.addressMask | root
        }
        pasidEntries[rid]?[index] = entry
    }

    /// Devices whose configuration was dumped without their table, and units' devices with neither.
    private mutating func noteUndumped(structure: VTdTranslationStructure?, domains: [VTdDomainDump], mode: VTd.TranslationTableMode,
                                       report: inout TableRebuildReport) {
        for device in devices {
            let rid = requesterID(device)
            let dumped = Set<UInt32?>(domains.filter { self.device(named: $0.device) === device }.map(\.pasid))
            var pasids: [UInt32?] = [nil]
            if mode == .scalable, let context = contexts[rid] {
                let ridPASID = VTd.ContextEntry(lo: context.lo, hi: context.hi).ridPASID
                for pasid in pasidEntries[rid]?.keys.sorted() ?? [] where pasid != ridPASID { pasids.append(pasid) }
            }
            for pasid in pasids where !dumped.contains(pasid) {
                let label = "\(unit.name): \(device.name)" + (pasid.map { " PASID \($0)" } ?? "")
                let (format, root, passThrough) = configured(rid, pasid: pasid, mode: mode)
                if passThrough {
                    report.notes.append("\(label): pass-through (identity): DMA addresses are not translated")
                } else if let format, let root {
                    report.tables.append(HostDomainTable(unit: unit.name, device: device.name, pasid: pasid, format: format, root: root,
                        coverage: .rootOnly(reason: "dmar_translation_struct gives the table 0x\(hex(root)) but no domain dump was read")))
                } else if pasid == nil && (structure == nil || contexts[rid] == nil) {
                    report.notes.append("\(label): no \(structure == nil ? "configuration or " : "context entry nor ")domain dump: its tables are unknown")
                }
            }
        }
    }

    // MARK: Placing words

    /// Records a descriptor's words; a different value already recorded at an address is a
    /// conflict (the first value is kept).
    private mutating func place(_ address: UInt64, _ values: [UInt64], file: String, line: Int? = nil,
                                report: inout TableRebuildReport) {
        var placed = false
        for (offset, value) in values.enumerated() {
            guard let target = address.checkedAdd(UInt64(offset) * 8), target < 1 << 52, target & 7 == 0 else { return }
            if let existing = words[target] {
                if existing.value != value {
                    let first = existing.line.map { "\(existing.file):\($0)" } ?? existing.file
                    report.warnings.append(ImportWarning(file: file, line: line, reason:
                        "0x\(hex(value)) at 0x\(hex(target)) conflicts with 0x\(hex(existing.value)) from \(first): the first is kept"))
                }
                continue
            }
            words[target] = (value, file, line)
            order.append(target)
            placed = true
        }
        if placed { descriptors += 1 }
    }

    /// The context entries, now final (a dump's table may have retargeted them), and in
    /// scalable mode the frames of the PASID directory entries, which `synthesizePASIDTables`
    /// fills once every host frame is adopted.
    private mutating func placeContexts(root: UInt64, mode: VTd.TranslationTableMode, report: inout TableRebuildReport) {
        for rid in contexts.keys.sorted() {
            guard let context = contexts[rid], let address = contextAddress(rid, root: root, mode: mode) else { continue }
            place(address, [context.lo, context.hi], file: Self.translationStructFile, report: &report)
            guard mode == .scalable, context.lo & 1 != 0 else { continue }
            for pasid in pasidEntries[rid]?.keys.sorted() ?? [] {
                directoryEntries.insert((context.lo & Self.addressMask) + UInt64(pasid >> VTd.pasidDirectoryShift) * VTd.directoryEntrySize)
            }
        }
        for address in directoryEntries.sorted() where !machine.physical.isAdopted(address) {
            machine.physical.adopt(IOVARange(start: address, length: 8)!)
        }
    }

    /// The PASID directory entries and PASID tables the dump does not print, made in fresh
    /// memory, with the dumped PASID entries in them.
    private mutating func synthesizePASIDTables(root: UInt64, report: inout TableRebuildReport) {
        let memory = machine.physical
        var made = 0
        for rid in pasidEntries.keys.sorted() {
            guard let context = contexts[rid], let entries = pasidEntries[rid], context.lo & 1 != 0 else { continue }
            let directory = context.lo & Self.addressMask
            var tables: [UInt64: UInt64] = [:]
            for (pasid, entry) in entries.sorted(by: { $0.key < $1.key }) {
                let directoryEntry = directory + UInt64(pasid >> VTd.pasidDirectoryShift) * VTd.directoryEntrySize
                let table: UInt64
                if let known = tables[directoryEntry] {
                    table = known
                } else {
                    guard memory.isAdopted(directoryEntry), let fresh = try? memory.allocate(length: 4096) else {
                        report.warnings.append(ImportWarning(file: Self.translationStructFile, reason: "\(unit.name): no memory for the PASID table of \(PCIAddress(requesterID: rid))"))
                        continue
                    }
                    table = fresh
                    tables[directoryEntry] = fresh
                    made += 1
                    place(directoryEntry, [fresh | 1], file: Self.translationStructFile, report: &report)
                }
                try? memory.write64(table + UInt64(pasid & 0x3f) * VTd.pasidEntrySize, words: entry)
                descriptors += 1
            }
        }
        if made > 0 {
            report.notes.append("\(unit.name): PASID directory entries are not dumped: \(made) PASID table(s) holding the dumped PASID entries were made in fresh memory")
        }
    }
}

/// Sorted, with overlapping and adjacent ranges joined.
private func merge(_ ranges: [IOVARange]) -> [IOVARange] {
    var merged: [IOVARange] = []
    for range in ranges.sorted(by: { $0.start < $1.start }) {
        if let last = merged.last, last.last == .max || range.start <= last.last + 1 {
            merged[merged.count - 1] = IOVARange(start: last.start, last: max(last.last, range.last))
        } else {
            merged.append(range)
        }
    }
    return merged
}

private func hex(_ value: UInt64) -> String { String(value, radix: 16) }
