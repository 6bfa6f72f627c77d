import TOMLKit

/// An error in a configuration file (a theme, a key map), located: the file, the line of the
/// key, the bad value and what would be valid.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// 1-based; nil when the error is about the whole file (it is missing, it has no table).
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { file + (line.map { ":\($0)" } ?? "") + ": " + message }
}

/// A value of a configuration file, as TOML has it (dates are `other`: no file of ours takes one).
public indirect enum ConfigValue: Equatable, Sendable {
    case string(String)
    case bool(Bool)
    case integer(Int)
    case array([ConfigValue])
    case table([ConfigEntry])
    case other(String)

    /// The value as TOML spells it, for messages (`"purpel"`, `true`, `["q", "F10"]`).
    public var toml: String {
        switch self {
        case .string(let text): return ConfigValue.quoted(text)
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .array(let values): return "[" + values.map(\.toml).joined(separator: ", ") + "]"
        case .table(let entries): return "{ " + entries.map { "\(ConfigValue.escaped($0.key)) = \($0.value.toml)" }.joined(separator: ", ") + " }"
        case .other(let text): return text
        }
    }

    /// A TOML basic string: quotes, backslashes and control characters escaped.
    public static func quoted(_ text: String) -> String { "\"" + escaped(text) + "\"" }

    /// Text of a file for a message: quotes, backslashes and control characters escaped as
    /// TOML escapes them, so nothing of the file reaches the terminal as a control.
    public static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// One `key = value` of a file, with where it is.
public struct ConfigEntry: Equatable, Sendable {
    public var key: String
    public var value: ConfigValue
    /// The keys from the file's top to this one (`["styles", "border", "fg"]`).
    public var path: [String]
    /// The line that sets it (1-based), found by scanning the text: TOMLKit gives no positions.
    public var line: Int?
}

/// A TOML configuration file read whole: its entries in the order of their lines, each with
/// its line, so every error can name the file, the line, the bad value and the valid ones.
public struct ConfigFile: Sendable {
    /// The file as the user named it (or as it was found), for messages.
    public let path: String
    /// The top-level entries, in line order.
    public let entries: [ConfigEntry]

    public init(path: String, text: String) throws(ConfigError) {
        self.path = path
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: path, line: error.source.begin.line, message: "not TOML: \(ConfigValue.escaped(error.description))")
        } catch {
            throw ConfigError(file: path, message: "not TOML: \(ConfigValue.escaped("\(error)"))")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        entries = Self.entries(of: table, under: [], locator: Locator(lines: lines))
    }

    /// An error about `entry`: `file:line: 'key = value': problem`.
    public func error(_ entry: ConfigEntry, _ problem: String) -> ConfigError {
        ConfigError(file: path, line: entry.line, message: "'\(ConfigValue.escaped(entry.key)) = \(entry.value.toml)': \(problem)")
    }

    /// An error about the whole file.
    public func error(_ problem: String) -> ConfigError { ConfigError(file: path, message: problem) }

    private static func entries(of table: TOMLTable, under path: [String], locator: Locator) -> [ConfigEntry] {
        var entries: [ConfigEntry] = []
        for (key, value) in table {
            let keyPath = path + [key]
            entries.append(ConfigEntry(key: key, value: Self.value(value, at: keyPath, locator: locator), path: keyPath,
                                       line: locator.line(of: keyPath)))
        }
        return entries.sorted { ($0.line ?? Int.max, $0.key) < ($1.line ?? Int.max, $1.key) }
    }

    private static func value(_ value: any TOMLValueConvertible, at path: [String], locator: Locator) -> ConfigValue {
        if let table = value.table { return .table(entries(of: table, under: path, locator: locator)) }
        if let array = value.array { return .array(array.map { Self.value($0, at: path, locator: locator) }) }
        if let string = value.string { return .string(string) }
        if let bool = value.bool { return .bool(bool) }
        if let int = value.int { return .integer(int) }
        return .other(value.debugDescription)
    }

    /// Finds the line of a key by its path: a `[table]` header sets where the lines below
    /// are; a `key = ...` line (dotted keys too) names its path under it; an inline table or
    /// an array on a line holds every key below it.
    private struct Locator {
        var lines: [String]

        func line(of target: [String]) -> Int? {
            var table: [String] = []
            for (index, raw) in lines.enumerated() {
                let line = raw.drop { $0 == " " || $0 == "\t" }
                if line.hasPrefix("[") {
                    let inner = line.drop { $0 == "[" }.prefix { $0 != "]" }
                    table = Self.segments(inner)
                    if table == target { return index + 1 }
                    continue
                }
                guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
                let path = table + Self.segments(line[..<equals])
                if !path.isEmpty, target.starts(with: path) { return index + 1 }
            }
            return nil
        }

        /// `a.b."c d"` as its keys.
        static func segments(_ text: Substring) -> [String] {
            text.split(separator: ".").map { segment in
                String(segment.trimmingCharacters(in: " \t\"'"))
            }.filter { !$0.isEmpty }
        }
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}
