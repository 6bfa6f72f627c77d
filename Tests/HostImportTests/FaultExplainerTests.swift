import IOMMUCore
import Testing
import TestSupport
@testable import HostImport

/// A host machine whose DMA domain of 0000:03:00.0 is "rebuilt": a table written into the
/// machine's memory and installed as its RID's configuration, with the report a rebuild gives.
struct RebuiltHost {
    let machine: Machine
    var report = TableRebuildReport()
    let device: PlatformDevice

    static let mapped: UInt64 = 0x8d80_0000
    static let readOnly: UInt64 = 0x8d90_0000
    static let output: UInt64 = 0x1_2340_0000

    init(coverage: TableCoverage = .complete, snapshot: HostSnapshot = HostFixtures.vtd, device name: String = "0000:03:00.0") throws {
        machine = try Machine(platform: HostPlatform.description(of: snapshot).platform)
        device = try #require(machine.device(named: name))
        let domain = try device.iommu.allocatePagingDomain(for: device, flags: [], userData: nil, memory: machine.physical)
        try domain.table.map(iova: Self.mapped, output: Self.output, length: 0x1000, prot: [.read, .write, .cache])
        try domain.table.map(iova: Self.readOnly, output: Self.output + 0x1000, length: 0x1000, prot: [.read, .cache])
        device.iommu.install(device, .paging(domain), pasid: noPASID, memory: machine.physical)
        let table = try #require(domain.table as? DescriptorPageTable)
        report.tables = [HostDomainTable(unit: device.iommu.name, device: name, pasid: nil, format: table.format, root: table.root,
                                         coverage: coverage)]
    }

    var explainer: FaultExplainer { FaultExplainer(machine: machine, tables: report) }
}

/// A DMAR fault as `faults` reads `[DMA Read NO_PASID] Request device [03:00.0] fault addr ...`.
func dmarRecord(_ address: UInt64?, reason: String = "0x06", write: Bool = false, device: String? = "0000:03:00.0") -> HostImport.FaultRecord {
    var record = HostImport.FaultRecord(sourceLine: 3, architecture: .intelVTd, reason: reason)
    record.iommu = "dmar0"
    record.device = device.flatMap(PCIAddress.init(parsing:)).map { .pci($0) }
    record.address = address
    record.access = write ? .write : .read
    return record
}

@Suite struct FaultExplainerTests {
    @Test func unmappedAddressStopsAtAnEmptyEntry() throws {
        let host = try RebuiltHost()
        let explanation = host.explainer.explain(dmarRecord(0x7ebb_0000))
        #expect(explanation.cause == .unmapped)
        #expect(explanation.device == "0000:03:00.0")
        guard case .faulted(let fault) = explanation.outcome else { Issue.record("no fault"); return }
        #expect(fault.steps.last?.kind == .invalid)
        #expect(fault.steps.count >= 1)
        // The legacy-mode 0x06 the log has and the model's scalable-mode 0x71 are one event.
        #expect(explanation.reasons == ReasonComparison(logged: "0x06", model: "0x71", agree: true))
        #expect(explanation.sentence.hasPrefix("0x7ebb0000 is not mapped in 0000:03:00.0's DMA domain: the walk stops at an empty level-"))
        #expect(explanation.sentence.hasSuffix("; the log says 0x06, the model 0x71"))
    }

    @Test func writeToAReadOnlyPage() throws {
        let explanation = try RebuiltHost().explainer.explain(dmarRecord(RebuiltHost.readOnly + 0x10, reason: "0x05", write: true))
        #expect(explanation.cause == .readOnly)
        #expect(explanation.reasons?.model == "0x85")
        #expect(explanation.reasons?.agree == true)
        #expect(explanation.sentence.contains("is mapped read-only in 0000:03:00.0's DMA domain"))
    }

    @Test func disagreeingReasonsAreSaid() throws {
        // The log says "not present" (0x71) where the model finds a present read-only leaf.
        let explanation = try RebuiltHost().explainer.explain(dmarRecord(RebuiltHost.readOnly, reason: "0x71", write: true))
        #expect(explanation.cause == .readOnly)
        #expect(explanation.reasons?.agree == false)
        #expect(explanation.sentence.hasSuffix("the model 0x85: they disagree"))
    }

    @Test func mappedAddressTranslatesNow() throws {
        let explanation = try RebuiltHost().explainer.explain(dmarRecord(RebuiltHost.mapped + 0x234))
        #expect(explanation.cause == .translatesNow)
        guard case .translated(let translation) = explanation.outcome else { Issue.record("no translation"); return }
        #expect(translation.output == RebuiltHost.output + 0x234)
        #expect(explanation.sentence.contains("(to 0x123400234, rw)"))
    }

