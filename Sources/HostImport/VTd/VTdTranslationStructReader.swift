/// `dmar_translation_struct` (host-inputs §3.2) in its three layouts:
/// - v5.3+ (`root_tbl_walk` → `print_tbl_walk`): `"IOMMU %s: Root Table Address: 0x%llx\n"`,
///   the `B.D.F Root_entry Context_entry PASID PASID_table_entry` header, rows
///   `"%02x:%02x.%x\t0x%016llx:0x%016llx\t0x%016llx:0x%016llx\t"` +
///   `"%-6d\t0x%016llx:0x%016llx:0x%016llx\n"` (pairs high word first, the PASID entry
///   `val[2]:val[1]:val[0]`, PASID `-1` in legacy mode);
/// - the first v5.3 patch: the same rows without the PASID columns (3 fields);
/// - v4.20-v5.2 (`root_tbl_entry_show` / `ctx_tbl_entry_show`):
///   `"IOMMU %s: Root Table Address:%llx\n"`, `" Bus: %d H: %llx L: %llx\n"`, rows
///   `devfn B:D.F high low` in bare hex.
/// Rows the ABI docs split into column blocks (`Context_entry` alone under its own header)
/// are zipped onto the first block's rows by position; a hard-wrapped row is joined until it
/// has its 5 fields.
enum VTdTranslationStructReader: VTdDebugfsFileReader {
    private static let columns: Set<Substring> = ["B.D.F", "Root_entry", "Context_entry", "PASID", "PASID_table_entry"]

    /// The rows of one column-block group: the first block's rows, which later blocks extend.
    private struct Group {
        var rows: [(line: PastedLine, tokens: [Substring])] = []
        /// The continuation block being zipped onto them.
        var zipping: ColumnBlock?
    }

    static func parse(_ text: String, file: String, into dump: inout VTdDebugfs, warnings: inout [ImportWarning]) {
        let lines = PastedLine.split(text)
        var unit: Int?
        var group = Group()
        var bus: (number: UInt8, hi: UInt64, lo: UInt64)?
        func flush() {
            group.zipping?.end(rows: group.rows.count, file: file, warnings: &warnings)
            if let unit {
                for (line, tokens) in group.rows {
                    if let row = decode(tokens, line, file, &warnings) { dump.translationStructures[unit].rows.append(row) }
                    if tokens.count == 5 { dump.translationStructures[unit].layout = .current }
                }
            } else if let first = group.rows.first {
                warnings.append(ImportWarning(file, first.line, "translation rows before any `IOMMU %s: Root Table Address` heading"))
            }
            group = Group()
        }
        var index = 0
        var headerLine: Int?
        while index < lines.count {
            let line = lines[index]
            index += 1
            let tokens = line.tokens
            if line.isBlank || line.isElision { continue }
            if let disabled = VTdDebugfsText.disabledUnit(line) {
                if !dump.translationDisabled.contains(disabled) { dump.translationDisabled.append(disabled) }
                continue
            }
            if tokens.first == "IOMMU", tokens.count >= 2, tokens[1].hasSuffix(":") {
                flush()
                unit = nil
                bus = nil
                guard let (root, layout) = heading(tokens) else {
                    warnings.append(ImportWarning(file, line, "not an `IOMMU %s: Root Table Address: 0x%llx` heading: \(line.excerpt)"))
                    continue
                }
                dump.translationStructures.append(VTdTranslationStructure(unit: String(tokens[1].dropLast()), rootTable: root, layout: layout))
                unit = dump.translationStructures.count - 1
                continue
            }
            // v4.20-v5.2.
            if line.starts(with: ["Root", "Table", "Entries:"]) || line.starts(with: ["Context", "Table", "Entries", "for", "Bus:"])
                || line.starts(with: ["Entry", "B:D.F", "High", "Low"]) { continue }
            if tokens.first == "Bus:" {
                bus = nil
                guard tokens.count == 6, tokens[2] == "H:", tokens[4] == "L:", let number = parseDecimal(tokens[1], digits: 3),
                      let busNumber = UInt8(exactly: number), let hi = parseBareHex(tokens[3]), let lo = parseBareHex(tokens[5]) else {
                    warnings.append(ImportWarning(file, line, "not a ` Bus: %d H: %llx L: %llx` root entry: \(line.excerpt)"))
                    continue
                }
                bus = (busNumber, hi, lo)
                continue
            }
            if let first = tokens.first, parseDecimal(first, digits: 3) != nil, tokens.count >= 2, PCIAddress(parsing: tokens[1]) != nil {
                perBusRow(tokens, line, bus: bus, unit: unit, file: file, dump: &dump, warnings: &warnings)
                continue
            }
            // v5.3+: a header starts a group (with B.D.F) or a continuation block (without).
            if tokens.allSatisfy(columns.contains) {
                defer { headerLine = line.number }
                if tokens.contains("PASID"), let unit { dump.translationStructures[unit].layout = .current }
                if tokens.contains("B.D.F") {
                    flush()
                } else if !group.rows.isEmpty, group.zipping?.isEmpty != true || headerLine != line.number - 1 {
                    group.zipping?.end(rows: group.rows.count, file: file, warnings: &warnings)
                    group.zipping = ColumnBlock(header: line, first: 0)
                }  // else the rest of a hard-wrapped header
                continue
            }
            guard tokens.allSatisfy(isField) else { continue }  // a prompt, a note: not understood
            if PCIAddress(parsing: tokens[0]) != nil {
                if group.zipping != nil { flush() }
                var row = tokens
                // A hard wrap: the rest of the row on the following lines.
                while row.count < 5, index < lines.count, let next = lines[index].tokens.first, PCIAddress(parsing: next) == nil,
                      lines[index].tokens.allSatisfy(isField), row.count + lines[index].tokens.count <= 5 {
                    row += lines[index].tokens
                    index += 1
                }
                group.rows.append((line, row))
            } else if var zipping = group.zipping {
                let target = zipping.row(for: tokens.count, rows: group.rows.count, file: file, line: line, warnings: &warnings)
                group.zipping = zipping
                if let target { group.rows[target].tokens += tokens }
            } else {
                warnings.append(ImportWarning(file, line, "entries without a B.D.F: \(line.excerpt)"))
            }
        }
        flush()
    }

