import IOMMUCore
import Presentation

/// A reader of one kind of host file: its text in, a typed value out, with warnings located
/// at the file and line. Readers never trap and never give up on a file: what they do not
/// understand is skipped with a warning.
public protocol HostFileReader {
    associatedtype Value
    static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> Value
}

/// A one-value sysfs or procfs file: the text up to its newline (`osrelease`, `cmdline`,
/// `iommu_groups/N/type`), with mail quoting undone.
enum OneLineText {
    /// The first non-blank line, trimmed of quoting and surrounding blanks; warns about
    /// further lines.
    static func value(_ text: String, file: String, warnings: inout [ImportWarning]) -> (line: Int, text: String)? {
        var found: (Int, String)?
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let content = mailUnquoted(line).trimmingBlanks
            guard !content.isEmpty else { continue }
            if found == nil {
                found = (number + 1, String(content))
            } else {
                warnings.append(ImportWarning(file: file, line: number + 1, reason: "more than one line; only the first is read"))
                break
            }
        }
        return found
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and CRs.
    var trimmingBlanks: SubSequence {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}

/// `/sys/kernel/iommu_groups/N/reserved_regions` (host-inputs §2.1): `iommu_group_show_resv_regions()`
/// prints `"0x%016llx 0x%016llx %s\n"`: start, `start + length - 1` (inclusive), and
/// `iommu_group_resv_type_string[]`. Lines are kept in file order, overlaps of different types
/// included (the kernel merges only regions of one type). A row wrapped before its word joins
/// the next line.
public enum ReservedRegionsFile: HostFileReader {
    public static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> [HostReservedRegion] {
        var regions: [HostReservedRegion] = []
        var pending: (number: Int, tokens: [Substring])?
        for line in PastedLine.split(text) where !line.isBlank {
            let tokens = line.tokens
            var row = (number: line.number, tokens: tokens)
            if let short = pending {
                pending = nil
                if tokens.count < 3, tokens.allSatisfy({ parseHexWord($0) == nil }) || short.tokens.count == 1 {
                    row = (short.number, short.tokens + tokens)
                } else {
                    warnings.append(ImportWarning(file: file, line: short.number, reason: "a region line cut short: \(terminalText(short.tokens))"))
                }
            }
            if row.tokens.count < 3, row.tokens.allSatisfy({ parseHexWord($0) != nil }) {
                pending = row
                continue
            }
            if let region = region(row.tokens, file: file, line: row.number, warnings: &warnings) { regions.append(region) }
        }
        if let short = pending {
            warnings.append(ImportWarning(file: file, line: short.number, reason: "a region line cut short: \(terminalText(short.tokens))"))
        }
        return regions
    }

    private static func region(_ tokens: [Substring], file: String, line: Int, warnings: inout [ImportWarning]) -> HostReservedRegion? {
        guard tokens.count == 3, let start = parseHexWord(tokens[0]), let last = parseHexWord(tokens[1]) else {
            warnings.append(ImportWarning(file: file, line: line, reason: "not a region line (0x%016llx 0x%016llx type): \(terminalText(tokens))"))
            return nil
        }
        guard let type = HostReservedRegionType(rawValue: String(tokens[2])) else {
            warnings.append(ImportWarning(file: file, line: line, reason: "unknown region type \(terminalText([tokens[2]]))"))
            return nil
        }
        guard start <= last else {
            warnings.append(ImportWarning(file: file, line: line, reason: "region ends before it starts (\(start.hex) > \(last.hex))"))
            return nil
        }
        return HostReservedRegion(range: IOVARange(start: start, last: last), type: type)
    }
}

/// `/sys/kernel/iommu_groups/N/type` (host-inputs §2.2): `iommu_group_show_type()` prints one
/// word, the **default** domain's type. The file is new in v5.11 and `DMA-FQ` in v5.15.
public enum GroupTypeFile: HostFileReader {
    /// The words `iommu_group_show_type()` can print.
    public static let words: Set<String> = ["blocked", "identity", "unmanaged", "DMA", "DMA-FQ", "unknown"]

    public static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> String? {
        guard let (line, word) = OneLineText.value(text, file: file, warnings: &warnings) else {
            warnings.append(ImportWarning(file: file, reason: "empty"))
            return nil
        }
        guard words.contains(word) else {
            warnings.append(ImportWarning(file: file, line: line, reason: "not a group type the kernel prints: \(terminalText([Substring(word)]))"))
            return nil
        }
        return word
    }
}

/// A register or address sysfs prints without `0x`: VT-d `intel-iommu/{cap,ecap,address}`
/// (`"%llx\n"`) and AMD-Vi `amd-iommu/cap` (`"%x\n"`). A `0x` a person added is accepted.
public enum BareHexFile: HostFileReader {
    public static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> UInt64? {
        guard let (line, word) = OneLineText.value(text, file: file, warnings: &warnings) else {
            warnings.append(ImportWarning(file: file, reason: "empty"))
            return nil
        }
        guard let value = parseHexWord(word) ?? parseBareHex(word) else {
            warnings.append(ImportWarning(file: file, line: line, reason: "not a hex value: \(terminalText([Substring(word)]))"))
            return nil
        }
        return value
    }
}

/// A PCI ID attribute with its `0x` (`vendor`, `device` print `"0x%04x\n"`, `class`
/// `"0x%06x\n"`), bounded by the width it is stored in.
public struct PCIIDFile<Value: FixedWidthInteger & UnsignedInteger>: HostFileReader {
    public static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> Value? {
        guard let (line, word) = OneLineText.value(text, file: file, warnings: &warnings) else {
            warnings.append(ImportWarning(file: file, reason: "empty"))
            return nil
        }
        guard let wide = parseHexWord(word), let value = Value(exactly: wide) else {
            warnings.append(ImportWarning(file: file, line: line, reason: "not a 0x%0\(Value.bitWidth / 4)x value: \(terminalText([Substring(word)]))"))
            return nil
        }
        return value
    }
}

/// VT-d `intel-iommu/version`: `"%d:%d\n"`, the VER register's major (bits 7:4) and minor (3:0).
public enum VTdVersionFile: HostFileReader {
    public static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> String? {
        guard let (line, word) = OneLineText.value(text, file: file, warnings: &warnings) else {
            warnings.append(ImportWarning(file: file, reason: "empty"))
            return nil
        }
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ (1...2).contains($0.count) && UInt8($0).map { $0 < 16 } == true }) else {
            warnings.append(ImportWarning(file: file, line: line, reason: "not a %d:%d version: \(terminalText([Substring(word)]))"))
            return nil
        }
        return word
    }
}

/// `/proc/sys/kernel/osrelease` and `/proc/cmdline`: one line each, kept verbatim (only the
/// newline and pasted-copy damage go).
public enum ProcLineFile: HostFileReader {
    public static func parse(_ text: String, file: String, warnings: inout [ImportWarning]) -> String? {
        guard let (_, line) = OneLineText.value(text, file: file, warnings: &warnings) else {
            warnings.append(ImportWarning(file: file, reason: "empty"))
            return nil
        }
        return line
    }
}

/// Tokens quoted for a warning: control characters escaped, long input cut.
func terminalText(_ tokens: [Substring]) -> String {
    let joined = tokens.joined(separator: " ")
    let cut = joined.count > 80 ? String(joined.prefix(80)) + "..." : joined
    return terminalSafe(cut)
}
