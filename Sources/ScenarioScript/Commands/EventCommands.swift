import IOMMUCore
import Presentation

// MARK: FAULT and VEVENTQ objects, their files, and the selftest ops that feed them

let pageFaultPermNames: [String: UInt64] = ["read": 1, "write": 2, "exec": 4, "priv": 8]

/// A read buffer of `count=` records; without it, one as large as the queue.
private func recordCount(_ args: Arguments) throws(ScenarioError) -> UInt64 {
    args.has("count") ? try args.integer("count", bits: 32) : UInt64(UInt32.max)
}

/// One `struct iommu_hwpt_pgfault` as `fault_read` prints it.
private func pageFaultRecord(_ record: PageFaultRecord) -> [(name: String, value: FieldValue)] {
    [("flags", .integer(UInt64(record.flags.rawValue))), ("dev_id", id(record.devID)), ("pasid", .integer(UInt64(record.pasid))),
     ("grpid", .integer(UInt64(record.grpid))), ("perm", .integer(UInt64(record.perm.rawValue))), ("addr", .address(record.addr)),
     ("length", .address(record.length)), ("cookie", .integer(UInt64(record.cookie)))]
}

/// Where a DMA's page request went, as `translate` prints it: `iopf`, the FAULT, and `grpid`,
/// the request's group (the STAG on SMMUv3, the PRG index on VT-d, the PPR tag on AMD-Vi).
/// The cookie comes later, from the `fault_read` that hands the group out.
func pageRequestFields(_ delivery: PageRequestDelivery) -> [(name: String, value: FieldValue)] {
    [("iopf", id(delivery.fault.id)), ("grpid", .integer(UInt64(delivery.request.grpid)))]
}

/// One vEVENT as `veventq_read` prints it: the header, then the type's struct.
private func veventRecord(_ entry: VEvent, type: UInt32) -> [(name: String, value: FieldValue)] {
    var record: [(name: String, value: FieldValue)] = [("flags", .integer(UInt64(entry.flags))), ("sequence", .integer(UInt64(entry.sequence)))]
    guard let data = entry.data else { return record }
    switch VEventQueueType(rawValue: type) {
    case .selftest?: record.append(("virt_id", .address(ObjectText.words(data).first ?? 0)))
    case .armSMMUv3?: record.append(("evt", .words(ObjectText.words(data))))
    case .tegra241CMDQV?: record.append(("lvcmdq_err_map", .words(ObjectText.words(data))))
    case .default?, nil: record.append(("data", .words(ObjectText.words(data))))
    }
    return record
}

