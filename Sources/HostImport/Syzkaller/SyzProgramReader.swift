/// A value of a syzkaller program's text, in the grammar of syzkaller's `prog/encoding.go`
/// (`parseArgImpl`): what the program says, before any description types it.
public indirect enum SyzValue: Sendable, Equatable {
    /// `0x1c`, `0`, `0xFFFF...`: a number (`strconv.ParseUint(s, 0, 64)`).
    case integer(UInt64)
    /// `rN`, or `rN/D+A`: a resource an earlier call defined, with syzkaller's divide and add.
    case resource(Int, divide: UInt64?, add: UInt64?)
    /// `<rN=>V`: an out field that becomes resource rN; V is what the program stores before the call.
    case output(Int, SyzValue)
    /// `&(0x7f0000000040)=V`, `&AUTO=V` (nil address), or without `=V` (nil value).
    case pointer(address: UInt64?, SyzValue?)
    /// `&(0x7f0000ffc000/0x1000)=nil`: a page range of the data area (syzkaller's VMA).
    case vma(address: UInt64, size: UInt64)
    /// `'text\x00'` or `"68657820"` (hex): a buffer's bytes.
    case data([UInt8])
    /// `{a, b, ...}`: a struct, its fields in the description's order.
    case group([SyzValue])
    /// `[a, b, ...]`: an array.
    case array([SyzValue])
    /// `@name=V` or `@name`: a union's chosen field.
    case union(String, SyzValue?)
    /// `nil`: the default of its type (a null pointer, a zero).
    case null
    /// `AUTO`: a value syzkaller fills in (a `len`, a `const`).
    case auto
}

/// One call of a syzkaller program: `[rN = ]syscall$variant(args)`.
public struct SyzCall: Sendable, Equatable {
    /// The program line (1-based) the call is on.
    public var line: Int
    /// N of `rN = `, the resource the call returns.
    public var result: Int?
    /// `ioctl$IOMMU_IOAS_MAP$PAGES`: the syscall and its description variant.
    public var name: String
    public var arguments: [SyzValue]
    /// The call as the program writes it (bounded, for comments and the timeline).
    public var text: String
    /// The `# comment` after the call: in a `sys/linux/test` program, the errno the call
    /// must end with (`pkg/runtest`).
    public var comment: String?

    /// The syscall without the variant (`ioctl`).
    public var syscall: Substring { name.prefix { $0 != "$" } }
    /// The description variant after the syscall (`IOMMU_IOAS_MAP$PAGES`), empty for none.
    public var variant: Substring {
        guard let dollar = name.firstIndex(of: "$") else { return "" }
        return name[name.index(after: dollar)...]
    }
}

/// What a program line holds: a call, or a line that looked like one and did not parse.
public enum SyzProgramLine: Sendable, Equatable {
    case call(SyzCall)
    case malformed(line: Int, text: String, reason: String)
}

/// Reads the text of a syzkaller program (`sys/linux/test/*`, a syzbot "syz repro"): one call
/// a line, `#` comments, blank lines between groups. A generated C reproducer after the program
/// (`//  call arguments: [` blocks and `syscall(...)` lines, as syzbot mails carry) restates
/// the calls; reading stops where it starts. A malformed line gives a located warning and is
/// kept, never trapped on.
public struct SyzProgramReader: Sendable {
    public private(set) var lines: [SyzProgramLine] = []
    public private(set) var warnings: [ImportWarning] = []
    public let file: String

    /// Longer lines (a huge hex blob) are refused rather than read.
    static let maximumLineLength = 1 << 20
    /// Deeper nesting is refused: no iommufd struct nests more than three levels.
    static let maximumDepth = 32

    public init(file: String) { self.file = file }

    /// The calls read, in program order.
    public var calls: [SyzCall] {
        lines.compactMap { if case .call(let call) = $0 { call } else { nil } }
    }

