import IOMMUCore
import Testing
@testable import HostImport

@Suite struct ReservedRegionsFileTests {
    static let intel = HostTrees.sample("sysfs/reserved-regions-intel-isa-floppy-wa.txt")
    static let arm = HostTrees.sample("sysfs/reserved-regions-arm-smmuv3-iort-rmr.txt")
    static let intelRegions = [
        HostReservedRegion(range: IOVARange(start: 0, last: 0xff_ffff), type: .direct),
        HostReservedRegion(range: IOVARange(start: 0xfee0_0000, last: 0xfeef_ffff), type: .msi),
    ]

    static func parse(_ text: String) -> ([HostReservedRegion], [ImportWarning]) {
        var warnings: [ImportWarning] = []
        let regions = ReservedRegionsFile.parse(text, file: "reserved_regions", warnings: &warnings)
        return (regions, warnings)
    }

    @Test func intelSampleWithItsInclusiveEnds() {
        let (regions, warnings) = Self.parse(Self.intel)
        #expect(regions == Self.intelRegions)
        #expect(warnings.isEmpty)
    }

    /// Five lines in file order, the msi window among the RMRRs; the last end is inclusive.
    @Test func armSampleInFileOrder() {
        let (regions, warnings) = Self.parse(Self.arm)
        #expect(regions.map(\.type) == [.directRelaxable, .msi, .directRelaxable, .directRelaxable, .directRelaxable])
        #expect(regions.last?.range == IOVARange(start: 0x20_8000_0000, last: 0x20_9fff_ffff))
        #expect(regions[1].range.length == 0x10_0000)
        #expect(warnings.isEmpty)
    }

    /// The kernel merges only regions of one type, so lines of different types may overlap: both are kept.
    @Test func overlappingRegionsOfDifferentTypesAreKept() {
        let (regions, _) = Self.parse("0x0000000000000000 0x0000000000ffffff direct\n0x0000000000000000 0x0000000000ffffff reserved\n")
        #expect(regions.map(\.type) == [.direct, .reserved])
    }

    @Test(arguments: HostTrees.Mangling.allCases)
    func mangledCopiesReadTheSame(_ mangling: HostTrees.Mangling) {
        for sample in [Self.intel, Self.arm] {
            let (clean, _) = Self.parse(sample)
            let (regions, warnings) = Self.parse(mangling.apply(sample))
            #expect(regions == clean, "\(mangling)")
            #expect(warnings.isEmpty, "\(mangling): \(warnings)")
        }
    }

    /// A line cut after its end address joins the next line, its word.
    @Test func hardWrapBeforeTheWordJoins() {
        let (regions, warnings) = Self.parse("0x0000000000000000 0x0000000000ffffff\ndirect\n0x00000000fee00000\n0x00000000feefffff msi\n")
        #expect(regions == Self.intelRegions)
        #expect(warnings.isEmpty)
    }

    @Test func truncationAndNoiseAreLocatedWarnings() {
        let text = "$ cat /sys/kernel/iommu_groups/9/reserved_regions\n0x0000000000000000 0x0000000000ffffff direct\n0x00000000fee00000 0x00000000fee"
        let (regions, warnings) = Self.parse(text)
        #expect(regions == [Self.intelRegions[0]])
        #expect(warnings.map(\.line) == [1, 3])
        #expect(warnings.allSatisfy { $0.file == "reserved_regions" })
    }

    @Test func badValuesAreWarnedAndSkipped() {
        let text = "0x00000000fee00000 0x00000000fedfffff msi\n0x0 0x1 doorbell\n0x10000000000000000 0x1 msi\n"
        let (regions, warnings) = Self.parse(text)
        #expect(regions.isEmpty)
        #expect(warnings.map(\.line) == [1, 2, 3])
        #expect(warnings[0].reason.contains("ends before it starts"))
        #expect(warnings[1].reason.contains("unknown region type"))
    }

    @Test func escapeSequencesInWarningsAreEscaped() {
        let (_, warnings) = Self.parse("0x0 0x1 \u{1b}[2Jmsi\n")
        #expect(warnings.count == 1)
        #expect(!warnings[0].reason.contains("\u{1b}"))
        #expect(warnings[0].reason.contains("\\x1b"))
    }
}

@Suite struct OneValueFileTests {
    @Test func groupTypeWords() {
        var warnings: [ImportWarning] = []
        for word in ["DMA", "DMA-FQ", "identity", "blocked", "unmanaged", "unknown"] {
            #expect(GroupTypeFile.parse("\(word)\n", file: "type", warnings: &warnings) == word)
            #expect(GroupTypeFile.parse("> \(word)\r\n", file: "type", warnings: &warnings) == word)
        }
        #expect(warnings.isEmpty)
        #expect(GroupTypeFile.parse("dma\n", file: "type", warnings: &warnings) == nil)
        #expect(GroupTypeFile.parse("", file: "type", warnings: &warnings) == nil)
        #expect(warnings.count == 2)
        #expect(warnings[0].line == 1)
    }

