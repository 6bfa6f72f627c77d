import IOMMUCore
import Presentation

/// A JSON value written in a fixed member order, as every snapshot field is (the schema in
/// docs/snapshot.schema.json lists them in this order). Objects and arrays whose members are
/// all scalars print on one line, so a mapping or a cache entry is one line of the file.
public indirect enum JSON: Equatable, Sendable {
    case object([Member])
    case array([JSON])
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null

    public struct Member: Equatable, Sendable {
        public var name: String
        public var value: JSON
        public init(_ name: String, _ value: JSON) {
            self.name = name
            self.value = value
        }
    }

    /// An address or a register value as the project's JSON prints it: `"0x1000"`.
    public static func hex(_ value: UInt64) -> JSON { .string(value.hex) }

    public static func int<T: BinaryInteger>(_ value: T) -> JSON { .integer(Int64(truncatingIfNeeded: value)) }

    /// `null` for nil.
    public static func optional<T>(_ value: T?, _ json: (T) -> JSON) -> JSON { value.map(json) ?? .null }

    private var isScalar: Bool {
        switch self {
        case .object(let members): members.isEmpty
        case .array(let elements): elements.isEmpty
        default: true
        }
    }

    /// A scalar, or an array of scalars (a structure's words): what a one-line object may hold.
    private var isInline: Bool {
        if case .array(let elements) = self { return elements.allSatisfy(\.isScalar) }
        return isScalar
    }

    private var isFlat: Bool {
        switch self {
        case .object(let members): members.allSatisfy(\.value.isInline)
        case .array(let elements): elements.allSatisfy(\.isScalar)
        default: true
        }
    }

    /// The value as text: indented two spaces a level, flat containers on one line.
    public var text: String {
        var out = ""
        write(into: &out, indent: "")
        return out
    }

    private func write(into out: inout String, indent: String) {
        switch self {
        case .string(let text): out += JSONText.string(text)
        case .integer(let value): out += String(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .object(let members) where isFlat:
            out += JSONText.object(members.map { member in
                var value = ""
                member.value.write(into: &value, indent: indent)
                return (member.name, value)
            })
        case .array(let elements) where isFlat:
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(into: &out, indent: indent)
            }
            out += "]"
        case .object(let members):
            let inner = indent + "  "
            out += "{\n"
            for (index, member) in members.enumerated() {
                out += inner + JSONText.string(member.name) + ": "
                member.value.write(into: &out, indent: inner)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        case .array(let elements):
            let inner = indent + "  "
            out += "[\n"
            for (index, element) in elements.enumerated() {
                out += inner
                element.write(into: &out, indent: inner)
                out += index == elements.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        }
    }
}

/// A value of a snapshot or a diff that writes itself as JSON in the schema's member order.
public protocol JSONWritable {
    var json: JSON { get }
}

extension Array where Element: JSONWritable {
    var json: JSON { .array(map(\.json)) }
}

/// An address, a tag or a register word, read back from its `"0x…"` text.
public struct Hex: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a 0x-prefixed hex number")
        }
        self.value = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value.hex)
    }

    public var description: String { value.hex }
    public var json: JSON { .hex(value) }
    public static func < (a: Hex, b: Hex) -> Bool { a.value < b.value }
}
