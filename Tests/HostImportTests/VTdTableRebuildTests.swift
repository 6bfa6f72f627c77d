import IOMMUCore
import Testing
import TestSupport
@testable import HostImport

/// The host's VT-d tables rebuilt in simulated memory: the machine's driver translates a
/// rebuilt device exactly as the dump shows, and faults with the unit's own (legacy or
/// scalable-mode) reasons where the dump has nothing.
@Suite struct VTdTableRebuildTests {
    /// dmar1 with 0000:00:02.0 (RID 0x10), dmar0 with 0000:00:0a.0 (RID 0x50), as in the kabylake samples.
    static func machine() throws -> Machine {
        let machine = Machine()
        try machine.add(PlatformDescription(
            units: [IOMMUUnit(name: "dmar1", configuration: .intelVTd(IntelVTd.Configuration())),
                    IOMMUUnit(name: "dmar0", configuration: .intelVTd(IntelVTd.Configuration()))],
            groups: [IOMMUGroup(id: 0), IOMMUGroup(id: 1)],
            devices: [DeviceDescription(name: "0000:00:02.0", requesterID: .requesterID(0x10), unit: "dmar1", group: 0),
                      DeviceDescription(name: "0000:00:0a.0", requesterID: .requesterID(0x50), unit: "dmar0", group: 1)]))
        return machine
    }

    static func snapshot(_ files: [String: String]) -> HostSnapshot {
        var snapshot = HostSnapshot()
        var warnings: [ImportWarning] = []
        snapshot.vtd = VTdDebugfsReader.read(from: MemoryHostSource(Dictionary(uniqueKeysWithValues: files.map { ("\(VTdSamples.directory)/\($0.key)", $0.value) })),
                                             warnings: &warnings)
        #expect(warnings.isEmpty, "\(warnings)")
        return snapshot
    }

    static func translate(_ machine: Machine, _ device: String, _ iova: UInt64, pasid: UInt32? = nil,
                          access: AccessRights = .read) -> Result<Translation, TranslationFault>? {
        guard let device = machine.device(named: device) else { return nil }
        return device.iommu.translate(device, iova: iova, pasid: pasid, access: access, caches: .bypass, memory: machine.physical)
    }

    static func reason(_ machine: Machine, _ device: String, _ iova: UInt64, pasid: UInt32? = nil,
                       access: AccessRights = .read) -> VTd.FaultReason? {
        guard case .failure(let fault)? = translate(machine, device, iova, pasid: pasid, access: access) else { return nil }
        return fault.vtdRecord?.reason
    }

    static func output(_ machine: Machine, _ device: String, _ iova: UInt64, pasid: UInt32? = nil) -> UInt64? {
        guard case .success(let translation)? = translate(machine, device, iova, pasid: pasid) else { return nil }
        return translation.output
    }

    /// The kabylake ABI samples: the legacy device's table is walked exactly as dumped.
    @Test func kabylakeLegacyDeviceTranslatesAsDumped() throws {
        let machine = try Self.machine()
        let snapshot = Self.snapshot([
            "dmar_translation_struct": VTdSamples.text(VTdSamples.translation),
            "0000:00:02.0/domain_translation_struct": VTdSamples.text(VTdSamples.domains),
        ])
        let report = VTdTableRebuild.rebuild(snapshot, into: machine)
        // The two samples are from different moments: the context entry names 0x10303f000.
        #expect(report.warnings.contains { $0.reason.contains("0x1017f8000 differs from the configured 0x10303f000") })
        let table = try #require(report.table(device: "0000:00:02.0"))
        #expect(table.root == 0x1_017f_8000 && table.format.levels.count == 4 && table.format is VTdSecondStage)
        // `[...]` after the third row: everything above it is unknown.
        #expect(table.coverage == .partial(unknown: [IOVARange(start: 0x8d80_3000, last: (1 << 48) - 1)]))
        #expect(Self.output(machine, "0000:00:02.0", 0x8d80_1234) == 0x8d80_1234)
        #expect(Self.output(machine, "0000:00:02.0", 0x8d80_0000) == 0x8d80_0000)
        #expect(Self.reason(machine, "0000:00:02.0", 0x1000) == .readNotSet)
        #expect(Self.reason(machine, "0000:00:02.0", 0x1000, access: .write) == .writeNotSet)
        #expect(Self.reason(machine, "0000:00:02.0", 0x1000, pasid: 1) == .ttm0WithPASID)
        // dmar0 is scalable: PASID 0 (RID_PASID) has no dump; PASID 1 has no PASID entry.
        let rid = try #require(report.table(device: "0000:00:0a.0"))
        guard case .rootOnly = rid.coverage else { Issue.record("\(rid.coverage)"); return }
        #expect(rid.root == 0x1_038a_5000)
        #expect(report.table(device: "0000:00:0a.0", pasid: 1)?.format is VTdSecondStage)  // no ECAP.FLTS dumped
        #expect(Self.reason(machine, "0000:00:0a.0", 0x1000, pasid: 1) == .pasidEntryNotPresent)
        #expect(report.notes.contains { $0.contains("PASID table(s)") })
        #expect((machine.iommu(named: "dmar1") as? IntelVTd)?.translationTableMode == .legacy)
        #expect((machine.iommu(named: "dmar0") as? IntelVTd)?.translationTableMode == .scalable)
    }

