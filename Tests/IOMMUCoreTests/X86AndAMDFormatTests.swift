import Testing
import TestSupport
@testable import IOMMUCore

/// The page sizes of a `pgsize_bitmap`, smallest first.
private func sizes(of bitmap: UInt64) -> [UInt64] {
    var sizes: [UInt64] = []
    var bitmap = bitmap
    while bitmap != 0 { sizes.append(1 << UInt64(bitmap.trailingZeroBitCount)); bitmap &= bitmap - 1 }
    return sizes
}

/// The `count` entries starting at the first of the replicated group holding `entry`.
private func group(_ table: DescriptorPageTable, _ entry: WalkStep, count: Int) throws -> [UInt64] {
    let first = entry.entryAddress - UInt64(entry.index % count) * 8
    return try (0..<count).map { try table.memory.read64(first + UInt64($0) * 8) }
}

/// Maps one page of every size at IOVA = size (the runs [size, 2·size) never overlap), and
/// checks the walk: levels, indices, table and leaf encodings, replication, lookup, EEXIST;
/// then unmaps each and checks the entries are gone.
private func exerciseEverySize(_ format: any PageTableFormat, prot: IOMMUProt = [.read, .write]) throws {
    let table = try DescriptorPageTable(format: format, memory: PhysicalMemory())
    let all = sizes(of: format.pageSizes).filter { $0 <= 1 << UInt64(format.inputBits - 1) }
    #expect(!all.isEmpty)
    func output(for size: UInt64) -> UInt64 { size < 1 << 44 ? size + (1 << 44) : size }
    for size in all {
        let iova = size, pa = output(for: size)
        try table.map(iova: iova, output: pa, length: size, prot: prot)
        #expect(refusal { try table.map(iova: iova, output: pa + size, length: size, prot: prot) }?.errno == .EEXIST)
        #expect(table.lookup(iova + 42)?.output == pa + 42)
        #expect(table.lookup(iova + size - 1)?.output == pa + size - 1)
        let path = table.path(to: iova)
        #expect(path.map(\.level) == Array(format.levels.prefix(path.count)))
        #expect(path.map(\.index) == path.map { format.index(of: iova, level: $0.level) })
        #expect(path.first?.table == table.root)
        for (entry, next) in zip(path, path.dropFirst()) {
            #expect(entry.kind == .table)
            #expect(entry.descriptor == format.encodeTable(next.table, level: entry.level))
            #expect(format.outputAddress(of: entry.descriptor, level: entry.level) == next.table)
            #expect(format.nextLevel(after: entry.level, descriptor: entry.descriptor) == next.level)
        }
        let leaf = try #require(path.last)
        #expect(leaf.kind == (leaf.level == 1 ? .page : .block))
        #expect(format.leafSizes(level: leaf.level).contains(size))
        #expect(leaf.descriptor == format.encodeLeaf(pa, size: size, level: leaf.level, prot: prot))
        #expect(format.leafSize(of: leaf.descriptor, level: leaf.level) == size)
        #expect(format.outputAddress(of: leaf.descriptor, level: leaf.level) == pa)
        let count = format.entriesPerLeaf(size: size, level: leaf.level)
        #expect(UInt64(count) * format.entrySpan(level: leaf.level) == size)
        #expect(try group(table, leaf, count: count) == Array(repeating: leaf.descriptor, count: count))
    }
    for size in all {
        let leaf = try #require(table.path(to: size).last)
        let count = format.entriesPerLeaf(size: size, level: leaf.level)
        #expect(table.unmap(iova: size, length: size) == size)
        #expect(table.lookup(size + 42) == nil)
        #expect(table.path(to: size).last?.kind == .invalid)
        #expect(try group(table, leaf, count: count) == Array(repeating: 0, count: count))
    }
    #expect(table.mappingCount == 0)
}

// MARK: - VT-d second stage

struct VTdSecondStageTests {
    /// `vtdss_pt_iommu_set_prot`: neither R nor W is EINVAL; a FORCE_WRITEABLE table (a nest
    /// parent, ERRATA_772415_SPR17) refuses read-only maps with EINVAL and writes nothing.
    @Test func setProt() throws {
        let plain = try DescriptorPageTable(format: VTdSecondStage(), memory: PhysicalMemory())
        #expect(refusal { try plain.map(iova: 0, output: 0x1000, length: 4096, prot: [.cache]) }?.errno == .EINVAL)
        try plain.map(iova: 0, output: 0x1000, length: 4096, prot: .read)
        let parent = try DescriptorPageTable(format: VTdSecondStage(forceWriteable: true), memory: PhysicalMemory())
        #expect(refusal { try parent.map(iova: 0, output: 0x1000, length: 4096, prot: .read) }?.errno == .EINVAL)
        #expect(parent.mappingCount == 0 && parent.tables.count == 1)
        try parent.map(iova: 0, output: 0x1000, length: 4096, prot: [.read, .write])
        try parent.map(iova: 0x1000, output: 0x2000, length: 4096, prot: .write)
    }

