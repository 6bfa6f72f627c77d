import IOMMUCore

// The uAPI's value names, per argument (SCRIPT.md "Value names").
let mapFlagNames: [String: UInt64] = ["fixed_iova": 1, "writeable": 2, "readable": 4]
let hwptFlagNames: [String: UInt64] = ["nest_parent": 1, "dirty_tracking": 2, "fault_id_valid": 4, "pasid": 8]
/// `IOMMU_VTD_S1_SRE/EAFE/WPE`: the flags of `struct iommu_hwpt_vtd_s1`.
let vtdS1FlagNames: [String: UInt64] = ["sre": 1, "eafe": 2, "wpe": 4]
let hwptDataTypes: [String: UInt64] = ["none": 0, "vtd_s1": 1, "arm_smmuv3": 2, "selftest": 0xdead]
let invalidateDataTypes: [String: UInt64] = ["vtd_s1": 0, "arm_smmuv3": 1, "selftest": 0xdead_beef, "selftest_invalid": 0xdad_beef]
let viommuTypes: [String: UInt64] = ["default": 0, "arm_smmuv3": 1, "tegra241_cmdqv": 2, "selftest": 0xdead_beef]
let hwInfoTypes: [String: UInt64] = ["default": 0, "intel_vtd": 1, "arm_smmuv3": 2, "tegra241_cmdqv": 3, "selftest": 0xfeed_beef]
let mockDeviceFlagNames: [String: UInt64] = ["no_dirty": 1, "huge_iova": 2, "pasid": 4]
/// Entry struct fields of every invalidation data type.
let invalidationEntryFields: [String: ArgumentKind] = [
    "flags": .flags(["all": 1, "leaf": 1], bits: 32), "iotlb_id": .integer(bits: 32),
    "vdev_id": .integer(bits: 32), "cache_id": .integer(bits: 32),
    "cmd": .words, "addr": .integer(bits: 64), "npages": .integer(bits: 64),
]

/// Runs a core call: its errno becomes the line's status.
private func outcome(_ body: () throws(Errno) -> [(name: String, value: FieldValue)]) -> CommandResult {
    do {
        return CommandResult(fields: try body())
    } catch {
        return CommandResult(status: .errno(error))
    }
}

private func id(_ value: ObjectID) -> FieldValue { .integer(UInt64(value.rawValue)) }


let allCommands: [CommandSpec] = platformCommands + deviceCommands + ioasCommands + hwptCommands + selftestCommands + queryCommands

// MARK: Platform