    static let scalable = """
    IOMMU dmar0: Root Table Address: 0x103028000
    B.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry
    00:0a.0\t0x0000000000000000:0x00000001038a7001\t0x0000000000000000:0x0000000103220e7d\t0     \t0x0000000000000000:0x0000000000800002:0x00000001038a5089
    00:0a.0\t0x0000000000000000:0x00000001038a7001\t0x0000000000000000:0x0000000103220e7d\t1     \t0x0000000000000000:0x0000000000800003:0x000000010c112089

    """

    static let scalableRID = """
    Device 0000:00:0a.0 with pasid 0 @0x1038a5000
    IOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE
    0x0000000000200 |\t0x0000000000000000\t0x00000001038a6003\t0x00000001038a8003\t0x0000000040200083
    0x0000000000400 |\t0x0000000000000000\t0x00000001038a6003\t0x00000001038a8003\t0x00000001038a9003\t0x0000000050000001
    0x0000000040000 |\t0x0000000000000000\t0x00000001038a6003\t0x0000000080000083

    """

    @Test func scalableSecondStageAndFirstStagePASID() throws {
        let machine = try Self.machine()
        let snapshot = Self.snapshot([
            "dmar_translation_struct": Self.scalable,
            "0000:00:0a.0/domain_translation_struct": Self.scalableRID,
            "0000:00:0a.0/1/domain_translation_struct": VTdSamples.text(VTdSamples.domains)
                .components(separatedBy: "2) Dump")[1],
        ])
        let report = VTdTableRebuild.rebuild(snapshot, into: machine)
        #expect(report.warnings.isEmpty, "\(report.warnings)")
        let rid = try #require(report.table(device: "0000:00:0a.0"))
        #expect(rid.coverage == .complete && rid.format is VTdSecondStage)
        // A 2 MiB leaf, a 4 KiB read-only leaf, a 1 GiB leaf.
        #expect(Self.output(machine, "0000:00:0a.0", 0x20_1234) == 0x4020_1234)
        #expect(Self.output(machine, "0000:00:0a.0", 0x40_0abc) == 0x5000_0abc)
        #expect(Self.output(machine, "0000:00:0a.0", 0x4000_0000 + 0x12_3456) == 0x8012_3456)
        #expect(Self.reason(machine, "0000:00:0a.0", 0x40_0000, access: .write) == .secondStagePermission)
        #expect(Self.reason(machine, "0000:00:0a.0", 0x60_0000) == .secondStagePermission)
        // PASID 1: second stage (PGTT 010b; the leaves' bit 11 is SNP) at val[0] = 0x10c112000, the per-PASID dump.
        let pasid = try #require(report.table(device: "0000:00:0a.0", pasid: 1))
        #expect(pasid.format is VTdSecondStage && pasid.root == 0x1_0c11_2000)
        #expect(Self.output(machine, "0000:00:0a.0", 0x1234, pasid: 1) == 0x1_47c0_1234)
        #expect(Self.reason(machine, "0000:00:0a.0", 0x3000, pasid: 1) == .secondStagePermission)
        #expect(report.descriptorsPlaced > 10)
    }

