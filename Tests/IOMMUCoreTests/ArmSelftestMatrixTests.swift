import Testing
import TestSupport
@testable import IOMMUCore

/// `arm_lpae_do_selftests`: every granule x IAS x OAS (IAS <= OAS) configuration, stage 1 and
/// stage 2, run through `DescriptorPageTable` as `arm_lpae_run_tests` runs io-pgtable-arm.
struct ArmSelftestMatrixTests {
    struct Configuration: CustomTestStringConvertible, Sendable {
        var stage: ArmLPAE.Stage
        var granule: UInt64
        var ias: Int
        var oas: Int
        var testDescription: String { "S\(stage.rawValue) \(granule / 1024)K ias \(ias) oas \(oas)" }
    }

    static let configurations: [Configuration] = {
        let sizes = [32, 36, 40, 42, 44, 48]
        var all: [Configuration] = []
        for stage in [ArmLPAE.Stage.stage1, .stage2] {
            for granule: UInt64 in [4096, 16384, 65536] {
                for ias in sizes { for oas in sizes where ias <= oas { all.append(Configuration(stage: stage, granule: granule, ias: ias, oas: oas)) } }
            }
        }
        return all
    }()

    @Test func matrixSize() { #expect(Self.configurations.count == 126) }

    @Test(arguments: configurations)
    func runTests(_ configuration: Configuration) throws {
        let format = ArmLPAE(stage: configuration.stage, granule: configuration.granule, ias: configuration.ias, oas: configuration.oas)
        let table = try DescriptorPageTable(format: format, memory: PhysicalMemory())
        let prot: IOMMUProt = [.read, .write, .noExec, .cache]
        // 1. An empty table translates nothing.
        for address: UInt64 in [42, (1 << 30) + 42, (2 << 30) + 42] { #expect(table.lookup(address) == nil) }
        // 2. Each page size at iova = i GiB maps, refuses an overlapping map, and translates.
        var sizes: [UInt64] = []
        var bitmap = format.pageSizes
        while bitmap != 0 { sizes.append(1 << UInt64(bitmap.trailingZeroBitCount)); bitmap &= bitmap - 1 }
        sizes = sizes.filter { $0 < 1 << UInt64(configuration.ias) }
        var iova: UInt64 = 0
        for size in sizes {
            try table.map(iova: iova, output: iova, length: size, prot: prot)
            #expect(refusal { try table.map(iova: iova, output: iova + size, length: size, prot: [.read, .noExec]) }?.errno == .EEXIST)
            #expect(table.lookup(iova + 42)?.output == iova + 42)
            let leaf = try #require(table.path(to: iova).last)
            #expect(leaf.kind == (size == format.granule ? .page : .block))
            #expect(format.entrySpan(level: leaf.level) == size)
            #expect(leaf.descriptor == format.encodeLeaf(iova, size: size, level: leaf.level, prot: prot))
            iova += 1 << 30
        }
        // 3. Unmap each, then remap write-only.
        iova = 0
        for size in sizes {
            #expect(table.unmap(iova: iova, length: size) == size)
            #expect(table.lookup(iova + 42) == nil)
            try table.map(iova: iova, output: iova, length: size, prot: .write)
            #expect(table.lookup(iova + 42)?.output == iova + 42)
            iova += 1 << 30
        }
        // 4. The last largest page of the IAS (corner cases of concatenated tables).
        let largest = sizes.last!
        let last = (1 << UInt64(format.ias)) - largest
        try table.map(iova: last, output: last, length: largest, prot: prot)
        #expect(table.lookup(last + 42)?.output == last + 42)
        let top = try #require(table.path(to: last).first)
        #expect(top.index == format.index(of: last, level: format.startLevel))
        #expect(top.entryAddress - table.root == UInt64(top.index) * 8)
        #expect(table.unmap(iova: last, length: largest) == largest)
        #expect(table.lookup(last + 42) == nil)
    }

    /// Leaf placement (`arm_lpae_init_pte` as the selftest drives it): level and index of each selftest mapping.
    @Test func leafPlacement() throws {
        let format = ArmLPAE(stage: .stage2, granule: 4096, ias: 40, oas: 40)
        let table = try DescriptorPageTable(format: format, memory: PhysicalMemory())
        try table.map(iova: 0xFF_C000_0000, output: 0xFF_C000_0000, length: 1 << 30, prot: [.read, .write, .cache])
        let path = table.path(to: 0xFF_C000_0000)
        #expect(path.count == 1)
        #expect(path[0].level == 1)
        #expect(path[0].index == 0x3ff)
        #expect(path[0].entryAddress - table.root == 0x1ff8)
        let fourK = try DescriptorPageTable(format: ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48), memory: PhysicalMemory())
        try fourK.map(iova: 0x4000_0000, output: 0x4000_0000, length: 2 << 20, prot: [.read])
        #expect(fourK.path(to: 0x4000_0000).map(\.index) == [0, 1, 0])
        try fourK.map(iova: 0x1234_5000, output: 0x8000_0000, length: 4096, prot: [.read, .write, .noExec, .cache])
        let leaf = fourK.path(to: 0x1234_5000)
        #expect(leaf.map(\.index) == [0, 0, 0x91, 0x145])
        #expect(leaf.last?.descriptor == 0x0060_0000_8000_0F47)
    }
}
