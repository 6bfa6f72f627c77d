import IOMMUCore

/// One term of an integer sum: a literal, or a bound name with an optional field.
enum Term: Equatable, Sendable {
    case literal(UInt64)
    case name(String, field: String?, column: Int)
}

/// An integer expression: terms joined by `+` (`0x1000000+4K`, `buf+0x800`, `d1.out_hwpt_id`).
struct Expression: Equatable, Sendable {
    var terms: [Term]
    var column: Int

    /// The value when it names no binding.
    var constant: UInt64? {
        var sum: UInt64 = 0
        for term in terms {
            guard case .literal(let value) = term, let next = sum.checkedAdd(value) else { return nil }
            sum = next
        }
        return sum
    }
}

/// One `field=value` of an entry, with the column its field name starts at.
struct EntryField: Equatable, Sendable {
    var key: String
    var column: Int
    var value: CheckedValue
}

/// An argument value after its syntax has been checked against the argument's kind.
enum CheckedValue: Equatable, Sendable {
    case integer(Expression)
    /// Flags or an enumerated value: the integer, the names it was written with, and the
    /// part written as plain numbers.
    case flags(UInt64, names: [String], literal: UInt64)
    case ranges([(start: Expression, last: Expression)])
    case words([Expression])
    case entries([[EntryField]])
    case name(String)
    case regions([ReservedRegion])

    static func == (a: CheckedValue, b: CheckedValue) -> Bool {
        switch (a, b) {
        case let (.integer(x), .integer(y)): x == y
        case let (.flags(x, n, l), .flags(y, m, k)): x == y && n == m && l == k
        case let (.ranges(x), .ranges(y)): x.count == y.count && zip(x, y).allSatisfy { $0.start == $1.start && $0.last == $1.last }
        case let (.words(x), .words(y)): x == y
        case let (.entries(x), .entries(y)): x == y
        case let (.name(x), .name(y)): x == y
        case let (.regions(x), .regions(y)): x == y
        default: false
        }
    }
}

/// Parses the integer literal syntax: decimal, `0x`, `0b`, `_` separators, a `K M G T` suffix
/// (powers of 1024) and `u64max`. Returns the reason on failure. Every valid literal is ASCII,
/// so it is read as bytes (a non-ASCII character is malformed, as `Character.hexDigitValue`
/// would otherwise read fullwidth digits).
func parseIntegerLiteral<S: StringProtocol>(_ text: S) -> Result<UInt64, LiteralError> {
    if text == "u64max" { return .success(.max) }
    var digits = text.utf8.filter { $0 != UInt8(ascii: "_") }[...]
    guard !digits.isEmpty else { return .failure(.empty) }
    var multiplier: UInt64 = 1
    if let last = digits.last, let shift = [UInt8(ascii: "K"): 10, UInt8(ascii: "M"): 20, UInt8(ascii: "G"): 30, UInt8(ascii: "T"): 40][last] {
        multiplier = 1 << UInt64(shift)
        digits = digits.dropLast()
    }
    var radix: UInt64 = 10
    if digits.starts(with: "0x".utf8) || digits.starts(with: "0X".utf8) { radix = 16; digits = digits.dropFirst(2) }
    else if digits.starts(with: "0b".utf8) || digits.starts(with: "0B".utf8) { radix = 2; digits = digits.dropFirst(2) }
    guard !digits.isEmpty else { return .failure(.malformed(String(text))) }
    var value: UInt64 = 0
    for byte in digits {
        let digit: UInt64
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A")) + 10
        default: return .failure(.malformed(String(text)))
        }
        guard digit < radix else { return .failure(.malformed(String(text))) }
        guard let shifted = value.checkedMultiply(radix), let next = shifted.checkedAdd(digit) else {
            return .failure(.overflow(String(text)))
        }
        value = next
    }
    guard let scaled = value.checkedMultiply(multiplier) else { return .failure(.overflow(String(text))) }
    return .success(scaled)
}

/// Parses one integer as the scenario language writes it (`0x1000`, `4K`, `u64max`), for
/// command-line options that take addresses.
public func parseScenarioInteger(_ text: String) -> UInt64? {
    if case .success(let value) = parseIntegerLiteral(text) { return value }
    return nil
}

enum LiteralError: Error, Equatable {
    case empty
    case malformed(String)
    case overflow(String)

