import IOMMUCore
import Presentation

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

/// A descriptor fetch as `translate` and `walk` print it (the step shape of docs/scenario-language.md).
private func stepRecord(_ step: WalkStep) -> [(name: String, value: FieldValue)] {
    [("stage", .integer(UInt64(step.stage.number))), ("level", .integer(UInt64(step.level))), ("table", .address(step.table)),
     ("index", .integer(UInt64(step.index))), ("entry_address", .address(step.entryAddress)),
     ("descriptor", .address(step.descriptor)), ("kind", .text(step.kind.rawValue))]
}

/// What `translate` prints for one DMA transaction (and `fault_respond` for its retry).
func translationResult(iova: UInt64, _ dma: DMAOutcome) -> CommandResult {
    // A fault forwarded to a vIOMMU's vEVENTQ names the queue; one that became a page
    // request names the FAULT it waits on.
    translationResult(iova: iova, dma.result,
                      faultFields: (dma.vevent.map { [("vevent", id($0.id))] } ?? []) + (dma.iopf.map(pageRequestFields) ?? []))
}

/// `translate`'s result for one walk, whoever issued it: a scenario's bound device, or a host
/// device in the kernel's own domain (`iommuscope translate --host`); `faultFields` follow a
/// fault's steps.
public func translationResult(iova: UInt64, _ result: Result<Translation, TranslationFault>?,
                              faultFields: [(name: String, value: FieldValue)] = []) -> CommandResult {
    switch result {
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
        let record: [(name: String, value: FieldValue)] = [
            ("stage", .integer(UInt64(fault.stage.number))), ("level", .integer(UInt64(fault.level))),
        ] + FaultText.fields(fault).map { field -> (name: String, value: FieldValue) in
            switch field.value {
            case .text(let text): (field.name, .text(text))
            case .bit(let set): (field.name, .integer(set ? 1 : 0))
            case .hex(let value, let digits): (field.name, .hexInteger(value, digits: digits))
            }
        }
        return CommandResult(status: .fault, fields: [
            ("iova", .address(iova)), ("fault", .record(record)), ("fetches", .integer(UInt64(fault.steps.count))),
            ("steps", .records(fault.steps.map(stepRecord))),
        ] + faultFields)
    }
}

/// The DMA transaction a `translate` line asks for: the device (its iommufd id) and what it
/// sends, an IOVA with a PASID or none, read or write.
public struct DMARequest: Sendable, Equatable {
    public var deviceID: UInt32
    public var transaction: DMATransaction
}

extension Arguments {
    /// `translate`'s arguments as the DMA they ask for.
    func dmaRequest() throws(ScenarioError) -> DMARequest {
        let device = try u32("dev_id"), iova = try integer("iova")
        let pasid: UInt32? = has("pasid") ? try u32("pasid") : nil
        let access: AccessRights = word("access") == "write" ? .write : .read
        return DMARequest(deviceID: device, transaction: DMATransaction(iova: iova, pasid: pasid, access: access))
    }
}

extension Session {
    /// The DMA a checked `translate` line asks for, its names evaluated against what this
    /// session binds; nil for another command, or a name this session does not bind.
    public func dmaRequest(_ line: ScenarioLine) -> DMARequest? {
        guard line.command == "translate" else { return nil }
        return try? Arguments(line: line, session: self).dmaRequest()
    }
}