    @Test func msiWindowIsAReservedRegion() throws {
        let explanation = try RebuiltHost().explainer.explain(dmarRecord(0xfee0_1000))
        #expect(explanation.cause == .reservedRegion)
        #expect(explanation.sentence.contains("reserved region 0xfee00000-0xfeefffff (msi)"))
    }

    @Test func beyondTheInputRangeIsOutsideTheAperture() throws {
        let explanation = try RebuiltHost().explainer.explain(dmarRecord(0x1_0000_0000_0000, reason: "0x04"))
        #expect(explanation.cause == .outsideAperture)
        #expect(explanation.reasons?.agree == true)
    }

    @Test func partialDumpsAreUnknownNotUnmapped() throws {
        let hole = IOVARange(start: 0x7000_0000, last: 0x7fff_ffff)
        let host = try RebuiltHost(coverage: .partial(unknown: [hole]))
        #expect(host.explainer.explain(dmarRecord(0x7ebb_0000)).cause == .unknownTables)
        // Outside the unknown range the dump is complete: unmapped.
        #expect(host.explainer.explain(dmarRecord(0x9000_0000)).cause == .unmapped)
        let rootOnly = try RebuiltHost(coverage: .rootOnly(reason: "no domain dump"))
        let explanation = rootOnly.explainer.explain(dmarRecord(0x9000_0000))
        #expect(explanation.cause == .unknownTables)
        #expect(explanation.sentence.hasPrefix("the tables on 0000:03:00.0's path to 0x90000000 were not dumped"))
        // What the model does not know is not set against the logged reason.
        #expect(explanation.sentence.hasSuffix("; the log says 0x06") && explanation.reasons?.model == nil)
    }

    @Test func aDeviceWithoutADumpIsUnknownOnAHostAndConfigurationInAScenario() throws {
        let host = try RebuiltHost()
        // 0000:00:02.0 has no rebuilt table and no configuration in memory.
        let record = dmarRecord(0x1000, reason: "0x02", device: "0000:00:02.0")
        #expect(host.explainer.explain(record).cause == .unknownTables)
        let scenario = FaultExplainer(scenarioMachine: host.machine, unmapped: [])
        let explanation = scenario.explain(record)
        #expect(explanation.cause == .configuration)
        #expect(explanation.reasons?.agree == true)
        #expect(explanation.sentence.hasPrefix("0000:00:02.0's configuration stops the DMA before any page table: 0x"))
    }

    @Test func staleAfterUnmapNeedsTheScenarioHistory() throws {
        let host = try RebuiltHost()
        let unmap = UnmappedRange(ioas: 2, range: IOVARange(start: 0x7eb0_0000, last: 0x7ebf_ffff), line: 12)
        let explanation = FaultExplainer(scenarioMachine: host.machine, unmapped: [unmap]).explain(dmarRecord(0x7ebb_0000))
        #expect(explanation.cause == .staleAfterUnmap)
        #expect(explanation.sentence.hasPrefix("0x7ebb0000 was mapped until line 12 unmapped 0x7eb00000-0x7ebfffff from IOAS 2"))
        // Another address was never mapped.
        #expect(FaultExplainer(scenarioMachine: host.machine, unmapped: [unmap]).explain(dmarRecord(0x9000_0000)).cause == .unmapped)
    }

    @Test func devicesAreFoundByNameOrRequesterID() throws {
        let host = try RebuiltHost()
        #expect(host.explainer.explain(dmarRecord(0x1000, device: "0000:09:00.0")).cause == .noDevice)
        #expect(host.explainer.explain(dmarRecord(0x1000, device: nil)).sentence == "the record names no device")
        // A VT-d source-id without the segment the sysfs name has still matches.
        var record = dmarRecord(RebuiltHost.mapped)
        record.device = .pci(PCIAddress(segment: 0x7, bus: 3, device: 0, function: 0))
        #expect(host.explainer.explain(record).device == "0000:03:00.0")
        var noAddress = dmarRecord(nil)
        noAddress.device = .named("0000:03:00.0")
        let explanation = host.explainer.explain(noAddress)
        #expect(explanation.cause == .notModelled)
        #expect(explanation.sentence == "the model cannot replay 0000:03:00.0's DMA: the record has no address")
    }

