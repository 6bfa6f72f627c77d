/// One kernel fault-log format (a driver's printers): it recognises its own lines, joins
/// the lines of one event into one record, and knows its incomplete lines for the
/// normaliser's hard-wrap join. Every format reads behind this one protocol.
protocol FaultLogFormat: LineContinuation {
    /// Reads one logical line; nil when the line is not this format's.
    mutating func read(_ line: LogLine, into log: inout FaultAssembly) -> LineUse?
    /// The input ended: records still open are closed (truncated ones with a warning).
    mutating func finish(into log: inout FaultAssembly)
}

/// What a format made of a line it recognised.
enum LineUse: Equatable {
    /// An event or a line of one (a raw word, a decoded line, a dump entry).
    case event
    /// A line of the format that is no event: boot messages, a status line, a note.
    case context
    /// The format's line, but not understood: a located warning (an error with `--strict`).
    case malformed(String)
}

/// The records being assembled, in input order (a record keeps the slot of the line that
/// opened it, however late its other lines come), and the warnings of every format.
struct FaultAssembly {
    let file: String
    var records: [FaultRecord] = []
    var warnings: [ImportWarning] = []

    /// Appends a record; its index stays valid for the lines that follow.
    mutating func open(_ record: FaultRecord) -> Int {
        records.append(record)
        return records.count - 1
    }

    /// How far back a later line looks for the record it belongs to (a dump's fault, a
    /// flags line's event): those follow within a few records, and a bound keeps a log of
    /// millions of faults linear.
    static var lookBack: Int { 256 }

    /// The last record among the recent ones that matches.
    func lastRecent(where matches: (FaultRecord) -> Bool) -> Int? {
        records.indices.reversed().prefix(Self.lookBack).first { matches(records[$0]) }
    }

    mutating func warn(line: Int, _ reason: String) {
        warnings.append(ImportWarning(file: file, line: line, reason: reason))
    }
}

/// A `dev_printk` prefix, `<driver> <device>: ` (drivers/base/core.c `__dev_printk()`):
/// the device's name and the rest of the line, when `text` starts with `driver` so.
func printkDevicePrefix(_ text: Substring, driver: String) -> (device: Substring, rest: Substring)? {
    guard text.hasPrefix(driver + " ") else { return nil }
    let afterDriver = text.dropFirst(driver.count + 1)
    // A device name has no spaces; a PCI name's colons are not followed by one.
    guard let separator = afterDriver.firstRange(of: ": ") else { return nil }
    let name = afterDriver[..<separator.lowerBound]
    guard !name.isEmpty, !name.contains(" ") else { return nil }
    return (name, afterDriver[separator.upperBound...])
}

/// `key=value` words of a line (`domain=0x000d`, `device=05:00.0`), commas and a closing
/// `]` dropped; later keys do not replace earlier ones.
func logKeyedValues(_ text: Substring) -> [Substring: Substring] {
    var values: [Substring: Substring] = [:]
    for word in text.split(whereSeparator: { $0 == " " || $0 == "," }) {
        guard let equals = word.firstIndex(of: "=") else { continue }
        var value = word[word.index(after: equals)...]
        while value.last == "]" { value = value.dropLast() }
        let key = word[..<equals]
        if values[key] == nil { values[key] = value }
    }
    return values
}

/// A hex value as these printers write it: `0x` optional (`%llx`, `%#x`, `0x%016llx`), at
/// most 16 digits.
func logHex<S: StringProtocol>(_ text: S) -> UInt64? {
    parseHexWord(text) ?? parseBareHex(text)
}

/// A device token as logged: a PCI function in any printed form, otherwise the name.
func logRequester<S: StringProtocol>(_ text: S) -> FaultRecord.Requester {
    if let address = PCIAddress(parsing: text) { return .pci(address) }
    return .named(String(text))
}
