import Foundation
import IOMMUCore
import Testing
import TestSupport
@testable import HostImport

@Suite struct AMDDebugfsReaderTests {
    static let root = "sys/kernel/debug/iommu/amd"
    static let device = PCIAddress(bus: 1, device: 0, function: 0)
    /// The ABI document's devtbl row, DTE[0..3].
    static let dte: [UInt64] = [0x6000_0001_14d7_b603, 0x38, 0x2000_0001_373b_8013, 0]

    func read(_ source: MemoryHostSource) -> (AMDDebugfs, [ImportWarning]) {
        var warnings: [ImportWarning] = []
        let debugfs = AMDDebugfsReader.read(from: source, warnings: &warnings)
        return (debugfs, warnings)
    }

    @Test func theSamplesDecodeFieldByField() throws {
        let (debugfs, warnings) = read(try AMDSamples.source())
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(debugfs.selectedDevice == Self.device)
        // devtbl prints QWORD[3] first: the reader keeps DTE[0..3] order, unit 3 from `iommu3`.
        #expect(debugfs.deviceTableEntries == [AMDDeviceTableEntry(device: Self.device, words: Self.dte, unitIndex: 3)])
        #expect(debugfs.deviceTableEntries.first?.unitName == "ivhd3")
        #expect(debugfs.registerReads == [
            AMDRegisterRead(unitIndex: 0, space: .mmio, offset: 0x18, value: 0x000c_2200_0003_f48d),
            AMDRegisterRead(unitIndex: 0, space: .capability, offset: 0x10, value: 0x0020_3040),
        ])
        #expect(debugfs.registerReads.map(\.registerName) == ["Control", "Miscellaneous Information 0"])
        let table = try #require(debugfs.interruptRemapTables.first)
        #expect(table.device == Self.device)
        #expect(table.entries.count == 8)
        #expect(table.entries.first == AMDInterruptRemapEntry(index: 0, words: [0x241, 0x20]))
        #expect(table.entries.last == AMDInterruptRemapEntry(index: 7, words: [0x80_0041, 0x20]))
        let buffer = try #require(debugfs.commandBuffers.first)
        #expect((buffer.unitIndex, buffer.head, buffer.tail) == (0, 339, 339))
        #expect(buffer.entries.count == 12)
        #expect(buffer.entries[1] == [0, 0x3000_0005, 0xffff_f003, 0x7fff_ffff])
        #expect(debugfs.notes.isEmpty)
    }

    /// host-inputs §4's worked DTE decode.
    @Test func theDeviceTableEntryDecodesAsTheSpecSays() {
        let dte = AMDDeviceTableEntry(device: Self.device, words: Self.dte, unitIndex: 3).decoded
        #expect(dte.valid && dte.translationValid)
        #expect(dte.mode == 3)
        #expect(dte.root == 0x1_14d7_b000)
        #expect(dte.rights == .readWrite)
        #expect(dte.domainID == 0x38)
        #expect(dte.interruptValid)
        #expect(dte.interruptTableLength == 9)
        #expect(dte.interruptTable == 0x1_373b_8000)
        #expect(dte.interruptControl == 2)
        #expect(!dte.guestValid)
        let fields = Dictionary(dte.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["Mode"] == 3 && fields["IntTabLen"] == 9 && fields["IntCtl"] == 2 && fields["IV"] == 1)
        #expect(fields["InterruptTableRoot"] == 0x1_373b_8000 && fields["DomainID"] == 0x38 && fields["IW"] == 1)
        #expect(fields["I"] == 0 && fields["Lint1Pass"] == 0 && fields["GIOV"] == 0)
        // A short DTE (a truncated log) decodes without trapping.
        #expect(AMDViDeviceTable.Entry(words: [0x603]).mode == 3)
    }

    /// host-inputs §4's worked cmdbuf decode.
    @Test func commandsDecodeAsTheSpecSays() {
        let wait = AMDCommand(words: [0x0083_5001, 0x1000_0001, 0x0000_3c00, 0])
        #expect(wait.opcode == .COMPLETION_WAIT)
        #expect(wait.fields.first { $0.name == "StoreAddress" }?.value == 0x1_0083_5000)
        #expect(wait.fields.first { $0.name == "StoreData" }?.value == 0x3c00)
        #expect(wait.summary == "COMPLETION_WAIT store 0x3c00 at 0x100835000")
        let invalidate = AMDCommand(words: [0, 0x3000_0005, 0xffff_f003, 0x7fff_ffff])
        #expect(invalidate.opcode == .INVALIDATE_IOMMU_PAGES)
        let fields = Dictionary(invalidate.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["DomainID"] == 5 && fields["S"] == 1 && fields["PDE"] == 1 && fields["GN"] == 0)
        #expect(fields["Address"] == 0x7fff_ffff_ffff_f000)
        #expect(invalidate.summary == "INVALIDATE_IOMMU_PAGES all pages of domain 5 with PDEs")
        #expect(AMDCommand(words: [0x18, 0x2000_0000, 0, 0]).summary == "INVALIDATE_DEVTAB_ENTRY DeviceID 0x18")
        #expect(AMDCommand(words: [0, 0x8000_0000, 0, 0]).opcode == .INVALIDATE_IOMMU_ALL)
        #expect(AMDCommand(words: [0, 0xf000_0000]).summary == "opcode 15")
    }

    /// Mail quoting, CRLF, expanded tabs and hard wraps leave the decoded values unchanged.
    @Test func mangledCopiesReadTheSame() throws {
        let clean = try AMDSamples.source()
        let (expected, _) = read(clean)
        let mangles: [(String, @Sendable (String) -> String)] = [
            ("quoted", Mangle.quote), ("crlf", Mangle.crlf), ("tabs", Mangle.expandTabs),
            ("wrapped", { Mangle.wrap($0, width: 40) }), ("quoted+wrapped", { Mangle.quote(Mangle.wrap($0, width: 30)) }),
        ]
        for (name, mangle) in mangles {
            var source = clean
            source.files = source.files.mapValues { mangle($0) }
            let (debugfs, warnings) = read(source)
            #expect(debugfs == expected, "\(name)")
            #expect(warnings.isEmpty, "\(name): \(warnings)")
        }
    }

    @Test func truncatedFilesKeepWhatIsWholeAndWarnWithLines() throws {
        var source = try AMDSamples.source()
        let cmdbuf = "\(Self.root)/iommu00/cmdbuf", devtbl = "\(Self.root)/devtbl"
        source.files[cmdbuf] = source.files[cmdbuf].map { Mangle.truncated($0, keeping: 0.5) }
        // The header whole, the row cut after its second word.
        source.files[devtbl] = source.files[devtbl].map { text in
            let header = text.prefix { $0 != "\n" }.count
            return String(text.prefix(header + 1 + 30))
        }
        let (debugfs, warnings) = read(source)
        #expect(debugfs.deviceTableEntries.isEmpty)
        #expect(warnings.contains { $0.file == devtbl && $0.line == 2 })
        let buffer = try #require(debugfs.commandBuffers.first)
        #expect(buffer.entries.count == 5)
        #expect(buffer.entries.allSatisfy { $0.count == 4 })
        #expect(warnings.contains { $0.file == cmdbuf && $0.line == 7 })
    }

    @Test func elidedSlotsAreDroppedNotShifted() {
        var source = MemoryHostSource()
        source.files["\(Self.root)/iommu01/cmdbuf"] = "CMD Buffer Head Offset:3 Tail Offset:4\n  0: 00000001 10000001 00000000 00000000\n[...]\n  5: 00000000 80000000 00000000 00000000\n"
        source.files["\(Self.root)/devid"] = "\u{1b}[2J0000:00:14.0\n"
        let (debugfs, warnings) = read(source)
        #expect(warnings.last?.reason == "not understood: \\x1b[2J0000:00:14.0")
        #expect(debugfs.commandBuffers.first?.entries.count == 1)
        #expect(debugfs.commandBuffers.first?.unitIndex == 1)
        #expect(warnings.map(\.line) == [4, 1])
    }

    @Test func theKernelsRefusalsBecomeNotes() {
        var source = MemoryHostSource()
        source.files["\(Self.root)/iommu00/mmio"] = "Please provide mmio register's offset\n"
        source.files["\(Self.root)/iommu00/capability"] = "Please provide capability register's offset in the range [0x00 - 0x14]\n"
        source.files["\(Self.root)/iommu01/capability"] = "Not able to read capability register at 0x14\n"
        source.files["\(Self.root)/devid"] = "No or Invalid input provided\n"
        source.files["\(Self.root)/devtbl"] = "Enter a valid device ID to 'devid' file\n"
        source.files["\(Self.root)/irqtbl"] = "Interrupt remapping is disabled\n"
        let (debugfs, warnings) = read(source)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(debugfs.isEmpty)
        #expect(debugfs.notes.count == 6)
        #expect(debugfs.notes.contains("\(Self.root)/iommu00/mmio: no offset written yet (\"Please provide mmio register's offset\")"))
        #expect(debugfs.notes.contains("\(Self.root)/irqtbl: Interrupt remapping is disabled"))
    }

    @Test func preV617DirectoriesHoldNoData() {
        var source = MemoryHostSource()
        source.directories = ["\(Self.root)", "\(Self.root)/iommu00", "\(Self.root)/iommu01"]
        let (debugfs, warnings) = read(source)
        #expect(debugfs.isEmpty && warnings.isEmpty)
        #expect(debugfs.notes == ["AMD-Vi debugfs directories are empty (a kernel before v6.17): no AMD debugfs data"])
        #expect(read(MemoryHostSource()).0 == AMDDebugfs())
    }

    @Test func unitNamesAndUnreadableFiles() {
        #expect(AMDDebugfsReader.unitIndex("iommu03") == 3)
        #expect(AMDDebugfsReader.unitIndex("iommu3") == 3)
        #expect(AMDDebugfsReader.unitIndex("iommu") == nil && AMDDebugfsReader.unitIndex("iommu-1") == nil)
        #expect(AMDDebugfsReader.unitIndex("iommu123456789012345") == nil)
        var source = MemoryHostSource()
        source.failures["\(Self.root)/devtbl"] = .permissionDenied
        let (_, warnings) = read(source)
        #expect(warnings == [ImportWarning(file: "\(Self.root)/devtbl", reason: "not read: permission denied")])
    }

    @Test func interruptRowsOfBothWidthsAndAWrappedOne() {
        var source = MemoryHostSource()
        source.files["\(Self.root)/irqtbl"] = "DeviceId 0000:00:14.0\nIRT[0000] 00000241\nIRT[0001] 0000000000000020\n0000000000000841\n"
        let (debugfs, warnings) = read(source)
        #expect(warnings.isEmpty)
        #expect(debugfs.interruptRemapTables.first?.entries == [
            AMDInterruptRemapEntry(index: 0, words: [0x241]), AMDInterruptRemapEntry(index: 1, words: [0x841, 0x20]),
        ])
    }

    /// The series' earlier revisions (a ':' before the function, glued IRTE halves, devtbl's
    /// "Please provide valid device id input") and the refusals printed without a newline.
    @Test func earlierRevisionsAndUnterminatedRefusals() {
        var source = MemoryHostSource()
        source.files["\(Self.root)/irqtbl"] = "DeviceId 0000:01:00:0\nIRT[0002] 00000000000000200000000000002041\n\n"
        source.files["\(Self.root)/devtbl"] = "Please provide valid device id input\n"
        let (debugfs, warnings) = read(source)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(debugfs.interruptRemapTables == [{
            var table = AMDInterruptRemapTable(device: Self.device)
            table.entries = [AMDInterruptRemapEntry(index: 2, words: [0x2041, 0x20])]
            return table
        }()])
        #expect(debugfs.notes == ["\(Self.root)/devtbl: no device selected (\"Please provide valid device id input\")"])
        source.files = ["\(Self.root)/devtbl": "Device table not found", "\(Self.root)/irqtbl": "The device's DTE contains an invalid IRT length value."]
        let (refused, none) = read(source)
        #expect(none.isEmpty && refused.notes.count == 2 && refused.isEmpty)
    }

    /// Random bytes, random edits of the samples and random lines of the right words: no
    /// trap, every warning names a file and, when about a line, a line within it.
    @Test func seededFuzzNeverTraps() throws {
        let clean = try AMDSamples.source()
        var random = SplitMix64(seed: 0x616d_642d_7669)
        let alphabet = Array("0123456789abcdefx:.[]> \t\r\nIRTDeviceIdOffsetValueiommuCMD".unicodeScalars)
        for _ in 0..<120 {
            var source = clean
            for path in source.files.keys {
                guard var text = source.files[path] else { continue }
                switch random.below(4) {
                case 3:
                    // Binary garbage, invalid UTF-8 and NULs included.
                    text = String(decoding: (0..<random.below(400)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, as: UTF8.self)
                case 0:
                    text = String(String.UnicodeScalarView((0..<random.below(300)).map { _ in random.pick(alphabet) }))
                case 1:
                    var scalars = Array(text.unicodeScalars)
                    for _ in 0..<random.below(12) where !scalars.isEmpty {
                        scalars[random.below(scalars.count)] = random.pick(alphabet)
                    }
                    text = String(String.UnicodeScalarView(scalars))
                default:
                    text = Mangle.truncated(text, keeping: Double(random.below(100)) / 100)
                }
                source.files[path] = text
            }
            let (_, warnings) = read(source)
            for warning in warnings {
                let lines = source.files[warning.file].map {
                    $0.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
                }
                #expect(lines != nil || warning.line == nil, "\(warning)")
                if let line = warning.line, let lines { #expect((1...lines).contains(line), "\(warning)") }
            }
        }
    }
}

@Suite struct AMDTableRebuildTests {
    static let dte = AMDDebugfsReaderTests.dte

    /// A machine with the host's unit `ivhd3` and its device 0000:01:00.0 (devid 0x100).
    func machine() throws -> Machine {
        let machine = Machine()
        try machine.add(PlatformDescription(
            units: [IOMMUUnit(name: "ivhd3", configuration: .amdVi(AMDVi.Configuration()))], groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "0000:01:00.0", requesterID: .requesterID(0x100), unit: "ivhd3", group: 0)]))
        return machine
    }

    func snapshot(words: [UInt64] = dte, mmio: [AMDRegisterRead] = []) -> HostSnapshot {
        var snapshot = HostSnapshot()
        snapshot.amd.deviceTableEntries = [AMDDeviceTableEntry(device: PCIAddress(bus: 1, device: 0, function: 0), words: words, unitIndex: 3)]
        snapshot.amd.registerReads = mmio
        return snapshot
    }

    @Test func theDumpedDTEIsWhatTranslateReads() throws {
        let machine = try machine()
        let report = AMDTableRebuild.rebuild(snapshot(), into: machine)
        #expect(report.descriptorsPlaced == 1)
        let table = try #require(report.table(device: "0000:01:00.0"))
        #expect(table.unit == "ivhd3" && table.root == 0x1_14d7_b000)
        #expect((table.format as? AMDv1)?.mode == 3)
        guard case .rootOnly = table.coverage else { Issue.record("coverage \(table.coverage)"); return }
        #expect(report.notes.contains { $0.contains("device table base is synthesized") })
        let unit = try #require(machine.iommu(named: "ivhd3") as? AMDVi)
        let base = try #require(unit.deviceTable)
        #expect(machine.physical.peek64(base + 0x100 * 32, count: 4) == Self.dte)
        // The walk starts at the dumped root, which no dump backs: the fetch of its level-3
        // entry for IOVA 0 is a page-table hardware error at that entry, in domain 0x38.
        let device = try #require(machine.device(named: "0000:01:00.0"))
        let result = try #require(unit.translate(device, iova: 0, pasid: nil, access: .read, caches: .bypass, memory: machine.physical))
        guard case .failure(let fault) = result, let event = fault.amdViEvent else { Issue.record("\(result)"); return }
        #expect(event.type == .PAGE_TAB_HARDWARE_ERROR)
        #expect(event.address == 0x1_14d7_b000)
        #expect(event.domainID == 0x38)
        #expect(unit.configurationStructures(for: device, pasid: nil, memory: machine.physical).first?.words == Self.dte)
    }

    @Test func theHostBaseHoldsTheDTEAndPassThroughHasNoTable() throws {
        let machine = try machine()
        let mmio = [AMDRegisterRead(unitIndex: 3, space: .mmio, offset: 0, value: 0x0000_0001_0420_01ff)]
        let identity = AMDTableRebuild.rebuild(snapshot(words: [0x6000_0000_0000_0003, 0x1, 0, 0], mmio: mmio), into: machine)
        #expect(identity.tables.isEmpty)
        #expect(!identity.notes.contains { $0.contains("synthesized") })
        #expect(identity.notes.contains { $0.contains("Mode 0: DMA passes untranslated") })
        let device = try #require(machine.device(named: "0000:01:00.0"))
        let unit = try #require(machine.iommu(named: "ivhd3") as? AMDVi)
        // The DTE sits in the host's own table, at the host's address, which the allocator now steps over.
        #expect(unit.deviceTable == 0x1_0420_0000)
        #expect(machine.physical.peek64(0x1_0420_0000 + 0x100 * 32) == 0x6000_0000_0000_0003)
        #expect(machine.physical.isAdopted(0x1_043f_f000) && !machine.physical.isAdopted(0x1_0440_0000))
        // Mode 0: the core's walk passes the request through untranslated, having read the placed DTE.
        let passed = unit.translate(device, iova: 0x1234, pasid: nil, access: .read, caches: .bypass, memory: machine.physical)
        guard case .success(let translation)? = passed else { Issue.record("\(String(describing: passed))"); return }
        #expect(translation.output == 0x1234)
        #expect(translation.configurationFetches.first?.words == [0x6000_0000_0000_0003, 0x1, 0, 0])
        let reserved = AMDTableRebuild.rebuild(snapshot(words: [0x6000_0000_0000_0e03, 0, 0, 0]), into: machine)
        #expect(reserved.notes.contains { $0.contains("Mode 7 is reserved") })
        let missing = AMDTableRebuild.rebuild(snapshot(), into: Machine())
        #expect(missing.descriptorsPlaced == 0 && missing.notes.count == 1)
    }
}