let eventCommands: [CommandSpec] = [
    CommandSpec(name: "fault_queue_alloc", arguments: [ArgumentSpec(name: "flags", kind: .integer(bits: 32))],
                outputs: ["out_fault_id", "out_fault_fd"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags")
        return outcome { () throws(Refusal) in
            let fault = try session.iommufd.faultQueueAlloc(flags: flags)
            return [("out_fault_id", id(fault.id)), ("out_fault_fd", .integer(UInt64(fault.fd)))]
        }
    },
    // Project command: read(2) of a FAULT file with a buffer of count= records.
    CommandSpec(name: "fault_read", arguments: [
        ArgumentSpec(name: "fault_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: ["count", "faults", "cookie"]) { session, args throws(ScenarioError) in
        let fault = try args.u32("fault_id"), count = try recordCount(args)
        return outcome { () throws(Refusal) in
            let records = try session.iommufd.faultRead(faultID: fault, count: count)
            var fields: [(name: String, value: FieldValue)] = [("count", .integer(UInt64(records.count))),
                                                              ("faults", .records(records.map(pageFaultRecord)))]
            if let first = records.first { fields.append(("cookie", .integer(UInt64(first.cookie)))) }
            return fields
        }
    },
    // Project command: write(2) of one struct iommu_hwpt_page_response to a FAULT file.
    CommandSpec(name: "fault_respond", arguments: [
        ArgumentSpec(name: "fault_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "cookie", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "code", kind: .choice(["success": 0, "invalid": 1], bits: 32), required: true),
    ], outputs: ["response", "transaction", "iova", "output_address", "page_size", "perm", "iotlb", "fetches", "steps", "fault",
                 "vevent", "iopf", "grpid"]) { session, args throws(ScenarioError) in
        let fault = try args.u32("fault_id"), cookie = try args.u32("cookie"), code = try args.u32("code")
        return outcome { () throws(Refusal) in
            let effect = try session.iommufd.faultRespond(faultID: fault, cookie: cookie, code: code)
            var fields: [(name: String, value: FieldValue)] = []
            if let command = effect.command { fields.append(("response", .text(command.description))) }
            // The transaction that waited: retried, followed by what the retry came to as
            // `translate` prints it, or aborted; a selftest request had none.
            if let transaction = effect.transaction {
                if let retry = effect.retry {
                    let result = translationResult(iova: transaction.iova, retry)
                    var translated = false
                    if case .ok = result.status { translated = true }
                    fields.append(("transaction", .text(translated ? "translated" : "fault")))
                    fields += result.fields
                } else {
                    fields.append(("transaction", .text("aborted")))
                }
            }
            return fields
        }
    },
    CommandSpec(name: "veventq_alloc", arguments: [
        ArgumentSpec(name: "flags", kind: .integer(bits: 32)), ArgumentSpec(name: "viommu_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "type", kind: .choice(valueNames(VEventQueueType.self), bits: 32), required: true),
        ArgumentSpec(name: "veventq_depth", kind: .integer(bits: 32), required: true),
    ], outputs: ["out_veventq_id", "out_veventq_fd"]) { session, args throws(ScenarioError) in
        let flags = try args.u32("flags"), viommu = try args.u32("viommu_id"), type = try args.u32("type")
        let depth = try args.u32("veventq_depth")
        return outcome { () throws(Refusal) in
            let veventq = try session.iommufd.veventqAlloc(flags: flags, viommuID: viommu, type: type, depth: depth)
            return [("out_veventq_id", id(veventq.id)), ("out_veventq_fd", .integer(UInt64(veventq.fd)))]
        }
    },
    // Project command: read(2) of a VEVENTQ file with a buffer of count= records of its type.
    CommandSpec(name: "veventq_read", arguments: [
        ArgumentSpec(name: "veventq_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: ["count", "vevents", "flags", "sequence", "data"]) { session, args throws(ScenarioError) in
        let veventq = try args.u32("veventq_id"), count = try recordCount(args)
        return outcome { () throws(Refusal) in
            let entries = try session.iommufd.veventqRead(veventqID: veventq, count: count)
            guard case .veventq(let queue) = try session.iommufd.kind(veventq) else { throw .noSuchObject(veventq) }
            let type = queue.eventType
            // What a reader tracks across reads: whether any header said LOST_EVENTS, and the last sequence number.
            var fields: [(name: String, value: FieldValue)] = [("count", .integer(UInt64(entries.count))),
                                                              ("vevents", .records(entries.map { veventRecord($0, type: type) })),
                                                              ("flags", .integer(UInt64(entries.reduce(0) { $0 | $1.flags })))]
            if let last = entries.last { fields.append(("sequence", .integer(UInt64(last.sequence)))) }
            // The last event's struct as words, for check.
            if let data = entries.last(where: { $0.data != nil })?.data { fields.append(("data", .words(ObjectText.words(data)))) }
            return fields
        }
    },
    // close(2) of an event queue's file (out_fault_fd, out_veventq_fd).
    CommandSpec(name: "close", arguments: [ArgumentSpec(name: "fd", kind: .integer(bits: 32), required: true)],
                outputs: []) { session, args throws(ScenarioError) in
        let fd = try args.u32("fd")
        return outcome { () throws(Refusal) in
            guard let descriptor = Int32(exactly: fd) else { throw Refusal(.EBADF, .notAFileDescriptor, values: [.init("fd", UInt64(fd), .requested)]) }
            try session.iommufd.close(fd: descriptor)
            return []
        }
    },
    // IOMMU_TEST_OP_TRIGGER_IOPF.
    CommandSpec(name: "test_trigger_iopf", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pasid", kind: .integer(bits: 32)),
        ArgumentSpec(name: "grpid", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "perm", kind: .flags(pageFaultPermNames, bits: 32), required: true),
        ArgumentSpec(name: "addr", kind: .integer(bits: 64), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id"), pasid = try args.u32("pasid"), grpid = try args.u32("grpid")
        let perm = try args.u32("perm"), addr = try args.integer("addr")
        return outcome { () throws(Refusal) in
            try session.iommufd.testTriggerIOPF(deviceID: device, pasid: pasid, grpid: grpid, perm: perm, addr: addr)
            return []
        }
    },
    // IOMMU_TEST_OP_TRIGGER_VEVENT.
    CommandSpec(name: "test_trigger_vevent", arguments: [ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true)],
                outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("dev_id")
        return outcome { () throws(Refusal) in try session.iommufd.testTriggerVEvent(deviceID: device); return [] }
    },
]
