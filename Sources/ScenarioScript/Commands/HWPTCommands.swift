import IOMMUCore

// MARK: HWPT, vIOMMU, hw_info

let hwptCommands: [CommandSpec] = [
    CommandSpec(name: "hwpt_alloc", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(hwptFlagNames.merging(vtdS1FlagNames) { a, _ in a }, bits: 64)),
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_type", kind: .choice(hwptDataTypes, bits: 32)), ArgumentSpec(name: "data_len", kind: .integer(bits: 32)),
        ArgumentSpec(name: "fault_id", kind: .integer(bits: 32)),
        // Driver data, by the data struct's field names.
        ArgumentSpec(name: "iotlb", kind: .integer(bits: 32)), ArgumentSpec(name: "ste", kind: .words),
        ArgumentSpec(name: "pgtbl_addr", kind: .integer(bits: 64)), ArgumentSpec(name: "addr_width", kind: .integer(bits: 32)),
    ], outputs: ["out_hwpt_id"]) { session, args throws(ScenarioError) in
        let dataType = try args.u32("data_type")
        // iommu_hwpt_vtd_s1 has a flags field of its own: there, flags= carries both, split by name.
        let isVTdS1 = dataType == UInt32(hwptDataTypes["vtd_s1"]!)
        let hwptNamed = args.flags("flags", splitBy: hwptFlagNames), vtdNamed = args.flags("flags", splitBy: vtdS1FlagNames)
        let hwptFlags = hwptNamed.named | (isVTdS1 ? 0 : hwptNamed.rest)
        guard hwptFlags >> 32 == 0 else { throw args.invalid("flags", "hwpt_alloc flags do not fit in 32 bits") }
        var fields: [String: [UInt64]] = [:]
        let structSizes: [UInt64: UInt32] = [0xdead: 4, 2: 16, 1: 24]
        switch dataType {
        case 0xdead: fields["iotlb"] = [try args.integer("iotlb")]
        case 2:
            let ste = try args.words("ste") ?? [0, 0]
            guard ste.count <= 2 else { throw args.invalid("ste", "ste= holds the two STE words") }
            fields["ste"] = ste + Array(repeating: 0, count: 2 - ste.count)
        case 1:
            fields["flags"] = [vtdNamed.named | vtdNamed.rest]
            fields["pgtbl_addr"] = [try args.integer("pgtbl_addr")]
            fields["addr_width"] = [try args.integer("addr_width")]
        default: break
        }
        let length = args.has("data_len") ? try args.u32("data_len") : (structSizes[UInt64(dataType)] ?? (dataType == 0 ? 0 : 4))
        let device = try args.u32("dev_id"), pt = try args.u32("pt_id"), fault = try args.u32("fault_id")
        return outcome { () throws(Errno) in
            let hwpt = try session.iommufd.hwptAlloc(flags: UInt32(hwptFlags), deviceID: device, ptID: pt,
                                                     userData: UserData(type: dataType, length: length, fields: fields), faultID: fault)
            return [("out_hwpt_id", id(hwpt))]
        }
    },
    CommandSpec(name: "hwpt_invalidate", arguments: [
        ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_type", kind: .choice(invalidateDataTypes, bits: 32), required: true),
        ArgumentSpec(name: "entries", kind: .entries(invalidationEntryFields)),
        ArgumentSpec(name: "entry_len", kind: .integer(bits: 32)), ArgumentSpec(name: "entry_num", kind: .integer(bits: 32)),
    ], outputs: ["entry_num"]) { session, args throws(ScenarioError) in
        let target = try args.u32("hwpt_id"), dataType = try args.u32("data_type")
        let entries = try args.entries("entries")
        let count = args.has("entry_num") ? try args.u32("entry_num") : UInt32(entries?.count ?? 0)
        if let entries, count != entries.count {
            throw args.invalid("entry_num", "entry_num= must match the entries= list (give it without entries= for a NULL array)")
        }
        // The entry struct's size for this data type and target, unless entry_len= overrides it.
        let isVIOMMU = (try? session.iommufd.object(target)) is VIOMMU
        let defaultLength: UInt32 = switch UInt64(dataType) {
        case 0: 24
        case 1: 16
        case 0xdead_beef: isVIOMMU ? 12 : 8
        default: 8
        }
        let entryLength = args.has("entry_len") ? try args.u32("entry_len") : defaultLength
        let result = session.iommufd.hwptInvalidate(hwptID: target, dataType: dataType, entryLength: entryLength,
                                                    entryCount: count, entries: entries)
        return CommandResult(status: result.error.map { .errno($0) } ?? .ok, fields: [("entry_num", .integer(UInt64(result.handled)))])
    },
    CommandSpec(name: "get_hw_info", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(["input_type": 1], bits: 32)), ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_len", kind: .integer(bits: 32)), ArgumentSpec(name: "in_data_type", kind: .choice(hwInfoTypes, bits: 32)),
    ], outputs: ["out_data_type", "data_len", "out_capabilities", "out_max_pasid_log2", "flags", "test_reg",
                 "idr0", "idr1", "idr2", "idr3", "idr4", "idr5", "iidr", "aidr", "cap_reg", "ecap_reg"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), device = try args.u32("dev_id")
        let dataLength = args.has("data_len") ? try args.u32("data_len") : UInt32.max, inType = try args.u32("in_data_type")
        return outcome { () throws(Errno) in
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
        ArgumentSpec(name: "flags", kind: .integer(bits: 32)), ArgumentSpec(name: "type", kind: .choice(viommuTypes, bits: 32), required: true),
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "data_len", kind: .integer(bits: 32)), ArgumentSpec(name: "in_data", kind: .integer(bits: 32)),
    ], outputs: ["out_viommu_id", "out_data"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), type = try args.u32("type"), device = try args.u32("dev_id"), hwpt = try args.u32("hwpt_id")
        var userData: UserData?
        if args.has("in_data") || args.has("data_len") {
            // struct iommu_viommu_selftest { in_data; out_data; out_mmap_offset; out_mmap_length; }
            userData = UserData(type: type, length: args.has("data_len") ? try args.u32("data_len") : 24,
                                fields: ["in_data": [try args.integer("in_data")]])
        }
        return outcome { () throws(Errno) in
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
        return outcome { () throws(Errno) in
            [("out_vdevice_id", id(try session.iommufd.vdeviceAlloc(viommuID: viommu, deviceID: device, virtualID: virtualID)))]
        }
    },
]
