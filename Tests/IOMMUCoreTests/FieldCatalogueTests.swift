import Testing
@testable import IOMMUCore

/// Every format the drivers build, with the variants that change the fields (stage, granule,
/// 52-bit output, DBM, encodings, level counts).
private let formats: [any PageTableFormat] = [
    ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48, hardwareDirty: true),
    ArmLPAE(stage: .stage1, granule: 16384, ias: 48, oas: 48),
    ArmLPAE(stage: .stage1, granule: 65536, ias: 52, oas: 52),
    ArmLPAE(stage: .stage2, granule: 4096, ias: 40, oas: 40),
    ArmLPAE(stage: .stage2, granule: 16384, ias: 48, oas: 48, s2fwb: true),
    ArmLPAE(stage: .stage2, granule: 65536, ias: 52, oas: 52),
    X86FirstStage(levels: 4), X86FirstStage(levels: 5, encoding: .amdIOPgtableV2),
    VTdSecondStage(addressWidth: 39), VTdSecondStage(addressWidth: 48, snoop: true), VTdSecondStage(addressWidth: 57),
    AMDv1(mode: 3), AMDv1(mode: 6),
]

/// The descriptors Linux writes in each format at each level (a table entry; every leaf size
/// with every permission, then as the hardware leaves it after a write), and an empty entry.
private func descriptors(_ format: any PageTableFormat) -> [(descriptor: UInt64, level: Int)] {
    let prots: [IOMMUProt] = [[.read], [.read, .write, .cache], [.read, .write, .noExec], [.write, .mmio]]
    var result: [(UInt64, Int)] = []
    for level in format.levels {
        result.append((0, level))
        if level != format.leafLevel { result.append((format.encodeTable(0x0000_8765_4321_0000 & ~(format.tableSize - 1), level: level), level)) }
        for size in format.leafSizes(level: level) {
            let output = (0x0000_8000_0000_0000 as UInt64 >> UInt64(64 - format.inputBits > 12 ? 4 : 0)) & ~(size - 1)
            for prot in prots where (try? format.checkProt(prot)) != nil {
                let leaf = format.encodeLeaf(output, size: size, level: level, prot: prot)
                let kind = format.kind(of: leaf, level: level)
                result.append((leaf, level))
                result.append((format.updated(leaf, level: level, kind: kind, access: .write, updates: [.access, .dirty]), level))
            }
        }
    }
    return result
}

private func overlaps(_ fields: [DescriptorField]) -> [String] {
    var found: [String] = []
    for (i, a) in fields.enumerated() {
        for b in fields[(i + 1)...] where a.bits.overlaps(b.bits) { found.append("\(a.name)[\(a.bits)] and \(b.name)[\(b.bits)]") }
    }
    return found
}

@Suite struct FieldCatalogueTests {
    /// Every bit Linux or the hardware sets lies in exactly one named field, and each field
    /// says what it means and where the spec defines it.
    @Test(arguments: formats.indices)
    func formatFieldsCoverTheDescriptorsWithoutOverlap(_ number: Int) {
        let format = formats[number]
        for (descriptor, level) in descriptors(format) {
            let fields = format.fields(of: descriptor, level: level)
            #expect(!fields.isEmpty)
            #expect(overlaps(fields).isEmpty, "\(format.name) L\(level) \(descriptor.hex): \(overlaps(fields))")
            var covered: UInt64 = 0
            for field in fields {
                #expect(field.bits.upperBound < 64)
                covered |= (field.bits.count >= 64 ? .max : ((1 << UInt64(field.bits.count)) - 1) << UInt64(field.bits.lowerBound))
                #expect(!(field.meaning ?? "").isEmpty, "\(format.name) \(field.name) has no meaning")
                #expect(field.reference != nil, "\(format.name) \(field.name) has no reference")
            }
            #expect(descriptor & ~covered == 0, "\(format.name) L\(level) \(descriptor.hex): bits \((descriptor & ~covered).hex) in no field")
        }
    }

    /// The references name the section of each architecture's descriptor format.
    @Test func formatReferences() {
        func reference(_ format: any PageTableFormat) -> String? {
            format.fields(of: 0, level: format.leafLevel).first?.reference?.description
        }
        #expect(reference(ArmLPAE(stage: .stage2, granule: 4096, ias: 48, oas: 48)) == "Arm ARM D8.3")
        #expect(reference(X86FirstStage(levels: 4)) == "VT-d spec 9.7 (first-stage paging entries)")
        #expect(reference(X86FirstStage(levels: 4, encoding: .amdIOPgtableV2)) == "AMD IOMMU spec 2.2.6 (guest page tables)")
        #expect(reference(VTdSecondStage()) == "VT-d spec 9.8 (second-stage paging entries)")
        #expect(reference(AMDv1()) == "AMD IOMMU spec 2.2.3 (host page tables)")
    }

