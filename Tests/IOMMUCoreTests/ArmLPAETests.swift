import Testing
@testable import IOMMUCore

/// The Arm LPAE geometry and encodings against vectors computed from io-pgtable-arm.c and its
/// selftest (`arm_lpae_run_tests`).
struct ArmLPAETests {
    @Test func workedExampleIndices() {
        let address: UInt64 = 0x1234_5000
        let fourK = ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48)
        #expect(fourK.levels == [0, 1, 2, 3])
        #expect(fourK.levels.map { fourK.index(of: address, level: $0) } == [0, 0, 0x91, 0x145])
        let sixteenK = ArmLPAE(stage: .stage1, granule: 16384, ias: 48, oas: 48)
        #expect(sixteenK.levels.map { sixteenK.index(of: address, level: $0) } == [0, 0, 0x9, 0xd1])
        #expect(sixteenK.rootTableSize == 2 * 8)
        let sixtyFourK = ArmLPAE(stage: .stage1, granule: 65536, ias: 48, oas: 48)
        #expect(sixtyFourK.levels == [1, 2, 3])
        #expect(sixtyFourK.levels.map { sixtyFourK.index(of: address, level: $0) } == [0, 0, 0x1234])
        #expect(sixtyFourK.rootTableSize == 64 * 8)
    }

    @Test func stage2ConcatenationFortyBits() {
        let format = ArmLPAE(stage: .stage2, granule: 4096, ias: 40, oas: 40)
        #expect(format.startLevel == 1)
        #expect(format.concatenatedTables == 2)
        #expect(format.rootTableSize == 8192)
        #expect(format.sl0 == 1)
        #expect(format.t0sz == 24)
        let ipa: UInt64 = 0x80_1234_5000
        #expect(format.levels.map { format.index(of: ipa, level: $0) } == [0x200, 0x91, 0x145])
        #expect(format.index(of: 0xFF_C000_0000, level: 1) == 0x3ff)
    }

    /// The stage-2 concatenation matrix (`arm_lpae_concat_mandatory` in io-pgtable-arm.c): start level, PGD entries, tables, SL0.
    @Test(arguments: [
        (4096, 42, 42, 1, 4096, 8, 1), (4096, 40, 44, 0, 2, 1, 2), (4096, 48, 48, 0, 512, 1, 2),
        (16384, 40, 40, 2, 32768, 16, 1), (16384, 48, 48, 1, 4096, 2, 2), (16384, 40, 42, 1, 16, 1, 2),
        (65536, 44, 48, 1, 4, 1, 2), (65536, 42, 42, 2, 8192, 1, 1), (4096, 32, 32, 1, 4, 1, 1),
    ])
    func stage2Geometry(_ granule: Int, _ ias: Int, _ oas: Int, _ start: Int, _ entries: Int, _ tables: Int, _ sl0: Int) {
        let format = ArmLPAE(stage: .stage2, granule: UInt64(granule), ias: ias, oas: oas)
        #expect(format.startLevel == start)
        #expect(format.rootTableSize == UInt64(entries * 8))
        #expect(format.concatenatedTables == tables)
        #expect(format.sl0 == UInt64(sl0))
    }

    @Test func selftestDescriptorValues() {
        let s1 = ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48)
        let s2 = ArmLPAE(stage: .stage2, granule: 4096, ias: 48, oas: 48)
        let rwNoExecCache: IOMMUProt = [.read, .write, .noExec, .cache]
        #expect(s1.encodeLeaf(0, size: 4096, level: 3, prot: rwNoExecCache) == 0x0060_0000_0000_0F47)
        #expect(s1.encodeLeaf(0x8000_0000, size: 1 << 30, level: 1, prot: rwNoExecCache) == 0x0060_0000_8000_0F45)
        #expect(s1.encodeLeaf(0, size: 4096, level: 3, prot: .write) == 0x0000_0000_0000_0E43)
        #expect(s1.encodeLeaf(0, size: 4096, level: 3, prot: [.read, .noExec]) == 0x0060_0000_0000_0EC3)
        #expect(s2.encodeLeaf(0, size: 4096, level: 3, prot: rwNoExecCache) == 0x0060_0000_0000_07FF)
        #expect(s2.encodeLeaf(0, size: 2 << 20, level: 2, prot: rwNoExecCache) == 0x0060_0000_0000_07FD)
        #expect(s2.encodeLeaf(0, size: 4096, level: 3, prot: .write) == 0x0000_0000_0000_0697)
        #expect(s2.encodeLeaf(0, size: 4096, level: 3, prot: [.read, .write, .mmio]) == 0x0000_0000_0000_06C7)
        #expect(s1.encodeTable(0x4000_1000, level: 0) == 0x4000_1003)
        #expect(s1.encodeLeaf(0x8000_0000, size: 4096, level: 3, prot: rwNoExecCache) == 0x0060_0000_8000_0F47)
    }

    @Test func fiftyTwoBitPacking() {
        let format = ArmLPAE(stage: .stage1, granule: 65536, ias: 52, oas: 52)
        let address: UInt64 = 0x000A_1234_5678_0000
        let descriptor = format.encodeLeaf(address, size: 65536, level: 3, prot: [.read, .write, .cache])
        #expect(descriptor & ArmLPAE.addressMask == 0x0000_1234_5678_A000)
        #expect(format.outputAddress(of: descriptor, level: 3) == address)
        #expect(format.pageSizes & (4 << 40) != 0)
    }

    @Test func descriptorKinds() {
        let format = ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48)
        #expect(format.kind(of: 0, level: 2) == .invalid)
        #expect(format.kind(of: 0x1003, level: 2) == .table)
        #expect(format.kind(of: 0x1001, level: 2) == .block)
        #expect(format.kind(of: 0x1001, level: 3) == .invalid)
        #expect(format.kind(of: 0x1003, level: 3) == .page)
        // Linux never maps a level-0 block with the 4K granule, and the architecture forbids it.
        #expect(format.kind(of: 0x1001, level: 0) == .invalid)
    }
}

