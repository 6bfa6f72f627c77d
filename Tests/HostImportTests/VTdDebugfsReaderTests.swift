import IOMMUCore
import Testing
import TestSupport
@testable import HostImport

@Suite struct VTdRegsetReaderTests {
    @Test func kabylakeSampleDecodesEveryBlock() {
        let (dump, warnings) = VTdSamples.parse(VTdSamples.text(VTdSamples.regset), as: "iommu_regset")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.registerSets.map(\.unit) == ["dmar0", "dmar1", "dmar2"])
        #expect(dump.registerSets.map(\.base) == [0x26be37000, 0xfed90000, 0xfed91000])
        let dmar1 = dump.registerSets[1]
        #expect(dmar1.registers.map(\.name) == ["VER", "GCMD", "GSTS", "FSTS", "FECTL"])
        #expect(dmar1["VER"] == 0x10)
        #expect(dmar1["GSTS"] == 0xc700_0000)
        #expect(dmar1.registers[4].offset == 0x38)
        #expect(dmar1.translationEnabled == true)
        #expect(dmar1.translationTableMode == nil)  // no RTADDR row in the sample
    }

    @Test func constructedRowsWithTabsAndThreeDigitOffsets() {
        let text = """
        IOMMU: dmar3 Register Base Address: fed92000
        Name\t\t\tOffset\t\tContents
        VER             \t0x00\t\t0x0000000000000010
        RTADDR          \t0x20\t\t0x0000000103028400
        MTRR_PHYSMASK9  \t0x1a8\t\t0x0000000000000000
        VCRSP           \t0xe10\t\t0x0000000000000001

        """
        let (dump, warnings) = VTdSamples.parse(text, as: "iommu_regset")
        #expect(warnings.isEmpty, "\(warnings)")
        let set = dump.registerSets[0]
        #expect(set.registers.map(\.offset) == [0x00, 0x20, 0x1a8, 0xe10])
        #expect(set["RTADDR"] == 0x1_0302_8400)
        #expect(set.translationTableMode == .scalable)
        #expect(set["VCRSP"] == 1)
    }

    @Test func damagedRowsAreLocated() {
        let text = "VER 0x00 0x10\nIOMMU: dmar0 Register Base Address: zz\nIOMMU: dmar0 Register Base Address: 1000\nCAP 0x08 0xnothex\n"
        let (dump, warnings) = VTdSamples.parse(text, as: "iommu_regset")
        #expect(dump.registerSets.count == 1 && dump.registerSets[0].registers.isEmpty)
        #expect(warnings.map(\.line) == [1, 2, 4])
        #expect(warnings.allSatisfy { $0.file == "\(VTdSamples.directory)/iommu_regset" })
    }
}