    /// A field read from its bits numbered across the words is the value the decoder
    /// computes: the catalogue's bit numbers are where the structure keeps the field.
    private func expectConsistent(_ fields: [DescriptorField], words: [UInt64], _ structure: String) {
        #expect(overlaps(fields).isEmpty, "\(structure): \(overlaps(fields))")
        for field in fields {
            #expect(!(field.meaning ?? "").isEmpty && field.reference != nil, "\(structure) \(field.name)")
            let word = field.bits.lowerBound / 64
            guard words.indices.contains(word), field.bits.upperBound / 64 == word else { continue }
            let low = UInt64(field.bits.lowerBound % 64)
            let width = UInt64(field.bits.count)
            let raw = (words[word] >> low) & (width >= 64 ? .max : (1 << width) - 1)
            // Address fields hold the address (the bits in place), the others the bits shifted down.
            #expect(field.value == raw || field.value == raw << low, "\(structure) \(field.name)[\(field.bits)]")
        }
    }

    @Test func configurationStructureFields() {
        let ste = SMMUv3.StreamTableEntry(words: [0xf800_0001_2345_6fcb, 0x0800_0002, 0x0035_c01a_0000_0042, 0x0000_0001_0440_0000])
        expectConsistent(ste.fields, words: ste.words, "STE")
        #expect(ste.fields.first { $0.name == "S2VMID" }?.value == 0x42)
        #expect(ste.fields.first { $0.name == "S2T0SZ" }?.bits == 160...165)
        let cd = SMMUv3.ContextDescriptor(words: [0x0042_0005_8000_0010, 0x0000_0000_4000_1000, 0, 0x0044_ff04])
        expectConsistent(cd.fields, words: cd.words, "CD")
        #expect(cd.fields.first { $0.name == "ASID" }?.value == 0x42)
        let dte = AMDViDeviceTable.Entry(words: [0x6000_0001_0440_0603, 0x0005, 0, 0])
        expectConsistent(dte.translationFields, words: dte.words, "DTE")
        #expect(dte.translationFields.first { $0.name == "DomainID" }?.value == 5)
        #expect(dte.translationFields.allSatisfy { $0.reference == .amdDTE })
    }
}

/// The IOVA index strip: each level's index bits and the page offset, from the format.
@Suite struct IndexStripTests {
    private func expectStrip(_ format: any PageTableFormat, _ address: UInt64, _ expected: [ClosedRange<Int>]) {
        let fields = format.indexFields(of: address)
        #expect(fields.map(\.bits) == expected, "\(format.name)")
        // The fields tile the input bits from 0 up, and put the address back together.
        var next = 0
        var rebuilt: UInt64 = 0
        for field in fields.reversed() {
            #expect(field.bits.lowerBound == next)
            next = field.bits.upperBound + 1
            rebuilt |= field.value << UInt64(field.bits.lowerBound)
        }
        let mask: UInt64 = format.inputBits >= 64 ? .max : (1 << UInt64(format.inputBits)) - 1
        #expect(rebuilt == address & mask, "\(format.name) \(address.hex)")
        for field in fields { if case .index(let level) = field.role { #expect(field.value == UInt64(format.index(of: address, level: level))) } }
    }

    @Test func armGranules() {
        expectStrip(ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48), 0x8123_4567_89ab, [39...47, 30...38, 21...29, 12...20, 0...11])
        expectStrip(ArmLPAE(stage: .stage1, granule: 16384, ias: 48, oas: 48), 0x8123_4567_89ab, [47...47, 36...46, 25...35, 14...24, 0...13])
        expectStrip(ArmLPAE(stage: .stage1, granule: 65536, ias: 52, oas: 52), 0xf_8123_4567_89ab, [42...51, 29...41, 16...28, 0...15])
        // A concatenated stage-2 root (two tables at level 1 for a 40-bit IPA) indexes 10 bits.
        expectStrip(ArmLPAE(stage: .stage2, granule: 4096, ias: 40, oas: 40), 0x81_2345_6789, [30...39, 21...29, 12...20, 0...11])
    }

    @Test func x86AndAMD() {
        expectStrip(VTdSecondStage(addressWidth: 39), 0x7f_1234_5678, [30...38, 21...29, 12...20, 0...11])
        expectStrip(X86FirstStage(levels: 5), 0x1f_8123_4567_89ab, [48...56, 39...47, 30...38, 21...29, 12...20, 0...11])
        expectStrip(AMDv1(mode: 6), 0xfedc_ba98_7654_3210, [57...63, 48...56, 39...47, 30...38, 21...29, 12...20, 0...11])
    }

    /// The strip's indices are the ones the walk of a mapped IOVA reads.
    @Test(arguments: formats.indices)
    func stripMatchesTheWalk(_ number: Int) throws {
        let format = formats[number]
        let table = try DescriptorPageTable(format: format, memory: PhysicalMemory())
        let iova = (0x0000_1234_5678_9000 as UInt64) & ((1 << UInt64(min(format.inputBits, 48) - 1)) - 1) & ~(format.granule - 1)
        try table.map(iova: iova, output: 0x4000_0000, length: format.granule, prot: [.read, .write])
        let steps = table.path(to: iova + 0x123)
        #expect(steps.count == format.levels.count)
        let indices = format.indexFields(of: iova + 0x123).compactMap { field -> (Int, UInt64)? in
            if case .index(let level) = field.role { return (level, field.value) }
            return nil
        }
        #expect(indices.map(\.0) == steps.map(\.level))
        #expect(indices.map(\.1) == steps.map { UInt64($0.index) })
        #expect(format.indexFields(of: iova + 0x123).last?.value == 0x123)
    }
}