    /// The Xeon W-1290P sample: `cap d2008c40660462`, `ecap f050da`, printed `%llx` without `0x`.
    @Test func vtdRegistersFromTheXeonSample() {
        let lines = HostTrees.sample("sysfs/intel-iommu-cap-ecap-xeon-w1290p.txt").split(separator: "\n")
        var warnings: [ImportWarning] = []
        #expect(BareHexFile.parse(String(lines[1]) + "\n", file: "cap", warnings: &warnings) == 0xd2_008c_4066_0462)
        #expect(BareHexFile.parse(String(lines[3]) + "\n", file: "ecap", warnings: &warnings) == 0xf0_50da)
        #expect(BareHexFile.parse("0xfed90000", file: "address", warnings: &warnings) == 0xfed9_0000)
        #expect(warnings.isEmpty)
        #expect(BareHexFile.parse("12345678901234567", file: "cap", warnings: &warnings) == nil)
        #expect(BareHexFile.parse("cap d2008c40660462", file: "cap", warnings: &warnings) == nil)
        #expect(warnings.count == 2)
    }

    @Test func pciIDsAreBoundedByTheirWidth() {
        var warnings: [ImportWarning] = []
        #expect(PCIIDFile<UInt16>.parse("0x8086\n", file: "vendor", warnings: &warnings) == 0x8086)
        #expect(PCIIDFile<UInt32>.parse("0x030000\n", file: "class", warnings: &warnings) == 0x03_0000)
        #expect(warnings.isEmpty)
        #expect(PCIIDFile<UInt16>.parse("0x18086\n", file: "vendor", warnings: &warnings) == nil)
        #expect(PCIIDFile<UInt16>.parse("8086\n", file: "vendor", warnings: &warnings) == nil)
        #expect(warnings.count == 2)
    }

    @Test func vtdVersion() {
        var warnings: [ImportWarning] = []
        #expect(VTdVersionFile.parse("1:0\n", file: "version", warnings: &warnings) == "1:0")
        #expect(VTdVersionFile.parse("5:0", file: "version", warnings: &warnings) == "5:0")
        #expect(warnings.isEmpty)
        for bad in ["1", "1:", "16:0", "a:b", "1:0:0"] {
            #expect(VTdVersionFile.parse(bad, file: "version", warnings: &warnings) == nil, "\(bad)")
        }
        #expect(warnings.count == 5)
    }

    /// osrelease and cmdline are kept verbatim but for the newline; a second line is warned about.
    @Test func procLines() {
        var warnings: [ImportWarning] = []
        #expect(ProcLineFile.parse("6.8.0-45-generic\n", file: "osrelease", warnings: &warnings) == "6.8.0-45-generic")
        #expect(ProcLineFile.parse("a  b\n", file: "cmdline", warnings: &warnings) == "a  b")
        #expect(warnings.isEmpty)
        #expect(ProcLineFile.parse("a\nb\n", file: "cmdline", warnings: &warnings) == "a")
        #expect(warnings.map(\.line) == [2])
    }
}

@Suite struct KernelCommandLineTests {
    @Test func iommuWordsAreTyped() {
        let line = KernelCommandLine("BOOT_IMAGE=/vmlinuz ro intel_iommu=on,sm_on iommu=pt iommu.strict=0 quiet arm-smmu-v3.disable_bypass=1")
        #expect(line.words.map(\.parameter) == [.intelIOMMU, .iommu, .strict, .disableBypass])
        #expect(line.value(of: .intelIOMMU) == "on,sm_on")
        #expect(line.passthrough == true)
        #expect(line.strict == false)
        #expect(line.explanations[0] == "intel_iommu=on,sm_on: VT-d DMA remapping on; scalable mode where the unit has it")
    }

    /// `parse_args()`: the last word of a parameter wins; quotes group blanks.
    @Test func lastWordWinsAndQuotesGroup() {
        let line = KernelCommandLine("iommu.passthrough=1 dyndbg=\"file iommu.c +p\" iommu.passthrough=0")
        #expect(line.words.count == 2)
        #expect(line.passthrough == false)
        #expect(KernelCommandLine("iommu.strict").strict == true)
        #expect(KernelCommandLine("quiet").words.isEmpty)
        #expect(KernelCommandLine("iommu.strict=maybe").strict == nil)
    }
}