@Suite struct VTdTranslationStructReaderTests {
    @Test func kabylakeBlocksZipIntoLegacyAndScalableRows() {
        let (dump, warnings) = VTdSamples.parse(VTdSamples.text(VTdSamples.translation), as: "dmar_translation_struct")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.translationStructures.map(\.unit) == ["dmar1", "dmar0"])
        let dmar1 = dump.translationStructures[0], dmar0 = dump.translationStructures[1]
        #expect(dmar1.rootTable == 0x1_0302_7000 && dmar1.layout == .current)
        let legacy = dmar1.rows[0]
        #expect(legacy.device == PCIAddress(bus: 0, device: 2, function: 0))
        #expect(legacy.rootEntry == (0, 0x1_0303_e001))
        #expect(legacy.contextEntry == (0x102, 0x1_0303_f005))
        #expect(legacy.pasid == nil && legacy.pasidEntry == nil)
        let context = VTd.ContextEntry(lo: legacy.contextEntry.lo, hi: legacy.contextEntry.hi)
        #expect(context.present && context.translationType == 0b01 && context.legacyAddressWidth == 2 && context.legacyDomainID == 1)
        #expect(context.secondLevelTable == 0x1_0303_f000)
        let scalable = dmar0.rows[0]
        #expect(scalable.device == PCIAddress(bus: 0, device: 0x0a, function: 0))
        #expect(scalable.pasid == 0)
        #expect(scalable.pasidEntry == [0x1_038a_5089, 0x80_0002, 0])
        let entry = VTd.PASIDEntry(words: scalable.pasidEntry ?? [])
        #expect(entry.present && entry.addressWidth == 2 && entry.pgtt == .secondStage && entry.domainID == 2)
        #expect(entry.secondStageTable == 0x1_038a_5000)
        let contextSM = VTd.ContextEntry(lo: scalable.contextEntry.lo, hi: scalable.contextEntry.hi)
        #expect(contextSM.present && contextSM.directorySizeCode == 7 && contextSM.directory == 0x1_0322_0000)
    }

    @Test func oldPerBusAndFirstV53Layouts() {
        let (dump, warnings) = VTdSamples.parse(VTdSamples.text(VTdSamples.oldFormats), as: "dmar_translation_struct")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.translationStructures.map(\.layout) == [.perBus, .withoutPASID])
        let old = dump.translationStructures[0], new = dump.translationStructures[1]
        #expect(old.unit == "dmar2" && old.rootTable == 0x4_362c_c000)
        #expect(old.rows.map(\.device.description) == ["0000:00:14.0", "0000:00:17.0", "0000:00:1f.0"])
        #expect(old.rows[0].rootEntry == (0, 0x4_362f_0001))
        #expect(old.rows[1].contextEntry == (0x302, 0x4_35ec_4001))
        #expect(new.rootTable == 0x4_36f7_d000)
        #expect(new.rows.count == 3)
        #expect(new.rows[2].contextEntry == (0x202, 0x4_36fc_d001))
        #expect(new.rows.allSatisfy { $0.pasid == nil && $0.rootEntry == (0, 0x4_36fb_d001) })
    }

    static let constructed = """
    IOMMU dmar0: Root Table Address: 0x103028000
    B.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry
    00:0a.0\t0x0000000000000000:0x00000001038a7001\t0x0000000000000000:0x0000000103220e7d\t0     \t0x0000000000000000:0x0000000000800002:0x00000001038a5089
    00:0a.0\t0x0000000000000000:0x00000001038a7001\t0x0000000000000000:0x0000000103220e7d\t65    \t0x0000000101000000:0x0000000000800003:0x0000000000000049

    IOMMU dmar1: Root Table Address: 0x103027000
    B.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry
    00:02.0\t0x0000000000000000:0x000000010303e001\t0x0000000000000102:0x000000010303f005\t-1    \t0x0000000000000000:0x0000000000000000:0x0000000000000000

    DMA Remapping is not enabled on dmar2

    """

    @Test func constructedCurrentRowsWithRealTabs() {
        let (dump, warnings) = VTdSamples.parse(Self.constructed, as: "dmar_translation_struct")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.translationStructures.map(\.rows.count) == [2, 1])
        #expect(dump.translationStructures[0].rows[1].pasid == 65)
        #expect(dump.translationStructures[0].rows[1].pasidEntry == [0x49, 0x80_0003, 0x1_0100_0000])
        #expect(dump.translationDisabled == ["dmar2"])
    }

    @Test func mangledCopiesReadTheSame() {
        for sample in [Self.constructed, VTdSamples.text(VTdSamples.translation), VTdSamples.text(VTdSamples.oldFormats)] {
            let (clean, _) = VTdSamples.parse(sample, as: "dmar_translation_struct")
            for (name, mangled) in [("quote", Mangle.quote(sample)), ("crlf", Mangle.crlf(sample)), ("stamps", Mangle.stamps(sample)),
                                    ("expand", Mangle.expandTabs(sample)), ("wrap", Mangle.wrap(Mangle.expandTabs(sample))),
                                    ("wrap-quote", Mangle.quote(Mangle.wrap(sample, width: 60)))] {
                let (read, warnings) = VTdSamples.parse(mangled, as: "dmar_translation_struct")
                #expect(read == clean, "\(name)")
                #expect(warnings.isEmpty, "\(name): \(warnings)")
            }
        }
    }

    @Test func blockCountMismatchWarnsAndKeepsWhatThereIs() {
        let text = VTdSamples.text(VTdSamples.translation).replacingOccurrences(of: "Context_entry\n0x0000000000000102:0x000000010303f005\n",
                                                                                with: "Context_entry\n")
        let (dump, warnings) = VTdSamples.parse(text, as: "dmar_translation_struct")
        #expect(dump.translationStructures[1].rows.count == 1)
        #expect(dump.translationStructures[0].rows.isEmpty)
        #expect(warnings.contains { $0.reason.contains("0 rows under `Context_entry`") && $0.line != nil })
    }
}