private let platformCommands: [CommandSpec] = [
    CommandSpec(name: "iommu", arguments: [
        ArgumentSpec(name: "type", kind: .word(IOMMUArchitecture.allCases.map(\.rawValue)), required: true),
        ArgumentSpec(name: "ias", kind: .integer(bits: 8)), ArgumentSpec(name: "oas", kind: .integer(bits: 8)),
        ArgumentSpec(name: "granules", kind: .words), ArgumentSpec(name: "stages", kind: .words),
        ArgumentSpec(name: "s2fwb", kind: yesNo), ArgumentSpec(name: "its", kind: .integer(bits: 64)),
        ArgumentSpec(name: "dirty", kind: yesNo),
        ArgumentSpec(name: "aw", kind: .integer(bits: 8)), ArgumentSpec(name: "fs", kind: yesNo), ArgumentSpec(name: "ss", kind: yesNo),
        ArgumentSpec(name: "levels", kind: .integer(bits: 8)), ArgumentSpec(name: "mode", kind: .word(["v1", "v2"])),
        ArgumentSpec(name: "ht_range_ignore", kind: yesNo),
    ], outputs: [], declaresName: true) { session, args throws(ScenarioError) in
        let name = args.line.declaredName!
        let type = IOMMUArchitecture(rawValue: args.word("type")!)!
        let options: [IOMMUArchitecture: Set<String>] = [
            .armSMMUv3: ["ias", "oas", "granules", "stages", "s2fwb", "its", "dirty"],
            .intelVTd: ["aw", "fs", "ss", "dirty"], .amdVi: ["levels", "mode", "dirty", "ht_range_ignore"], .mock: [],
        ]
        for argument in args.line.arguments where argument.key != "type" && !options[type]!.contains(argument.key) {
            throw args.invalid(argument.key, "\(argument.key)= is not an option of type=\(type.rawValue)")
        }
        let iommu: any IOMMUDriver
        switch type {
        case .armSMMUv3:
            var c = ArmSMMUv3.Configuration()
            c.oas = Int(try args.integer("oas", UInt64(c.oas)))
            c.ias = Int(try args.integer("ias", UInt64(max(c.oas, 40))))
            guard ArmSMMUv3.Configuration.outputSizes.contains(c.oas) else {
                throw args.invalid("oas", "oas= is one of \(ArmSMMUv3.Configuration.outputSizes.map(String.init).joined(separator: ", "))")
            }
            guard (32...52).contains(c.ias) else { throw args.invalid("ias", "ias= is from 32 to 52 bits") }
            if let granules = try args.words("granules") {
                guard !granules.isEmpty, granules.allSatisfy({ [4096, 16384, 65536].contains($0) }) else {
                    throw args.invalid("granules", "granules= lists 4K, 16K and 64K")
                }
                c.granules = granules
            }
            if let stages = try args.words("stages") {
                guard !stages.isEmpty, stages.allSatisfy({ [1, 2].contains($0) }) else { throw args.invalid("stages", "stages= lists 1 and 2") }
                c.stage1 = stages.contains(1)
                c.stage2 = stages.contains(2)
            }
            c.s2fwb = args.yes("s2fwb", c.s2fwb)
            c.dirtyTracking = args.yes("dirty", c.dirtyTracking)
            c.its = try args.integer("its", c.its)
            iommu = ArmSMMUv3(name: name, configuration: c)
        case .intelVTd:
            var c = IntelVTd.Configuration()
            c.addressWidth = Int(try args.integer("aw", 48))
            guard c.addressWidth == 48 || c.addressWidth == 57 else { throw args.invalid("aw", "aw= is 48 or 57") }
            c.firstStage = args.yes("fs", c.firstStage)
            c.secondStage = args.yes("ss", c.secondStage)
            c.dirtyTracking = args.yes("dirty", c.dirtyTracking)
            iommu = IntelVTd(name: name, configuration: c)
        case .amdVi:
            var c = AMDVi.Configuration()
            c.levels = Int(try args.integer("levels", UInt64(c.levels)))
            guard (4...6).contains(c.levels) else { throw args.invalid("levels", "levels= is 4, 5 or 6") }
            c.dirtyTracking = args.yes("dirty", c.dirtyTracking)
            c.hyperTransportRangeIgnored = args.yes("ht_range_ignore", false)
            c.defaultsToV2 = args.word("mode") == "v2"
            iommu = AMDVi(name: name, configuration: c)
        case .mock:
            iommu = MockIOMMU(name: name)
        }
        session.machine.add(iommu)
        return CommandResult()
    },
    CommandSpec(name: "device", arguments: [
        ArgumentSpec(name: "iommu", kind: .iommu, required: true),
        ArgumentSpec(name: "sid", kind: .integer(bits: 32)), ArgumentSpec(name: "rid", kind: .integer(bits: 16)),
        ArgumentSpec(name: "resv", kind: .regions), ArgumentSpec(name: "dev_flags", kind: .flags(mockDeviceFlagNames, bits: 32)),
        ArgumentSpec(name: "max_pasid_log2", kind: .integer(bits: 5)), ArgumentSpec(name: "canwbs", kind: yesNo),
    ], outputs: [], declaresName: true) { session, args throws(ScenarioError) in
        let iommu = try args.iommu("iommu")
        if args.has("sid") && args.has("rid") { throw args.invalid("rid", "give sid= or rid=, not both") }
        let streamID = UInt32(try args.integer("sid", try args.integer("rid", UInt64(session.machine.devices.count))))
        let flags = try args.integer("dev_flags")
        if flags != 0 && iommu.architecture != .mock { throw args.invalid("dev_flags", "dev_flags= applies to type=mock IOMMUs") }
        let device = PlatformDevice(name: args.line.declaredName!, iommu: iommu, streamID: streamID,
                                    firmwareRegions: args.regions("resv"), mockFlags: MockDeviceFlags(rawValue: UInt32(flags)),
                                    maxPASIDLog2: UInt8(try args.integer("max_pasid_log2")), canWBS: args.yes("canwbs", true))
        session.machine.add(device)
        return CommandResult()
    },
    CommandSpec(name: "mmap", arguments: [
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "align", kind: .integer(bits: 64)),
    ], outputs: ["out_user_va"]) { session, args throws(ScenarioError) in
        let length = try args.integer("length"), alignment = try args.integer("align", pageSize)
        guard alignment.nonzeroBitCount == 1 else { throw args.invalid("align", "align= must be a power of two") }
        return outcome { () throws(Errno) in [("out_user_va", .address(try session.machine.mmap(length: length, alignment: alignment)))] }
    },
    CommandSpec(name: "munmap", arguments: [
        ArgumentSpec(name: "user_va", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let start = try args.integer("user_va"), length = try args.integer("length")
        return outcome { () throws(Errno) in try session.machine.memory.munmap(start: start, length: length); return [] }
    },
]

// MARK: VFIO device side

private let deviceCommands: [CommandSpec] = [
    CommandSpec(name: "device_bind", arguments: [ArgumentSpec(name: "dev", kind: .device, required: true)],
                outputs: ["out_devid"]) { session, args throws(ScenarioError) in
        let device = try args.platformDevice("dev")
        return outcome { () throws(Errno) in [("out_devid", id(try session.iommufd.bind(device)))] }
    },
    CommandSpec(name: "device_attach", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "pasid", kind: .integer(bits: 32)),
    ], outputs: ["pt_id"]) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), pt = try args.u32("pt_id"), pasid = try args.u32("pasid", noPASID)
        return outcome { () throws(Errno) in [("pt_id", id(try session.iommufd.attach(deviceID: device, ptID: pt, pasid: pasid)))] }
    },
    CommandSpec(name: "device_detach", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pasid", kind: .integer(bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), pasid = try args.u32("pasid", noPASID)
        return outcome { () throws(Errno) in try session.iommufd.detach(deviceID: device, pasid: pasid); return [] }
    },
    CommandSpec(name: "device_unbind", arguments: [ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true)],
                outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id")
        return outcome { () throws(Errno) in try session.iommufd.unbind(deviceID: device); return [] }
    },
    CommandSpec(name: "device_set_irqs", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), count = try args.u32("count", 1)
        return outcome { () throws(Errno) in try session.iommufd.setIRQs(deviceID: device, count: count); return [] }
    },
]