    @Test func geometry() {
        let four = VTdSecondStage(addressWidth: 48)
        #expect(four.levels == [4, 3, 2, 1])
        #expect(four.inputBits == 48 && four.aw == 2)
        #expect(VTdSecondStage(addressWidth: 39).levels == [3, 2, 1])
        #expect(VTdSecondStage(addressWidth: 39).aw == 1)
        let five = VTdSecondStage(levels: 5)
        #expect(five.levels == [5, 4, 3, 2, 1])
        #expect(five.inputBits == 57 && five.aw == 3)
        #expect(four.pageSizes == 4096 | 2 << 20 | 1 << 30)
        #expect(VTdSecondStage(superpages: .twoMiB).pageSizes == 4096 | 2 << 20)
        #expect(VTdSecondStage(superpages: []).pageSizes == 4096)
        #expect(VTdSecondStage.Superpages(capability: 0b11 << 34) == .all)
        #expect(VTdSecondStage.Superpages(capability: 0b01 << 34 | 1 << 38) == .twoMiB)
        #expect(four.leafSizes(level: 4).isEmpty && four.leafSizes(level: 3) == [1 << 30])
        #expect(four.entrySpan(level: 1) == 4096 && four.entrySpan(level: 4) == 1 << 39)
    }

    /// Reference §3.6 / §7.6: IOVA 0x1234_5000 → (0, 0, 0x91, 0x145).
    @Test func workedExampleIndices() {
        let four = VTdSecondStage()
        #expect(four.levels.map { four.index(of: 0x1234_5000, level: $0) } == [0, 0, 0x91, 0x145])
        let five = VTdSecondStage(levels: 5)
        #expect(five.levels.map { five.index(of: 0x1234_5000, level: $0) } == [0, 0, 0, 0x91, 0x145])
        #expect(five.index(of: 0x01FF_FFFF_FFFF_F000, level: 5) == 0x1ff)
        #expect(four.index(of: 0xFFFF_FFFF_F000, level: 4) == 0x1ff)
    }