    @Test func conflictsKeepTheFirstValue() throws {
        let machine = try Self.machine()
        let text = """
        Device 0000:00:02.0 @0x1017f8000
        0x0000000000001 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x00000001017fb003\t0x0000000000005003
        0x0000000000001 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x00000001017fb003\t0x0000000000006003

        """
        let translation = VTdSamples.text(VTdSamples.translation).replacingOccurrences(of: "0x000000010303f005", with: "0x00000001017f8005")
        let snapshot = Self.snapshot(["dmar_translation_struct": translation, "0000:00:02.0/domain_translation_struct": text])
        let report = VTdTableRebuild.rebuild(snapshot, into: machine)
        #expect(report.warnings.count == 1)
        #expect(report.warnings.first?.line == 3 && report.warnings.first?.reason.contains("the first is kept") == true)
        #expect(Self.output(machine, "0000:00:02.0", 0x1abc) == 0x5abc)
        #expect(report.table(device: "0000:00:02.0")?.coverage == .complete)
    }

    @Test func truncatedDumpIsPartialAndPassThroughIsNoted() throws {
        let machine = try Self.machine()
        let text = """
        Device 0000:00:02.0 @0x1017f8000
        0x0000000000001 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x00000001017fb003\t0x0000000000005003
        0x0000000000400 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003
        """
        let translation = VTdSamples.text(VTdSamples.translation).replacingOccurrences(of: "0x000000010303f005", with: "0x00000001017f8005")
        let report = VTdTableRebuild.rebuild(Self.snapshot(["dmar_translation_struct": translation,
                                                            "0000:00:02.0/domain_translation_struct": text]), into: machine)
        #expect(report.table(device: "0000:00:02.0")?.coverage == .partial(unknown: [IOVARange(start: 0, last: 0x3fff_ffff)]))
        #expect(report.warnings.map(\.line) == [3])
        // TT 10b: pass-through, no table.
        let identity = try Self.machine()
        let passThrough = VTdSamples.text(VTdSamples.translation).replacingOccurrences(of: "0x000000010303f005", with: "0x0000000000000009")
        let noted = VTdTableRebuild.rebuild(Self.snapshot(["dmar_translation_struct": passThrough]), into: identity)
        #expect(noted.table(device: "0000:00:02.0") == nil)
        #expect(noted.notes.contains { $0.contains("0000:00:02.0: pass-through") })
        #expect(Self.output(identity, "0000:00:02.0", 0x1234_5000) == 0x1234_5000)
    }

    /// A v4.20-v5.2 per-bus dump with RTADDR from `iommu_regset`: a legacy table known only by its root.
    @Test func perBusRowsAndRegisterDrivenMode() throws {
        let machine = Machine()
        try machine.add(PlatformDescription(units: [IOMMUUnit(name: "dmar2", configuration: .intelVTd(IntelVTd.Configuration())),
                                                    IOMMUUnit(name: "dmar3", configuration: .intelVTd(IntelVTd.Configuration()))],
                                            groups: [IOMMUGroup(id: 0), IOMMUGroup(id: 1)],
                                            devices: [DeviceDescription(name: "0000:00:14.0", requesterID: .requesterID(0xa0), unit: "dmar2", group: 0),
                                                      DeviceDescription(name: "0000:00:03.0", requesterID: .requesterID(0x18), unit: "dmar3", group: 1)]))
        let regset = """
        IOMMU: dmar2 Register Base Address: fed91000
        RTADDR          \t0x20\t\t0x00000004362cc000
        IOMMU: dmar3 Register Base Address: fed92000
        ECAP            \t0x10\t\t0x0000800000000000
        RTADDR          \t0x20\t\t0x0000000103000400

        """
        let report = VTdTableRebuild.rebuild(Self.snapshot([
            "iommu_regset": regset,
            "dmar_translation_struct": VTdSamples.text(VTdSamples.oldFormats),
            "0000:00:03.0/2/domain_translation_struct": VTdDomainDumpReaderTests.v67,
        ]), into: machine)
        let table = try #require(report.table(device: "0000:00:14.0"))
        #expect(table.root == 0x4_362e_f000 && table.format.levels.count == 4)
        guard case .rootOnly = table.coverage else { Issue.record("\(table.coverage)"); return }
        #expect((machine.iommu(named: "dmar2") as? IntelVTd)?.rootTable == 0x4_362c_c000)
        // The table itself was not dumped: its first entry cannot be read.
        #expect(Self.reason(machine, "0000:00:14.0", 0x1000) == .nextTableInvalid)
        // dmar3: scalable (RTADDR bit 10) with ECAP.FLTS and no PASID entry dumped: first stage assumed.
        let pasid = try #require(report.table(device: "0000:00:03.0", pasid: 2))
        #expect(pasid.format is X86FirstStage && pasid.coverage == .complete)
        #expect((machine.iommu(named: "dmar3") as? IntelVTd)?.translationTableMode == .scalable)
        #expect(report.notes.contains { $0.contains("x86-64 4-level assumed") })
    }