// MARK: IOAS

private let ioasCommands: [CommandSpec] = [
    CommandSpec(name: "destroy", arguments: [ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true)],
                outputs: []) { session, args throws(ScenarioError) in
        let object = try args.u32("id")
        return outcome { () throws(Errno) in try session.iommufd.destroy(id: object); return [] }
    },
    CommandSpec(name: "ioas_alloc", arguments: [ArgumentSpec(name: "flags", kind: .integer(bits: 32))],
                outputs: ["out_ioas_id"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags")
        return outcome { () throws(Errno) in [("out_ioas_id", id(try session.iommufd.ioasAlloc(flags: flags)))] }
    },
    CommandSpec(name: "ioas_map", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(mapFlagNames, bits: 32)), ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "user_va", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "iova", kind: .integer(bits: 64)),
    ], outputs: ["iova"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), ioas = try args.u32("ioas_id")
        let userVA = try args.integer("user_va"), length = try args.integer("length"), iova = try args.integer("iova")
        return outcome { () throws(Errno) in
            [("iova", .address(try session.iommufd.ioasMap(flags: flags, ioasID: ioas, userVA: userVA, length: length, iova: iova)))]
        }
    },
    CommandSpec(name: "ioas_unmap", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: ["length"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), iova = try args.integer("iova"), length = try args.integer("length")
        return outcome { () throws(Errno) in
            [("length", .address(try session.iommufd.ioasUnmap(ioasID: ioas, iova: iova, length: length)))]
        }
    },
    CommandSpec(name: "ioas_copy", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(mapFlagNames, bits: 32)),
        ArgumentSpec(name: "dst_ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "src_ioas_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "dst_iova", kind: .integer(bits: 64)),
        ArgumentSpec(name: "src_iova", kind: .integer(bits: 64), required: true),
    ], outputs: ["dst_iova"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), dst = try args.u32("dst_ioas_id"), src = try args.u32("src_ioas_id")
        let length = try args.integer("length"), dstIOVA = try args.integer("dst_iova"), srcIOVA = try args.integer("src_iova")
        return outcome { () throws(Errno) in
            [("dst_iova", .address(try session.iommufd.ioasCopy(flags: flags, dstIOASID: dst, srcIOASID: src, length: length,
                                                                dstIOVA: dstIOVA, srcIOVA: srcIOVA)))]
        }
    },
    CommandSpec(name: "ioas_iova_ranges", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "num_iovas", kind: .integer(bits: 32)),
    ], outputs: ["num_iovas", "allowed_iovas", "out_iova_alignment"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id")
        // Without num_iovas the buffer is as large as needed.
        let capacity = args.has("num_iovas") ? Int(try args.u32("num_iovas")) : Int.max
        do throws(Errno) {
            let ranges = try session.iommufd.ioasIOVARanges(ioasID: ioas)
            let fields: [(name: String, value: FieldValue)] = [
                ("num_iovas", .integer(UInt64(ranges.ranges.count))),
                ("allowed_iovas", .ranges(Array(ranges.ranges.prefix(capacity)))),
                ("out_iova_alignment", .address(ranges.iovaAlignment)),
            ]
            return CommandResult(status: ranges.ranges.count > capacity ? .errno(.EMSGSIZE) : .ok, fields: fields)
        } catch {
            return CommandResult(status: .errno(error))
        }
    },
    CommandSpec(name: "ioas_allow_iovas", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "allowed_iovas", kind: .ranges),
        ArgumentSpec(name: "num_iovas", kind: .integer(bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id")
        let ranges = try args.ranges("allowed_iovas") ?? []
        if args.has("num_iovas"), try args.u32("num_iovas") != ranges.count {
            throw args.invalid("num_iovas", "num_iovas= must match the allowed_iovas= list (or be 0 without one)")
        }
        return outcome { () throws(Errno) in try session.iommufd.ioasAllowIOVAs(ioasID: ioas, ranges: ranges); return [] }
    },
    CommandSpec(name: "option", arguments: [
        ArgumentSpec(name: "option_id", kind: .choice(["rlimit_mode": 0, "huge_pages": 1], bits: 32), required: true),
        ArgumentSpec(name: "op", kind: .choice(["set": 0, "get": 1], bits: 16), required: true),
        ArgumentSpec(name: "object_id", kind: .integer(bits: 32)), ArgumentSpec(name: "val64", kind: .integer(bits: 64)),
    ], outputs: ["val64"]) { session, args throws(ScenarioError) in
        let option = try args.u32("option_id"), op = UInt16(try args.integer("op"))
        let object = try args.u32("object_id"), value = try args.integer("val64")
        return outcome { () throws(Errno) in
            [("val64", .address(try session.iommufd.option(optionID: option, op: op, objectID: object, val64: value)))]
        }
    },
]