    /// Reference §3.6: PML4E 0x101003, PDPTE 0x102003, PDE 0x103003, PTE 0xabcde003; the 2 MiB
    /// superpage at 0x8000_0000 is 0x80000083.
    @Test func workedExampleEncodings() {
        let format = VTdSecondStage()
        #expect(format.encodeTable(0x101000, level: 4) == 0x101003)
        #expect(format.encodeTable(0x102000, level: 3) == 0x102003)
        #expect(format.encodeTable(0x103000, level: 2) == 0x103003)
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write]) == 0xabcde003)
        #expect(format.encodeLeaf(0x8000_0000, size: 2 << 20, level: 2, prot: [.read, .write]) == 0x8000_0083)
        #expect(format.encodeLeaf(0x4000_0000, size: 1 << 30, level: 3, prot: .read) == 0x4000_0081)
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: .read) == 0xabcde001)
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: .write) == 0xabcde002)
        // IOMMU_CACHE, NOEXEC and MMIO change nothing; snooping is the domain's.
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write, .cache, .noExec, .mmio]) == 0xabcde003)
        let snoop = VTdSecondStage(snoop: true)
        #expect(snoop.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write]) == 0xabcde803)
        #expect(snoop.encodeLeaf(0x8000_0000, size: 2 << 20, level: 2, prot: [.read, .write]) == 0x8000_0883)
        #expect(snoop.encodeTable(0x101000, level: 4) == 0x101003)
    }

    @Test func decode() {
        let format = VTdSecondStage()
        #expect(format.kind(of: 0, level: 1) == .invalid)
        #expect(format.kind(of: 0xabcde000, level: 1) == .invalid)   // no R, no W: not present
        #expect(format.kind(of: 0x101003, level: 4) == .table)
        #expect(format.kind(of: 0x103002, level: 2) == .table)
        #expect(format.kind(of: 0xabcde003, level: 1) == .page)
        #expect(format.kind(of: 0xabcde083, level: 1) == .page)      // bit 7 ignored in a PTE
        #expect(format.kind(of: 0x8000_0083, level: 2) == .block)
        #expect(format.kind(of: 0x4000_0083, level: 3) == .block)
        #expect(format.kind(of: 0x4000_0083, level: 4) == .invalid)  // PS reserved in a PML4E
        #expect(VTdSecondStage(superpages: .twoMiB).kind(of: 0x4000_0083, level: 3) == .invalid)
        #expect(format.outputAddress(of: 0x101003, level: 4) == 0x101000)
        #expect(format.outputAddress(of: 0x0008_0000_abcd_e803, level: 1) == 0x0008_0000_abcd_e000)
        #expect(format.outputAddress(of: 0x8000_0083, level: 2) == 0x8000_0000)
        #expect(format.leafSize(of: 0x8000_0083, level: 2) == 2 << 20)
        // Ignored high bits (63, 61:52) are not address.
        #expect(format.outputAddress(of: 0xBFF0_0000_abcd_e003, level: 1) == 0xabcde000)

        let leaf = format.fields(of: 0x4000_0000_8000_0A83, level: 2)
        let byName = Dictionary(uniqueKeysWithValues: leaf.map { ($0.name, $0.value) })
        #expect(byName["R"] == 1 && byName["W"] == 1 && byName["X"] == 0)
        #expect(byName["PS"] == 1 && byName["A"] == 0 && byName["D"] == 1 && byName["SNP"] == 1)
        #expect(byName["EMT"] == 0 && byName["IPAT"] == 0 && byName["TM"] == 1)
        #expect(byName["output address"] == 0x8000_0000)
        #expect(leaf.first { $0.name == "output address" }?.bits == 21...51)
        let table = format.fields(of: 0x101003, level: 4)
        #expect(table.map(\.name) == ["R", "W", "X", "PS", "A", "next-level table"])
        #expect(table.last?.value == 0x101000)
        #expect(format.fields(of: 0, level: 3).map(\.name) == ["R", "W"])
        #expect(!format.fields(of: 0xabcde003, level: 1).contains { $0.name == "PS" })
    }

    @Test(arguments: [39, 48, 57])
    func everySize(addressWidth: Int) throws {
        try exerciseEverySize(VTdSecondStage(addressWidth: addressWidth))
        try exerciseEverySize(VTdSecondStage(addressWidth: addressWidth, superpages: [], snoop: true), prot: .read)
    }

    @Test func workedExampleWalk() throws {
        let format = VTdSecondStage()
        let table = try DescriptorPageTable(format: format, memory: PhysicalMemory())
        try table.map(iova: 0x1234_5000, output: 0xabcde000, length: 4096, prot: [.read, .write])
        let path = table.path(to: 0x1234_5000)
        #expect(path.map(\.level) == [4, 3, 2, 1])
        #expect(path.map(\.index) == [0, 0, 0x91, 0x145])
        #expect(path.last?.descriptor == 0xabcde003)
        #expect(path.dropLast().allSatisfy { $0.descriptor & 0xFFF == 0x003 })
        #expect(path[1].entryAddress == path[1].table)
        #expect(path[3].entryAddress == path[3].table + 0x145 * 8)
        #expect(table.lookup(0x1234_5000 + 42)?.output == 0xabcde000 + 42)

        try table.map(iova: 0x4000_0000, output: 0x8000_0000, length: 2 << 20, prot: [.read, .write])
        let superpage = table.path(to: 0x4000_0000)
        #expect(superpage.map(\.index) == [0, 1, 0])
        #expect(superpage.last?.descriptor == 0x8000_0083)
        #expect(superpage.last?.kind == .block)
    }

    /// A 4 MiB run at a 2 MiB-aligned IOVA and PA takes two 2 MiB superpages; without
    /// superpages it takes 1024 PTEs.
    @Test func fourMiBUsesSuperpages() throws {
        let table = try DescriptorPageTable(format: VTdSecondStage(), memory: PhysicalMemory())
        try table.map(iova: 0x20_0000, output: 0x8020_0000, length: 4 << 20, prot: [.read, .write])
        let first = table.path(to: 0x20_0000), second = table.path(to: 0x40_0000)
        #expect(first.last?.level == 2 && second.last?.level == 2)
        #expect(first.last?.descriptor == 0x8020_0083)
        #expect(second.last?.descriptor == 0x8040_0083)
        #expect(table.lookup(0x5F_FFFF)?.output == 0x805F_FFFF)
        #expect(table.lookup(0x60_0000) == nil)
        #expect(table.unmap(iova: 0x20_0000, length: 4 << 20) == 4 << 20)
        #expect(table.lookup(0x20_0000) == nil)

        let small = try DescriptorPageTable(format: VTdSecondStage(superpages: []), memory: PhysicalMemory())
        try small.map(iova: 0x20_0000, output: 0x8020_0000, length: 4 << 20, prot: [.read, .write])
        #expect(small.path(to: 0x20_0000).last?.level == 1)
        #expect(small.path(to: 0x5F_F000).last?.descriptor == 0x805F_F003)
        // A 1 GiB run with only 2 MiB superpages: 512 PDEs.
        let twoMiB = try DescriptorPageTable(format: VTdSecondStage(superpages: .twoMiB), memory: PhysicalMemory())
        try twoMiB.map(iova: 1 << 30, output: 1 << 30, length: 1 << 30, prot: .read)
        #expect(twoMiB.path(to: (1 << 30) + (511 << 21)).last?.descriptor == (1 << 30) + (511 << 21) | 0x81)
        #expect(twoMiB.path(to: 1 << 30).count == 3)
    }

    @Test func beyondAddressWidth() throws {
        let table = try DescriptorPageTable(format: VTdSecondStage(addressWidth: 39), memory: PhysicalMemory())
        #expect(refusal { try table.map(iova: 1 << 39, output: 0, length: 4096, prot: .read) }?.errno == .ERANGE)
        try table.map(iova: (1 << 39) - (1 << 30), output: 1 << 30, length: 1 << 30, prot: .read)
        let path = table.path(to: (1 << 39) - 1)
        #expect(path.count == 1 && path[0].index == 0x1ff && path[0].level == 3)
    }
}

// MARK: - x86-64 first stage

struct X86FirstStageTests {
    /// The reserved-bit classes of x86-64 paging entries (Intel SDM vol. 3A tables 4-15 to
    /// 4-20, VT-d spec §9.7): each one makes a present entry read as invalid at every level
    /// it applies to, and the bits next to them do not.
    @Test func reservedBits() {
        let vtd = X86FirstStage(levels: 4, physicalAddressBits: 48, executeDisableReserved: true)
        let amd = X86FirstStage(levels: 4, encoding: .amdIOPgtableV2)
        let table: UInt64 = 0x1000_0027, twoMiB: UInt64 = 0x4020_00e7, oneGiB: UInt64 = 0x4000_00e7
        for level in 1...4 {
            let entry = level == 1 ? 0x1000_0067 : table
            #expect(vtd.kind(of: entry, level: level) != .invalid)
            #expect(vtd.kind(of: entry | 1 << 48, level: level) == .invalid, "bit 48 at level \(level)")
            #expect(vtd.kind(of: entry | 1 << 51, level: level) == .invalid)
            #expect(vtd.kind(of: entry | 1 << 63, level: level) == .invalid, "XD at level \(level)")
            #expect(vtd.kind(of: entry | 0x7ff << 52, level: level) != .invalid, "ignored bits at level \(level)")
            // AMD v2: MAXPHYADDR 52, bit 63 is NX.
            #expect(amd.kind(of: entry | 1 << 51 | 1 << 63, level: level) != .invalid)
        }
        for format in [vtd, amd] {
            #expect(format.kind(of: twoMiB, level: 2) == .block)
            #expect(format.kind(of: twoMiB | 1 << 12, level: 2) == .block)         // PAT
            #expect(format.kind(of: twoMiB | 1 << 13, level: 2) == .invalid)
            #expect(format.kind(of: twoMiB | 1 << 20, level: 2) == .invalid)
            #expect(format.kind(of: oneGiB, level: 3) == .block)
            #expect(format.kind(of: oneGiB | 1 << 13, level: 3) == .invalid)
            #expect(format.kind(of: oneGiB | 1 << 29, level: 3) == .invalid)
            #expect(format.kind(of: table | 1 << 7, level: 4) == .invalid)          // PS in a PML4E
            #expect(format.kind(of: table | 1 << 20, level: 3) == .table)           // a table's address bits
        }
        #expect(X86FirstStage(levels: 4, gigabytePages: false).kind(of: oneGiB, level: 3) == .invalid)
    }

