import Testing
@testable import IOMMUCore

/// The STE and CD words the model writes, built from the inputs the kernel's KUnit test
/// (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-test.c) gives its `arm_smmu_test_make_*`
/// helpers, against the words the kernel's builders in arm-smmu-v3.c produce from them. The
/// expected values are worked out field by field from the `STRTAB_STE_*` / `CTXDESC_CD_*`
/// masks of arm-smmu-v3.h.
struct SMMUv3ConfigurationWordsTests {
    /// The KUnit test's `smmu.features = ARM_SMMU_FEAT_STALLS | ARM_SMMU_FEAT_ATTR_TYPES_OVR`.
    static let kunitFeatures = SMMUv3.Features(stalls: true, attributeTypesOverride: true)
    /// `fake_cdtab_dma_addr`.
    static let fakeCDTable: UInt64 = 0xF0F0_F0F0_F0F0
    /// The io-pgtable configuration of `arm_smmu_test_make_s2_ste` / `_s1_cd`.
    static let vtcr = SMMUv3.TranslationControl(tsz: 4, sl: 3, irgn: 2, orgn: 1, sh: 3, tg: 2, ps: 1)
    static let tcr = SMMUv3.TranslationControl(tsz: 4, irgn: 2, orgn: 1, sh: 3, tg: 2, ps: 1)
    static let fakeTTBR: UInt64 = 0xdaed_beef_dead_beef

    /// `arm_smmu_make_abort_ste` and `arm_smmu_make_bypass_ste` (the KUnit `abort_ste` and `bypass_ste`).
    @Test func abortAndBypass() {
        #expect(SMMUv3.abortSTE == [0x1, 0, 0, 0])
        // V | Config 4; SHCFG = incoming (1 << 44) with ATTR_TYPES_OVR.
        #expect(SMMUv3.bypassSTE(features: Self.kunitFeatures) == [0x9, 0x1000_0000_0000, 0, 0])
        #expect(SMMUv3.bypassSTE(features: .simulated) == [0x9, 0, 0, 0])
    }

    /// `arm_smmu_test_make_cdtable_ste(ste, s1dss, fake_cdtab_dma_addr, ARM_SMMU_MASTER_TEST_ATS)`:
    /// s1cdmax 0xFF (FIELD_PREP keeps its low 5 bits), S1FMT_64K_L2, ATS, a master that cannot stall.
    @Test(arguments: [(SMMUv3.DefaultSubstream.substream0, UInt64(0x1800_00d6)),
                      (.bypass, 0x1000_1800_00d5), (.terminate, 0x1800_00d4)])
    func cdTableSTE(s1dss: SMMUv3.DefaultSubstream, word1: UInt64) {
        let ste = SMMUv3.cdTableSTE(table: Self.fakeCDTable, format: .twoLevel64K, s1cdmax: 0xFF, s1dss: s1dss, ats: true,
                                    features: Self.kunitFeatures)
        // V | Config 5 | S1Fmt 2 | S1ContextPtr (51:6) | S1CDMax 0x1f.
        #expect(ste == [0xF800_F0F0_F0F0_F0EB, word1, 0, 0])
        // arm_smmu_v3_write_ste_test_non_hitless's second STE: another table pointer.
        let other = SMMUv3.cdTableSTE(table: 0x4B_4B4B_4B4B, format: .twoLevel64K, s1cdmax: 0xFF, s1dss: .bypass, ats: true,
                                      features: Self.kunitFeatures)
        #expect(other[0] == 0xF800_004B_4B4B_4B6B)
    }

    /// The model's own SMMU: no ATTR_TYPES_OVR, no ATS, a kernel at EL1 (STRW = NSEL1, VMID 0).
    @Test func cdTableSTEOfTheSimulatedSMMU() {
        let ste = SMMUv3.cdTableSTE(table: 0x1_0080_c000, format: .linear, s1cdmax: 8, s1dss: .terminate, features: .simulated)
        #expect(ste == [0x4000_0001_0080_c00b, 0x0800_00d4, 0, 0])
        let e2h = SMMUv3.cdTableSTE(table: 0x1_0080_c000, format: .linear, s1cdmax: 0, s1dss: .substream0,
                                    features: SMMUv3.Features(stalls: false, attributeTypesOverride: false, e2h: true))
        #expect(e2h == [0x1_0080_c00b, 0x8000_00d6, 0, 0])
    }

    /// `arm_smmu_test_make_s2_ste(ste, ARM_SMMU_MASTER_TEST_ATS)`.
    @Test func stage2STE() {
        let ste = SMMUv3.stage2STE(vtcr: Self.vtcr, vttbr: Self.fakeTTBR, vmid: 0, s2fwb: false, ats: true, features: Self.kunitFeatures)
        // Word 1: EATS = trans (28), SHCFG = incoming (44). Word 2: VTCR 0x1b6c4 in 50:32,
        // S2AA64, S2PTW, S2R. Word 3: S2TTB (51:4).
        #expect(ste == [0xd, 0x1000_1000_0000, 0x0449_b6c4_0000_0000, 0x000d_beef_dead_bee0])
        // IO_PGTABLE_QUIRK_ARM_S2FWB adds STRTAB_STE_1_S2FWB (25); the VMID goes in 15:0.
        let fwb = SMMUv3.stage2STE(vtcr: Self.vtcr, vttbr: Self.fakeTTBR, vmid: 7, s2fwb: true, features: .simulated)
        #expect(fwb[1] == 0x200_0000 && fwb[2] == 0x0449_b6c4_0000_0007)
    }

