import Testing
import TestSupport
@testable import IOMMUCore

/// A series of `count` runs of `length` bytes, outputs top-down from `output` (stride −`length`
/// unless given), as the process memory hands out chunks.
private func series(_ output: UInt64, length: UInt64, count: UInt64, stride: Int64? = nil) -> PhysicalRunSeries {
    PhysicalRunSeries(output: output, length: length, count: count, stride: stride ?? -Int64(length))
}

/// Maps `runs` from `iova` one `map` call per run, as `iopt_area_fill_domain` did before the
/// batch entry point.
private func mapRunByRun(_ table: some IOPageTableOps, iova: UInt64, _ runs: PhysicalRunSeries, prot: IOMMUProt) throws(Refusal) {
    for index in 0..<runs.count {
        try table.map(iova: iova + index * runs.length, output: runs.output(ofRun: index), length: runs.length, prot: prot)
    }
}

/// Every word of every table the two page tables allocated, which must be the same tables
/// (fresh memories allocate alike) holding the same descriptors.
private func expectSameDescriptors(_ batch: DescriptorPageTable, _ reference: DescriptorPageTable) {
    #expect(batch.tables == reference.tables)
    #expect(batch.root == reference.root)
    #expect(batch.format.name == reference.format.name)
    guard let memory = batch.memory as? PhysicalMemory, let referenceMemory = reference.memory as? PhysicalMemory else {
        Issue.record("the tables do not live in physical memory")
        return
    }
    for table in batch.tables {
        #expect(memory.peek64(table, count: 512) == referenceMemory.peek64(table, count: 512), "table \(table.hex)")
    }
}