    @Test func geometry() {
        let four = X86FirstStage()
        #expect(four.levels == [4, 3, 2, 1] && four.inputBits == 48 && four.fspm == 0)
        let five = X86FirstStage(levels: 5)
        #expect(five.levels == [5, 4, 3, 2, 1] && five.inputBits == 57 && five.fspm == 1)
        #expect(X86FirstStage(addressWidth: 57) == five)
        #expect(four.pageSizes == 4096 | 2 << 20 | 1 << 30)
        #expect(X86FirstStage(gigabytePages: false).pageSizes == 4096 | 2 << 20)
        #expect(four.levels.map { four.index(of: 0x1234_5000, level: $0) } == [0, 0, 0x91, 0x145])
        #expect(five.levels.map { five.index(of: 0x1234_5000, level: $0) } == [0, 0, 0, 0x91, 0x145])
    }

    /// Canonical addresses: the upper half is sign-extended from bit 47 (56); Linux's aperture
    /// is the lower half.
    @Test func canonicalAddresses() {
        let four = X86FirstStage(), five = X86FirstStage(levels: 5)
        #expect(four.apertureEnd == 0x7FFF_FFFF_FFFF)
        #expect(five.apertureEnd == 0x00FF_FFFF_FFFF_FFFF)
        #expect(four.isCanonical(0x7FFF_FFFF_FFFF) && four.isCanonical(0xFFFF_8000_0000_0000) && four.isCanonical(.max))
        #expect(!four.isCanonical(0x8000_0000_0000) && !four.isCanonical(0x0001_0000_0000_0000))
        #expect(five.isCanonical(0x8000_0000_0000) && !five.isCanonical(0x0100_0000_0000_0000))
        #expect(five.isCanonical(0xFF00_0000_0000_0000))
        #expect(four.canonical(0x8000_0000_0000) == 0xFFFF_8000_0000_0000)
        #expect(four.canonical(0x1234_5000) == 0x1234_5000)
        #expect(five.canonical(0x0100_0000_0000_0000) == 0xFF00_0000_0000_0000)
        #expect(five.canonical(0x0080_0000_0000_0000) == 0x0080_0000_0000_0000)
        // The upper half indexes the top table from 256; bits 63:48 do not enter the index.
        #expect(four.index(of: 0xFFFF_8000_0000_0000, level: 4) == 256)
        #expect(four.index(of: 0xFFFF_FFFF_FFFF_F000, level: 4) == 511)
        #expect(five.index(of: 0xFF00_0000_0000_0000, level: 5) == 256)
    }

    @Test func encodings() {
        let vtd = X86FirstStage()
        #expect(vtd.encodeTable(0x101000, level: 4) == 0x101027)            // P|RW|U|A
        #expect(vtd.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write]) == 0xabcde067) // P|RW|U|A|D
        #expect(vtd.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: .read) == 0xabcde025)           // P|U|A
        #expect(vtd.encodeLeaf(0x8000_0000, size: 2 << 20, level: 2, prot: [.read, .write]) == 0x8000_00E7)
        #expect(vtd.encodeLeaf(0x4000_0000, size: 1 << 30, level: 3, prot: .read) == 0x4000_00A5)
        #expect(vtd.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write, .noExec, .cache]) == 0xabcde067)
        let amd = X86FirstStage(encoding: .amdIOPgtableV2)
        #expect(amd.encodeTable(0x101000, level: 4) == 0x101067)            // P|RW|US|A|D
        #expect(amd.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write]) == 0xabcde067)
        #expect(amd.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: .read) == 0xabcde065)           // P|US|A|D
        #expect(amd.encodeLeaf(0x8000_0000, size: 2 << 20, level: 2, prot: .read) == 0x8000_00E5)
    }

