import Foundation
import IOMMUCore
import Presentation
import TerminalUI

/// Text helpers the page-table and walk views share.
enum TableText {
    /// "0x07f" for an index of a table of `count` entries.
    static func index(_ index: Int, count: Int) -> String {
        let digits = max(3, String(max(0, count - 1), radix: 16).count)
        let text = String(index, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func field(_ field: DescriptorField) -> String {
        "\(field.name)[\(FieldTable.bits(field.bits))]=" + FieldTable.value(field.value)
    }

    static func dash(_ symbols: Symbols) -> String { symbols == .ascii ? "-" : "–" }

    /// Splits `items` into lines of at most `width` cells.
    static func wrap(_ items: [String], width: Int, separator: String = "  ") -> [String] {
        var lines: [String] = []
        var line = ""
        for item in items {
            if line.isEmpty { line = item; continue }
            if CellBuffer.width(of: line + separator + item) > width {
                lines.append(line)
                line = item
            } else {
                line += separator + item
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// A hex address typed by the user after `/`: `0x1234`, `1234`, `0x4000_0000`; nil when
    /// not hex.
    static func parseAddress(_ text: String) -> UInt64? {
        var digits = String(text.lowercased().filter { $0 != "_" && $0 != " " })
        if digits.hasPrefix("0x") { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.count <= 16, digits.allSatisfy(\.isHexDigit) else { return nil }
        return UInt64(digits, radix: 16)
    }
}

extension String {
    /// Padded with blanks to `width` cells (at least one blank after the text).
    func cellPadded(to width: Int) -> String {
        self + String(repeating: " ", count: max(1, width - CellBuffer.width(of: self)))
    }
}
