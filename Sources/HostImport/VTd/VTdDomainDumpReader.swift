/// `domain_translation_struct` (host-inputs §3.3), printed by
/// `domain_translation_struct_show()` → `pgtable_walk_level()` → `dump_page_info()`:
/// - v5.6-v6.6, the global file: `"Device %s @0x%llx\n"`, the `IOVA_PFN PML5E PML4E PDPE
///   PDE PTE` header, rows `"0x%013lx |\t0x%016llx\t0x%016llx\t0x%016llx\t0x%016llx\t0x%016llx\n"`
///   (five entries, zero below a large leaf);
/// - v6.7+, `<dev>/domain_translation_struct` and `<dev>/<pasid %x>/domain_translation_struct`:
///   `"Device %04x:%02x:%02x.%x "` + `"with pasid %x @0x%llx\n"` or `"@0x%llx\n"`, and
///   rows that end at their leaf (`path[2]` only if non-zero, `path[1]` only if both are):
///   a 1 GiB leaf ends at PDPE, a 2 MiB leaf at PDE.
/// Rows the ABI docs split into column blocks (`PDPE PDE PTE` under its own header) are
/// zipped onto the first block's rows by position. Elisions and unreadable rows become the
/// dump's `gaps`.
enum VTdDomainDumpReader: VTdDebugfsFileReader {
    private static let columns: [Substring] = ["IOVA_PFN", "PML5E", "PML4E", "PDPE", "PDE", "PTE"]

