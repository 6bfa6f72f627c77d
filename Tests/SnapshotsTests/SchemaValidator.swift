import Foundation

/// A JSON document as the validator sees it (member order does not matter to a schema).
indirect enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    static func parse(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    subscript(_ key: String) -> JSONValue? { if case .object(let members) = self { members[key] } else { nil } }
}

/// A JSON Schema (draft 2020-12) validator for the keywords docs/snapshot.schema.json uses:
/// `type` (a name or a list), `properties`, `required`, `additionalProperties` (false or a
/// schema), `items`, `enum`, `const`, `pattern`, `minimum`, `anyOf`, and `$ref` to `#/$defs/…`.
/// Any other keyword, annotations aside, is an error, so the schema cannot rely on a check
/// this validator would skip.
struct SchemaValidator {
    let schema: JSONValue

    static let annotations: Set<String> = ["$schema", "$defs", "title", "description"]
    static let keywords: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "enum", "const",
                                        "pattern", "minimum", "anyOf", "$ref"]

    /// Every violation, as `path: what is wrong`; empty when `document` is valid.
    func errors(in document: JSONValue) -> [String] {
        var errors: [String] = []
        check(document, against: schema, at: "$", into: &errors)
        return errors
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/$defs/") else { return nil }
        return schema["$defs"]?[String(reference.dropFirst("#/$defs/".count))]
    }

    private static func typeName(_ value: JSONValue) -> [String] {
        switch value {
        case .null: ["null"]
        case .bool: ["boolean"]
        case .integer: ["integer", "number"]
        case .number: ["number"]
        case .string: ["string"]
        case .array: ["array"]
        case .object: ["object"]
        }
    }

    private func check(_ value: JSONValue, against schema: JSONValue, at path: String, into errors: inout [String]) {
        guard case .object(let keywords) = schema else {
            errors.append("\(path): the schema here is not an object")
            return
        }
        for name in keywords.keys where !Self.keywords.contains(name) && !Self.annotations.contains(name) {
            errors.append("\(path): the validator does not implement the keyword '\(name)'")
        }
        if case .string(let reference)? = keywords["$ref"] {
            guard let target = resolve(reference) else {
                errors.append("\(path): unresolvable $ref \(reference)")
                return
            }
            check(value, against: target, at: path, into: &errors)
        }
        if case .array(let options)? = keywords["anyOf"] {
            let matches = options.contains { option in
                var scratch: [String] = []
                check(value, against: option, at: path, into: &scratch)
                return scratch.isEmpty
            }
            if !matches { errors.append("\(path): matches none of anyOf") }
        }
        if let type = keywords["type"] {
            let allowed: [String] = switch type {
            case .string(let name): [name]
            case .array(let names): names.compactMap { if case .string(let name) = $0 { name } else { nil } }
            default: []
            }
            if Set(allowed).isDisjoint(with: Self.typeName(value)) {
                errors.append("\(path): \(Self.typeName(value)[0]) where the schema wants \(allowed.joined(separator: " or "))")
                return
            }
        }
        if let constant = keywords["const"], constant != value { errors.append("\(path): not the constant the schema fixes") }
        if case .array(let options)? = keywords["enum"], !options.contains(value) { errors.append("\(path): not one of the enum's values") }
        if case .string(let pattern)? = keywords["pattern"], case .string(let text) = value,
           text.range(of: pattern, options: .regularExpression) == nil {
            errors.append("\(path): '\(text)' does not match \(pattern)")
        }
        if let minimum = keywords["minimum"] {
            let bound: Double? = switch minimum {
            case .integer(let integer): Double(integer)
            case .number(let number): number
            default: nil
            }
            let actual: Double? = switch value {
            case .integer(let integer): Double(integer)
            case .number(let number): number
            default: nil
            }
            if let bound, let actual, actual < bound { errors.append("\(path): \(actual) is below the minimum \(bound)") }
        }
        if case .array(let elements) = value, let items = keywords["items"] {
            for (index, element) in elements.enumerated() { check(element, against: items, at: "\(path)[\(index)]", into: &errors) }
        }
        guard case .object(let members) = value else { return }
        if case .array(let required)? = keywords["required"] {
            for case .string(let name) in required where members[name] == nil { errors.append("\(path): '\(name)' is missing") }
        }
        let properties: [String: JSONValue] = if case .object(let properties)? = keywords["properties"] { properties } else { [:] }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            if let property = properties[name] {
                check(member, against: property, at: "\(path).\(name)", into: &errors)
            } else {
                switch keywords["additionalProperties"] {
                case .bool(false)?: errors.append("\(path): '\(name)' is not a member the schema allows")
                case let additional? where additional != .bool(true): check(member, against: additional, at: "\(path).\(name)", into: &errors)
                default: break
                }
            }
        }
    }
}
