import IOMMUCore

/// Text that came from outside (a scenario, a log, a trace, a host's files), made safe to
/// print on a terminal: C0 and C1 control characters and DEL are shown as escapes, so a
/// shared file cannot clear the screen, retitle the window or move the cursor; so are the
/// invisible characters that reorder or hide text (bidirectional overrides and isolates,
/// zero-width marks, line and paragraph separators), so a name reads as it is spelt.
public func terminalSafe<S: StringProtocol>(_ text: S) -> String {
    var safe = ""
    safe.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x09: safe += "\\t"
        case 0x0a: safe += "\\n"
        case 0x0d: safe += "\\r"
        case 0x00..<0x20, 0x7f, 0x80..<0xa0:
            let hex = String(scalar.value, radix: 16)
            safe += "\\x" + (hex.count < 2 ? "0" : "") + hex
        case 0x200b...0x200f, 0x2028...0x202e, 0x2066...0x2069, 0xfeff:
            safe += "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            safe.unicodeScalars.append(scalar)
        }
    }
    return safe
}

/// Byte counts and 64-bit words as every front end prints them.
public enum Units {
    /// "4K", "2M", "1G", "512M"; a size that is no whole unit prints in hex.
    public static func exactSize(_ bytes: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")]
        for (unit, name) in units where bytes >= unit && bytes % unit == 0 { return "\(bytes / unit)\(name)" }
        return bytes.hex
    }

    /// A length in binary units: exact sizes plain (`64M`), others rounded with a `~`
    /// (`~256T`, `~1.5G`); `length` may be 2^64 (a whole address space).
    public static func size(length: UInt128) -> String {
        let units: [(String, Int)] = [("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)]
        for (index, (name, shift)) in units.enumerated() where length >= UInt128(1) << shift {
            let unit = UInt128(1) << shift
            if length % unit == 0 { return "\(length >> shift)\(name)" }
            let tenths = (length * 10 + unit / 2) / unit
            // Just under the next unit (~1020G) reads better as that unit (~1T).
            if tenths >= 9995, index > 0 { return "~1\(units[index - 1].0)" }
            if tenths >= 100 || tenths % 10 == 0 { return "~\((tenths + 5) / 10)\(name)" }
            return "~\(tenths / 10).\(tenths % 10)\(name)"
        }
        return "\(length)"
    }

    public static func size(_ bytes: UInt64) -> String { size(length: UInt128(bytes)) }

    /// The length of an inclusive range, which may be the whole 64-bit space.
    public static func size(of range: IOVARange) -> String { size(length: UInt128(range.last - range.start) + 1) }

    /// A count with its noun, singular for one (`1 area`, `3 areas`), so no front end
    /// prints "1 areas".
    public static func count(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)" + (count == 1 ? "" : "s")
    }

    /// A descriptor or register word as 16 hex digits (`0x0000000040011003`).
    public static func word(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - text.count)) + text
    }
}

/// A field as the command line prints it, `name=value`: a value that holds a blank or a
/// quote, or is empty, goes in double quotes with its quotes and backslashes escaped, so a
/// line of fields splits back into its fields (`string="SM: No write permission ..."`).
public enum FieldText {
    public static func value(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" }) else { return text }
        var quoted = "\""
        for character in text {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    public static func pair(_ name: String, _ value: String) -> String { name + "=" + Self.value(value) }
}