// MARK: HWPT, vIOMMU, hw_info

private let hwptCommands: [CommandSpec] = [
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

// MARK: Selftest ops (IOMMU_TEST_OP_*)

private let selftestCommands: [CommandSpec] = [
    CommandSpec(name: "test_add_reserved", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "start", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), start = try args.integer("start"), length = try args.integer("length")
        return outcome { () throws(Errno) in try session.iommufd.testAddReserved(ioasID: ioas, start: start, length: length); return [] }
    },
    CommandSpec(name: "test_mock_domain", arguments: [
        ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "dev_flags", kind: .flags(mockDeviceFlagNames, bits: 32)),
    ], outputs: ["out_stdev_id", "out_hwpt_id", "out_idev_id"]) { session, args throws(ScenarioError) in
        let pt = try args.u32("pt_id"), flags = try args.u32("dev_flags")
        return outcome { () throws(Errno) in
            let mock = try session.iommufd.testMockDomain(ptID: pt, deviceFlags: flags, iommu: session.mockIOMMU())
            return [("out_stdev_id", id(mock.stdevID)), ("out_hwpt_id", id(mock.hwptID)), ("out_idev_id", id(mock.idevID))]
        }
    },
    CommandSpec(name: "test_mock_domain_replace", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
    ], outputs: ["pt_id"]) { session, args throws(ScenarioError) in
        let stdev = try args.u32("id"), pt = try args.u32("pt_id")
        return outcome { () throws(Errno) in [("pt_id", id(try session.iommufd.testMockDomainReplace(stdevID: stdev, ptID: pt)))] }
    },
    CommandSpec(name: "test_md_check_iotlb", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iotlb_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "iotlb", kind: .integer(bits: 32), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("id"), entry = try args.u32("iotlb_id"), value = try args.u32("iotlb")
        return outcome { () throws(Errno) in try session.iommufd.testCheckIOTLB(hwptID: hwpt, iotlbID: entry, value: value); return [] }
    },
    CommandSpec(name: "test_dev_check_cache", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "cache_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "cache", kind: .integer(bits: 32), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("id"), entry = try args.u32("cache_id"), value = try args.u32("cache")
        return outcome { () throws(Errno) in try session.iommufd.testCheckDeviceCache(deviceID: device, cacheID: entry, value: value); return [] }
    },
    CommandSpec(name: "test_md_check_map", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "uptr", kind: .integer(bits: 64)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("id"), iova = try args.integer("iova"), length = try args.integer("length")
        let uptr: UInt64? = args.has("uptr") ? try args.integer("uptr") : nil
        return outcome { () throws(Errno) in
            try session.iommufd.testCheckMap(hwptID: hwpt, iova: iova, length: length, userVA: uptr)
            return []
        }
    },
]