    /// Reads a whole program.
    public static func read(_ text: String, file: String) -> SyzProgramReader {
        var reader = SyzProgramReader(file: file)
        let raw = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, line) in raw.enumerated() {
            let number = index + 1
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if Self.startsCReproducer(trimmed) { break }
            if trimmed.trimmingBlanks.isEmpty || trimmed.hasPrefix("#") { continue }
            reader.take(trimmed, number: number)
        }
        return reader
    }

    /// The generated C that follows a program in a syzbot report: its comment blocks, its
    /// `syscall(` lines, its preprocessor lines.
    static func startsCReproducer(_ line: Substring) -> Bool {
        line.hasPrefix("//") || line.hasPrefix("syscall(") || line.hasPrefix("#include") || line.hasPrefix("#define")
            || line.hasPrefix("int main") || line.hasPrefix("/*")
    }

    private mutating func take(_ line: Substring, number: Int) {
        let text = String(line.prefix(240).trimmingBlanks)
        guard line.utf8.count <= Self.maximumLineLength else {
            return malformed(number, text, "a line longer than \(Self.maximumLineLength) bytes")
        }
        var parser = SyzLineParser(bytes: Array(line.utf8), depthLimit: Self.maximumDepth)
        switch parser.call() {
        case .success(let (result, name, arguments, comment)):
            lines.append(.call(SyzCall(line: number, result: result, name: name, arguments: arguments, text: text, comment: comment)))
        case .failure(let error):
            malformed(number, text, "column \(error.column): \(error.reason)")
        }
    }

    private mutating func malformed(_ number: Int, _ text: String, _ reason: String) {
        warnings.append(ImportWarning(file: file, line: number, reason: "not a syzkaller call (\(reason)); kept as a comment"))
        lines.append(.malformed(line: number, text: text, reason: reason))
    }
}

/// Why a line did not parse, at a 1-based column.
struct SyzParseError: Error {
    var column: Int
    var reason: String
}

/// A recursive-descent parser over one line's bytes, as `prog/encoding.go` reads them: spaces
/// and tabs skipped after each token, identifiers of `[A-Za-z0-9_$]`.
struct SyzLineParser {
    let bytes: [UInt8]
    let depthLimit: Int
    var index = 0
    var depth = 0

    init(bytes: [UInt8], depthLimit: Int) {
        self.bytes = bytes
        self.depthLimit = depthLimit
        skipBlanks()
    }

    /// `[rN = ]name(args) [(props)] [# comment]`.
    mutating func call() -> Result<(Int?, String, [SyzValue], String?), SyzParseError> {
        do throws(SyzParseError) {
            var name = try identifier("a call name")
            var result: Int?
            if peek == UInt8(ascii: "=") {
                guard let number = Self.resourceNumber(name) else { throw error("'\(name)' is not a resource name (rN)") }
                result = number
                advance()
                name = try identifier("a call name after '='")
            }
            try expect("(")
            var arguments: [SyzValue] = []
            while peek != UInt8(ascii: ")") {
                arguments.append(try value())
                if peek != UInt8(ascii: ")") { try separator(")") }
            }
            try expect(")")
            if peek == UInt8(ascii: "(") { try properties() }
            var comment: String?
            if let next = peek {
                guard next == UInt8(ascii: "#") else { throw error("text after the call's ')'") }
                comment = String(decoding: bytes[(index + 1)...], as: UTF8.self).trimmingBlanks.description
            }
            return .success((result, name, arguments, comment))
        } catch {
            return .failure(error)
        }
    }

    /// `(fail_nth: 1, async, rerun: 4)`: how syzkaller runs the call, not what it passes.
    private mutating func properties() throws(SyzParseError) {
        try expect("(")
        while peek != UInt8(ascii: ")") {
            _ = try identifier("a call property")
            if peek == UInt8(ascii: ":") {
                advance()
                _ = try number()
            }
            if peek != UInt8(ascii: ")") { try expect(",") }
        }
        try expect(")")
    }