    @Test func decode() {
        let format = X86FirstStage()
        #expect(format.kind(of: 0, level: 4) == .invalid)
        #expect(format.kind(of: 0x101026, level: 4) == .invalid)            // P clear
        #expect(format.kind(of: 0x101027, level: 4) == .table)
        #expect(format.kind(of: 0x101027, level: 2) == .table)
        #expect(format.kind(of: 0xabcde0A5, level: 1) == .page)              // bit 7 is PAT in a PTE
        #expect(format.kind(of: 0x8000_00E7, level: 2) == .block)
        #expect(format.kind(of: 0x4000_00A5, level: 3) == .block)
        #expect(format.kind(of: 0x4000_00A5, level: 4) == .invalid)          // PS reserved in a PML4E
        #expect(X86FirstStage(gigabytePages: false).kind(of: 0x4000_00A5, level: 3) == .invalid)
        #expect(format.outputAddress(of: 0x8000_1000 | 0xE7, level: 2) == 0x8000_0000) // PAT (bit 12) is not address
        #expect(format.outputAddress(of: 0x8000_0000_abcd_e067, level: 1) == 0xabcde000) // XD
        #expect(format.outputAddress(of: 0x101027, level: 4) == 0x101000)

        let fields = Dictionary(uniqueKeysWithValues: format.fields(of: 0x8000_0000_8000_10E7, level: 2).map { ($0.name, $0.value) })
        #expect(fields["P"] == 1 && fields["R/W"] == 1 && fields["U/S"] == 1 && fields["A"] == 1 && fields["D"] == 1)
        #expect(fields["PS"] == 1 && fields["PAT"] == 1 && fields["G"] == 0 && fields["XD"] == 1)
        #expect(fields["PWT"] == 0 && fields["PCD"] == 0 && fields["output address"] == 0x8000_0000)
        let pte = Dictionary(uniqueKeysWithValues: format.fields(of: 0xabcde0A5, level: 1).map { ($0.name, $0.value) })
        #expect(pte["PAT"] == 1 && pte["PS"] == nil && pte["R/W"] == 0 && pte["output address"] == 0xabcde000)
        #expect(format.fields(of: 0x101027, level: 4).last { $0.name == "next-level table" }?.value == 0x101000)
        #expect(format.fields(of: 0, level: 4).map(\.name) == ["P"])
    }

    @Test(arguments: [4, 5])
    func everySize(levels: Int) throws {
        try exerciseEverySize(X86FirstStage(levels: levels))
        try exerciseEverySize(X86FirstStage(levels: levels, gigabytePages: false), prot: .read)
        try exerciseEverySize(X86FirstStage(levels: levels, encoding: .amdIOPgtableV2), prot: .write)
    }

    @Test func workedExampleWalk() throws {
        let table = try DescriptorPageTable(format: X86FirstStage(), memory: PhysicalMemory())
        try table.map(iova: 0x1234_5000, output: 0xabcde000, length: 4096, prot: [.read, .write])
        let path = table.path(to: 0x1234_5000)
        #expect(path.map(\.level) == [4, 3, 2, 1])
        #expect(path.map(\.index) == [0, 0, 0x91, 0x145])
        #expect(path.dropLast().allSatisfy { $0.descriptor & 0xFFF == 0x027 })
        #expect(path.last?.descriptor == 0xabcde067)
        // The top of the lower half.
        let top = X86FirstStage().apertureEnd + 1 - (1 << 30)
        try table.map(iova: top, output: 1 << 30, length: 1 << 30, prot: .read)
        #expect(table.path(to: top).map(\.index) == [255, 511])
        #expect(table.lookup(top + 42)?.output == (1 << 30) + 42)
        // 4 MiB at a 2 MiB-aligned IOVA: two 2 MiB pages.
        try table.map(iova: 0x20_0000, output: 0x8020_0000, length: 4 << 20, prot: [.read, .write])
        #expect(table.path(to: 0x20_0000).last?.descriptor == 0x8020_00E7)
        #expect(table.path(to: 0x40_0000).last?.descriptor == 0x8040_00E7)
    }
}

// MARK: - AMD-Vi v1

struct AMDv1Tests {
    /// `iommu_v1_map_pages`: neither IR nor IW is EINVAL, and nothing is written.
    @Test func mapWithoutRightsIsEINVAL() throws {
        let table = try DescriptorPageTable(format: AMDv1(), memory: PhysicalMemory())
        #expect(refusal { try table.map(iova: 0, output: 0x1000, length: 4096, prot: [.cache]) }?.errno == .EINVAL)
        #expect(table.mappingCount == 0 && table.tables.count == 1)
        try table.map(iova: 0, output: 0x1000, length: 4096, prot: .write)
    }

    @Test func geometry() {
        let three = AMDv1()
        #expect(three.levels == [3, 2, 1])
        #expect(AMDv1(mode: 6).levels == [6, 5, 4, 3, 2, 1])
        #expect(AMDv1(mode: 1).levels == [1])
        #expect((1...6).map { AMDv1(mode: $0).inputBits } == [21, 30, 39, 48, 57, 64])
        #expect(AMDv1(mode: 6).rootTableSize == 1024 && three.rootTableSize == 4096)
        #expect(AMDv1.linuxLevel(1) == 0 && AMDv1.linuxLevel(3) == 2)
        #expect(three.entrySpan(level: 1) == 4096 && three.entrySpan(level: 3) == 1 << 30)
        // AMD_IOMMU_PGSIZES = GENMASK_ULL(51, 12) ^ SZ_512G, as far as the mode reaches.
        #expect(AMDv1(mode: 1).pageSizes == 0x1F_F000)
        #expect(AMDv1(mode: 2).pageSizes == 0x3FFF_F000)
        #expect(three.pageSizes == 0x7F_FFFF_F000)
        #expect(AMDv1(mode: 4).pageSizes == 0xFFFF_FFFF_F000 & ~(1 << 39))
        #expect(AMDv1(mode: 5).pageSizes == 0x000F_FFFF_FFFF_F000 ^ (1 << 39))
        #expect(AMDv1(mode: 6).pageSizes == 0x000F_FFFF_FFFF_F000 ^ (1 << 39))
        #expect(three.granule == 4096)
    }

