import IOMMUCore

// The uAPI's value names, per argument (docs/scenario-language.md, "Value names at a glance").
let mapFlagNames: [String: UInt64] = ["fixed_iova": 1, "writeable": 2, "readable": 4]
let hwptFlagNames: [String: UInt64] = ["nest_parent": 1, "dirty_tracking": 2, "fault_id_valid": 4, "pasid": 8]
let mockDeviceFlagNames: [String: UInt64] = ["no_dirty": 1, "huge_iova": 2, "pasid": 4]

/// A uAPI enum's values by the names scenarios write (`UAPINamedValue`).
func valueNames<E: UAPINamedValue>(_: E.Type) -> [String: UInt64] {
    Dictionary(uniqueKeysWithValues: E.allCases.map { ($0.name, UInt64($0.rawValue)) })
}

/// A uAPI enum value by its script name, or in hex when the enum has no such case.
func typeName<E: UAPINamedValue>(_: E.Type, _ value: UInt32) -> String {
    E(rawValue: value)?.name ?? UInt64(value).hex
}

// MARK: Driver payloads written by field name

/// How a scenario writes a payload field: an array as words, a flags field by its bit names,
/// anything else as an integer of the field's width.
func argumentKind(of field: UAPIField) -> ArgumentKind {
    if field.count > 1 { return .words }
    if !field.flagNames.isEmpty { return .flags(field.flagNames, bits: field.size * 8) }
    return .integer(bits: field.size * 8)
}

/// The fields a user writes: not `__reserved`, not what the kernel writes back (`out_`).
func inputFields(of payload: any UAPIPayload.Type) -> [UAPIField] {
    payload.fields.filter { !$0.isReserved && !$0.name.hasPrefix("out_") }
}

/// The payloads one command takes, in `uapiPayloads` order.
func payloads(where matches: (UAPIDataType) -> Bool) -> [any UAPIPayload.Type] {
    uapiPayloads.filter { matches($0.dataType) }
}

/// Every input field of `payloads` once, as an argument kind; a name several structs share
/// (`flags`) takes the bit names of all of them, and each struct's own are checked later.
func fieldKinds(of payloads: [any UAPIPayload.Type]) -> [(name: String, kind: ArgumentKind)] {
    var result: [(name: String, field: UAPIField)] = []
    for field in payloads.flatMap({ inputFields(of: $0) }) {
        if let index = result.firstIndex(where: { $0.name == field.name }) {
            result[index].field.flagNames.merge(field.flagNames) { a, _ in a }
        } else {
            result.append((field.name, field))
        }
    }
    return result.map { ($0.name, argumentKind(of: $0.field)) }
}

/// The located error for a field that none of the structs `type` names has.
func missingField(_ name: String, line: Int, column: Int, type: String,
                  payloads: [any UAPIPayload.Type]) -> ScenarioError {
    guard !payloads.isEmpty else {
        return ScenarioError(line: line, column: column, "\(type) has no driver struct, so no field '\(name)'")
    }
    let structs = payloads.map { $0.cName }.joined(separator: " or ")
    let known = payloads.flatMap { inputFields(of: $0) }.map { $0.name }.joined(separator: ", ")
    return ScenarioError(line: line, column: column, "\(type) (\(structs)) has no field '\(name)' (its fields: \(known))")
}

/// Checks that a value written in a payload field uses only bit names that one of the
/// field's structs gives it (`leaf` is a VT-d invalidation flag, not a selftest one).
func checkFlagNames(_ value: CheckedValue, of fields: [UAPIField], line: Int, column: Int, type: String) throws(ScenarioError) {
    guard case .flags(_, let names, _) = value else { return }
    let allowed = fields.reduce(into: [String: UInt64]()) { $0.merge($1.flagNames) { a, _ in a } }
    for name in names where allowed[name] == nil {
        let known = allowed.keys.sorted().joined(separator: ", ")
        throw ScenarioError(line: line, column: column,
                            "'\(name)' is not a flag of \(fields.first?.name ?? "flags") for \(type) (known: \(known.isEmpty ? "none" : known))")
    }
}

/// The constant a `.choice` argument was written with, and how it was written (`data_type=vtd_s1`).
func writtenType(_ line: ScenarioLine, _ argument: String) -> (value: UInt32, text: String) {
    guard case .flags(let value, let names, _)? = line.checked[argument] else { return (0, "\(argument)=0") }
    return (UInt32(truncatingIfNeeded: value), "\(argument)=\(names.first ?? value.hex)")
}

/// Checks a command that takes one struct's fields as its own arguments (`hwpt_alloc iotlb=`,
/// `viommu_alloc in_data=`): each field argument given must be a field of `payload`, the
/// struct the line's type argument names.
func checkStructArguments(_ line: ScenarioLine, fieldNames: Set<String>, typeArgument: String,
                          payload: (any UAPIPayload.Type)?) throws(ScenarioError) {
    let type = writtenType(line, typeArgument).text
    for argument in line.arguments where fieldNames.contains(argument.key) {
        guard let field = payload?.field(named: argument.key), let value = line.checked[argument.key] else {
            throw missingField(argument.key, line: line.number, column: argument.keyColumn, type: type,
                               payloads: payload.map { [$0] } ?? [])
        }
        try checkFlagNames(value, of: [field], line: line.number, column: argument.valueColumn, type: type)
    }
}

/// Runs a core call: its errno becomes the line's status.
func outcome(_ body: () throws(Refusal) -> [(name: String, value: FieldValue)]) -> CommandResult {
    do {
        return CommandResult(fields: try body())
    } catch {
        return CommandResult(status: .refused(error))
    }
}

func id(_ value: ObjectID) -> FieldValue { .integer(UInt64(value.rawValue)) }


let allCommands: [CommandSpec] = platformCommands + deviceCommands + ioasCommands + hwptCommands + dirtyCommands + selftestCommands
    + queryCommands + eventCommands + accessCommands