@Suite struct VTdDomainDumpReaderTests {
    @Test func perDeviceKabylakeSample() {
        let (dump, warnings) = VTdSamples.parse(VTdSamples.text(VTdSamples.domains), as: "0000:00:02.0/domain_translation_struct")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.domains.count == 2)
        let legacy = dump.domains[0], pasid = dump.domains[1]
        #expect(legacy.device == "0000:00:02.0" && legacy.pasid == nil && legacy.root == 0x1_017f_8000 && legacy.layout == .perDevice)
        #expect(legacy.rows.map(\.iovaPFN) == [0x8d800, 0x8d801, 0x8d802])
        #expect(legacy.rows[1].entries == [0, 0x1_017f_9003, 0x1_017f_a003, 0x1_017f_b003, 0x8d80_1003])
        #expect(legacy.rows.allSatisfy { $0.endsAtLeaf })
        #expect(legacy.gaps == [.init(afterRow: 3, line: 16)])
        #expect(pasid.device == "0000:00:0a.0" && pasid.pasid == 1 && pasid.root == 0x1_0c11_2000)
        #expect(pasid.rows[0].entries.last == 0x1_47c0_0803)
    }

    static let v67 = """
    Device 0000:00:03.0 with pasid 2 @0x1017f8000
    IOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE
    0x0000000000200 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x0000000000200083
    0x0000000040000 |\t0x0000000000000000\t0x00000001017f9003\t0x0000000040000083
    0x0000000080000 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x00000001017fb003\t0x0000000080000003

    """

    @Test func v67ShortRowsEndAtTheirLeaf() {
        let (dump, warnings) = VTdSamples.parse(Self.v67, as: "0000:00:03.0/2/domain_translation_struct")
        #expect(warnings.isEmpty, "\(warnings)")
        let rows = dump.domains[0].rows
        #expect(rows.map(\.entries.count) == [4, 3, 5])
        #expect(rows.allSatisfy { $0.endsAtLeaf })
        #expect(dump.domains[0].pasid == 2)
    }

    @Test func globalFileOfV56() {
        let text = """
        Device 0000:00:02.0 @0x1017f8000
        IOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE
        0x000000008d800 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x00000001017fb003\t0x000000008d800003
        0x0000000000200 |\t0x0000000000000000\t0x00000001017f9003\t0x00000001017fa003\t0x0000000000200083\t0x0000000000000000

        """
        let (dump, warnings) = VTdSamples.parse(text, as: "domain_translation_struct")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.domains[0].layout == .global)
        #expect(dump.domains[0].rows.map(\.entries.count) == [5, 5])
    }

    @Test func mangledCopiesReadTheSame() {
        for (sample, file) in [(Self.v67, "0000:00:03.0/2/domain_translation_struct"),
                               (VTdSamples.text(VTdSamples.domains), "0000:00:02.0/domain_translation_struct")] {
            let (clean, _) = VTdSamples.parse(sample, as: file)
            for (name, mangled) in [("quote", Mangle.quote(sample)), ("crlf", Mangle.crlf(sample)), ("stamps", Mangle.stamps(sample)),
                                    ("tabs", Mangle.tabs(sample)), ("wrap", Mangle.wrap(Mangle.expandTabs(sample))),
                                    ("wrap-quote", Mangle.quote(Mangle.wrap(sample, width: 50)))] {
                let (read, warnings) = VTdSamples.parse(mangled, as: file)
                #expect(read.domains.map { $0.rows.map(\.iovaPFN) } == clean.domains.map { $0.rows.map(\.iovaPFN) }, "\(name)")
                #expect(read.domains.map { $0.rows.map(\.entries) } == clean.domains.map { $0.rows.map(\.entries) }, "\(name)")
                #expect(read.domains.map(\.gaps.count) == clean.domains.map(\.gaps.count), "\(name)")
                #expect(warnings.isEmpty, "\(name): \(warnings)")
            }
        }
    }

    @Test func truncatedRowIsKeptShortAndBadRowsAreGaps() {
        let cut = String(Self.v67.prefix(Self.v67.count - 30))
        let (dump, _) = VTdSamples.parse(cut + "\n0x0000000000300 | 0xnothex\n", as: "0000:00:03.0/2/domain_translation_struct")
        let rows = dump.domains[0].rows
        #expect(rows.count == 3 && !rows[2].endsAtLeaf)
        #expect(dump.domains[0].gaps.map(\.afterRow) == [3])
    }
}