    /// Reference §4.1 / §7.7: mode 3, IOVA 0x1234_5000 → (L3 0, L2 0x91, L1 0x145).
    @Test func workedExampleIndices() {
        let three = AMDv1()
        #expect(three.levels.map { three.index(of: 0x1234_5000, level: $0) } == [0, 0x91, 0x145])
        let six = AMDv1(mode: 6)
        #expect(six.index(of: 0xFE00_0000_0000_0000, level: 6) == 0x7f)
        #expect(six.index(of: 0xFFFF_FFFF_FFFF_FFFF, level: 6) == 0x7f)
        #expect(six.index(of: 0x01FF_0000_0000_0000, level: 5) == 0x1ff)
    }

    @Test func leafSizesPerLevel() {
        let three = AMDv1()
        let levelOne: [UInt64] = [4096, 0x10_0000, 0x8_0000, 0x4_0000, 0x2_0000, 0x1_0000, 0x8000, 0x4000, 0x2000]
        #expect(three.leafSizes(level: 1) == levelOne)
        #expect(three.leafSizes(level: 2) == [2 << 20] + (22...29).reversed().map { 1 << UInt64($0) })
        #expect(three.leafSizes(level: 3) == [1 << 30] + (31...38).reversed().map { 1 << UInt64($0) })
        // 512 GiB, the default size of level 4, is excluded (hardware bug).
        #expect(AMDv1(mode: 4).leafSizes(level: 4) == (40...47).reversed().map { 1 << UInt64($0) })
        // Nothing above 2^51; level 6 holds no leaves.
        let levelFive: [UInt64] = [1 << 48, 1 << 51, 1 << 50, 1 << 49]
        #expect(AMDv1(mode: 5).leafSizes(level: 5) == levelFive)
        #expect(AMDv1(mode: 6).leafSizes(level: 6).isEmpty)
        // Every page size sits at exactly one level.
        for mode in 1...6 {
            let format = AMDv1(mode: mode)
            let all = format.levels.flatMap { format.leafSizes(level: $0) }
            #expect(all.count == format.pageSizes.nonzeroBitCount)
            #expect(all.reduce(0, |) == format.pageSizes)
        }
        #expect(three.entriesPerLeaf(size: 4096, level: 1) == 1)
        #expect(three.entriesPerLeaf(size: 1 << 16, level: 1) == 16)
        #expect(three.entriesPerLeaf(size: 1 << 20, level: 1) == 256)
        #expect(three.entriesPerLeaf(size: 8 << 20, level: 2) == 4)
        #expect(three.entriesPerLeaf(size: 1 << 30, level: 3) == 1)
    }