/// The batch map and the series index against one `map` call per run and one index entry per
/// run: the same descriptors, the same mappings, the same errnos.
struct MappingSeriesTests {
    static let arm = ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48)
    static let prot: IOMMUProt = [.read, .write, .cache]

    /// Two page tables over fresh memories, the first mapped by series, the second run by run.
    private func pair(_ format: any PageTableFormat = Self.arm) throws -> (DescriptorPageTable, DescriptorPageTable) {
        (try DescriptorPageTable(format: format, memory: PhysicalMemory()), try DescriptorPageTable(format: format, memory: PhysicalMemory()))
    }

    @Test func batchAcrossLeafTablesMatchesRunByRun() throws {
        let (batch, reference) = try pair()
        // 1100 pages from one page below a 2M boundary: three leaf tables, a new one at 2M and 4M.
        let runs = series(0x8000_0000, length: 4096, count: 1100)
        try batch.map(iova: 0x1F_F000, runs: runs, prot: Self.prot)
        try mapRunByRun(reference, iova: 0x1F_F000, runs, prot: Self.prot)
        expectSameDescriptors(batch, reference)
        #expect(batch.mappingCount == 1100)
        #expect(batch.mappings(in: .all) == reference.mappings(in: .all))
        #expect(batch.lookup(0x1F_F000 + 1099 * 4096 + 5)?.output == 0x8000_0000 - 1099 * 4096 + 5)
        #expect(batch.lookup(0x1F_F000 + 1100 * 4096) == nil)
    }

    @Test func twoMegabyteStretchesMapAsBlocks() throws {
        let (batch, reference) = try pair()
        // 4M runs whose outputs are 2M-aligned: two blocks each; then a run 4K past a 2M
        // boundary that only pages can map, then one from the boundary: a block and pages.
        let blocks = series(0x4000_0000, length: 4 << 20, count: 3)
        try batch.map(iova: 0x4000_0000, runs: blocks, prot: Self.prot)
        try mapRunByRun(reference, iova: 0x4000_0000, blocks, prot: Self.prot)
        let mixed = series(0x9000_1000, length: (2 << 20) + 4096, count: 2, stride: 4 << 20)
        try batch.map(iova: 0x5000_1000, runs: mixed, prot: Self.prot)
        try mapRunByRun(reference, iova: 0x5000_1000, mixed, prot: Self.prot)
        expectSameDescriptors(batch, reference)
        #expect(batch.path(to: 0x4000_0000 + (6 << 20)).last?.kind == .block)
        #expect(batch.path(to: 0x5000_1000).last?.kind == .page)
        #expect(batch.mappings(in: .all) == reference.mappings(in: .all))
        #expect(batch.mappingCount == 5)
    }

    @Test func failureInTheMiddleRollsTheSeriesBack() throws {
        let (batch, reference) = try pair()
        let iova: UInt64 = 0x10_0000
        try batch.map(iova: iova + 700 * 4096, output: 0x7000_0000, length: 4096, prot: Self.prot)
        try reference.map(iova: iova + 700 * 4096, output: 0x7000_0000, length: 4096, prot: Self.prot)
        let runs = series(0x8000_0000, length: 4096, count: 1000)
        let failure = refusal { try batch.map(iova: iova, runs: runs, prot: Self.prot) }
        let expected = refusal { try reference.map(iova: iova, runs: runs, prot: Self.prot) }
        #expect(failure?.errno == .EEXIST)
        #expect(failure == expected)
        #expect(failure?.ranges.map(\.range) == [IOVARange(start: iova + 700 * 4096, length: 4096)!, IOVARange(start: iova + 700 * 4096, length: 4096)!])
        expectSameDescriptors(batch, reference)
        #expect(batch.mappingCount == 1)
        #expect(batch.lookup(iova) == nil)
        #expect(batch.lookup(iova + 700 * 4096)?.output == 0x7000_0000)
    }

    @Test func unalignedRunFailsAsItsOwnCallWould() throws {
        let (batch, reference) = try pair()
        // The third run's output is off the granule: EINVAL naming that run.
        let runs = series(0x8000_0000, length: 4096, count: 5, stride: 0x800)
        let failure = refusal { try batch.map(iova: 0x10_0000, runs: runs, prot: Self.prot) }
        let expected = refusal { try mapRunByRun(reference, iova: 0x10_0000, runs, prot: Self.prot) }
        #expect(failure?.errno == .EINVAL)
        #expect(failure == expected)
        #expect(batch.mappingCount == 0)
        #expect(batch.lookup(0x10_0000) == nil)
    }

    @Test func dynamicTopGrowsAndReplicatesInABatch() throws {
        // AMD v1 from mode 3 (39 bits): 16K runs (four replicated PTEs each) that cross 2^39.
        let (batch, reference) = try pair(AMDv1(mode: 3, maximumMode: 5))
        let iova: UInt64 = (1 << 39) - 8 * 16384
        let runs = series(0x10_0000_0000, length: 16384, count: 16)
        try batch.map(iova: iova, runs: runs, prot: [.read, .write])
        try mapRunByRun(reference, iova: iova, runs, prot: [.read, .write])
        expectSameDescriptors(batch, reference)
        #expect(batch.format.name == "amd-v1 mode=4")
        #expect(batch.mappings(in: .all) == reference.mappings(in: .all))
        #expect(batch.lookup(iova + 15 * 16384 + 4096)?.output == 0x10_0000_0000 - 15 * 16384 + 4096)
    }

    /// The index against the selftest's xarray of one entry per run (`FlatPageTable`, which
    /// maps a series run by run): the same runs after unmaps that cut a series in its middle,
    /// at its ends and through a run.
    @Test func unmapSplitsSeriesLikeOneEntryPerRun() throws {
        let table = try DescriptorPageTable(format: Self.arm, memory: PhysicalMemory())
        let flat = FlatPageTable(pageSizes: Self.arm.pageSizes)
        let iova: UInt64 = 0x100_0000
        // Ten runs of 12K.
        let runs = series(0x8000_0000, length: 3 * 4096, count: 10)
        try table.map(iova: iova, runs: runs, prot: Self.prot)
        try flat.map(iova: iova, runs: runs, prot: Self.prot)
        #expect(table.mappingCount == 10)
        func run(_ index: UInt64) -> UInt64 { iova + index * 3 * 4096 }
        // Partial ranges: from inside run 5 to inside run 7.
        let partial = IOVARange(start: run(5) + 4096, last: run(7) + 4095)
        #expect(table.mappings(in: partial).map(\.iova.start) == [run(5), run(6), run(7)])
        #expect(table.mappings(in: partial) == flat.mappings(in: partial))
        #expect(table.mappings(in: IOVARange(start: run(3) + 5, last: run(3) + 5)) == flat.mappings(in: IOVARange(start: run(3) + 5, last: run(3) + 5)))
        // The middle page of run 3, then run 0 and run 9 whole, then from inside run 6 to inside run 7.
        let cuts: [(UInt64, UInt64)] = [(run(3) + 4096, 4096), (run(0), 3 * 4096), (run(9), 3 * 4096), (run(6) + 8192, 8192)]
        for (start, length) in cuts {
            #expect(table.unmap(iova: start, length: length) == flat.unmap(iova: start, length: length))
            #expect(table.mappings(in: .all) == flat.mappings(in: .all))
            #expect(table.mappingCount == flat.mappingCount)
        }
        #expect(table.mappingCount == 9)
        #expect(table.lookup(run(3) + 4096) == nil)
        #expect(table.lookup(run(3) + 8192)?.output == runs.output(ofRun: 3) + 8192)
        #expect(table.lookup(run(6) + 8192) == nil)
        #expect(table.lookup(run(7)) == nil)
        #expect(table.lookup(run(7) + 4096)?.output == runs.output(ofRun: 7) + 4096)
        // Everything: nothing left, the bytes of what was left counted.
        #expect(table.unmap(iova: 0, length: .max) == flat.unmap(iova: 0, length: .max))
        #expect(table.mappingCount == 0)
        #expect(table.mappings(in: .all).isEmpty)
    }

    @Test func processMemoryRunsMatchTheLookups() throws {
        let physical = PhysicalMemory()
        var memory = ProcessMemory()
        let small = try memory.mmap(length: 40 * 4096, alignment: 4096, physical: physical)
        let huge = try memory.mmap(length: 3 * hugePageSize, alignment: hugePageSize, physical: physical)
        for (start, length) in [(small + 4096, UInt64(30 * 4096)), (huge + 8192, 2 * hugePageSize + 4096), (huge, 3 * hugePageSize)] {
            let (runs, covered) = memory.physicalRuns(from: start, length: length)
            #expect(covered == length)
            var expected: [(UInt64, UInt64)] = [], offset: UInt64 = 0
            while offset < length {
                let run = memory.contiguousLength(at: start + offset, limit: length - offset)
                expected.append((memory.physicalAddress(of: start + offset)!, run))
                offset += run
            }
            let expanded = runs.flatMap { series in (0..<series.count).map { (series.output(ofRun: $0), series.length) } }
            #expect(expanded.map(\.0) == expected.map(\.0))
            #expect(expanded.map(\.1) == expected.map(\.1))
        }
        #expect(memory.physicalRuns(from: small, length: 40 * 4096).runs.count == 1)
        // Past the end of the small mapping (a gap before the huge one): covered stops there.
        try memory.munmap(start: small + 20 * 4096, length: 4096)
        #expect(memory.physicalRuns(from: small, length: 40 * 4096).covered == 20 * 4096)
        #expect(memory.physicalRuns(from: small, length: 40 * 4096, pinned: true).covered == 40 * 4096)
    }
}
