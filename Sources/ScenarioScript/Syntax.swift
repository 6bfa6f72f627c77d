import IOMMUCore
import Presentation

/// A located problem in a scenario file: `FILE:LINE:COLUMN: error: REASON`.
public struct ScenarioError: Error, Equatable, CustomStringConvertible, Sendable {
    public var line: Int
    public var column: Int
    public var reason: String

    public init(line: Int, column: Int, _ reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// The reason echoes the input, so its control characters are escaped (`terminalSafe`):
    /// a shared scenario cannot put escape sequences on the reader's terminal.
    public var description: String { "\(line):\(column): error: \(terminalSafe(reason))" }
}

/// A word of a scenario line and the 1-based column it starts at.
struct Token: Equatable {
    var text: Substring
    var column: Int
}

/// One `KEY=VALUE` argument as written.
public struct RawArgument: Equatable, Sendable {
    public var key: String
    public var value: String
    public var keyColumn: Int
    public var valueColumn: Int
}

/// What `expect=` asks of a line.
public enum Expectation: Equatable, Sendable, CustomStringConvertible {
    case ok
    case errno(Errno)
    case fault

    public var description: String {
        switch self {
        case .ok: "ok"
        case .errno(let errno): errno.name
        case .fault: "fault"
        }
    }
}

/// One command line of a scenario, split but not yet evaluated.
public struct ScenarioLine: Sendable {
    public var number: Int
    /// `NAME =` before the command.
    public var binding: String?
    public var command: String
    public var commandColumn: Int
    /// The name a platform declaration (`iommu NAME`, `device NAME`) gives, and its column.
    public var declaredName: String?
    public var declaredNameColumn = 0
    public var arguments: [RawArgument]
    public var expectation: Expectation?
    /// The command's arguments, checked against its specification.
    var checked: [String: CheckedValue] = [:]
}

/// Splits one line into words: whitespace separates them, `#` starts a comment, and braces
/// group an entry list (`entries={flags=all iotlb_id=2},{iotlb_id=1}`) into one word.
func tokenize(_ text: Substring, line: Int) throws(ScenarioError) -> [Token] {
    // An ASCII line is split by bytes (each byte one Character, so columns are the same);
    // Character iteration is what a million-line scenario would otherwise spend its time on.
    if text.utf8.allSatisfy({ $0 < 0x80 }) {
        return try tokenize(text, units: text.utf8, line: line) { UInt8(ascii: $0) }
    }
    return try tokenize(text, units: text, line: line) { Character($0) }
}

/// `tokenize` over one view of the line (`units`, one element per column).
private func tokenize<Units: Collection>(_ text: Substring, units: Units, line: Int,
                                         _ unit: (Unicode.Scalar) -> Units.Element) throws(ScenarioError) -> [Token]
    where Units.Index == String.Index, Units.Element: Equatable {
    let comment = unit("#"), space = unit(" "), tab = unit("\t"), cr = unit("\r"), open = unit("{"), close = unit("}")
    var tokens: [Token] = []
    var index = units.startIndex
    var column = 1
    while index < units.endIndex {
        let character = units[index]
        if character == comment { break }
        if character == space || character == tab || character == cr {
            index = units.index(after: index)
            column += 1
            continue
        }
        let start = index, startColumn = column
        var depth = 0
        while index < units.endIndex {
            let c = units[index]
            if depth == 0 && (c == space || c == tab || c == cr || c == comment) { break }
            if c == open { depth += 1 }
            if c == close {
                depth -= 1
                if depth < 0 { throw ScenarioError(line: line, column: column, "unbalanced '}'") }
            }
            index = units.index(after: index)
            column += 1
        }
        if depth != 0 { throw ScenarioError(line: line, column: startColumn, "unclosed '{'") }
        tokens.append(Token(text: text[start..<index], column: startColumn))
    }
    return tokens
}

/// True for names a scenario can bind: a letter or `_`, then letters, digits, `_` or `-`.
func isIdentifier<S: StringProtocol>(_ text: S) -> Bool {
    // ASCII bytes first: Character properties are slow, and for ASCII they mean these ranges.
    var ascii = true
    for (offset, byte) in text.utf8.enumerated() {
        guard byte < 0x80 else { ascii = false; break }
        let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
        let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        let underscore = byte == UInt8(ascii: "_")
        if offset == 0 ? !(letter || underscore) : !(letter || digit || underscore || byte == UInt8(ascii: "-")) { return false }
    }
    if ascii { return !text.isEmpty }
    guard let first = text.first, first.isLetter || first == "_" else { return false }
    return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
}

/// True for a device or unit name as sysfs spells it, which `dev=` and `iommu=` take besides
/// identifiers: a host's PCI function `0000:03:00.0`, a platform device `fc900000.gpu`, an
/// SMMUv3 unit `smmu3.0x00000000fc900000`. A letter or digit, then letters, digits and
/// `_ - . : +`, at most 255 characters (`NAME_MAX`); nothing that separates values
/// (`,` `=` `#` braces) or starts an expression.
func isSysfsName<S: StringProtocol>(_ text: S) -> Bool {
    guard let first = text.utf8.first, text.utf8.count <= 255 else { return false }
    func alphanumeric(_ byte: UInt8) -> Bool {
        ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
    let punctuation: Set<UInt8> = [UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "+")]
    return alphanumeric(first) && text.utf8.allSatisfy { alphanumeric($0) || punctuation.contains($0) }
}

/// Parses the shape of one line; argument values are checked later against the command.
func parseLine(_ text: Substring, number: Int) throws(ScenarioError) -> ScenarioLine? {
    var tokens = try tokenize(text, line: number)
    guard !tokens.isEmpty else { return nil }
    var binding: String?
    if tokens.count >= 2, tokens[1].text == "=" {
        guard isIdentifier(tokens[0].text), !tokens[0].text.contains("-") else {
            throw ScenarioError(line: number, column: tokens[0].column, "'\(tokens[0].text)' is not a name that can be bound")
        }
        binding = String(tokens[0].text)
        tokens.removeFirst(2)
        guard !tokens.isEmpty else { throw ScenarioError(line: number, column: text.count + 1, "missing command after '='") }
    }
    let commandToken = tokens.removeFirst()
    guard isIdentifier(commandToken.text), !commandToken.text.contains("=") else {
        throw ScenarioError(line: number, column: commandToken.column, "expected a command name, found '\(commandToken.text)'")
    }
    var result = ScenarioLine(number: number, binding: binding, command: String(commandToken.text),
                              commandColumn: commandToken.column, declaredName: nil, arguments: [], expectation: nil)
    for token in tokens {
        guard let equals = token.text.firstIndex(of: "=") else {
            // A declared name (`device 0000:2f:00.1 ...`) may be spelt as sysfs spells it.
            if result.arguments.isEmpty && result.declaredName == nil && (isIdentifier(token.text) || isSysfsName(token.text)) {
                result.declaredName = String(token.text)
                result.declaredNameColumn = token.column
                continue
            }
            throw ScenarioError(line: number, column: token.column, "expected KEY=VALUE, found '\(token.text)'")
        }
        let key = String(token.text[..<equals])
        let value = String(token.text[token.text.index(after: equals)...])
        guard isIdentifier(key) else {
            throw ScenarioError(line: number, column: token.column, "'\(key)' is not an argument name")
        }
        let valueColumn = token.column + key.count + 1
        if key == "expect" {
            guard result.expectation == nil else { throw ScenarioError(line: number, column: token.column, "expect= given twice") }
            switch value {
            case "ok": result.expectation = .ok
            case "fault": result.expectation = .fault
            default:
                guard let errno = Errno(name: value) else {
                    let close = Choices.closest(to: value, in: ["ok", "fault"] + Errno.allCases.map(\.name))
                    throw ScenarioError(line: number, column: valueColumn, close.isEmpty
                                        ? "expect= takes ok, fault or an errno name such as EINVAL, not '\(value)'"
                                        : "expect= takes ok, fault or an errno name, not '\(value)' \(Choices.didYouMean(close))")
                }
                result.expectation = .errno(errno)
            }
            continue
        }
        if result.arguments.contains(where: { $0.key == key }) {
            throw ScenarioError(line: number, column: token.column, "argument '\(key)' given twice")
        }
        result.arguments.append(RawArgument(key: key, value: value, keyColumn: token.column, valueColumn: valueColumn))
    }
    return result
}
