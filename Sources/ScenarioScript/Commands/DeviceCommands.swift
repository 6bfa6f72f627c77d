import IOMMUCore

// MARK: VFIO device side

let deviceCommands: [CommandSpec] = [
    CommandSpec(name: "device_bind", arguments: [ArgumentSpec(name: "dev", kind: .device, required: true)],
                outputs: ["out_devid"]) { session, args throws(ScenarioError) in
        let device = try args.platformDevice("dev")
        return outcome { () throws(Refusal) in [("out_devid", id(try session.iommufd.bind(device)))] }
    },
    CommandSpec(name: "device_attach", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "pasid", kind: .integer(bits: 32)),
    ], outputs: ["pt_id"]) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), pt = try args.u32("pt_id"), pasid = try args.u32("pasid", noPASID)
        return outcome { () throws(Refusal) in [("pt_id", id(try session.iommufd.attach(deviceID: device, ptID: pt, pasid: pasid)))] }
    },
    CommandSpec(name: "device_detach", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pasid", kind: .integer(bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), pasid = try args.u32("pasid", noPASID)
        return outcome { () throws(Refusal) in try session.iommufd.detach(deviceID: device, pasid: pasid); return [] }
    },
    CommandSpec(name: "device_unbind", arguments: [ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true)],
                outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id")
        return outcome { () throws(Refusal) in try session.iommufd.unbind(deviceID: device); return [] }
    },
    CommandSpec(name: "device_set_irqs", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), count = try args.u32("count", 1)
        return outcome { () throws(Refusal) in try session.iommufd.setIRQs(deviceID: device, count: count); return [] }
    },
]
