import Testing
@testable import HostImport

/// The CONSTRUCTED lines of host-inputs §5, typed in, and one line per kernel version of
/// each printer.
@Suite struct FaultLogConstructedTests {
    static func read(_ text: String) -> FaultLogReader.Result { FaultLogReader.read(text, file: "t") }

    /// §5.1: what v6.14+ adds after the hns3 sample's first event; the decoded lines agree.
    @Test func smmuDecodedLinesAfterRawBlock() throws {
        let result = Self.read("""
            arm-smmu-v3 arm-smmu-v3.2.auto: event 0x10 received:
            arm-smmu-v3 arm-smmu-v3.2.auto: \t0x0000350100000010
            arm-smmu-v3 arm-smmu-v3.2.auto: \t0x000002088000003f
            arm-smmu-v3 arm-smmu-v3.2.auto: \t0x00000000a50e0800
            arm-smmu-v3 arm-smmu-v3.2.auto: \t0x0000000000000000
            arm-smmu-v3 arm-smmu-v3.2.auto: event: F_TRANSLATION client: 0000:35:00.0 sid: 0x3501 ssid: 0x0 iova: 0xa50e0800 ipa: 0x0
            arm-smmu-v3 arm-smmu-v3.2.auto: unpriv data read s1 "Input address caused fault" stall stag: 0x3f

            """)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let record = try #require(result.records.first)
        #expect(result.records.count == 1)
        #expect(record.device == .pci(PCIAddress(bus: 0x35, device: 0, function: 0)))
        #expect(record.sid == 0x3501)
        #expect(record.access == .read)
    }

    /// Decoded lines that disagree with the words are located warnings; the words win.
    @Test func smmuDecodedLinesThatDisagreeWarn() throws {
        let result = Self.read("""
            arm-smmu-v3 fc900000.iommu: event 0x10 received:
            arm-smmu-v3 fc900000.iommu: \t0x0000210000000010
            arm-smmu-v3 fc900000.iommu: \t0x0000020000000000
            arm-smmu-v3 fc900000.iommu: \t0x0000000000000100
            arm-smmu-v3 fc900000.iommu: \t0x0000000000000000
            arm-smmu-v3 fc900000.iommu: event: F_PERMISSION client: 0002:21:00.0 sid: 0x2101 ssid: 0x0 iova: 0x200 ipa: 0x0
            arm-smmu-v3 fc900000.iommu: priv data read s1 "Input address caused fault" stag: 0x0
            """)
        #expect(result.warnings.map(\.line) == [6, 6, 6, 7])
        #expect(result.warnings[0].reason.contains("F_PERMISSION"))
        #expect(result.warnings[3].reason.contains("PnU, RnW"))
        #expect(result.records.first?.address == 0x100)
        #expect(result.records.first?.sid == 0x2100)
    }

