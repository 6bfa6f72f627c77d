import IOMMUCore

// MARK: Platform

let platformCommands: [CommandSpec] = [
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
