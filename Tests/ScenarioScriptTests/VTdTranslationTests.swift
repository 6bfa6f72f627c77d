import Foundation
import Testing
import IOMMUCore
@testable import ScenarioScript

/// The VT-d walk scenarios can only say `expect=fault`; these check which fault (code,
/// Linux string, stage, level) each faulting line reports, and the scalable-mode structures
/// the attaches wrote in host memory.
struct VTdTranslationTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Scenarios/pagetables")

    /// Runs a scenario file; returns the session and the fault record of each line by its text.
    static func run(_ file: String) throws -> (session: Session, faults: [String: [(name: String, value: FieldValue)]]) {
        let (session, faults, _) = try runAll(file)
        return (session, faults)
    }

    /// Also the results of every line, by its text.
    static func runAll(_ file: String) throws -> (session: Session, faults: [String: [(name: String, value: FieldValue)]],
                                                  results: [String: CommandResult]) {
        let source = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let session = Session()
        var faults: [String: [(name: String, value: FieldValue)]] = [:]
        var results: [String: CommandResult] = [:]
        for report in session.run(try Scenario(source: source)) {
            #expect(report.passed, "\(file):\(report.line) \(report.result.status)")
            if case .record(let record)? = report.result.field("fault") { faults[lines[report.line - 1]] = record }
            results[lines[report.line - 1]] = report.result
        }
        return (session, faults, results)
    }

    static func expectFault(_ faults: [String: [(name: String, value: FieldValue)]], _ line: String,
                            stage: UInt64, level: UInt64, reason: String, string: String, gpa: String? = nil) {
        var details: [String: String?] = ["string": string]
        if let gpa { details["gpa"] = gpa }
        expectFaultRecord(faults, line, stage: stage, level: level, reason: reason, details: details)
    }

    /// Checks a fault record's stage, level and reason, and the given details (nil: absent).
    static func expectFaultRecord(_ faults: [String: [(name: String, value: FieldValue)]], _ line: String,
                                  stage: UInt64, level: UInt64, reason: String, details: [String: String?]) {
        guard let record = faults[line] else {
            Issue.record("no fault on '\(line)'")
            return
        }
        func field(_ name: String) -> FieldValue? { record.first { $0.name == name }?.value }
        #expect(field("stage") == .integer(stage), "\(line)")
        #expect(field("level") == .integer(level), "\(line)")
        #expect(field("reason") == .text(reason), "\(line)")
        for (name, value) in details { #expect(field(name) == value.map { .text($0) }, "\(line): \(name)") }
    }

    /// Scalable-mode reasons (VT-d spec 4.x, the scalable-mode fault reasons; Linux
    /// `dma_remap_sm_fault_reasons[]` in drivers/iommu/intel/dmar.c): 0x79 for a missing
    /// R or W, present or not, 0x83 beyond the AGAW; never the legacy 0x04-0x06 QEMU uses.
    @Test func secondStageFaults() throws {
        let (_, faults) = try Self.run("vtd_second_stage_walk.iommu")
        Self.expectFault(faults, "translate dev_id=dev iova=0x1002000 access=write expect=fault",
                         stage: 2, level: 1, reason: "0x79", string: "SM: Read/Write permission error in second-level paging entry")
        Self.expectFault(faults, "translate dev_id=dev iova=0x2000000 expect=fault",
                         stage: 2, level: 2, reason: "0x79", string: "SM: Read/Write permission error in second-level paging entry")
        Self.expectFault(faults, "translate dev_id=dev iova=0x2000000 access=write expect=fault",
                         stage: 2, level: 2, reason: "0x79", string: "SM: Read/Write permission error in second-level paging entry")
        Self.expectFault(faults, "translate dev_id=dev iova=0x1000000000000 expect=fault",
                         stage: 2, level: 4, reason: "0x83", string: "SM: Address beyond the DMA hardware max")
        Self.expectFault(faults, "translate dev_id=dev iova=0x40201234 expect=fault",
                         stage: 2, level: 2, reason: "0x79", string: "SM: Read/Write permission error in second-level paging entry")
        Self.expectFault(faults, "translate dev_id=dev iova=0x1002345 expect=fault",
                         stage: 0, level: 0, reason: "0x59", string: "SM: Present bit in PASID Table Entry is clear")
        let log = faults["translate dev_id=dev iova=0x2000000 expect=fault"]?.first { $0.name == "log" }?.value
        #expect(log == .text("DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x2000000 [fault reason 0x79] SM: Read/Write permission error in second-level paging entry"))
        #expect(faults["translate dev_id=dev iova=0xfee00000 expect=fault"]?.first { $0.name == "reason" }?.value == .text("UR"))
    }

    /// translate's fetches are the descriptors `walk` reads, in order (second stage, first
    /// stage on a 4- and a 5-level unit).
    @Test func translateStepsMatchWalk() throws {
        for (file, pairs) in [
            ("vtd_second_stage_walk.iommu", [("t4k = translate dev_id=dev iova=0x1002345 expect=ok", "w4k = walk hwpt_id=hwpt iova=0x1002345"),
                                             ("t2m = translate dev_id=dev iova=0x40201234 access=write expect=ok", "w2m = walk hwpt_id=hwpt iova=0x40201234")]),
            ("vtd_first_stage_walk.iommu", [("t4k = translate dev_id=dev iova=0x1003008 expect=ok", "w4k = walk hwpt_id=hwpt iova=0x1003008"),
                                            ("t57 = translate dev_id=dev57 iova=0x100000002ff0 access=write expect=ok", "w57 = walk hwpt_id=h57 iova=0x100000002ff0")]),
        ] {
            let (_, _, results) = try Self.runAll(file)
            for (translate, walk) in pairs {
                let steps = try #require(results[translate]?.field("steps"), "\(translate)")
                #expect(steps == results[walk]?.field("steps"), "\(translate)")
            }
        }
    }

    @Test func firstStageFaults() throws {
        let (_, faults) = try Self.run("vtd_first_stage_walk.iommu")
        Self.expectFault(faults, "translate dev_id=dev iova=0x1003008 access=write expect=fault",
                         stage: 1, level: 1, reason: "0x85", string: "SM: No write permission for Write/AtomicOp request")
        Self.expectFault(faults, "translate dev_id=dev iova=0x2000000 expect=fault",
                         stage: 1, level: 2, reason: "0x71", string: "SM: Present bit in first-level paging entry is clear")
        Self.expectFault(faults, "translate dev_id=dev iova=0x800000000000 expect=fault",
                         stage: 1, level: 4, reason: "0x80", string: "SM: Address in first-level translation is not canonical")
        Self.expectFault(faults, "translate dev_id=dev iova=0xffff800000000000 expect=fault",
                         stage: 1, level: 4, reason: "0x71", string: "SM: Present bit in first-level paging entry is clear")
    }

    /// `vtd/sm_fault_reasons.iommu`: the exact `DMAR:` line of a write to a read-only
    /// second-stage entry (dmar_fault_do_one(), drivers/iommu/intel/dmar.c).
    @Test func scalableModeWriteToReadOnly() throws {
        let (_, faults) = try Self.run("../vtd/sm_fault_reasons.iommu")
        let line = "translate dev_id=nic iova=0x1000000 access=write expect=fault"
        Self.expectFault(faults, line, stage: 2, level: 1, reason: "0x79",
                         string: "SM: Read/Write permission error in second-level paging entry")
        #expect(faults[line]?.first { $0.name == "log" }?.value == .text("DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr 0x1000000 [fault reason 0x79] SM: Read/Write permission error in second-level paging entry"))
        Self.expectFault(faults, "translate dev_id=nic iova=0x2000000 expect=fault", stage: 2, level: 2, reason: "0x79",
                         string: "SM: Read/Write permission error in second-level paging entry")
        Self.expectFault(faults, "translate dev_id=nic iova=0x1000000000000 expect=fault", stage: 2, level: 4, reason: "0x83",
                         string: "SM: Address beyond the DMA hardware max")
    }

    /// `vtd/first_stage_reserved_bits.iommu`: every reserved-bit class faults with 0x72 at
    /// the level of its entry (VT-d spec §9.7; QEMU `vtd_flpte_nonzero_rsvd`).
    @Test func firstStageReservedBits() throws {
        let (_, faults) = try Self.run("../vtd/first_stage_reserved_bits.iommu")
        let cases: [(iova: String, level: UInt64)] = [
            ("0x12345000", 1), ("0x12346000", 1), ("0x12400000", 2), ("0x12800000", 2), ("0x12a00000", 2),
            ("0x40000000", 3), ("0xc0000000", 3), ("0x8000000000", 4), ("0x10000000000", 4),
        ]
        for (iova, level) in cases {
            Self.expectFault(faults, "translate dev_id=nic iova=\(iova) expect=fault", stage: 1, level: level, reason: "0x72",
                             string: "SM: Non-zero reserved field set in first-level paging entry")
        }
        #expect(faults.count == cases.count)
    }

    /// `vtd/pasid_width.iommu`: a request with a PASID beyond ECAP.PSS + 1 bits is an error.
    @Test func pasidBeyondPSS() throws {
        let (_, faults) = try Self.run("../vtd/pasid_width.iommu")
        Self.expectFault(faults, "translate dev_id=n iova=0x1000000 pasid=256 expect=fault", stage: 0, level: 0, reason: "0x46",
                         string: "SM: PASID is larger than the max in Context Entry")
    }

    @Test func nestedFaultsAndPASIDEntry() throws {
        let (session, faults) = try Self.run("vtd_nested_walk.iommu")
        Self.expectFault(faults, "translate dev_id=nic iova=0x12347000 access=write expect=fault",
                         stage: 1, level: 1, reason: "0x85", string: "SM: No write permission for Write/AtomicOp request")
        Self.expectFault(faults, "translate dev_id=nic iova=0x12400000 expect=fault",
                         stage: 2, level: 3, reason: "0x76", string: "SM: Read permission error in first-level paging entry in Nested translation",
                         gpa: "0x80000000")
        Self.expectFault(faults, "translate dev_id=nic iova=0x12345234 expect=fault",
                         stage: 2, level: 1, reason: "0x75", string: "SM: Read permission error in FL-PML4 entry in Nested translation",
                         gpa: "0x40002000")

        // The RID_PASID entry of RID 0x100 (bus 1, devfn 0): PGTT 3, AW 2, FSPTPTR = the GPA.
        let vtd = try #require(session.machine.iommu(named: "vt0") as? IntelVTd)
        let memory = session.machine.physical
        let root = try #require(vtd.rootTable)
        let rootEntry = try memory.read64(root + 1 * VTd.rootEntrySize)
        #expect(rootEntry & 1 == 1)
        let context = VTd.ContextEntry(lo: try memory.read64(rootEntry & ~0xfff), hi: try memory.read64((rootEntry & ~0xfff) + 8))
        #expect(context.present && !context.pasidEnabled && context.directorySizeCode == 2 && context.ridPASID == 0)
        let directoryEntry = try memory.read64(context.directory)
        #expect(directoryEntry & 1 == 1)
        let entry = VTd.PASIDEntry(words: try (0..<8).map { try memory.read64((directoryEntry & ~0xfff) + UInt64($0) * 8) })
        let parent = try #require(session.iommufd.objects.compactMap { $0 as? HWPTPaging }.first)
        let table = try #require(parent.domain.table as? DescriptorPageTable)
        #expect(entry.present && entry.pgtt == .nested && entry.addressWidth == 2)
        #expect(entry.secondStageTable == table.root)
        #expect(entry.firstStageTable == 0x4000_2000 && entry.firstStagePagingMode == 0)
        #expect(entry.domainID == VTd.firstDomainID)
        #expect(entry.pageSnoop && entry.pageWalkSnoop)
        #expect(!entry.supervisorRequests && !entry.writeProtect && !entry.extendedAccessFlag && !entry.secondStageADEnable)
    }

    /// The U/S check a user request gets, in a nested walk (guest tables may clear U/S). The
    /// line is there twice; the second (after the PTE was written without U/S) is the one kept.
    @Test func userSupervisorFault() throws {
        let (_, faults) = try Self.run("vtd_nested_walk.iommu")
        Self.expectFault(faults, "translate dev_id=nic iova=0x12346000 expect=fault",
                         stage: 1, level: 1, reason: "0x81", string: "SM: U/S set 0 for first-level translation with user privilege")
    }

    /// Second-stage PASID entries and the IOTLB tags: PGTT 2, SSPTPTR, AW, DID.
    @Test func secondStagePASIDEntry() throws {
        let source = """
        iommu vt0 type=intel-vtd
        device nic0 iommu=vt0 rid=0x1ff max_pasid_log2=20
        dev = device_bind dev=nic0
        ioas = ioas_alloc
        hwpt = hwpt_alloc dev_id=dev pt_id=ioas flags=nest_parent
        device_attach dev_id=dev pt_id=hwpt
        """
        let session = Session()
        for report in session.run(try Scenario(source: source)) { #expect(report.passed) }
        let vtd = try #require(session.machine.iommu(named: "vt0") as? IntelVTd)
        let memory = session.machine.physical
        // devfn 0xff lives in the upper context table, entry 0x7f.
        let rootEntryHi = try memory.read64(try #require(vtd.rootTable) + 1 * VTd.rootEntrySize + 8)
        #expect(rootEntryHi & 1 == 1)
        let address = (rootEntryHi & ~0xfff) + 0x7f * VTd.contextEntrySize
        let context = VTd.ContextEntry(lo: try memory.read64(address), hi: try memory.read64(address + 8))
        // 2^20 PASIDs: a 128K directory, PDTS 7, PASIDE.
        #expect(context.present && context.pasidEnabled && context.directorySizeCode == 7 && context.pasidLimit == 1 << 20)
        let directoryEntry = try memory.read64(context.directory)
        let entry = VTd.PASIDEntry(words: try (0..<8).map { try memory.read64((directoryEntry & ~0xfff) + UInt64($0) * 8) })
        let hwpt = try #require(session.iommufd.objects.compactMap { $0 as? HWPTPaging }.first)
        let table = try #require(hwpt.domain.table as? DescriptorPageTable)
        #expect(entry.present && entry.pgtt == .secondStage && entry.addressWidth == 2 && entry.domainID == VTd.firstDomainID)
        #expect(entry.secondStageTable == table.root && entry.firstStageTable == 0 && !entry.pageSnoop)
        #expect((table.format as? VTdSecondStage)?.snoop == true)
    }
}