    /// `arm_smmu_make_nested_cd_table_ste` over that S2 STE: Config = nested, the vSTE's
    /// word 0 (but Config) and word 1, and MEV (19).
    @Test func nestedSTE() {
        let s2 = SMMUv3.stage2STE(vtcr: Self.vtcr, vttbr: Self.fakeTTBR, vmid: 1, s2fwb: false, ats: true, features: Self.kunitFeatures)
        let vste: [UInt64] = [0x1000_0000_4001_001b, 0x1]
        #expect(SMMUv3.nestedSTE(vste: vste, stage2: s2)
                    == [0x1000_0000_4001_001f, 0x1000_1008_0001, 0x0449_b6c4_0000_0001, 0x000d_beef_dead_bee0])
    }

    /// `arm_smmu_test_make_s1_cd(cd, 1997)`, and with IO_PGTABLE_QUIRK_ARM_HD (HA | HD).
    @Test func stage1CD() {
        let cd = SMMUv3.contextDescriptor(tcr: Self.tcr, ttbr: Self.fakeTTBR, mair: 0xabc_def0_1234_5678, asid: 1997,
                                          hardwareDirty: false)
        // T0SZ 4, TG0 2, IRGN0 2, ORGN0 1, SH0 3, EPD1, V, IPS 1, AA64, R, A, ASET, ASID 0x7cd.
        #expect(cd == [0x07cd_e201_c000_3684, 0x000d_beef_dead_bee0, 0, 0xabc_def0_1234_5678])
        let dirty = SMMUv3.contextDescriptor(tcr: Self.tcr, ttbr: Self.fakeTTBR, mair: 0, asid: 1997, hardwareDirty: true)
        #expect(dirty[0] == 0x07cd_ee01_c000_3684)
    }

    /// The CD a Linux io-pgtable stage-1 domain gets: 48-bit VA, 4K granule, WBWA, IS, MAIR.
    @Test func stage1CDOfADomain() {
        let format = ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48)
        #expect(SMMUv3.contextDescriptor(for: format, root: 0x1_0080_0000, asid: 1, dirty: false)
                    == [0x0001_e205_c000_3510, 0x1_0080_0000, 0, 0xf404_ff44])
    }

    /// `arm_smmu_alloc_cd_tables` and `arm_smmu_alloc_cd_ptr`: linear up to 1024 CDs, else an
    /// L1 table of 64KB leaves allocated on first use, with L2Ptr | V in the L1 descriptor.
    @Test func contextTableLayout() throws {
        let memory = PhysicalMemory()
        var linear = try SMMUv3.ContextTable.allocate(ssidBits: 10, memory: memory)
        #expect(linear.format == .linear && linear.s1cdmax == 10 && linear.base % 0x10000 == 0)
        #expect(try linear.descriptorAddress(1023, memory: memory, allocating: false) == linear.base + 1023 * 64)

        var twoLevel = try SMMUv3.ContextTable.allocate(ssidBits: 20, memory: memory)
        #expect(twoLevel.format == .twoLevel64K && twoLevel.base % 0x2000 == 0)
        #expect(try twoLevel.descriptorAddress(0x12345, memory: memory, allocating: false) == nil)
        let address = try #require(try twoLevel.descriptorAddress(0x12345, memory: memory, allocating: true))
        let leaf = try #require(twoLevel.leaves[0x48])
        #expect(leaf % 0x10000 == 0 && address == leaf + 0x345 * 64)
        #expect(memory.peek64(twoLevel.base + 0x48 * 8) == leaf | 1)
        #expect(try twoLevel.descriptorAddress(0x12000, memory: memory, allocating: false) == leaf)

        let small = try SMMUv3.ContextTable.allocate(ssidBits: 11, memory: memory)
        #expect(small.format == .twoLevel64K)
    }

    /// The STE fields the walk decodes.
    @Test func steAccessors() {
        let ste = SMMUv3.StreamTableEntry(words: [0xa000_0001_0080_602b, 0x0800_00d7, 0, 0])
        #expect(ste.config == .stage1 && ste.contextTableFormat == .twoLevel64K && ste.s1cdmax == 20)
        #expect(ste.defaultSubstream == nil)
        #expect(SMMUv3.StreamTableEntry(words: [0x3b, 0x1, 0, 0]).contextTableFormat == nil)
        #expect(SMMUv3.ContextTableFormat.twoLevel4K.split == 6 && SMMUv3.ContextTableFormat.linear.split == nil)
    }
}
