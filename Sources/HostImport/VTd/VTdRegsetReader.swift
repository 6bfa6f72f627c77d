import IOMMUCore

/// `iommu_regset` (host-inputs §3.1), printed by `iommu_regset_show()`:
/// `"IOMMU: %s Register Base Address: %llx\n"`, `"Name\t\t\tOffset\t\tContents\n"`, then
/// `"%-16s\t0x%02x\t\t0x%016llx\n"` per register and a blank line. Rows are keyed by name
/// (the list changed between kernels); offsets of 0x100 and above print 3 digits.
enum VTdRegsetReader: VTdDebugfsFileReader {
    static func parse(_ text: String, file: String, into dump: inout VTdDebugfs, warnings: inout [ImportWarning]) {
        let lines = PastedLine.split(text)
        var index = 0
        var current: Int?
        while index < lines.count {
            let line = lines[index]
            index += 1
            if line.isBlank || line.isElision || line.starts(with: ["Name", "Offset", "Contents"]) { continue }
            if line.starts(with: ["IOMMU:"]) {
                current = nil
                // "IOMMU: %s Register Base Address: %llx"; "IOMMU: Invalid base address" ends the file.
                guard line.tokens.count == 6, line.starts(with: ["IOMMU:", String(line.tokens[1]), "Register", "Base", "Address:"]),
                      let base = parseHexField(line.tokens[5]) else {
                    warnings.append(ImportWarning(file, line, "not an `IOMMU: %s Register Base Address: %llx` heading: \(line.excerpt)"))
                    continue
                }
                dump.registerSets.append(VTdRegisterSet(unit: String(line.tokens[1]), base: base))
                current = dump.registerSets.count - 1
                continue
            }
            guard isRegisterName(line.tokens[0]) else { continue }  // a prompt, a note: not understood
            var tokens = line.tokens
            // A row hard-wrapped after its name or offset continues on the next line.
            while tokens.count < 3, index < lines.count, !lines[index].isBlank,
                  lines[index].tokens.allSatisfy({ parseHexWord($0) != nil }), tokens.count + lines[index].tokens.count <= 3 {
                tokens += lines[index].tokens
                index += 1
            }
            guard tokens.count == 3, let offset = parseHexWord(tokens[1]).flatMap({ UInt32(exactly: $0) }), offset <= 0xfff,
                  let value = parseHexWord(tokens[2]) else {
                warnings.append(ImportWarning(file, line, "not a `%-16s 0x%02x 0x%016llx` register row: \(line.excerpt)"))
                continue
            }
            guard let current else {
                warnings.append(ImportWarning(file, line, "register \(tokens[0]) before any `IOMMU:` heading"))
                continue
            }
            dump.registerSets[current].registers.append((String(tokens[0]), offset, value))
        }
    }

    /// `__stringify(_reg_)` of `IOMMU_REGSET_ENTRY`: capitals, digits and `_`.
    private static func isRegisterName(_ token: Substring) -> Bool {
        token.count <= 24 && token.first?.isLetter == true
            && token.allSatisfy { ($0.isASCII && ($0.isUppercase || $0.isNumber)) || $0 == "_" }
    }
}

extension VTdRegisterSet {
    /// RTADDR's TTM (bits 11:10): how the unit reads its root table.
    public var translationTableMode: VTd.TranslationTableMode? { self["RTADDR"].flatMap(VTd.TranslationTableMode.init(rtaddr:)) }
    /// GSTS.TES (bit 31): DMA remapping is on.
    public var translationEnabled: Bool? { self["GSTS"].map { $0 >> 31 & 1 != 0 } }
}