    /// SSV = 1 gives the PASID; S2 gives stage 2 and the IPA from w3[51:12]; F_PERMISSION
    /// with CLASS TT prints ` ttd_read`; a spec id the kernel table lacks decodes from raw.
    @Test func smmuStage2SubstreamAndSpecIDs() throws {
        let result = Self.read("""
            arm-smmu-v3 fc900000.iommu: event 0x13 received:
            arm-smmu-v3 fc900000.iommu: \t0x0000210000005813
            arm-smmu-v3 fc900000.iommu: \t0x0000118800000000
            arm-smmu-v3 fc900000.iommu: \t0x0000000012345678
            arm-smmu-v3 fc900000.iommu: \t0x0000000087654000
            arm-smmu-v3 fc900000.iommu: event: F_PERMISSION client: (unassigned sid) sid: 0x2100 ssid: 0x5 iova: 0x12345678 ipa: 0x87654000
            arm-smmu-v3 fc900000.iommu: unpriv data read s2 "Stage 1 translation table fetch" ttd_read stag: 0x0
            arm-smmu-v3 fc900000.iommu: event 0x0b received:
            arm-smmu-v3 fc900000.iommu: \t0x000021000000000b
            arm-smmu-v3 fc900000.iommu: \t0x0000020000000000
            arm-smmu-v3 fc900000.iommu: \t0x0000000000004000
            arm-smmu-v3 fc900000.iommu: \t0x0000000000000000
            arm-smmu-v3 fc900000.iommu: event: UNKNOWN client: 0002:21:00.0 sid: 0x2100 ssid: 0x0
            arm-smmu-v3 fc900000.iommu: EVTQ overflow detected -- events lost
            """)
        #expect(result.records.count == 2)
        let permission = result.records[0]
        #expect(permission.reason == "F_PERMISSION")
        #expect(permission.pasid == 5)
        #expect(permission.stage == 2)
        #expect(permission.ipa == 0x8765_4000)
        #expect(permission.device == nil)
        #expect(permission.reasonText == "Stage 1 translation table fetch")
        #expect(result.records[1].reason == "F_WALK_EABT")
        #expect(result.records[1].address == 0x4000)
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.line == 14)
    }

    /// The Xen port: `(XEN) SMMUv3: <node>: event 0x10 received:` and its words.
    @Test func smmuXen() throws {
        let result = Self.read("""
            (XEN) SMMUv3: /smmu@2b400000: event 0x10 received:
            (XEN) SMMUv3: /smmu@2b400000: \t0x0000350100000010
            (XEN) SMMUv3: /smmu@2b400000: \t0x000002088000003f
            (XEN) SMMUv3: /smmu@2b400000: \t0x00000000a50e0800
            (XEN) SMMUv3: /smmu@2b400000: \t0x0000000000000000
            """)
        #expect(result.warnings.isEmpty)
        #expect(result.records.first?.iommu == "/smmu@2b400000")
        #expect(result.records.first?.address == 0xa50e_0800)
    }

    /// Two SMMUs' events interleaved line by line are grouped by unit, not by adjacency.
    @Test func smmuInterleavedUnits() {
        let a = "arm-smmu-v3 smmu-a: ", b = "arm-smmu-v3 smmu-b: "
        let result = Self.read([
            a + "event 0x10 received:", b + "event 0x04 received:", a + "\t0x0000000100000010", b + "\t0x0000000200000004",
            a + "\t0x0000000000000000", b + "\t0x0", a + "\t0x0000000000001000", b + "\t0x0", a + "\t0x0", b + "\t0x0",
        ].joined(separator: "\n"))
        #expect(result.warnings.isEmpty)
        #expect(result.records.map(\.iommu) == ["smmu-a", "smmu-b"])
        #expect(result.records.map(\.sid) == [1, 2])
        #expect(result.records.map(\.reason) == ["F_TRANSLATION", "C_BAD_STE"])
        #expect(result.records.map(\.address) == [0x1000, nil])
    }

    /// §5.2: every variant of the fault line, and the legacy-mode dump joined to its fault.
    @Test func dmarEveryVersion() throws {
        let result = Self.read("""
            DMAR: [DMA Read] Request device [2f:00.1] fault addr 7ebb0000 [fault reason 06] PTE Read access is not set
            DMAR: [DMA Read] Request device [00:0d.2] PASID ffffffff fault addr 1026a4000 [fault reason 81] SM: Present bit in Directory Entry is clear
            DMAR: [DMA Read NO_PASID] Request device [0x2f:0x00.1] fault addr 0x7ebb0000 [fault reason 0x06] PTE Read access is not set
            DMAR: [DMA Write PASID 0x2] Request device [00:0d.2] fault addr 0x1026a4000 [fault reason 0x51] SM: Present bit in Directory Entry is clear
            DMAR: [INTR-REMAP] Request device [00:1f.0] fault index 0x12 [fault reason 0x22] Present field in the IRTE entry is clear
            DMAR: [DMA Write] Request device [00:02.0] PASID 3 fault addr 8d800000 [fault reason 05] PTE Write access is not set
            DMAR: [INTR-REMAP] Request device [00:1f.0] fault index 12 [fault reason 34] Present field in the IRTE entry is clear
            DMAR: Dump dmar1 table entries for IOVA 0x8d800000
            DMAR: root entry: 0x000000010303e001
            DMAR: context entry: hi 0x0000000000000102, low 0x000000010303f005
            DMAR: pte level: 4, pte value: 0x00000001017f9003
            DMAR: PTE not present at level 3
            """)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.records.map(\.reason) == ["0x06", "0x51", "0x06", "0x51", "0x22", "0x05", "0x22"])
        #expect(result.records.map(\.pasid) == [nil, nil, nil, 2, nil, 3, nil])
        #expect(result.records.map(\.address) == [0x7ebb_0000, 0x1_026a_4000, 0x7ebb_0000, 0x1_026a_4000, nil, 0x8d80_0000, nil])
        #expect(result.records.map(\.access) == [.read, .read, .read, .write, nil, .write, nil])
        #expect(result.records[2].device == .pci(PCIAddress(bus: 0x2f, device: 0, function: 1)))
        let dumped = result.records[5]
        #expect(dumped.iommu == "dmar1")
        #expect(dumped.tableDump == [.rootEntry(0x1_0303_e001), .contextEntry(high: 0x102, low: 0x1_0303_f005),
                                     .pte(level: 4, value: 0x1_017f_9003), .pteNotPresent(level: 3)])
        #expect(result.records[4].reasonText == "Present field in the IRTE entry is clear")
    }

    /// A dump whose IOVA matches no fault, and entries with no header, are located warnings.
    @Test func dmarDumpWithoutItsFault() {
        let result = Self.read("""
            DMAR: [DMA Read NO_PASID] Request device [2f:00.1] fault addr 0x7ebb0000 [fault reason 0x06] PTE Read access is not set
            DMAR: Dump dmar0 table entries for IOVA 0x1000
            DMAR: root table is not present
            """)
        #expect(result.warnings.map(\.line) == [2, 3])
        #expect(result.records.first?.iommu == nil)
    }

    /// §5.3: the current forms and a DTE dump joining the open record past `Control Reg`.
    @Test func amdCurrentFormsAndDTE() throws {
        let result = Self.read("""
            AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:05:00.0 domain=0x0012 address=0xff6101b0 flags=0x0070]
            iommu ivhd0: AMD-Vi: Event logged [IOTLB_INV_TIMEOUT device=0000:01:00.0 address=0x114d7b000]
            iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=0000:01:00.0 pasid=0x00000 address=0xcff49550 flags=0x0000]
            iommu ivhd0: AMD-Vi: Control Reg : 0xc22000142c8a0d
            AMD-Vi: DTE[0]: 6000000114d7b603
            AMD-Vi: DTE[1]: 0000000000000038
            AMD-Vi: DTE[2]: 20000001373b8013
            AMD-Vi: DTE[3]: 0000000000000000
            """)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.records.map(\.reason) == ["IO_PAGE_FAULT", "IOTLB_INV_TIMEOUT", "ILLEGAL_DEV_TABLE_ENTRY"])
        #expect(result.records.map(\.iommu) == [nil, "ivhd0", "ivhd0"])
        #expect(result.records[0].device == .pci(PCIAddress(bus: 5, device: 0, function: 0)))
        #expect(result.records[1].address == 0x1_14d7_b000)
        #expect(result.records[2].raw == [0x6000_0001_14d7_b603, 0x38, 0x2000_0001_373b_8013, 0])
        #expect(result.records[2].access == nil)
    }

    /// §5.3: every other event of `iommu_print_event()`, the 4.19 backport without `AMD-Vi: `,
    /// GN giving the PASID, CMD words after ILLEGAL_COMMAND_ERROR, UNKNOWN without `]`.
    @Test func amdOtherEvents() throws {
        let result = Self.read("""
            iommu ivhd1: Event logged [IO_PAGE_FAULT device=00:14.0 domain=0x0003 address=0xfffff000 flags=0x0000]
            iommu ivhd0: AMD-Vi: Event logged [DEV_TAB_HARDWARE_ERROR device=0000:01:00.0 address=0x1000 flags=0x0000]
            iommu ivhd0: AMD-Vi: Event logged [PAGE_TAB_HARDWARE_ERROR device=0000:01:00.0 pasid=0x0005 address=0x2000 flags=0x0011]
            iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_COMMAND_ERROR address=0x3000]
            AMD-Vi: CMD[0]: 00000001
            AMD-Vi: CMD[1]: 20000000
            AMD-Vi: CMD[2]: 00000000
            AMD-Vi: CMD[3]: 00000000
            iommu ivhd0: AMD-Vi: Event logged [COMMAND_HARDWARE_ERROR address=0x4000 flags=0x0000]
            iommu ivhd0: AMD-Vi: Event logged [INVALID_DEVICE_REQUEST device=0000:01:00.0 pasid=0x00000 address=0x5000 flags=0x0000]
            iommu ivhd0: AMD-Vi: Event logged [INVALID_PPR_REQUEST device=0000:01:00.0 pasid=0x00001 address=0x6000 flags=0x0000 tag=0x001]
            iommu ivhd0: AMD-Vi: Event logged [RMP_PAGE_FAULT device=0000:01:00.0, vmg_tag=0x0000, gpa=0x7000, flags_rmp=0x0000, flags=0x0000]
            iommu ivhd0: AMD-Vi: Event logged [RMP_HW_ERROR device=0000:01:00.0, vmg_tag=0x0000, spa=0x8000, flags=0x0000]
            iommu ivhd0: AMD-Vi: Event logged [UNKNOWN event[0]=0x00000001 event[1]=0xf0000000 event[2]=0x00000000 event[3]=0x00000000
            AMD-Vi: Completion-Wait loop timed out
            ath10k_pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x00004 address=0x9000 flags=0x0031]
            """)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.records.map(\.reason) == ["IO_PAGE_FAULT", "DEV_TAB_HARDWARE_ERROR", "PAGE_TAB_HARDWARE_ERROR", "ILLEGAL_COMMAND_ERROR",
                                                "COMMAND_HARDWARE_ERROR", "INVALID_DEVICE_REQUEST", "INVALID_PPR_REQUEST", "RMP_PAGE_FAULT",
                                                "RMP_HW_ERROR", "UNKNOWN", "IO_PAGE_FAULT"])
        #expect(result.records[0].iommu == "ivhd1")
        #expect(result.records[0].device == .pci(PCIAddress(bus: 0, device: 0x14, function: 0)))
        #expect(result.records[2].pasid == 5)
        #expect(result.records[2].access == .read)
        #expect(result.records[3].raw == [1, 0x2000_0000, 0, 0])
        #expect(result.records[7].address == 0x7000)
        #expect(result.records[8].address == 0x8000)
        #expect(result.records[9].raw == [1, 0xf000_0000, 0, 0])
        #expect(result.records[10].pasid == 4)
        #expect(result.records[10].access == .write)
    }

    /// §5.4, newer kernel: 5-character irq flags; `map` is context; a write; `trace-cmd report` framing.
    @Test func tracepointForms() throws {
        let result = Self.read("""
               kworker/u64:3-211     [004] .....    12.345678: map: IOMMU: iova=0x00000000cff40000 - 0x00000000cff50000 paddr=0x0000000114d7b000 size=65536
               irq/24-AMD-Vi-48      [002] .....    12.400000: io_page_fault: IOMMU:ath10k_pci 0000:01:00.0 iova=0x00000000cff49550 flags=0x0001
                      <idle>-0     [003]  5512.776932: io_page_fault:        IOMMU:arm-smmu 1c00000.gpu iova=0x0000000001000000 flags=0x0000
            """)
        #expect(result.warnings.isEmpty)
        #expect(result.notUnderstood.isEmpty)
        #expect(result.records.count == 2)
        #expect(result.records[0].access == .write)
        #expect(result.records[0].timestamp == 12.4)
        #expect(result.records[0].device == .pci(PCIAddress(bus: 1, device: 0, function: 0)))
        #expect(result.records[1].device == .named("1c00000.gpu"))
        #expect(result.records[1].address == 0x100_0000)
        #expect(result.records[1].access == .read)
    }

    /// Never events: ratelimit notices, group adds, boot lines, overflow notes.
    @Test func neverEvents() {
        let result = Self.read("""
            [    1.0] dmar_fault: 191 callbacks suppressed
            amd_iommu_report_page_fault: 12 callbacks suppressed
            pci 0000:00:1f.0: Adding to iommu group 20
            DMAR: Host address width 39
            AMD-Vi: Interrupt remapping enabled
            pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40
            arm-smmu-v3 arm-smmu-v3.0.auto: ias 48-bit, oas 48-bit (features 0x00001faf)
            """)
        #expect(result.records.isEmpty)
        #expect(result.warnings.isEmpty)
        #expect(result.notUnderstood.isEmpty, "\(result.notUnderstood)")
    }

    /// A known device without a domain prints two lines; split halves keep their unit even
    /// when another unit's half comes between; a half with no second half warns.
    @Test func amdNotAttachedAndSplitHalvesByUnit() {
        let result = Self.read("""
            ath10k_pci 0000:01:00.0: AMD-Vi: Event logged [Device not attached to domain properly]
            AMD-Vi:   device=0000:01:00.0 domain=0x0000
            iommu ivhd0: AMD-Vi: Event logged [
            iommu ivhd1: AMD-Vi: Event logged [
            iommu ivhd1: INVALID_DEVICE_REQUEST device=00:00.1 address=0x000000fdf8000020 flags=0x0a00]
            iommu ivhd0: IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070]
            AMD-Vi: Event logged [
            AMD-Vi: Event logged [IO_PAGE_FAULT device=05:00.0 domain=0x0001 address=0x1000 flags=0x0001]
            """)
        #expect(result.records.map(\.reason) == ["IO_PAGE_FAULT", "IO_PAGE_FAULT", "INVALID_DEVICE_REQUEST", "IO_PAGE_FAULT"])
        #expect(result.records[0].reasonText == "Device not attached to domain properly")
        #expect(result.records[0].device == .pci(PCIAddress(bus: 1, device: 0, function: 0)))
        #expect(result.records.map(\.iommu) == [nil, "ivhd0", "ivhd1", nil])
        #expect(result.records.map(\.sourceLine) == [1, 3, 4, 8])
        #expect(result.records[1].address == 0xff61_01b0)
        #expect(result.records[3].pasid == 1)
        #expect(result.records[3].access == nil)
        #expect(result.warnings.map(\.line) == [7])
    }
}