@Suite struct VTdInvalidationQueueReaderTests {
    @Test func kabylakeSampleWithItsSplitBlock() {
        let (dump, warnings) = VTdSamples.parse(VTdSamples.text(VTdSamples.queue), as: "invalidation_queue")
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.invalidationQueues.map(\.unit) == ["dmar0", "dmar1"])
        let dmar0 = dump.invalidationQueues[0], dmar1 = dump.invalidationQueues[1]
        #expect(dmar0.base == 0x1_0022_e000 && dmar0.head == 20 && dmar0.tail == 20 && dmar0.wideDescriptors)
        #expect(dmar0.entries.map(\.words.count) == [4, 4, 4])
        #expect(dmar0.entries.map(\.status) == [0, 0, 0])
        #expect(dmar0.entries[1].descriptor == .wait(statusData: 2, address: 0x1_0005_9c04, interrupt: false, fence: false))
        #expect(dmar0.entries[0].descriptor == .interruptEntryCache(index: 0, indexMask: 0))
        #expect(!dmar1.wideDescriptors && dmar1.entries.map(\.words.count) == [2, 2, 2])
        #expect(dmar1.entries[2].descriptor == .contextCache(.global, domainID: 0, sourceID: 0))
        #expect(dmar1.entries[0].descriptor == .interruptEntryCache(index: nil, indexMask: 0))
        #expect(dmar1.entries[1].descriptor.description == "invalidation wait: write 0x2 to 0x100059804")
    }

    @Test func v52RowsWithoutStatusAndWrappedWideRows() {
        let text = """
        Invalidation queue on IOMMU: dmar0
         Base: 0x10022e000\tHead: 2\tTail: 3
        Index\t\tqw0\t\t\tqw1\t\t\tqw2\t\t\tqw3\t\t\tstatus
            0\t0000000000200022\t0000000100000000\t0000000000000000\t0000000000000000\t0000000000000002
            1\t0000000000000027\t0000000000000000\t0000000000000000\t0000000000000000\t0000000000000001
        Invalidation queue on IOMMU: dmar1
         Base: 0x10026e000\tHead: 1\tTail: 1
        Index\t\tqw0\t\t\tqw1
            0\t0000000000000004\t0000000000000000

        """
        for (name, variant) in [("clean", text), ("wrap", Mangle.wrap(Mangle.expandTabs(text), width: 60))] {
            let (dump, warnings) = VTdSamples.parse(variant, as: "invalidation_queue")
            #expect(warnings.isEmpty, "\(name): \(warnings)")
            #expect(dump.invalidationQueues[0].entries.map(\.status) == [2, 1], "\(name)")
            #expect(dump.invalidationQueues[0].entries[0].descriptor == .iotlb(.domain, domainID: 0x20, address: 0x1_0000_0000, addressMask: 0))
            #expect(dump.invalidationQueues[0].entries[1].descriptor == .pasidCache(granularity: 2, domainID: 0, pasid: 0))
            #expect(dump.invalidationQueues[1].entries == [.init(index: 0, words: [4, 0], status: nil)], "\(name)")
        }
    }
}

@Suite struct VTdDebugfsFuzzTests {
    static let files: [(String, String)] = [
        ("iommu_regset", VTdSamples.text(VTdSamples.regset)),
        ("dmar_translation_struct", VTdSamples.text(VTdSamples.translation) + VTdTranslationStructReaderTests.constructed),
        ("0000:00:02.0/domain_translation_struct", VTdSamples.text(VTdSamples.domains) + VTdDomainDumpReaderTests.v67),
        ("invalidation_queue", VTdSamples.text(VTdSamples.queue)),
    ]

    /// Random bytes, and samples with fields dropped, swapped and cut: no trap, every warning located.
    @Test func seededDamageNeverTraps() {
        var random = SplitMix64(seed: 0x7d_d3b6)
        for (file, sample) in Self.files {
            let tokens = sample.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            for round in 0..<60 {
                var text: String
                switch round % 3 {
                case 0:
                    text = String(decoding: (0..<random.below(600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, as: UTF8.self)
                case 1:
                    var lines = sample.components(separatedBy: "\n")
                    for _ in 0..<random.below(6) where !lines.isEmpty {
                        let at = random.below(lines.count)
                        switch random.below(3) {
                        case 0: lines.remove(at: at)
                        case 1: lines[at] += " " + random.pick(tokens)
                        default: lines.insert(random.pick(tokens) + "\t" + random.pick(tokens), at: at)
                        }
                    }
                    text = lines.joined(separator: "\n")
                default:
                    text = String(sample.prefix(random.below(sample.count + 1)))
                }
                let (_, warnings) = VTdSamples.parse(text, as: file)
                let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
                #expect(warnings.allSatisfy { $0.line.map { (1...lineCount).contains($0) } ?? false }, "\(file) round \(round): \(warnings)")
            }
        }
    }

    @Test func readsEveryFileOfAHostTree() {
        let tree = MemoryHostSource([
            "\(VTdSamples.directory)/iommu_regset": VTdSamples.text(VTdSamples.regset),
            "\(VTdSamples.directory)/dmar_translation_struct": VTdSamples.text(VTdSamples.translation),
            "\(VTdSamples.directory)/invalidation_queue": VTdSamples.text(VTdSamples.queue),
            "\(VTdSamples.directory)/0000:00:03.0/domain_translation_struct": "Device 0000:00:03.0 @0x1000\n",
            "\(VTdSamples.directory)/0000:00:03.0/1f/domain_translation_struct": VTdDomainDumpReaderTests.v67,
        ])
        var warnings: [ImportWarning] = []
        let dump = VTdDebugfsReader.read(from: tree, warnings: &warnings)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(dump.registerSets.count == 3 && dump.translationStructures.count == 2 && dump.invalidationQueues.count == 2)
        #expect(dump.domains.map(\.pasid) == [nil, 2])
        #expect(dump.domains[1].file == "\(VTdSamples.directory)/0000:00:03.0/1f/domain_translation_struct")
    }
}
