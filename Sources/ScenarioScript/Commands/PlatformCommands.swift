import IOMMUCore

// MARK: Platform

/// The options an `iommu` line of each type takes.
private func unitOptions(_ type: IOMMUArchitecture) -> Set<String> {
    switch type {
    case .armSMMUv3: ["ias", "oas", "granules", "stages", "s2fwb", "its", "dirty", "ril"]
    case .intelVTd: ["aw", "fs", "ss", "dirty", "pss"]
    case .amdVi: ["levels", "mode", "dirty", "ht_range_ignore"]
    case .mock: []
    }
}

extension Arguments {
    /// The NAME a platform line declares (the checker refuses a line without one).
    func declaredName() throws(ScenarioError) -> String {
        guard let name = line.declaredName else { throw invalid("", "'\(line.command)' needs a NAME") }
        return name
    }

    /// Adds entries to the session's platform; a description error points at its option.
    func addToPlatform(_ description: PlatformDescription) throws(ScenarioError) {
        do {
            try session.machine.add(description)
        } catch {
            throw invalid(error.option ?? "", error.reason)
        }
    }
}

let platformCommands: [CommandSpec] = [
    CommandSpec(name: "iommu", arguments: [
        ArgumentSpec(name: "type", kind: .word(IOMMUArchitecture.allCases.map(\.rawValue)), required: true),
        ArgumentSpec(name: "ias", kind: .integer(bits: 8)), ArgumentSpec(name: "oas", kind: .integer(bits: 8)),
        ArgumentSpec(name: "granules", kind: .words), ArgumentSpec(name: "stages", kind: .words),
        ArgumentSpec(name: "s2fwb", kind: yesNo), ArgumentSpec(name: "its", kind: .integer(bits: 64)),
        ArgumentSpec(name: "dirty", kind: yesNo), ArgumentSpec(name: "ril", kind: yesNo),
        ArgumentSpec(name: "aw", kind: .integer(bits: 8)), ArgumentSpec(name: "fs", kind: yesNo), ArgumentSpec(name: "ss", kind: yesNo),
        ArgumentSpec(name: "levels", kind: .integer(bits: 8)), ArgumentSpec(name: "mode", kind: .word(["v1", "v2"])),
        ArgumentSpec(name: "ht_range_ignore", kind: yesNo), ArgumentSpec(name: "pss", kind: .integer(bits: 5)),
    ], outputs: [], declaresName: true) { session, args throws(ScenarioError) in
        let name = try args.declaredName()
        guard let type = args.word("type").flatMap(IOMMUArchitecture.init(rawValue:)) else {
            throw args.invalid("type", "type= is one of \(IOMMUArchitecture.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for argument in args.line.arguments where argument.key != "type" && !unitOptions(type).contains(argument.key) {
            throw args.invalid(argument.key, "\(argument.key)= is not an option of type=\(type.rawValue)")
        }
        let configuration: UnitConfiguration
        switch type {
        case .armSMMUv3:
            var c = ArmSMMUv3.Configuration()
            c.oas = Int(try args.integer("oas", UInt64(c.oas)))
            c.ias = Int(try args.integer("ias", UInt64(max(c.oas, 40))))
            c.granules = try args.words("granules") ?? c.granules
            if let stages = try args.words("stages") {
                if let stray = stages.first(where: { ![1, 2].contains($0) }) {
                    throw args.invalid("stages", "stages= lists 1 and 2, not \(stray)")
                }
                c.stage1 = stages.contains(1)
                c.stage2 = stages.contains(2)
            }
            c.s2fwb = args.yes("s2fwb", c.s2fwb)
            c.dirtyTracking = args.yes("dirty", c.dirtyTracking)
            c.rangeInvalidation = args.yes("ril", c.rangeInvalidation)
            c.its = try args.integer("its", c.its)
            configuration = .armSMMUv3(c)
        case .intelVTd:
            var c = IntelVTd.Configuration()
            c.addressWidth = Int(try args.integer("aw", UInt64(c.addressWidth)))
            c.firstStage = args.yes("fs", c.firstStage)
            c.secondStage = args.yes("ss", c.secondStage)
            c.dirtyTracking = args.yes("dirty", c.dirtyTracking)
            c.pasidSizeSupported = Int(try args.integer("pss", UInt64(c.pasidSizeSupported)))
            configuration = .intelVTd(c)
        case .amdVi:
            var c = AMDVi.Configuration()
            c.levels = Int(try args.integer("levels", UInt64(c.levels)))
            c.dirtyTracking = args.yes("dirty", c.dirtyTracking)
            c.hyperTransportRangeIgnored = args.yes("ht_range_ignore", c.hyperTransportRangeIgnored)
            c.defaultsToV2 = args.word("mode") == "v2"
            configuration = .amdVi(c)
        case .mock:
            configuration = .mock
        }
        try args.addToPlatform(PlatformDescription(units: [IOMMUUnit(name: name, configuration: configuration)]))
        return CommandResult()
    },
    CommandSpec(name: "device", arguments: [
        ArgumentSpec(name: "iommu", kind: .iommu, required: true),
        ArgumentSpec(name: "sid", kind: .integer(bits: 32)), ArgumentSpec(name: "rid", kind: .integer(bits: 16)),
        ArgumentSpec(name: "resv", kind: .regions), ArgumentSpec(name: "dev_flags", kind: .flags(mockDeviceFlagNames, bits: 32)),
        ArgumentSpec(name: "max_pasid_log2", kind: .integer(bits: 5)), ArgumentSpec(name: "canwbs", kind: yesNo),
        ArgumentSpec(name: "group", kind: .integer(bits: 32)), ArgumentSpec(name: "pri", kind: yesNo),
        ArgumentSpec(name: "stall", kind: yesNo),
    ], outputs: [], declaresName: true) { session, args throws(ScenarioError) in
        let name = try args.declaredName()
        if args.has("sid") && args.has("rid") { throw args.invalid("rid", "give sid= or rid=, not both") }
        let requester: DeviceRequesterID
        if args.has("rid") {
            requester = .requesterID(UInt16(try args.integer("rid", bits: 16)))
        } else {
            requester = .streamID(UInt32(try args.integer("sid", UInt64(session.machine.devices.count), bits: 32)))
        }
        // A device gets a group of its own unless group= names one (new or shared).
        let machine = session.machine
        var groups: [IOMMUGroup] = []
        let group: UInt32
        if args.has("group") {
            group = try args.u32("group")
            if !machine.hasGroup(group) { groups.append(IOMMUGroup(id: group)) }
        } else {
            guard let free = machine.nextGroupID else { throw args.invalid("group", "every iommu group id is taken: name one with group=") }
            group = free
            groups.append(IOMMUGroup(id: group))
        }
        var recoverable: RecoverableFaults = []
        if args.yes("pri", false) { recoverable.insert(.pri) }
        if args.yes("stall", false) { recoverable.insert(.stall) }
        let device = DeviceDescription(
            name: name, requesterID: requester, unit: args.word("iommu") ?? "", group: group,
            maxPASIDLog2: UInt8(try args.integer("max_pasid_log2", bits: 5)), canWBS: args.yes("canwbs", true),
            mockFlags: MockDeviceFlags(rawValue: try args.u32("dev_flags")), recoverableFaults: recoverable,
            firmwareRegions: args.regions("resv"))
        try args.addToPlatform(PlatformDescription(groups: groups, devices: [device]))
        return CommandResult()
    },
    CommandSpec(name: "limits", arguments: [
        ArgumentSpec(name: "memlock", kind: .integer(bits: 64)), ArgumentSpec(name: "cap_ipc_lock", kind: yesNo),
        ArgumentSpec(name: "cap_sys_resource", kind: yesNo), ArgumentSpec(name: "host_memory", kind: .integer(bits: 64)),
    ], outputs: ["locked_vm", "mm_locked_vm", "pinned_vm"]) { session, args throws(ScenarioError) in
        let machine = session.machine
        var limits = machine.limits
        limits.memlock = try args.integer("memlock", limits.memlock)
        limits.capIPCLock = args.yes("cap_ipc_lock", limits.capIPCLock)
        limits.capSysResource = args.yes("cap_sys_resource", limits.capSysResource)
        limits.hostMemory = try args.integer("host_memory", limits.hostMemory)
        machine.limits = limits
        // The counters in pages, as /proc reads them: user->locked_vm, mm->locked_vm, mm->pinned_vm.
        return CommandResult(fields: [("locked_vm", .integer(machine.pinned.userLockedVM)),
                                      ("mm_locked_vm", .integer(machine.pinned.mmLockedVM)),
                                      ("pinned_vm", .integer(machine.pinned.pinnedVM))])
    },
    CommandSpec(name: "mmap", arguments: [
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "align", kind: .integer(bits: 64)),
    ], outputs: ["out_user_va"]) { session, args throws(ScenarioError) in
        let length = try args.integer("length"), alignment = try args.integer("align", pageSize)
        guard alignment.nonzeroBitCount == 1 else { throw args.invalid("align", "align= must be a power of two") }
        return outcome { () throws(Refusal) in [("out_user_va", .address(try session.machine.mmap(length: length, alignment: alignment)))] }
    },
    CommandSpec(name: "munmap", arguments: [
        ArgumentSpec(name: "user_va", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let start = try args.integer("user_va"), length = try args.integer("length")
        return outcome { () throws(Refusal) in try session.machine.memory.munmap(start: start, length: length); return [] }
    },
]