    var reason: String {
        switch self {
        case .empty: "missing value"
        case .malformed(let text): "'\(text)' is not a number"
        case .overflow(let text): "'\(text)' does not fit in 64 bits"
        }
    }
}

/// Splits `text` at `separator`, keeping the column of each piece.
func pieces(_ text: Substring, separator: Character, column: Int) -> [(text: Substring, column: Int)] {
    // As in `tokenize`: an ASCII piece is split by bytes, one byte per column.
    if let byte = separator.asciiValue, text.utf8.allSatisfy({ $0 < 0x80 }) {
        return pieces(text, units: text.utf8, separator: byte, column: column)
    }
    return pieces(text, units: text, separator: separator, column: column)
}

private func pieces<Units: Collection>(_ text: Substring, units: Units, separator: Units.Element,
                                       column: Int) -> [(text: Substring, column: Int)]
    where Units.Index == String.Index, Units.Element: Equatable {
    var result: [(text: Substring, column: Int)] = []
    var start = units.startIndex, startColumn = column, currentColumn = column
    var index = units.startIndex
    while index < units.endIndex {
        if units[index] == separator {
            result.append((text[start..<index], startColumn))
            start = units.index(after: index)
            startColumn = currentColumn + 1
        }
        index = units.index(after: index)
        currentColumn += 1
    }
    result.append((text[start..<units.endIndex], startColumn))
    return result
}

/// Parses `TERM[+TERM...]`; `bits` bounds a constant value (32 for a `__u32` field).
func parseExpression(_ text: Substring, column: Int, line: Int, bits: Int = 64) throws(ScenarioError) -> Expression {
    var terms: [Term] = []
    for (piece, pieceColumn) in pieces(text, separator: "+", column: column) {
        if piece.isEmpty { throw ScenarioError(line: line, column: pieceColumn, "missing value") }
        if piece.first?.isNumber == true || piece == "u64max" {
            switch parseIntegerLiteral(piece) {
            case .success(let value): terms.append(.literal(value))
            case .failure(let error): throw ScenarioError(line: line, column: pieceColumn, error.reason)
            }
        } else {
            let parts = piece.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, parts.allSatisfy({ isIdentifier($0) }) else {
                throw ScenarioError(line: line, column: pieceColumn, "'\(piece)' is not a number or a bound name")
            }
            terms.append(.name(String(parts[0]), field: parts.count == 2 ? String(parts[1]) : nil, column: pieceColumn))
        }
    }
    let expression = Expression(terms: terms, column: column)
    if terms.allSatisfy({ if case .literal = $0 { return true }; return false }) {
        guard let value = expression.constant else {
            throw ScenarioError(line: line, column: column, "'\(text)' does not fit in 64 bits")
        }
        if bits < 64 && value >> UInt64(bits) != 0 {
            throw ScenarioError(line: line, column: column, "'\(text)' does not fit in \(bits) bits")
        }
    }
    return expression
}

/// Parses `a|b|3` against a table of names; `bits` bounds the result.
func parseFlags(_ text: Substring, names: [String: UInt64], column: Int, line: Int, bits: Int,
                single: Bool = false) throws(ScenarioError) -> CheckedValue {
    var value: UInt64 = 0, literal: UInt64 = 0
    var written: [String] = []
    let parts = pieces(text, separator: "|", column: column)
    if single && parts.count > 1 {
        throw ScenarioError(line: line, column: column, "takes one value, not a '|' list")
    }
    for (piece, pieceColumn) in parts {
        if let named = names[String(piece)] {
            value |= named
            written.append(String(piece))
        } else if piece.first?.isNumber == true || piece == "u64max" {
            switch parseIntegerLiteral(piece) {
            case .success(let number):
                value |= number
                literal |= number
            case .failure(let error): throw ScenarioError(line: line, column: pieceColumn, error.reason)
            }
        } else {
            throw ScenarioError(line: line, column: pieceColumn,
                                piece.isEmpty ? "missing value" : "unknown name '\(piece)' \(Choices.suggestion(for: String(piece), in: names.keys))")
        }
    }
    if bits < 64 && value >> UInt64(bits) != 0 {
        throw ScenarioError(line: line, column: column, "'\(text)' does not fit in \(bits) bits")
    }
    return .flags(value, names: written, literal: literal)
}