    /// Reference §4.1: PDEs 0x6000000000101401 / 0x6000000000102201, PTE 0x70000000abcde001,
    /// 64 KiB = 16 × 0x7000000100007E01, 32 KiB = 8 × 0x7000000200003E01, 2 MiB default.
    @Test func workedExampleEncodings() {
        let format = AMDv1()
        #expect(format.encodeTable(0x101000, level: 3) == 0x6000_0000_0010_1401)
        #expect(format.encodeTable(0x102000, level: 2) == 0x6000_0000_0010_2201)
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write]) == 0x7000_0000_abcd_e001)
        #expect(format.encodeLeaf(0x1_0000_0000, size: 1 << 16, level: 1, prot: [.read, .write]) == 0x7000_0001_0000_7E01)
        #expect(format.encodeLeaf(0x2_0000_0000, size: 1 << 15, level: 1, prot: [.read, .write]) == 0x7000_0002_0000_3E01)
        #expect(format.encodeLeaf(0x8000_0000, size: 2 << 20, level: 2, prot: [.read, .write]) == 0x7000_0000_8000_0001)
        #expect(format.encodeLeaf(0x8040_0000, size: 4 << 20, level: 2, prot: [.read, .write]) == 0x7000_0000_805F_FE01)
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: .read) == 0x3000_0000_abcd_e001)
        #expect(format.encodeLeaf(0xabcde000, size: 4096, level: 1, prot: .write) == 0x5000_0000_abcd_e001)
        #expect(AMDv1(forceCoherent: false).encodeLeaf(0xabcde000, size: 4096, level: 1, prot: [.read, .write]) == 0x6000_0000_abcd_e001)
        #expect(AMDv1(mode: 6).encodeTable(0x101000, level: 6) == 0x6000_0000_0010_1A01)
    }

    @Test func decode() {
        let format = AMDv1()
        #expect(format.kind(of: 0, level: 3) == .invalid)
        #expect(format.kind(of: 0x6000_0000_0010_1400, level: 3) == .invalid)   // PR clear
        #expect(format.kind(of: 0x6000_0000_0010_1401, level: 3) == .table)
        #expect(format.kind(of: 0x6000_0000_0010_2201, level: 2) == .table)
        #expect(format.kind(of: 0x6000_0000_0010_2201, level: 3) == .table)     // skips level 2
        #expect(format.kind(of: 0x6000_0000_0010_1401, level: 2) == .invalid)   // NextLevel not below
        #expect(format.kind(of: 0x7000_0000_abcd_e001, level: 1) == .page)
        #expect(format.kind(of: 0x7000_0001_0000_7E01, level: 1) == .page)
        #expect(format.kind(of: 0x7000_0000_8000_0001, level: 2) == .block)
        #expect(format.nextLevel(after: 3, descriptor: 0x6000_0000_0010_1401) == 2)
        #expect(format.nextLevel(after: 3, descriptor: 0x6000_0000_0010_2201) == 1)
        #expect(format.nextLevel(after: 3, descriptor: 0) == 2)

        let sixtyFourK: UInt64 = 0x7000_0001_0000_7E01
        #expect(format.leafSize(of: sixtyFourK, level: 1) == 0x10000)
        #expect(format.outputAddress(of: sixtyFourK, level: 1) == 0x1_0000_0000)
        #expect(format.leafSize(of: 0x7000_0002_0000_3E01, level: 1) == 0x8000)
        #expect(format.outputAddress(of: 0x7000_0002_0000_3E01, level: 1) == 0x2_0000_0000)
        #expect(format.leafSize(of: 0x7000_0000_805F_FE01, level: 2) == 4 << 20)
        #expect(format.outputAddress(of: 0x7000_0000_805F_FE01, level: 2) == 0x8040_0000)
        #expect(format.leafSize(of: 0x7000_0000_abcd_e001, level: 1) == 4096)
        #expect(format.leafSize(of: 0x7000_0000_8000_0001, level: 2) == 2 << 20)
        #expect(format.outputAddress(of: 0x6000_0000_0010_1401, level: 3) == 0x101000)

        let pte = Dictionary(uniqueKeysWithValues: format.fields(of: sixtyFourK | 1 << 6, level: 1).map { ($0.name, $0.value) })
        #expect(pte["PR"] == 1 && pte["NextLevel"] == 7 && pte["FC"] == 1 && pte["IR"] == 1 && pte["IW"] == 1)
        #expect(pte["D"] == 1 && pte["A"] == 0 && pte["U"] == 0)
        #expect(pte["page size"] == 0x10000 && pte["output address"] == 0x1_0000_0000)
        #expect(format.fields(of: sixtyFourK, level: 1).first { $0.name == "page size" }?.bits == 12...15)
        let pde = format.fields(of: 0x6000_0000_0010_1401, level: 3)
        #expect(pde.map(\.name) == ["PR", "A", "NextLevel", "next-level table", "IR", "IW"])
        #expect(pde[2].value == 2 && pde[3].value == 0x101000)
        #expect(!format.fields(of: 0x7000_0000_abcd_e001, level: 1).contains { $0.name == "page size" })
        #expect(format.fields(of: 0, level: 1).map(\.name) == ["PR"])
    }

    @Test(arguments: 1...6)
    func everySize(mode: Int) throws {
        try exerciseEverySize(AMDv1(mode: mode))
    }

    @Test func everySizeVariants() throws {
        try exerciseEverySize(AMDv1(forceCoherent: false), prot: .read)
        try exerciseEverySize(AMDv1(mode: 4), prot: .write)
    }

    @Test func workedExampleWalk() throws {
        let table = try DescriptorPageTable(format: AMDv1(), memory: PhysicalMemory())
        try table.map(iova: 0x1234_5000, output: 0xabcde000, length: 4096, prot: [.read, .write])
        let path = table.path(to: 0x1234_5000)
        #expect(path.map(\.level) == [3, 2, 1])
        #expect(path.map(\.index) == [0, 0x91, 0x145])
        #expect(path[0].descriptor == 0x6000_0000_0000_0401 | path[1].table)
        #expect(path[1].descriptor == 0x6000_0000_0000_0201 | path[2].table)
        #expect(path[2].descriptor == 0x7000_0000_abcd_e001)
    }

    /// Reference §4.1: a 64 KiB page at PA 0x1_0000_0000 is 16 copies of 0x7000000100007E01,
    /// and a 32 KiB page at 0x2_0000_0000 is 8 copies of 0x7000000200003E01.
    @Test func replicatedEntries() throws {
        let table = try DescriptorPageTable(format: AMDv1(), memory: PhysicalMemory())
        try table.map(iova: 0x10_0000, output: 0x1_0000_0000, length: 0x10000, prot: [.read, .write])
        try table.map(iova: 0x20_0000, output: 0x2_0000_0000, length: 0x8000, prot: [.read, .write])
        let sixtyFourK = try #require(table.path(to: 0x10_0000).last)
        #expect(sixtyFourK.level == 1 && sixtyFourK.index == 0x100)
        #expect(try group(table, sixtyFourK, count: 16) == Array(repeating: 0x7000_0001_0000_7E01, count: 16))
        #expect(try table.memory.read64(sixtyFourK.entryAddress + 16 * 8) == 0)
        #expect(try table.memory.read64(sixtyFourK.entryAddress - 8) == 0)
        let thirtyTwoK = try #require(table.path(to: 0x20_7000).last)
        #expect(thirtyTwoK.index == 7)
        #expect(try group(table, thirtyTwoK, count: 8) == Array(repeating: 0x7000_0002_0000_3E01, count: 8))
        #expect(table.lookup(0x20_7ABC)?.output == 0x2_0000_7ABC)
        #expect(table.lookup(0x10_FFFF)?.output == 0x1_0000_FFFF)
        #expect(table.lookup(0x11_0000) == nil)
        // Overlapping a replicated page.
        #expect(refusal { try table.map(iova: 0x10_8000, output: 0, length: 4096, prot: .read) }?.errno == .EEXIST)
        #expect(table.unmap(iova: 0x10_0000, length: 0x10000) == 0x10000)
        #expect(try group(table, sixtyFourK, count: 16) == Array(repeating: 0, count: 16))
        #expect(table.lookup(0x10_0000) == nil)
        #expect(table.lookup(0x20_0000)?.output == 0x2_0000_0000)
    }

    /// `largestPage` takes the biggest power of two the alignment and length allow: 4 MiB at
    /// a 4 MiB-aligned IOVA and PA is one 4 MiB page (NextLevel 7, two level-2 entries); at a
    /// 2 MiB-aligned one it is two default 2 MiB pages.
    @Test func largestPages() throws {
        let table = try DescriptorPageTable(format: AMDv1(), memory: PhysicalMemory())
        try table.map(iova: 0x40_0000, output: 0x8040_0000, length: 4 << 20, prot: [.read, .write])
        let four = try #require(table.path(to: 0x40_0000).last)
        #expect(four.level == 2 && four.index == 2 && four.kind == .block)
        #expect(try group(table, four, count: 2) == [0x7000_0000_805F_FE01, 0x7000_0000_805F_FE01])
        #expect(table.lookup(0x7F_FFFF)?.output == 0x807F_FFFF)
        #expect(table.path(to: 0x60_0000).last?.entryAddress == four.entryAddress + 8)

        try table.map(iova: 0xA0_0000, output: 0x80A0_0000, length: 4 << 20, prot: [.read, .write])
        #expect(table.path(to: 0xA0_0000).last?.descriptor == 0x7000_0000_80A0_0001)
        #expect(table.path(to: 0xC0_0000).last?.descriptor == 0x7000_0000_80C0_0001)

        // 8 MiB: four level-2 entries.
        try table.map(iova: 0x100_0000, output: 0x1_0080_0000, length: 8 << 20, prot: .read)
        let eight = try #require(table.path(to: 0x100_0000).last)
        #expect(table.format.leafSize(of: eight.descriptor, level: 2) == 8 << 20)
        #expect(try group(table, eight, count: 4).allSatisfy { $0 == eight.descriptor })
        #expect(table.lookup(0x17F_FFFF)?.output == 0x1_00FF_FFFF)

        // 28 KiB at 4K alignment: 4K, 8K, 16K.
        try table.map(iova: 0x20_1000, output: 0x3_0000_1000, length: 0x7000, prot: [.read, .write])
        let leaves = [0x20_1000, 0x20_2000, 0x20_4000].map { table.path(to: $0).last! }
        #expect(leaves.map { table.format.leafSize(of: $0.descriptor, level: 1) } == [0x1000, 0x2000, 0x4000])
        #expect(table.lookup(0x20_7FFF)?.output == 0x3_0000_7FFF)
        #expect(table.unmap(iova: 0x20_1000, length: 0x7000) == 0x7000)
        #expect(table.lookup(0x20_4000) == nil)

        // The IOVA and PA disagree on alignment: the smaller wins.
        try table.map(iova: 0x200_0000, output: 0x4_0001_0000, length: 1 << 20, prot: .read)
        #expect(table.path(to: 0x200_0000).last.map { table.format.leafSize(of: $0.descriptor, level: 1) } == 0x10000)
    }

    /// Unmapping the head of a 1 MiB page (256 replicated entries) keeps the rest mapped.
    @Test func partialUnmapOfReplicatedPage() throws {
        let table = try DescriptorPageTable(format: AMDv1(), memory: PhysicalMemory())
        try table.map(iova: 0x10_0000, output: 0x5000_0000, length: 1 << 20, prot: [.read, .write])
        let whole = try #require(table.path(to: 0x10_0000).last)
        #expect(table.format.leafSize(of: whole.descriptor, level: 1) == 1 << 20)
        #expect(try group(table, whole, count: 256).allSatisfy { $0 == whole.descriptor })
        #expect(table.unmap(iova: 0x10_0000, length: 0x10000) == 0x10000)
        #expect(table.lookup(0x10_0000) == nil)
        #expect(table.lookup(0x11_0005)?.output == 0x5001_0005)
        let sizes = [0x11_0000, 0x12_0000, 0x14_0000, 0x18_0000].map { iova in
            table.path(to: UInt64(iova)).last.map { table.format.leafSize(of: $0.descriptor, level: 1) }
        }
        #expect(sizes == [0x10000, 0x20000, 0x40000, 0x80000])
        #expect(table.lookup(0x1F_FFFF)?.output == 0x500F_FFFF)
    }

    @Test func modeLimits() throws {
        let one = try DescriptorPageTable(format: AMDv1(mode: 1), memory: PhysicalMemory())
        #expect(refusal { try one.map(iova: 2 << 20, output: 0, length: 4096, prot: .read) }?.errno == .ERANGE)
        try one.map(iova: 0, output: 0x1_0000_0000, length: 2 << 20, prot: .read)
        #expect(one.path(to: 0).count == 1)
        #expect(one.path(to: 0).first?.descriptor == AMDv1(mode: 1).encodeLeaf(0x1_0000_0000, size: 1 << 20, level: 1, prot: .read))

        // Mode 6: the full 64-bit space, a 128-entry root.
        let six = try DescriptorPageTable(format: AMDv1(mode: 6), memory: PhysicalMemory())
        try six.map(iova: 0xFFFF_FFFF_FFFF_F000, output: 0xabcde000, length: 4096, prot: [.read, .write])
        let path = six.path(to: 0xFFFF_FFFF_FFFF_F000)
        #expect(path.map(\.level) == [6, 5, 4, 3, 2, 1])
        #expect(path.map(\.index) == [0x7f, 0x1ff, 0x1ff, 0x1ff, 0x1ff, 0x1ff])
        #expect(path[0].entryAddress == six.root + 0x7f * 8)
        #expect(path[0].descriptor & 0xE00 == 5 << 9)
        #expect(six.lookup(0xFFFF_FFFF_FFFF_FFFF)?.output == 0xabcd_efff)
    }
}