    /// `IOMMU %s: Root Table Address: 0x%llx` (v5.3+) or `...Address:%llx` (v4.20-v5.2).
    private static func heading(_ tokens: [Substring]) -> (UInt64, VTdTranslationStructure.Layout)? {
        guard tokens.count >= 5, tokens[2] == "Root", tokens[3] == "Table", tokens[4].hasPrefix("Address:") else { return nil }
        if tokens[4] == "Address:" {
            guard tokens.count == 6, let root = parseHexWord(tokens[5]) else { return nil }
            return (root, .withoutPASID)
        }
        guard tokens.count == 5, let root = parseBareHex(tokens[4].dropFirst("Address:".count)) else { return nil }
        return (root, .perBus)
    }

    /// A B.D.F, a `hi:lo` pair, a PASID (`%-6d`) or a `val[2]:val[1]:val[0]` triple.
    private static func isField(_ token: Substring) -> Bool {
        PCIAddress(parsing: token) != nil || words(token) != nil || parseDecimal(token.hasPrefix("-") ? token.dropFirst() : token) != nil
    }

    /// `0x%016llx:0x%016llx[:0x%016llx]`, in printed order.
    private static func words(_ token: Substring) -> [UInt64]? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let values = parts.compactMap { parseHexWord($0) }
        return values.count == parts.count ? values : nil
    }

    /// One logical v5.3+ row: B.D.F, root pair, context pair, then PASID and PASID entry (5 fields) or not (3).
    private static func decode(_ tokens: [Substring], _ line: PastedLine, _ file: String,
                               _ warnings: inout [ImportWarning]) -> VTdTranslationStructure.Row? {
        guard tokens.count == 3 || tokens.count == 5, let device = PCIAddress(parsing: tokens[0]),
              let root = words(tokens[1]), root.count == 2, let context = words(tokens[2]), context.count == 2 else {
            warnings.append(ImportWarning(file, line, "not a `B.D.F Root_entry Context_entry [PASID PASID_table_entry]` row of 3 or 5 fields: \(line.excerpt)"))
            return nil
        }
        var row = VTdTranslationStructure.Row(device: device, rootEntry: (root[0], root[1]), contextEntry: (context[0], context[1]))
        guard tokens.count == 5 else { return row }
        guard let entry = words(tokens[4]), entry.count == 3 else {
            warnings.append(ImportWarning(file, line, "not a `val[2]:val[1]:val[0]` PASID entry: \(tokens[4])"))
            return nil
        }
        if tokens[3] == "-1" { return row }  // legacy mode: no PASID entry
        guard let pasid = parseDecimal(tokens[3], digits: 7).flatMap({ UInt32(exactly: $0) }), pasid < 1 << 20 else {
            warnings.append(ImportWarning(file, line, "not a PASID: \(tokens[3])"))
            return nil
        }
        row.pasid = pasid
        row.pasidEntry = entry.reversed()
        return row
    }

    /// `devfn(decimal) B:D.F high low` under the last ` Bus:` line.
    private static func perBusRow(_ tokens: [Substring], _ line: PastedLine, bus: (number: UInt8, hi: UInt64, lo: UInt64)?,
                                  unit: Int?, file: String, dump: inout VTdDebugfs, warnings: inout [ImportWarning]) {
        guard let unit else {
            warnings.append(ImportWarning(file, line, "context entry before any `IOMMU %s: Root Table Address` heading"))
            return
        }
        guard let bus else {
            warnings.append(ImportWarning(file, line, "context entry before any ` Bus: %d H: %llx L: %llx` line"))
            return
        }
        guard tokens.count == 4, let devfn = parseDecimal(tokens[0], digits: 3), let device = PCIAddress(parsing: tokens[1]),
              Int(device.devfn) == devfn, device.bus == bus.number, let hi = parseBareHex(tokens[2]), let lo = parseBareHex(tokens[3]) else {
            warnings.append(ImportWarning(file, line, "not a `devfn B:D.F high low` context entry of bus \(bus.number): \(line.excerpt)"))
            return
        }
        dump.translationStructures[unit].rows.append(.init(device: device, rootEntry: (bus.hi, bus.lo), contextEntry: (hi, lo)))
    }
}

/// Lines every VT-d table file prints alike.
enum VTdDebugfsText {
    /// `"DMA Remapping is not enabled on %s\n"` (GSTS.TES clear): the unit's name.
    static func disabledUnit(_ line: PastedLine) -> String? {
        guard line.tokens.count == 7, line.starts(with: ["DMA", "Remapping", "is", "not", "enabled", "on"]) else { return nil }
        return String(line.tokens[6])
    }
}