extension ArmLPAETests {
    /// Every descriptor kind decodes into fields without trapping, with the values in place.
    @Test func decodedFields() {
        for stage in [ArmLPAE.Stage.stage1, .stage2] {
            let format = ArmLPAE(stage: stage, granule: 4096, ias: 48, oas: 48)
            let leaf = format.encodeLeaf(0x8000_0000, size: 4096, level: 3, prot: [.read, .cache])
            let fields = format.fields(of: leaf, level: 3)
            #expect(fields.first { $0.name == "output address" }?.value == 0x8000_0000)
            #expect(fields.first { $0.name == "AF" }?.value == 1)
            #expect(fields.first { $0.name == "SH" }?.value == 3)
            let table = format.fields(of: format.encodeTable(0x4000_1000, level: 1), level: 1)
            #expect(table.first { $0.name == "next-level table" }?.value == 0x4000_1000)
            #expect(format.fields(of: 0, level: 2).count == 1)
        }
    }
}

/// The table cursor: entries with the range they cover, pieces of the input space up to
/// its top without overflowing.
struct TableCursorTests {
    @Test func pathRangesAndPiecesToTheTop() throws {
        let memory = PhysicalMemory()
        let table = try DescriptorPageTable(format: X86FirstStage(levels: 4), memory: memory)
        try table.map(iova: 0x4000_0000, output: 0x1_0000_0000, length: 2 << 20, prot: [.read, .write])
        let path = table.cursor().path(to: 0x4000_1234)
        #expect(path.map(\.step.level) == [4, 3, 2])
        #expect(path.map(\.range) == [IOVARange(start: 0, last: (1 << 39) - 1), IOVARange(start: 0x4000_0000, last: 0x7fff_ffff),
                                      IOVARange(start: 0x4000_0000, last: 0x401f_ffff)])
        #expect(path.last?.kind == .block)
        #expect(table.path(to: 0x4000_1234) == path.map(\.step))
        // From the last page: the root's last entry is a hole to 2^64 - 1, and nothing follows.
        let top = table.cursor().pieces(from: .max, count: 4)
        #expect(top.count == 1)
        #expect(top.first?.last?.range == IOVARange(start: 0xffff_ff80_0000_0000, last: .max))
        // Two pieces: the 2M block, then the hole up to the next 2M boundary's table.
        let pieces = table.cursor().pieces(from: 0x4000_0000, count: 2)
        #expect(pieces.map { $0.last!.range.start } == [0x4000_0000, 0x4020_0000])
        // The lower canonical half ends at 2^47 - 1: what follows is not an input address.
        #expect(table.cursor().pieces(from: 0x7fff_ffff_f000, count: 4).count == 1)
        #expect(table.cursor().pieces(from: 0x8000_0000_0000, count: 4).isEmpty)
    }

    /// A 48-bit Arm table ends at 2^48 - 1; past it the root index would wrap onto the
    /// entries of low addresses and list a mapping at 0x1000 again at 2^48 + 0x1000.
    @Test func piecesEndAtTheInputRange() throws {
        let table = try DescriptorPageTable(format: ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48), memory: PhysicalMemory())
        try table.map(iova: 0x1000, output: 0x1_0000_0000, length: 4096, prot: [.read])
        let pieces = table.cursor().pieces(from: 0xffff_ffff_f000, count: 4)
        #expect(pieces.count == 1)
        #expect(pieces.first?.last?.range.last == 0xffff_ffff_ffff)
        #expect(table.cursor().pieces(from: 1 << 48, count: 4).isEmpty)
        #expect(table.cursor().pieces(from: .max, count: 4).isEmpty)
    }
}