    private mutating func value() throws(SyzParseError) -> SyzValue {
        guard let char = peek else { throw error("the line ends inside the arguments") }
        depth += 1
        defer { depth -= 1 }
        guard depth <= depthLimit else { throw error("arguments nested deeper than \(depthLimit) levels") }
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try number())
        case UInt8(ascii: "r"):
            return try resource()
        case UInt8(ascii: "<"):
            advance()
            let name = try identifier("a resource name after '<'")
            guard let number = Self.resourceNumber(name) else { throw error("'\(name)' is not a resource name (rN)") }
            try expect("=")
            try expect(">")
            return .output(number, try value())
        case UInt8(ascii: "&"):
            return try pointer()
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .data(try data())
        case UInt8(ascii: "{"):
            return .group(try list(open: "{", close: "}"))
        case UInt8(ascii: "["):
            return .array(try list(open: "[", close: "]"))
        case UInt8(ascii: "@"):
            advance()
            let name = try identifier("a union field name after '@'")
            if peek == UInt8(ascii: "=") {
                advance()
                return .union(name, try value())
            }
            return .union(name, nil)
        default:
            let word = try identifier("an argument")
            switch word {
            case "nil": return .null
            case "AUTO": return .auto
            default: throw error("'\(word)' is not an argument")
            }
        }
    }

    /// `rN`, `rN/D`, `rN+A`, `rN/D+A` (`parseArgRes`).
    private mutating func resource() throws(SyzParseError) -> SyzValue {
        let name = try identifier("a resource")
        guard let resource = Self.resourceNumber(name) else { throw error("'\(name)' is not a resource name (rN)") }
        var divide: UInt64?, add: UInt64?
        if peek == UInt8(ascii: "/") {
            advance()
            divide = try number()
        }
        if peek == UInt8(ascii: "+") {
            advance()
            add = try number()
        }
        return .resource(resource, divide: divide, add: add)
    }

    /// `&AUTO[=V]`, `&(ADDR)[=V]`, `&(ADDR/SIZE)=nil` (`parseArgAddr`); `=ANY=` is taken as `=`.
    private mutating func pointer() throws(SyzParseError) -> SyzValue {
        try expect("&")
        var address: UInt64?
        var size: UInt64?
        if peek == UInt8(ascii: "(") {
            advance()
            address = try number()
            if peek == UInt8(ascii: "/") {
                advance()
                size = try number()
            }
            try expect(")")
        } else {
            let word = try identifier("AUTO or an address")
            guard word == "AUTO" else { throw error("'\(word)' is not AUTO or (ADDRESS)") }
        }
        var inner: SyzValue?
        if peek == UInt8(ascii: "=") {
            advance()
            if bytes[index...].starts(with: Array("ANY=".utf8)) {
                index += 4
                skipBlanks()
            }
            inner = try value()
        }
        if let size, let address {
            if let inner, inner != .null { throw error("a VMA (ADDRESS/SIZE) points to no value") }
            return .vma(address: address, size: size)
        }
        return .pointer(address: address, inner)
    }

    /// `'...'` with C escapes, or `"hex"` (`deserializeData`); `"$..."` (base64 images) is not read.
    private mutating func data() throws(SyzParseError) -> [UInt8] {
        guard let quote = peek else { throw error("the line ends before a buffer") }
        advance(skipping: false)
        var result: [UInt8] = []
        if quote == UInt8(ascii: "\"") {
            var digits: [UInt8] = []
            while let char = peek, char != quote {
                digits.append(char)
                advance(skipping: false)
            }
            guard peek == quote else { throw error("the line ends inside a hex buffer") }
            advance()
            guard digits.first != UInt8(ascii: "$") else { throw error("a base64 buffer (\"$...\") is not read") }
            guard digits.count % 2 == 0 else { throw error("a hex buffer has an odd number of digits") }
            var pair = digits.makeIterator()
            while let high = pair.next(), let low = pair.next() {
                guard let h = Self.hexDigit(high), let l = Self.hexDigit(low) else { throw error("'\(Character(Unicode.Scalar(high)))\(Character(Unicode.Scalar(low)))' is not a hex byte") }
                result.append(h << 4 | l)
            }
            return try sized(result)
        }
        while let char = peek, char != quote {
            advance(skipping: false)
            guard char == UInt8(ascii: "\\") else {
                result.append(char)
                continue
            }
            guard let escape = peek else { break }
            advance(skipping: false)
            switch escape {
            case UInt8(ascii: "x"):
                guard index + 1 < bytes.count, let h = Self.hexDigit(bytes[index]), let l = Self.hexDigit(bytes[index + 1]) else {
                    throw error("a \\x escape needs two hex digits")
                }
                index += 2
                result.append(h << 4 | l)
            case UInt8(ascii: "a"): result.append(0x07)
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0c)
            case UInt8(ascii: "n"): result.append(0x0a)
            case UInt8(ascii: "r"): result.append(0x0d)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "v"): result.append(0x0b)
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "\\"): result.append(escape)
            default: throw error("'\\\(Character(Unicode.Scalar(escape)))' is not an escape")
            }
        }
        guard peek == quote else { throw error("the line ends inside a buffer") }
        advance()
        return try sized(result)
    }

    /// `'...'/SIZE`, `"..."/SIZE`: the buffer's length, padded with zeros or cut.
    private mutating func sized(_ data: [UInt8]) throws(SyzParseError) -> [UInt8] {
        var result = data
        if peek == UInt8(ascii: "/") {
            advance()
            let size = try number()
            guard size <= 1 << 24 else { throw error("a buffer of \(size) bytes is larger than syzkaller's 16M data area") }
            if UInt64(result.count) < size { result += [UInt8](repeating: 0, count: Int(size) - result.count) }
            else { result = Array(result.prefix(Int(size))) }
        }
        return result
    }

    private mutating func list(open: Unicode.Scalar, close: Unicode.Scalar) throws(SyzParseError) -> [SyzValue] {
        try expect(open)
        var values: [SyzValue] = []
        while peek != UInt8(ascii: close) {
            values.append(try value())
            if peek != UInt8(ascii: close) { try separator(close) }
        }
        try expect(close)
        return values
    }

    /// The `,` between two values of a list that ends with `close`.
    private mutating func separator(_ close: Unicode.Scalar) throws(SyzParseError) {
        guard let next = peek else { throw error("the line ends before the '\(close)' that closes a list (unbalanced or truncated)") }
        guard next == UInt8(ascii: ",") else { throw error("'\(Character(Unicode.Scalar(next)))' where ',' or '\(close)' should be") }
        advance()
    }

    /// A number as Go's `strconv.ParseUint(s, 0, 64)` reads it: `0x`/`0X` hex, `0b` binary,
    /// `0o` or a leading `0` octal, else decimal; a value past 64 bits is an error.
    private mutating func number() throws(SyzParseError) -> UInt64 {
        let start = index
        let word = try identifier("a number")
        var digits = Substring(word)
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { radix = 16; digits = digits.dropFirst(2) }
        else if digits.hasPrefix("0b") || digits.hasPrefix("0B") { radix = 2; digits = digits.dropFirst(2) }
        else if digits.hasPrefix("0o") || digits.hasPrefix("0O") { radix = 8; digits = digits.dropFirst(2) }
        else if digits.count > 1, digits.hasPrefix("0") { radix = 8; digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }), let value = UInt64(digits, radix: radix) else {
            let tooLarge = !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.hexDigitValue.map { $0 < radix } == true })
            throw SyzParseError(column: start + 1, reason: tooLarge ? "'\(word)' does not fit in 64 bits" : "'\(word)' is not a number")
        }
        return value
    }

    private mutating func identifier(_ what: String) throws(SyzParseError) -> String {
        let start = index
        while let char = peek, Self.isIdentifierByte(char) { index += 1 }
        guard index > start else {
            throw error(peek == nil ? "the line ends where \(what) should be" : "'\(Character(Unicode.Scalar(bytes[index])))' where \(what) should be")
        }
        let word = String(decoding: bytes[start..<index], as: UTF8.self)
        skipBlanks()
        return word
    }

    private mutating func expect(_ char: Unicode.Scalar) throws(SyzParseError) {
        guard let next = peek else { throw error("the line ends where '\(char)' should be (unbalanced or truncated)") }
        guard next == UInt8(ascii: char) else { throw error("'\(Character(Unicode.Scalar(next)))' where '\(char)' should be") }
        advance()
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func advance(skipping: Bool = true) {
        index += 1
        if skipping { skipBlanks() }
    }

    private mutating func skipBlanks() {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: "\r") { index += 1 }
    }

    private func error(_ reason: String) -> SyzParseError { SyzParseError(column: index + 1, reason: reason) }

    static func isIdentifierByte(_ char: UInt8) -> Bool {
        (char >= 0x61 && char <= 0x7a) || (char >= 0x41 && char <= 0x5a) || (char >= 0x30 && char <= 0x39) || char == 0x5f || char == 0x24
    }

    static func hexDigit(_ char: UInt8) -> UInt8? {
        switch char {
        case 0x30...0x39: char - 0x30
        case 0x61...0x66: char - 0x61 + 10
        case 0x41...0x46: char - 0x41 + 10
        default: nil
        }
    }

    /// N of `rN`, bounded so it is a small array index-free key.
    static func resourceNumber(_ name: String) -> Int? {
        guard name.hasPrefix("r"), name.count >= 2, name.count <= 8 else { return nil }
        let digits = name.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }
}
