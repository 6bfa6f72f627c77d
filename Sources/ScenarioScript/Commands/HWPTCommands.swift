import IOMMUCore

// MARK: HWPT, vIOMMU, hw_info

/// `IOMMU_HWPT_ALLOC`'s driver structs; their fields are arguments of `hwpt_alloc` itself.
let hwptPayloads = payloads { if case .hwpt = $0 { true } else { false } }
/// The struct fields `hwpt_alloc` takes, except `flags`, which shares the command's `flags=`.
let hwptFieldKinds = fieldKinds(of: hwptPayloads).filter { $0.name != "flags" }
/// `IOMMU_HWPT_INVALIDATE`'s entry structs, for nested HWPTs and vIOMMUs.
let invalidationPayloads = payloads {
    switch $0 {
    case .hwptInvalidate, .viommuInvalidate: true
    case .hwpt, .viommu: false
    }
}
/// `IOMMU_VIOMMU_ALLOC`'s driver structs.
let viommuPayloads = payloads { if case .viommu = $0 { true } else { false } }

/// The struct `hwpt_alloc`'s `data_type` names.
func hwptPayload(_ type: UInt32) -> (any UAPIPayload.Type)? {
    HWPTDataType(rawValue: type).flatMap { uapiPayload(for: .hwpt($0)) }
}

/// The entry structs a `data_type` may name before the target is known (both selftest structs).
func invalidationPayloads(_ type: UInt32) -> [any UAPIPayload.Type] {
    guard let type = InvalidateDataType(rawValue: type) else { return [] }
    return invalidationPayloads.filter { $0.dataType == .hwptInvalidate(type) || $0.dataType == .viommuInvalidate(type) }
}

/// Where an invalidation goes: the nested HWPT's driver or the vIOMMU's.
enum InvalidationTarget: String {
    case nestedHWPT = "a nested HWPT", viommu = "a vIOMMU"
}

/// The entry struct for a target: the one the data type names there. Where it names none
/// (another type, or an object the core refuses before a driver reads an entry) the entries are
/// written in the layout of the first struct that has every field they give.
func invalidationLayout(_ type: UInt32, target: InvalidationTarget?, fields: Set<String>) -> (any UAPIPayload.Type)? {
    if let type = InvalidateDataType(rawValue: type), let target,
       let payload = uapiPayload(for: target == .viommu ? .viommuInvalidate(type) : .hwptInvalidate(type)) {
        return payload
    }
    return invalidationPayloads.first { payload in fields.allSatisfy { payload.field(named: $0) != nil } }
}

/// A command's own arguments that are the fields of a struct, as entries to encode.
func structArguments(_ args: Arguments, _ fields: [UAPIField]) -> [EntryField] {
    fields.compactMap { field in
        args.line.checked[field.name].map { EntryField(key: field.name, column: args.argumentColumn(field.name), value: $0) }
    }
}