    static func parse(_ text: String, file: String, into dump: inout VTdDebugfs, warnings: inout [ImportWarning]) {
        let lines = PastedLine.split(text)
        let (layout, filePASID) = origin(file)
        var current: Int?
        /// The header's column count (6 when none was seen) and the continuation block being zipped.
        var width = columns.count
        var zipping: ColumnBlock?
        var blockStart = 0
        var headerLine: Int?
        func endZip() {
            if let current { zipping?.end(rows: dump.domains[current].rows.count, file: file, warnings: &warnings) }
            zipping = nil
        }
        func gap(_ line: PastedLine) {
            guard let current else { return }
            dump.domains[current].gaps.append(.init(afterRow: dump.domains[current].rows.count, line: line.number))
        }
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            let tokens = line.tokens
            if line.isBlank { continue }
            if line.isElision {
                gap(line)
                continue
            }
            if let disabled = VTdDebugfsText.disabledUnit(line) {
                if !dump.translationDisabled.contains(disabled) { dump.translationDisabled.append(disabled) }
                continue
            }
            if tokens.first == "Device" {
                endZip()
                current = nil
                width = columns.count
                guard let (device, pasid, root) = heading(tokens) else {
                    warnings.append(ImportWarning(file, line, "not a `Device %s [with pasid %x] @0x%llx` heading: \(line.excerpt)"))
                    continue
                }
                // A RID file of a scalable-mode unit prints `with pasid 0` (IOMMU_NO_PASID): the RID's table.
                let ridFile = layout == .perDevice && filePASID == nil && pasid == 0
                dump.domains.append(VTdDomainDump(device: device, pasid: ridFile ? nil : pasid ?? filePASID, root: root, layout: layout,
                                                  file: file))
                current = dump.domains.count - 1
                continue
            }
            if let first = tokens.first, columns.contains(first), tokens.allSatisfy(columns.contains) {
                defer { headerLine = line.number }
                // The rest of a hard-wrapped header: on the very next line, before any row.
                if zipping?.isEmpty == true, first != "IOVA_PFN", headerLine == line.number - 1 { continue }
                endZip()
                let rows = current.map { dump.domains[$0].rows.count } ?? 0
                if first == "IOVA_PFN" {
                    width = tokens.count
                    blockStart = rows
                } else if rows == blockStart, headerLine == line.number - 1 {
                    width += tokens.count  // the rest of a hard-wrapped header
                } else {
                    zipping = ColumnBlock(header: line, first: blockStart)
                }
                continue
            }
            let rowStart = tokens.count >= 2 && parseHexWord(tokens[0]) != nil && (tokens[1] == "|" || tokens[1].hasPrefix("|"))
                || tokens.first.map { $0.hasSuffix("|") && parseHexWord($0.dropLast()) != nil } == true
            let entriesOnly = tokens.allSatisfy { parseHexWord($0) != nil }
            guard rowStart || entriesOnly || (tokens.first.map { parseHexWord($0) != nil } ?? false) else { continue }  // not understood
            guard let current else {
                warnings.append(ImportWarning(file, line, "page-table row before any `Device` heading"))
                continue
            }
            if rowStart {
                if zipping != nil {
                    endZip()
                    blockStart = dump.domains[current].rows.count
                }
                var fields = tokens
                // A hard wrap: entries continue on the next lines while the row is short of its leaf.
                while index < lines.count, lines[index].tokens.allSatisfy({ parseHexWord($0) != nil }), !lines[index].isBlank,
                      let parsed = row(fields, line), isShort(parsed, width: width) {
                    fields += lines[index].tokens
                    index += 1
                }
                guard let parsed = row(fields, line) else {
                    warnings.append(ImportWarning(file, line, "not a `0x%013lx | 0x%016llx ...` row: \(line.excerpt)"))
                    gap(line)
                    continue
                }
                dump.domains[current].rows.append(parsed)
            } else if entriesOnly, var zip = zipping {
                let rows = dump.domains[current].rows
                // A row is still being filled (hard-wrapped) while it has not reached its leaf.
                let target = zip.row(for: tokens.count, rows: rows.count, file: file, line: line, warnings: &warnings) { row in
                    !rows[row].endsAtLeaf && rows[row].entries.count + tokens.count <= columns.count - 1
                }
                zipping = zip
                if let target { dump.domains[current].rows[target].entries += tokens.compactMap { parseHexWord($0) } }
            } else {
                warnings.append(ImportWarning(file, line, "not a `0x%013lx | 0x%016llx ...` row: \(line.excerpt)"))
                gap(line)
            }
        }
        endZip()
    }

    /// The layout and PASID a path says: `.../intel/domain_translation_struct` is the global
    /// file, `.../intel/<dev>/[<pasid %x>/]domain_translation_struct` a v6.7+ one.
    private static func origin(_ file: String) -> (VTdDomainDump.Layout, UInt32?) {
        let parts = file.split(separator: "/")
        guard parts.count >= 3, parts[parts.count - 2] != "intel" else { return (.global, nil) }
        let parent = parts[parts.count - 2]
        if PCIAddress(parsing: parent) != nil { return (.perDevice, nil) }
        return (.perDevice, parseBareHex(parent).flatMap { UInt32(exactly: $0) })
    }

    /// `Device <name> [with pasid <hex>] @0x<root>`.
    private static func heading(_ tokens: [Substring]) -> (String, UInt32?, UInt64)? {
        guard tokens.count == 3 || tokens.count == 6, let last = tokens.last, last.hasPrefix("@"),
              let root = parseHexWord(last.dropFirst()) else { return nil }
        guard tokens.count == 6 else { return (String(tokens[1]), nil, root) }
        guard tokens[2] == "with", tokens[3] == "pasid", let pasid = parseBareHex(tokens[4]).flatMap({ UInt32(exactly: $0) }),
              pasid < 1 << 20 else { return nil }
        return (String(tokens[1]), pasid, root)
    }

    /// `0x%013lx |` then the entries, PML5E first.
    private static func row(_ fields: [Substring], _ line: PastedLine) -> VTdDomainDump.Row? {
        var fields = fields[...]
        guard let first = fields.popFirst() else { return nil }
        let pfnText = first.hasSuffix("|") ? first.dropLast() : first
        if !first.hasSuffix("|") {
            guard let bar = fields.popFirst(), bar.hasPrefix("|") else { return nil }
            if bar.count > 1 { fields.insert(bar.dropFirst(), at: fields.startIndex) }
        }
        guard let pfn = parseHexWord(pfnText), pfn < 1 << 52, fields.count <= 5 else { return nil }
        let entries = fields.compactMap { parseHexWord($0) }
        guard entries.count == fields.count, !entries.isEmpty else { return nil }
        return VTdDomainDump.Row(iovaPFN: pfn, entries: entries, line: line.number)
    }

    /// Short of its header's columns and not ended by a leaf (a v6.7+ large leaf is short by design).
    private static func isShort(_ row: VTdDomainDump.Row, width: Int) -> Bool {
        row.entries.count < width - 1 && !(width == columns.count && row.endsAtLeaf)
    }
}

extension VTdDomainDump.Row {
    /// The printed level of entry `position`: PML5E is 5, PTE 1.
    public static func level(ofEntry position: Int) -> Int { 5 - position }

    /// The row's last entry is a leaf: a PTE, or a PDPE or PDE with PS (bit 7) set.
    public var endsAtLeaf: Bool {
        guard let last = entries.last, last != 0 else { return false }
        let level = Self.level(ofEntry: entries.count - 1)
        return level == 1 || ((level == 2 || level == 3) && last & 1 << 7 != 0)
    }
}