    @Test func amdPageFaultFlagsDecideTheKind() throws {
        let host = try RebuiltHost(snapshot: HostFixtures.single(unit: "ivhd0", .amdVi, group: 4), device: "0000:01:00.0")
        var record = HostImport.FaultRecord(sourceLine: 1, architecture: .amdVi, reason: "IO_PAGE_FAULT")
        record.device = .pci(PCIAddress(bus: 1, device: 0, function: 0))
        record.address = 0x4000_0000
        record.flags = 0x0000
        let notPresent = host.explainer.explain(record)
        #expect(notPresent.cause == .unmapped)
        #expect(notPresent.reasons == ReasonComparison(logged: "IO_PAGE_FAULT", model: "IO_PAGE_FAULT", agree: true))
        record.flags = 0x0010   // PR: the page was present, the model says it is not
        #expect(host.explainer.explain(record).reasons?.agree == false)
    }

    @Test func smmuStreamIDsFindTheDevice() throws {
        let host = try RebuiltHost(snapshot: HostFixtures.single(unit: "smmu3.0x0000000005000000", .armSMMUv3, group: 0),
                                   device: "0000:01:00.0")
        var record = HostImport.FaultRecord(sourceLine: 1, architecture: .armSMMUv3, reason: "F_TRANSLATION")
        record.iommu = "5000000.iommu"
        record.sid = 0x100
        record.address = 0x4000_0000
        record.access = .write
        let explanation = host.explainer.explain(record)
        #expect(explanation.device == "0000:01:00.0")
        #expect(explanation.cause == .unmapped)
        #expect(explanation.reasons == ReasonComparison(logged: "F_TRANSLATION", model: "F_TRANSLATION", agree: true))
    }

    @Test func loggedTextIsEscaped() throws {
        let host = try RebuiltHost()
        var record = dmarRecord(0x7ebb_0000, reason: "0x06\u{1b}[2J")
        record.device = .named("evil\u{1b}]0;x\u{7}")
        #expect(!host.explainer.explain(record).sentence.contains("\u{1b}"))
        record.device = .pci(PCIAddress(bus: 3, device: 0, function: 0))
        #expect(!host.explainer.explain(record).sentence.contains("\u{1b}"))
    }

    /// Random records (any architecture, reason, device, address) on a rebuilt host never trap.
    @Test func randomRecordsNeverTrap() throws {
        let host = try RebuiltHost()
        var random = SplitMix64(seed: 0xfa17)
        let reasons = ["0x06", "0x71", "F_TRANSLATION", "C_BAD_STE", "IO_PAGE_FAULT", "io_page_fault", "6", "0xzz", "", "0x1ff"]
        for _ in 0..<300 {
            var record = HostImport.FaultRecord(sourceLine: random.below(100), architecture: random.pick(HostImport.FaultRecord.Architecture.allCases),
                                                reason: random.pick(reasons))
            if random.chance(3, in: 4) { record.device = .pci(PCIAddress(requesterID: UInt16(truncatingIfNeeded: random.next()) & 0x3ff)) }
            if random.chance(1, in: 4) { record.sid = UInt32(truncatingIfNeeded: random.next()) & 0x3ff }
            if random.chance(5, in: 6) { record.address = random.chance(1, in: 2) ? random.next() : random.next() >> 34 }
            if random.chance(1, in: 3) { record.pasid = UInt32(random.below(4)) }
            if random.chance(1, in: 2) { record.flags = random.next() & 0xfff }
            record.access = random.chance(1, in: 2) ? .write : .read
            let explanation = host.explainer.explain(record)
            #expect(!explanation.sentence.isEmpty)
        }
    }
}

@Suite struct HostTableCoverageTests {
    @Test func coverageAndStage() throws {
        let unknown = IOVARange(start: 0x10_0000, last: 0x1f_ffff)
        let table = HostDomainTable(unit: "dmar0", device: "0000:00:02.0", pasid: nil, format: X86FirstStage(levels: 4), root: 0x1000,
                                    coverage: .partial(unknown: [unknown]))
        #expect(table.covers(0xf_ffff) && !table.covers(0x10_0000) && table.covers(0x20_0000))
        #expect(!table.covers(IOVARange(start: 0, last: 0x10_0000)))
        #expect(table.stage == .stage1)
        var report = TableRebuildReport()
        report.tables = [table, HostDomainTable(unit: "dmar0", device: "0000:00:02.0", pasid: 1, format: VTdSecondStage(), root: 0x2000,
                                                coverage: .rootOnly(reason: "no dump"))]
        #expect(report.knows(0x1000, device: "0000:00:02.0", pasid: nil))
        #expect(!report.knows(0x1000, device: "0000:00:02.0", pasid: 1))
        #expect(!report.knows(0x1000, device: "0000:00:03.0", pasid: nil))
        #expect(report.tables[1].stage == .stage2)
    }
}