let hwptCommands: [CommandSpec] = [
    CommandSpec(name: "hwpt_alloc", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(hwptPayloads.compactMap { $0.field(named: "flags")?.flagNames }
                                                    .reduce(hwptFlagNames) { $0.merging($1) { a, _ in a } }, bits: 64)),
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_type", kind: .choice(valueNames(HWPTDataType.self), bits: 32)), ArgumentSpec(name: "data_len", kind: .integer(bits: 32)),
        ArgumentSpec(name: "fault_id", kind: .integer(bits: 32)),
    ] + hwptFieldKinds.map { ArgumentSpec(name: $0.name, kind: $0.kind) },
    outputs: ["out_hwpt_id"], validate: { line throws(ScenarioError) in
        let payload = hwptPayload(writtenType(line, "data_type").value)
        try checkStructArguments(line, fieldNames: Set(hwptFieldKinds.map(\.name)), typeArgument: "data_type", payload: payload)
        // flags= names either HWPT_ALLOC flags or the bits of the struct's own flags field.
        if let flags = line.checked["flags"], let argument = line.arguments.first(where: { $0.key == "flags" }) {
            let own = payload?.field(named: "flags").map { [$0] } ?? []
            try checkFlagNames(flags, of: [UAPIField("flags", offset: 0, size: 4, flagNames: hwptFlagNames)] + own,
                               line: line.number, column: argument.valueColumn, type: writtenType(line, "data_type").text)
        }
    }) { session, args throws(ScenarioError) in
        let dataType = try args.u32("data_type")
        let payload = hwptPayload(dataType)
        // A struct with a flags field of its own (iommu_hwpt_vtd_s1) shares flags=: its bit names
        // and plain numbers go to the struct, the HWPT_ALLOC names to the ioctl.
        let structFlags = payload?.field(named: "flags")
        let hwptNamed = args.flags("flags", splitBy: hwptFlagNames)
        let hwptFlags = hwptNamed.named | (structFlags == nil ? hwptNamed.rest : 0)
        guard hwptFlags >> 32 == 0 else { throw args.invalid("flags", "hwpt_alloc flags do not fit in 32 bits") }
        var bytes: [UInt8] = []
        if let payload {
            let type = "data_type=\(typeName(HWPTDataType.self, dataType))"
            var values = structArguments(args, inputFields(of: payload).filter { $0.name != "flags" })
            if let structFlags, args.has("flags") {
                let named = args.flags("flags", splitBy: structFlags.flagNames)
                values.append(EntryField(key: "flags", column: args.argumentColumn("flags"),
                                         value: .flags(named.named | named.rest, names: [], literal: named.rest)))
            }
            bytes = try args.encode(values, as: payload, type: type)
        }
        // data_len defaults to sizeof the struct; an unknown type gets 4 bytes, so the driver refuses the type.
        let length = args.has("data_len") ? try args.u32("data_len") : UInt32(payload?.size ?? (dataType == 0 ? 0 : 4))
        let device = try args.u32("dev_id"), pt = try args.u32("pt_id"), fault = try args.u32("fault_id")
        let userData = UserData(type: dataType, buffer: UserBuffer(length: length, bytes: bytes))
        return outcome { () throws(Refusal) in
            let hwpt = try session.iommufd.hwptAlloc(flags: UInt32(hwptFlags), deviceID: device, ptID: pt,
                                                     userData: userData, faultID: fault)
            return [("out_hwpt_id", id(hwpt))]
        }
    },
    CommandSpec(name: "hwpt_invalidate", arguments: [
        ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_type", kind: .choice(valueNames(InvalidateDataType.self), bits: 32), required: true),
        ArgumentSpec(name: "entries", kind: .entries(Dictionary(uniqueKeysWithValues: fieldKinds(of: invalidationPayloads).map { ($0.name, $0.kind) }))),
        ArgumentSpec(name: "entry_len", kind: .integer(bits: 32)), ArgumentSpec(name: "entry_num", kind: .integer(bits: 32)),
    ], outputs: ["entry_num"], validate: { line throws(ScenarioError) in
        guard case .entries(let entries)? = line.checked["entries"] else { return }
        let (value, type) = writtenType(line, "data_type")
        let candidates = invalidationPayloads(value)
        // A type without a struct is refused before any entry is read: any struct's fields do.
        guard !candidates.isEmpty else { return }
        for field in entries.joined() {
            let owners = candidates.compactMap { $0.field(named: field.key) }
            guard !owners.isEmpty else {
                throw missingField(field.key, line: line.number, column: field.column, type: type, payloads: candidates)
            }
            try checkFlagNames(field.value, of: owners, line: line.number, column: field.column, type: type)
        }
    }) { session, args throws(ScenarioError) in
        let target = try args.u32("hwpt_id"), dataType = try args.u32("data_type")
        let written = args.entries("entries")
        let count = args.has("entry_num") ? try args.u32("entry_num") : UInt32(written?.count ?? 0)
        if let written, count != written.count {
            throw args.invalid("entry_num", "entry_num= must match the entries= list (give it without entries= for a NULL array)")
        }
        // The entry struct for this data type and target, whose size entry_len defaults to.
        let kind: InvalidationTarget? = switch try? session.iommufd.object(target) {
        case is VIOMMU: .viommu
        case is HWPTNested: .nestedHWPT
        default: nil
        }
        let layout = invalidationLayout(dataType, target: kind, fields: Set((written ?? []).joined().map(\.key)))
        let entryLength = args.has("entry_len") ? try args.u32("entry_len") : UInt32(layout?.size ?? 8)
        var entries: [InvalidationEntry]?
        if let written {
            let type = "data_type=\(typeName(InvalidateDataType.self, dataType))" + (kind.map { " on \($0.rawValue)" } ?? "")
            var encoded: [InvalidationEntry] = []
            for entry in written {
                var bytes: [UInt8] = []
                if let layout { bytes = try args.encode(entry, as: layout, type: type) }
                else if let field = entry.first {
                    throw missingField(field.key, line: args.line.number, column: field.column, type: type, payloads: [])
                }
                encoded.append(UserBuffer(length: entryLength, bytes: bytes))
            }
            entries = encoded
        }
        let result = session.iommufd.hwptInvalidate(hwptID: target, dataType: dataType, entryLength: entryLength,
                                                    entryCount: count, entries: entries)
        return CommandResult(status: result.error.map { .refused($0) } ?? .ok, fields: [("entry_num", .integer(UInt64(result.handled)))])
    },
    CommandSpec(name: "get_hw_info", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(["input_type": 1], bits: 32)), ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_len", kind: .integer(bits: 32)), ArgumentSpec(name: "in_data_type", kind: .choice(valueNames(HWInfoType.self), bits: 32)),
    ], outputs: ["out_data_type", "data_len", "out_capabilities", "out_max_pasid_log2", "flags", "test_reg",
                 "idr0", "idr1", "idr2", "idr3", "idr4", "idr5", "iidr", "aidr", "cap_reg", "ecap_reg"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), device = try args.u32("dev_id")
        let dataLength = args.has("data_len") ? try args.u32("data_len") : UInt32.max, inType = try args.u32("in_data_type")
        return outcome { () throws(Refusal) in
            let result = try session.iommufd.getHWInfo(flags: flags, deviceID: device, dataLength: dataLength, inDataType: inType)
            var fields: [(name: String, value: FieldValue)] = [
                ("out_data_type", .integer(UInt64(result.info.type.rawValue))), ("data_len", .integer(UInt64(result.info.length))),
                ("out_capabilities", .address(result.capabilities.rawValue)), ("out_max_pasid_log2", .integer(UInt64(result.maxPASIDLog2))),
            ]
            // The struct's fields, as far as the user's buffer reached (the rest stays zero).
            var offset: UInt32 = 0
            for field in result.info.fields {
                defer { offset += field.size }
                guard !field.name.hasPrefix("__"), offset < result.copiedLength else { continue }
                let copied = min(field.size, result.copiedLength - offset)
                let mask: UInt64 = copied >= 8 ? .max : (1 << UInt64(copied * 8)) - 1
                fields.append((field.name, .address(field.value & mask)))
            }
            return fields
        }
    },
    CommandSpec(name: "viommu_alloc", arguments: [
        ArgumentSpec(name: "flags", kind: .integer(bits: 32)),
        ArgumentSpec(name: "type", kind: .choice(valueNames(VIOMMUType.self), bits: 32), required: true),
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_len", kind: .integer(bits: 32)),
    ] + fieldKinds(of: viommuPayloads).map { ArgumentSpec(name: $0.name, kind: $0.kind) },
    outputs: ["out_viommu_id", "out_data"], validate: { line throws(ScenarioError) in
        let payload = VIOMMUType(rawValue: writtenType(line, "type").value).flatMap { uapiPayload(for: .viommu($0)) }
        try checkStructArguments(line, fieldNames: Set(fieldKinds(of: viommuPayloads).map(\.name)), typeArgument: "type", payload: payload)
    }) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), type = try args.u32("type"), device = try args.u32("dev_id"), hwpt = try args.u32("hwpt_id")
        let payload = VIOMMUType(rawValue: type).flatMap { uapiPayload(for: .viommu($0)) }
        let values = payload.map { structArguments(args, inputFields(of: $0)) } ?? []
        var userData: UserData?
        if !values.isEmpty || args.has("data_len") {
            var bytes: [UInt8] = []
            if let payload { bytes = try args.encode(values, as: payload, type: "type=\(typeName(VIOMMUType.self, type))") }
            let length = args.has("data_len") ? try args.u32("data_len") : UInt32(payload?.size ?? 0)
            userData = UserData(type: type, buffer: UserBuffer(length: length, bytes: bytes))
        }
        return outcome { () throws(Refusal) in
            let viommu = try session.iommufd.viommuAlloc(flags: flags, type: type, deviceID: device, hwptID: hwpt, userData: userData)
            var fields: [(name: String, value: FieldValue)] = [("out_viommu_id", id(viommu.id))]
            if userData != nil { fields.append(("out_data", .address(UInt64(viommu.outData)))) }
            return fields
        }
    },
    CommandSpec(name: "vdevice_alloc", arguments: [
        ArgumentSpec(name: "viommu_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "virt_id", kind: .integer(bits: 64), required: true),
    ], outputs: ["out_vdevice_id"]) { session, args throws(ScenarioError) in
        let viommu = try args.u32("viommu_id"), device = try args.u32("dev_id"), virtualID = try args.integer("virt_id")
        return outcome { () throws(Refusal) in
            [("out_vdevice_id", id(try session.iommufd.vdeviceAlloc(viommuID: viommu, deviceID: device, virtualID: virtualID)))]
        }
    },
]