// MARK: Guest side, queries and checks

/// Stage-1 formats a guest can build with `guest_pgtable`, as its kernel's io-pgtable would.
let guestTableFormats: [String: any PageTableFormat] = [
    "arm-s1-4k": ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48),
    "arm-s1-16k": ArmLPAE(stage: .stage1, granule: 16384, ias: 48, oas: 48),
    "arm-s1-64k": ArmLPAE(stage: .stage1, granule: 65536, ias: 48, oas: 48),
    "x86-4level": X86FirstStage(levels: 4),
    "x86-5level": X86FirstStage(levels: 5),
]

private func guestTable(_ session: Session, _ args: Arguments) throws(ScenarioError) -> DescriptorPageTable {
    let root = try args.integer("root")
    guard let table = session.guestTables[root] else {
        throw args.invalid("root", "no guest_pgtable has root \(root.hex)")
    }
    return table
}

/// A descriptor fetch as `translate` and `walk` print it (SCRIPT.md's step shape).
private func stepRecord(_ step: WalkStep) -> [(name: String, value: FieldValue)] {
    [("stage", .integer(UInt64(step.stage))), ("level", .integer(UInt64(step.level))), ("table", .address(step.table)),
     ("index", .integer(UInt64(step.index))), ("entry_address", .address(step.entryAddress)),
     ("descriptor", .address(step.descriptor)), ("kind", .text(step.kind.rawValue))]
}

