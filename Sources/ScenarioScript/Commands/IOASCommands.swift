import IOMMUCore

// MARK: IOAS

let ioasCommands: [CommandSpec] = [
    CommandSpec(name: "destroy", arguments: [ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true)],
                outputs: []) { session, args throws(ScenarioError) in
        let object = try args.u32("id")
        return outcome { () throws(Refusal) in try session.iommufd.destroy(id: object); return [] }
    },
    CommandSpec(name: "ioas_alloc", arguments: [ArgumentSpec(name: "flags", kind: .integer(bits: 32))],
                outputs: ["out_ioas_id"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags")
        return outcome { () throws(Refusal) in [("out_ioas_id", id(try session.iommufd.ioasAlloc(flags: flags)))] }
    },
    CommandSpec(name: "ioas_map", arguments: [
        ArgumentSpec(name: "flags", kind: .flags(mapFlagNames, bits: 32)), ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "user_va", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "iova", kind: .integer(bits: 64)),
    ], outputs: ["iova"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), ioas = try args.u32("ioas_id")
        let userVA = try args.integer("user_va"), length = try args.integer("length"), iova = try args.integer("iova")
        return outcome { () throws(Refusal) in
            [("iova", .address(try session.iommufd.ioasMap(flags: flags, ioasID: ioas, userVA: userVA, length: length, iova: iova)))]
        }
    },
    CommandSpec(name: "ioas_unmap", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: ["length"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), iova = try args.integer("iova"), length = try args.integer("length")
        return outcome { () throws(Refusal) in
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
        return outcome { () throws(Refusal) in
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
        do throws(Refusal) {
            let ranges = try session.iommufd.ioasIOVARanges(ioasID: ioas)
            let fields: [(name: String, value: FieldValue)] = [
                ("num_iovas", .integer(UInt64(ranges.ranges.count))),
                ("allowed_iovas", .ranges(Array(ranges.ranges.prefix(capacity)))),
                ("out_iova_alignment", .address(ranges.iovaAlignment)),
            ]
            let tooSmall = Refusal(.EMSGSIZE, .iovaRangesBuffer, values: [.init("num_iovas", UInt64(ranges.ranges.count), .requested),
                                                                             .init("buffer", UInt64(capacity), .limit)])
            return CommandResult(status: ranges.ranges.count > capacity ? .refused(tooSmall) : .ok, fields: fields)
        } catch {
            return CommandResult(status: .refused(error))
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
        return outcome { () throws(Refusal) in try session.iommufd.ioasAllowIOVAs(ioasID: ioas, ranges: ranges); return [] }
    },
    CommandSpec(name: "option", arguments: [
        ArgumentSpec(name: "option_id", kind: .choice(["rlimit_mode": 0, "huge_pages": 1], bits: 32), required: true),
        ArgumentSpec(name: "op", kind: .choice(["set": 0, "get": 1], bits: 16), required: true),
        ArgumentSpec(name: "object_id", kind: .integer(bits: 32)), ArgumentSpec(name: "val64", kind: .integer(bits: 64)),
    ], outputs: ["val64"]) { session, args throws(ScenarioError) in
        let option = try args.u32("option_id"), op = UInt16(try args.integer("op"))
        let object = try args.u32("object_id"), value = try args.integer("val64")
        return outcome { () throws(Refusal) in
            [("val64", .address(try session.iommufd.option(optionID: option, op: op, objectID: object, val64: value)))]
        }
    },
]