    @Test func unitsTheDumpsDoNotCoverAreLeftAlone() throws {
        let machine = try Self.machine()
        let report = VTdTableRebuild.rebuild(HostSnapshot(), into: machine)
        #expect(report.tables.isEmpty && report.notes.isEmpty && report.descriptorsPlaced == 0)
        #expect((machine.iommu(named: "dmar1") as? IntelVTd)?.rootTable == nil)
    }
}

@Suite struct VTdTableRebuildFuzzTests {
    /// Damaged dumps rebuilt and walked: no trap, and every fault is a VT-d fault.
    @Test func seededDamageNeverTraps() throws {
        var random = SplitMix64(seed: 0x9_7ab1e)
        let sources = [VTdSamples.text(VTdSamples.translation) + VTdTableRebuildTests.scalable,
                       VTdSamples.text(VTdSamples.domains) + VTdTableRebuildTests.scalableRID]
        let tokens = sources.joined(separator: "\n").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        for _ in 0..<40 {
            var texts = sources.map { $0.components(separatedBy: "\n") }
            for index in texts.indices {
                for _ in 0..<random.below(8) where !texts[index].isEmpty {
                    let at = random.below(texts[index].count)
                    switch random.below(3) {
                    case 0: texts[index].remove(at: at)
                    case 1: texts[index][at] = texts[index][at].replacingOccurrences(of: random.pick(["0", "1", "3", "8"]), with: random.pick(["f", "7", "0"]))
                    default: texts[index].insert((0..<random.below(5)).map { _ in random.pick(tokens) }.joined(separator: "\t"), at: at)
                    }
                }
            }
            var snapshot = HostSnapshot()
            var warnings: [ImportWarning] = []
            snapshot.vtd = VTdDebugfsReader.read(from: MemoryHostSource([
                "\(VTdSamples.directory)/dmar_translation_struct": texts[0].joined(separator: "\n"),
                "\(VTdSamples.directory)/0000:00:0a.0/domain_translation_struct": texts[1].joined(separator: "\n"),
                "\(VTdSamples.directory)/0000:00:02.0/domain_translation_struct": texts[1].joined(separator: "\n"),
            ]), warnings: &warnings)
            let machine = try VTdTableRebuildTests.machine()
            _ = VTdTableRebuild.rebuild(snapshot, into: machine)
            for device in ["0000:00:02.0", "0000:00:0a.0"] {
                for iova: UInt64 in [0, 0x1234, 0x8d80_1234, 0x20_0000, 1 << 47] {
                    for pasid: UInt32? in [nil, 1] {
                        if case .failure(let fault)? = VTdTableRebuildTests.translate(machine, device, iova, pasid: pasid) {
                            #expect(fault.vtdRecord != nil)
                        }
                    }
                }
            }
        }
    }
}

extension TableCoverage {
    static func == (coverage: TableCoverage, other: TableCoverage) -> Bool {
        switch (coverage, other) {
        case (.complete, .complete): true
        case (.partial(let a), .partial(let b)): a == b
        case (.rootOnly(let a), .rootOnly(let b)): a == b
        default: false
        }
    }
}