private let queryCommands: [CommandSpec] = [
    CommandSpec(name: "guest_write", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "gpa", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "value", kind: .words, required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), gpa = try args.integer("gpa"), values = try args.words("value") ?? []
        return outcome { () throws(Errno) in try session.iommufd.guestWrite(ioasID: ioas, gpa: gpa, values: values); return [] }
    },
    CommandSpec(name: "guest_read", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "gpa", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: ["value"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), gpa = try args.integer("gpa"), count = try args.u32("count", 1)
        guard count <= 4096 else { throw args.invalid("count", "count= reads at most 4096 words") }
        return outcome { () throws(Errno) in
            [("value", .words(try session.iommufd.guestRead(ioasID: ioas, gpa: gpa, count: Int(count))))]
        }
    },
    CommandSpec(name: "translate", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "pasid", kind: .integer(bits: 32)), ArgumentSpec(name: "access", kind: .word(["read", "write"])),
    ], outputs: ["iova", "output_address", "page_size", "perm", "iotlb", "fetches", "steps", "fault"]) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), iova = try args.integer("iova")
        let pasid: UInt32? = args.has("pasid") ? try args.u32("pasid") : nil
        let access: AccessRights = args.word("access") == "write" ? .write : .read
        let outcome: Result<Translation, TranslationFault>?
        do throws(Errno) { outcome = try session.iommufd.translate(deviceID: device, iova: iova, pasid: pasid, access: access) } catch {
            return CommandResult(status: .errno(error))
        }
        switch outcome {
        case nil:
            return CommandResult(status: .unsupported("this IOMMU's walk for this request (PASID, or a nested AMD-Vi DTE) is not modelled yet"))
        case .success(let translation)?:
            return CommandResult(fields: [
                ("iova", .address(iova)), ("output_address", .address(translation.output)),
                ("page_size", .address(translation.pageSize)), ("perm", .text(translation.rights.shortDescription)),
                ("iotlb", .text(translation.iotlbHit ? "hit" : "miss")), ("fetches", .integer(UInt64(translation.steps.count))),
                ("steps", .records(translation.steps.map(stepRecord))),
            ])
        case .failure(let fault)?:
            var record: [(name: String, value: FieldValue)] = [
                ("stage", .integer(UInt64(fault.stage))), ("level", .integer(UInt64(fault.level))), ("reason", .text(fault.reason)),
            ]
            record += fault.details.map { ($0.name, .text($0.value)) }
            return CommandResult(status: .fault, fields: [
                ("iova", .address(iova)), ("fault", .record(record)), ("fetches", .integer(UInt64(fault.steps.count))),
                ("steps", .records(fault.steps.map(stepRecord))),
            ])
        }
    },
    // Project helpers that build a guest's stage-1 tables in its RAM, as a guest kernel would.
    CommandSpec(name: "guest_pgtable", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "format", kind: .word(guestTableFormats.keys.sorted()), required: true),
        ArgumentSpec(name: "pool", kind: .ranges, required: true),
    ], outputs: ["root"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id")
        guard let pool = try args.ranges("pool"), pool.count == 1, pool[0].start < pool[0].last else {
            throw args.invalid("pool", "pool= is one START-LAST range of guest RAM for the tables")
        }
        let memory = GuestTableMemory(iommufd: session.iommufd, ioasID: ioas, pool: IOVARange(start: pool[0].start, last: pool[0].last))
        return outcome { () throws(Errno) in
            let table = try DescriptorPageTable(format: guestTableFormats[args.word("format")!]!, memory: memory)
            session.guestTables[table.root] = table
            return [("root", .address(table.root))]
        }
    },
    CommandSpec(name: "guest_map", arguments: [
        ArgumentSpec(name: "root", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "gpa", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "flags", kind: .flags(["readable": 1, "writeable": 2], bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let table = try guestTable(session, args)
        let iova = try args.integer("iova"), gpa = try args.integer("gpa"), length = try args.integer("length")
        let flags = args.has("flags") ? try args.integer("flags") : 3
        var prot: IOMMUProt = .cache
        if flags & 1 != 0 { prot.insert(.read) }
        if flags & 2 != 0 { prot.insert(.write) }
        return outcome { () throws(Errno) in try table.map(iova: iova, output: gpa, length: length, prot: prot); return [] }
    },
    CommandSpec(name: "guest_unmap", arguments: [
        ArgumentSpec(name: "root", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: ["length"]) { session, args throws(ScenarioError) in
        let table = try guestTable(session, args)
        let iova = try args.integer("iova"), length = try args.integer("length")
        return CommandResult(fields: [("length", .address(table.unmap(iova: iova, length: length)))])
    },
    // Project query: the descriptors software reads on the way to an IOVA in a paging HWPT.
    CommandSpec(name: "walk", arguments: [
        ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
    ], outputs: ["output_address", "page_size", "steps"]) { session, args throws(ScenarioError) in
        let hwptID = try args.u32("hwpt_id"), iova = try args.integer("iova")
        guard let hwpt = try? session.iommufd.object(hwptID), let paging = hwpt as? HWPTPaging else {
            return CommandResult(status: .errno(.ENOENT))
        }
        guard let table = paging.domain.table as? DescriptorPageTable else {
            return CommandResult(status: .unsupported("HWPT \(hwptID) keeps no descriptors (the selftest mock's xarray)"))
        }
        let path = table.path(to: iova, stage: paging.domain.stage == .stage2 ? 2 : 1)
        let steps = path.map(stepRecord)
        guard let leaf = path.last, leaf.kind == .block || leaf.kind == .page else {
            return CommandResult(status: .ok, fields: [("steps", .records(steps))])
        }
        let size = table.format.leafSize(of: leaf.descriptor, level: leaf.level)
        let output = table.format.outputAddress(of: leaf.descriptor, level: leaf.level) + (iova & (size - 1))
        return CommandResult(fields: [("output_address", .address(output)), ("page_size", .address(size)), ("steps", .records(steps))])
    },
    // Project command: compares two values; a mismatch fails the run like an unmet expect=.
    CommandSpec(name: "check", arguments: [
        ArgumentSpec(name: "actual", kind: .value, required: true), ArgumentSpec(name: "expected", kind: .value, required: true),
    ], outputs: []) { _, args throws(ScenarioError) in
        let actual = try args.value("actual"), expected = try args.value("expected")
        if actual == expected { return CommandResult() }
        return CommandResult(status: .failed("check failed: actual \(actual.display), expected \(expected.display)"))
    },
]