let queryCommands: [CommandSpec] = [
    CommandSpec(name: "guest_write", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "gpa", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "value", kind: .words, required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), gpa = try args.integer("gpa"), values = try args.words("value") ?? []
        return outcome { () throws(Refusal) in try session.iommufd.guestWrite(ioasID: ioas, gpa: gpa, values: values); return [] }
    },
    CommandSpec(name: "guest_read", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "gpa", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: ["value"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), gpa = try args.integer("gpa"), count = try args.u32("count", 1)
        guard count <= 4096 else { throw args.invalid("count", "count= reads at most 4096 words") }
        return outcome { () throws(Refusal) in
            [("value", .words(try session.iommufd.guestRead(ioasID: ioas, gpa: gpa, count: Int(count))))]
        }
    },
    CommandSpec(name: "translate", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "pasid", kind: .integer(bits: 32)), ArgumentSpec(name: "access", kind: .word(["read", "write"])),
    ], outputs: ["iova", "output_address", "page_size", "perm", "iotlb", "fetches", "steps", "fault", "vevent", "iopf", "grpid"]) { session, args throws(ScenarioError) in
        let request = try args.dmaRequest(), transaction = request.transaction
        let dma: DMAOutcome
        do throws(Refusal) {
            dma = try session.iommufd.dma(deviceID: request.deviceID, iova: transaction.iova, pasid: transaction.pasid, access: transaction.access)
        } catch {
            return CommandResult(status: .refused(error))
        }
        return translationResult(iova: transaction.iova, dma)
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
        return outcome { () throws(Refusal) in
            let table = try DescriptorPageTable(format: guestTableFormats[args.word("format")!]!, memory: memory)
            session.guestTables[table.root] = table
            return [("root", .address(table.root))]
        }
    },
    CommandSpec(name: "guest_map", arguments: [
        ArgumentSpec(name: "root", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "gpa", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "flags", kind: .flags(["readable": 1, "writeable": 2, "global": 4], bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let table = try guestTable(session, args)
        let iova = try args.integer("iova"), gpa = try args.integer("gpa"), length = try args.integer("length")
        let flags = args.has("flags") ? try args.integer("flags") : 3
        var prot: IOMMUProt = .cache
        if flags & 1 != 0 { prot.insert(.read) }
        if flags & 2 != 0 { prot.insert(.write) }
        if flags & 4 != 0 {
            // nG is an Arm stage-1 descriptor bit; x86 first-stage tables have no such leaf here.
            guard table.format is ArmLPAE else { throw args.invalid("flags", "global (nG = 0) needs an arm-s1 table") }
            prot.insert(.global)
        }
        return outcome { () throws(Refusal) in try table.map(iova: iova, output: gpa, length: length, prot: prot); return [] }
    },
    CommandSpec(name: "guest_unmap", arguments: [
        ArgumentSpec(name: "root", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: ["length"]) { session, args throws(ScenarioError) in
        let table = try guestTable(session, args)
        let iova = try args.integer("iova"), length = try args.integer("length")
        return CommandResult(fields: [("length", .address(table.unmap(iova: iova, length: length)))])
    },
    // Project query: words of simulated host physical memory, where the drivers keep their
    // tables and configuration structures (a side-effect-free read, like `config`).
    CommandSpec(name: "host_read", arguments: [
        ArgumentSpec(name: "pa", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "count", kind: .integer(bits: 32)),
    ], outputs: ["value"]) { session, args throws(ScenarioError) in
        let pa = try args.integer("pa"), count = try args.u32("count", 1)
        guard count <= 4096 else { throw args.invalid("count", "count= reads at most 4096 words") }
        return outcome { () throws(Refusal) in
            [("value", .words(try hostRead(session.iommufd.machine.physical, pa: pa, count: Int(count))))]
        }
    },
    // Project query: the configuration structures the device's IOMMU reads for a transaction
    // (at `pasid`), with their host physical addresses and words as they are in memory now.
    CommandSpec(name: "config", arguments: [
        ArgumentSpec(name: "dev_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pasid", kind: .integer(bits: 32)),
    ], outputs: ["structures"]) { session, args throws(ScenarioError) in
        let deviceID = try args.u32("dev_id")
        let pasid: UInt32? = args.has("pasid") ? try args.u32("pasid") : nil
        guard case .device(let device)? = ModelReader(session.iommufd).object(ObjectID(rawValue: deviceID)) else {
            return CommandResult(status: .refused(.noSuchObject(deviceID)))
        }
        let structures = ModelReader(session.iommufd).configurationStructures(of: device, pasid: pasid)
        return CommandResult(fields: [("structures", .records(structures.map { structure in
            [("name", .text(structure.name)), ("address", .address(structure.address)), ("words", .words(structure.words))]
        }))])
    },
    // Project query: the descriptors software reads on the way to an IOVA in a paging HWPT.
    CommandSpec(name: "walk", arguments: [
        ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
    ], outputs: ["output_address", "page_size", "steps"]) { session, args throws(ScenarioError) in
        let hwptID = try args.u32("hwpt_id"), iova = try args.integer("iova")
        let found = try? session.iommufd.object(hwptID)
        guard let paging = found as? HWPTPaging else {
            return CommandResult(status: .refused(.noSuchObject(hwptID, wrongType: found)))
        }
        guard let table = paging.domain.table as? DescriptorPageTable else {
            return CommandResult(status: .unsupported("HWPT \(hwptID) keeps no descriptors (the selftest mock's xarray)"))
        }
        // Outside the table's input range an index would name a low address's entry.
        guard table.format.translates(iova) else {
            return CommandResult(status: .refused(Refusal(.ERANGE, .outsideInputRange, objects: [.init(paging, .requested)],
                                                          values: [.init("iova", iova, .requested), .init("input_bits", UInt64(table.format.inputBits), .limit)])))
        }
        let path = table.path(to: iova, stage: paging.domain.stage.translationStage)
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

/// `count` words of host physical memory from `pa`: EINVAL for a count of 0 or an address
/// that is not 8-byte aligned, EOVERFLOW when the words would run past the top of the address
/// space, EFAULT for a word nothing is allocated at.
private func hostRead(_ memory: PhysicalMemory, pa: UInt64, count: Int) throws(Refusal) -> [UInt64] {
    guard pa.isAligned(to: 8), count > 0 else { throw Refusal(.EINVAL, .hostReadAlignment, values: [.init("pa", pa, .requested), .init("count", UInt64(count), .requested)]) }
    guard pa.checkedAdd(UInt64(count - 1) * 8) != nil else { throw .addressOverflow(pa, length: UInt64(count) * 8) }
    var values: [UInt64] = []
    for index in 0..<UInt64(count) {
        do { values.append(try memory.read64(pa + index * 8)) } catch { throw Refusal(.EFAULT, .hostReadUnallocated, values: [.init("pa", pa + index * 8, .requested)]) }
    }
    return values
}
