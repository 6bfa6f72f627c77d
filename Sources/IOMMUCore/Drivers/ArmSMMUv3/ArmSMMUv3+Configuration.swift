/// The SMMUv3 stream table entry and context descriptor fields Linux programs
/// (`arm-smmu-v3.h`), and the rules of a walk through them.
public enum SMMUv3 {
    /// Up to four words of a configuration structure (an STE's 0-3, a CD's 0-1 or 0-3), held
    /// inline, so a cached copy costs no reference count; a word beyond those read is zero.
    struct StructureWords: Sendable, Equatable {
        private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64
        private let count: Int

        init(_ words: [UInt64]) {
            func word(_ index: Int) -> UInt64 { words.indices.contains(index) ? words[index] : 0 }
            (w0, w1, w2, w3) = (word(0), word(1), word(2), word(3))
            count = min(words.count, 4)
        }

        subscript(index: Int) -> UInt64 {
            switch index {
            case 0: w0
            case 1: w1
            case 2: w2
            case 3: w3
            default: 0
            }
        }

        /// The words read, in order.
        var all: [UInt64] { (0..<count).map { self[$0] } }
    }

    /// STE.Config (STRTAB_STE_0_CFG).
    public enum Config: UInt64, Sendable {
        case abort = 0, bypass = 4, stage1 = 5, stage2 = 6, nested = 7
    }

    /// STE.S1Fmt (STRTAB_STE_0_S1FMT): the layout of the CD table S1ContextPtr points to.
    public enum ContextTableFormat: UInt64, Sendable {
        case linear = 0
        /// Two levels with leaf tables of 64 CDs (4KB). Linux never builds it; a guest may.
        case twoLevel4K = 1
        /// Two levels with leaf tables of `CTXDESC_L2_ENTRIES` CDs (64KB): STRTAB_STE_0_S1FMT_64K_L2.
        case twoLevel64K = 2

        /// How many low SSID bits index a leaf table (`CTXDESC_SPLIT` for 64KB leaves); nil
        /// for a linear table, which the whole SSID indexes.
        public var split: Int? {
            switch self {
            case .linear: nil
            case .twoLevel4K: 6
            case .twoLevel64K: 10
            }
        }
    }

    /// STE.S1DSS (STRTAB_STE_1_S1DSS): what a transaction without a SubstreamID does when
    /// substreams are enabled (S1CDMax > 0). IHI0070 5.2: terminate with F_STREAM_DISABLED,
    /// bypass stage 1, or use CD 0 (then a transaction with SubstreamID 0 is C_BAD_SUBSTREAMID).
    public enum DefaultSubstream: UInt64, Sendable {
        case terminate = 0, bypass = 1, substream0 = 2
    }

    /// Bytes of one STE (8 words) and one CD (8 words).
    public static let steSize: UInt64 = 64
    public static let cdSize: UInt64 = 64
    /// SIDSIZE of the simulated SMMU: a linear stream table of 2^16 STEs.
    public static let streamIDBits = 16
    /// IDR1.SSIDSIZE of the simulated SMMU (`smmu->ssid_bits`), as a modern SMMU has it.
    public static let substreamIDBits = 20
    /// CTXDESC_L2_ENTRIES: CDs in one of Linux's leaf tables (1 << CTXDESC_SPLIT).
    public static let leafEntries = 1 << 10
    /// CTXDESC_L1_DESC_V and CTXDESC_L1_DESC_L2PTR_MASK: a level-1 CD descriptor.
    public static let l1DescriptorValid: UInt64 = 1
    public static let l1DescriptorPointerMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// Bytes of one level-1 CD descriptor (CTXDESC_L1_DESC_DWORDS = 1).
    public static let l1DescriptorSize: UInt64 = 8

    /// What of the SMMU's `features` the STE and CD builders look at.
    public struct Features: Sendable, Equatable {
        /// ARM_SMMU_FEAT_STALLS: IDR0.STALL_MODEL is 0b00 (stall and terminate), so a master
        /// that cannot stall gets STE.S1STALLD and one that can (`stall_enabled`) CD.S.
        public var stalls: Bool
        /// ARM_SMMU_FEAT_ATTR_TYPES_OVR: IDR1.ATTR_TYPES_OVR, so bypassing STEs take SHCFG = incoming.
        public var attributeTypesOverride: Bool
        /// ARM_SMMU_FEAT_E2H: the kernel runs at EL2 with VHE (STE.STRW = EL2, no VMID 0).
        public var e2h: Bool

        public init(stalls: Bool, attributeTypesOverride: Bool, e2h: Bool = false) {
            self.stalls = stalls
            self.attributeTypesOverride = attributeTypesOverride
            self.e2h = e2h
        }

        /// The simulated SMMU: STALL_MODEL 0 in IDR0, no ATTR_TYPES_OVR in IDR1, a kernel at EL1.
        public static let simulated = Features(stalls: true, attributeTypesOverride: false)
    }

    /// The STE words 0-3 for a device.
    public struct StreamTableEntry: Sendable, Equatable {
        /// Words 0-3, inline: a cached STE copies without a reference count.
        private let stored: StructureWords

        public init(words: [UInt64]) { stored = StructureWords(words) }

        public var words: [UInt64] { stored.all }

        public var valid: Bool { stored[0] & 1 != 0 }
        public var config: Config? { Config(rawValue: (stored[0] >> 1) & 0x7) }
        /// S1ContextPtr (bits 51:6).
        public var contextPointer: UInt64 { stored[0] & 0x000F_FFFF_FFFF_FFC0 }
        /// S1Fmt (bits 5:4); nil for the reserved 0b11.
        public var contextTableFormat: ContextTableFormat? { ContextTableFormat(rawValue: (stored[0] >> 4) & 0x3) }
        /// S1CDMax (bits 63:59): the CD table holds 2^S1CDMax CDs; 0 disables substreams.
        public var s1cdmax: Int { Int(stored[0] >> 59) }
        /// S1STALLD (word 1 bit 27): CD.S is ignored, stage-1 faults terminate.
        public var stage1StallDisabled: Bool { (stored[1] >> 27) & 1 != 0 }
        /// S1DSS (word 1 bits 1:0); nil for the reserved 0b11.
        public var defaultSubstream: DefaultSubstream? { DefaultSubstream(rawValue: stored[1] & 0x3) }
        public var vmid: UInt64 { stored[2] & 0xffff }
        public var s2t0sz: Int { Int((stored[2] >> 32) & 0x3f) }
        public var s2sl0: UInt64 { (stored[2] >> 38) & 0x3 }
        public var s2tg: UInt64 { (stored[2] >> 46) & 0x3 }
        public var s2ps: UInt64 { (stored[2] >> 48) & 0x7 }
        /// S2TTB (bits 51:4 of word 3).
        public var s2ttb: UInt64 { stored[3] & 0x000F_FFFF_FFFF_FFF0 }

        /// The stage-2 format the STE describes, or nil when its fields are inconsistent.
        public var stage2Format: ArmLPAE? {
            guard let granule = SMMUv3.granule(tg: s2tg), s2ps < 7 else { return nil }
            let format = ArmLPAE(stage: .stage2, granule: granule, ias: 64 - s2t0sz,
                                 oas: [32, 36, 40, 42, 44, 48, 52][Int(s2ps)])
            guard format.ias == 64 - s2t0sz, format.sl0 == s2sl0 else { return nil }
            return format
        }
    }

    /// CD words 0 and 1.
    public struct ContextDescriptor: Sendable, Equatable {
        /// The words read (two for a translation, four for a view), inline.
        private let stored: StructureWords

        public init(words: [UInt64]) { stored = StructureWords(words) }

        public var words: [UInt64] { stored.all }

        public var valid: Bool { (stored[0] >> 31) & 1 != 0 }
        public var t0sz: Int { Int(stored[0] & 0x3f) }
        public var tg0: UInt64 { (stored[0] >> 6) & 0x3 }
        public var ips: UInt64 { (stored[0] >> 32) & 0x7 }
        public var epd0: Bool { (stored[0] >> 14) & 1 != 0 }
        public var aa64: Bool { (stored[0] >> 41) & 1 != 0 }
        /// CD.AFFD (bit 35): Access flag faults disabled, AF = 0 reads as AF = 1.
        public var accessFlagFaultDisable: Bool { (stored[0] >> 35) & 1 != 0 }
        /// CD.HD (bit 42) and CD.HA (bit 43): hardware dirty state and Access flag updates.
        public var hardwareDirty: Bool { (stored[0] >> 42) & 1 != 0 }
        public var hardwareAccess: Bool { (stored[0] >> 43) & 1 != 0 }
        /// CD.S (bit 44, CTXDESC_CD_0_S): a stage-1 fault stalls the transaction (unless the
        /// STE has S1STALLD) instead of terminating it.
        public var stall: Bool { (stored[0] >> 44) & 1 != 0 }

        /// The updates the SMMU makes for this CD (IHI0070 §3.13 "HTTU"): HA when IDR0.HTTU
        /// is 1 or 2, HD only with HTTU = 2 and HA (with HA = 0, HD is ignored).
        public func hardwareUpdates(httu: UInt64) -> HardwareUpdates {
            guard hardwareAccess, httu >= 1 else { return [] }
            return httu >= 2 && hardwareDirty ? [.access, .dirty] : .access
        }
        public var asid: UInt64 { stored[0] >> 48 }
        /// TTB0 (bits 51:4).
        public var ttb0: UInt64 { stored[1] & 0x000F_FFFF_FFFF_FFF0 }

        public var stage1Format: ArmLPAE? {
            guard let granule = SMMUv3.granule(tg: tg0), ips < 7, (16...39).contains(t0sz) || t0sz == 12 else { return nil }
            return ArmLPAE(stage: .stage1, granule: granule, ias: 64 - t0sz, oas: [32, 36, 40, 42, 44, 48, 52][Int(ips)])
        }
    }

    /// A master's CD table as the driver lays it out in host memory (`struct
    /// arm_smmu_ctx_desc_cfg`): linear, or two-level with 64KB leaves allocated on first use.
    struct ContextTable {
        /// `cdtab_dma`: the linear table or the L1 table.
        var base: UInt64
        var format: ContextTableFormat
        /// `s1cdmax`: the master's `ssid_bits`.
        var s1cdmax: Int
        /// `l2.l2ptrs`: leaf tables by L1 index.
        var leaves: [UInt32: UInt64] = [:]
        /// Non-zero SSIDs whose CD is valid (`used_ssids`, kept by `arm_smmu_write_cd_entry`).
        var usedSSIDs: Set<UInt32> = []

        /// `arm_smmu_alloc_cd_tables`: a linear table when all 2^ssid_bits CDs fit in one leaf
        /// (the SMMU has CD2L), else an L1 table of DIV_ROUND_UP(2^ssid_bits, CTXDESC_L2_ENTRIES)
        /// descriptors. `dma_alloc_coherent` hands out whole, naturally aligned pages.
        static func allocate(ssidBits: Int, memory: PhysicalMemory) throws(Refusal) -> ContextTable {
            let contexts = UInt64(1) << UInt64(ssidBits)
            let linear = contexts <= UInt64(SMMUv3.leafEntries)
            let bytes = linear ? contexts * SMMUv3.cdSize
                               : (contexts / UInt64(SMMUv3.leafEntries)) * SMMUv3.l1DescriptorSize
            let length = max(bytes, PhysicalMemory.frameSize)
            let base = try memory.allocate(length: length, alignment: length)
            return ContextTable(base: base, format: linear ? .linear : .twoLevel64K, s1cdmax: ssidBits)
        }

        /// `arm_smmu_get_cd_ptr`, or with `allocating` `arm_smmu_alloc_cd_ptr`: the CD's address,
        /// allocating the leaf table and writing its L1 descriptor (L2Ptr | V) on first use.
        mutating func descriptorAddress(_ ssid: UInt32, memory: PhysicalMemory, allocating: Bool) throws(Refusal) -> UInt64? {
            guard let split = format.split else { return base + UInt64(ssid) * SMMUv3.cdSize }
            let index = ssid >> UInt32(split), offset = UInt64(ssid & ((1 << UInt32(split)) - 1)) * SMMUv3.cdSize
            if let leaf = leaves[index] { return leaf + offset }
            guard allocating else { return nil }
            let length = UInt64(SMMUv3.leafEntries) * SMMUv3.cdSize
            let leaf = try memory.allocate(length: length, alignment: length)
            do throws(BusError) {
                try memory.write64(base + UInt64(index) * SMMUv3.l1DescriptorSize,
                                   leaf & SMMUv3.l1DescriptorPointerMask | SMMUv3.l1DescriptorValid)
            } catch {
                memory.free(leaf)
                throw .contextTableMemory(substream: ssid)
            }
            leaves[index] = leaf
            return leaf + offset
        }
    }

    /// What the SMMU keeps of a StreamID's configuration between CFGI commands.
    struct CachedConfiguration {
        var ste: StreamTableEntry
        var stage2: ArmLPAE?
    }

    /// Where the configuration cache files the CD of `substream` of StreamID `sid`.
    static func contextKey(_ sid: UInt32, substream: UInt32) -> UInt64 { UInt64(sid) << 32 | UInt64(substream) }

    /// A decoded CD: its words and the stage-1 format it describes.
    struct CachedContext {
        var cd: ContextDescriptor
        var stage1: ArmLPAE
    }

    /// TG0 / S2TG: 0 = 4K, 1 = 64K, 2 = 16K.
    static func granule(tg: UInt64) -> UInt64? {
        switch tg {
        case 0: 4096
        case 1: 65536
        case 2: 16384
        default: nil
        }
    }

    /// The fields of `struct arm_lpae_s1_cfg.tcr` / `arm_lpae_s2_cfg.vtcr` that io-pgtable-arm
    /// computes and the STE and CD builders copy: TxSZ, SL0 (stage 2), IRGN, ORGN, SH, TG, IPS/PS.
    public struct TranslationControl: Sendable, Equatable {
        public var tsz: UInt64, sl: UInt64, irgn: UInt64, orgn: UInt64, sh: UInt64, tg: UInt64, ps: UInt64

        public init(tsz: UInt64, sl: UInt64 = 0, irgn: UInt64, orgn: UInt64, sh: UInt64, tg: UInt64, ps: UInt64) {
            (self.tsz, self.sl, self.irgn, self.orgn, self.sh, self.tg, self.ps) = (tsz, sl, irgn, orgn, sh, tg, ps)
        }

        /// `arm_64_lpae_alloc_pgtable_s1/s2` for a coherent walk: inner and outer write-back
        /// write-allocate (ARM_LPAE_TCR_RGN_WBWA), inner shareable (ARM_LPAE_TCR_SH_IS).
        public init(_ format: ArmLPAE) {
            self.init(tsz: format.t0sz, sl: format.stage == .stage2 ? format.sl0 : 0, irgn: 1, orgn: 1, sh: 3, tg: format.tg0,
                      ps: format.physicalSizeEncoding)
        }
    }

    /// `ARM_LPAE_MAIR_ATTR_*` as io-pgtable-arm programs MAIR: NC, write-back, device, inner NC.
    public static let linuxMAIR: UInt64 = 0x0000_0000_f404_ff44

    /// `arm_smmu_make_s1_cd`: T0SZ, TG0, IRGN0, ORGN0, SH0, EPD1, V, IPS, AA64, R, A, ASET and
    /// the ASID in word 0 (HA and HD for a dirty-tracking domain, IO_PGTABLE_QUIRK_ARM_HD);
    /// TTB0 in word 1; MAIR in word 3. CD.S for a master with `stall_enabled`.
    public static func contextDescriptor(tcr: TranslationControl, ttbr: UInt64, mair: UInt64, asid: UInt64,
                                         hardwareDirty: Bool, stall: Bool = false) -> [UInt64] {
        var word0 = tcr.tsz & 0x3f | (tcr.tg & 0x3) << 6 | (tcr.irgn & 0x3) << 8 | (tcr.orgn & 0x3) << 10 | (tcr.sh & 0x3) << 12
        word0 |= 1 << 30 | 1 << 31 | (tcr.ps & 0x7) << 32           // EPD1, V, IPS
        word0 |= 1 << 41 | 1 << 45 | 1 << 46 | 1 << 47 | asid << 48  // AA64, R, A, ASET, ASID
        if hardwareDirty { word0 |= 1 << 42 | 1 << 43 }             // HD, HA
        if stall { word0 |= 1 << 44 }                               // S
        return [word0, ttbr & 0x000F_FFFF_FFFF_FFF0, 0, mair]
    }

    /// `arm_smmu_make_s1_cd` for a domain's io-pgtable.
    static func contextDescriptor(for format: ArmLPAE, root: UInt64, asid: UInt64, dirty: Bool, stall: Bool = false) -> [UInt64] {
        contextDescriptor(tcr: TranslationControl(format), ttbr: root, mair: linuxMAIR, asid: asid, hardwareDirty: dirty, stall: stall)
    }

    /// `arm_smmu_make_abort_ste`: V and Config = abort.
    public static let abortSTE: [UInt64] = [1 | Config.abort.rawValue << 1, 0, 0, 0]

    /// `arm_smmu_make_bypass_ste`: V and Config = bypass, SHCFG = incoming where the SMMU can override it.
    public static func bypassSTE(features: Features) -> [UInt64] {
        [1 | Config.bypass.rawValue << 1, features.attributeTypesOverride ? 1 << 44 : 0, 0, 0]
    }

    /// `arm_smmu_make_cdtable_ste`: V, Config = S1 translate, S1Fmt, S1ContextPtr and S1CDMax in
    /// word 0; S1DSS, S1CIR/S1COR = WBRA, S1CSH = ISH (a coherent SMMU), S1STALLD for a master
    /// that cannot stall (`!master->stall_enabled`), EATS and STRW in word 1; VMID 0 in word 2 at EL1.
    public static func cdTableSTE(table: UInt64, format: ContextTableFormat, s1cdmax: Int, s1dss: DefaultSubstream,
                                  ats: Bool = false, stallEnabled: Bool = false, features: Features) -> [UInt64] {
        let word0 = 1 | Config.stage1.rawValue << 1 | format.rawValue << 4 | table & 0x000F_FFFF_FFFF_FFC0
            | UInt64(truncatingIfNeeded: s1cdmax) << 59
        var word1 = s1dss.rawValue | 1 << 2 | 1 << 4 | 3 << 6
        if features.stalls && !stallEnabled { word1 |= 1 << 27 }
        if ats { word1 |= 1 << 28 }
        if features.attributeTypesOverride && s1dss == .bypass { word1 |= 1 << 44 }
        if features.e2h { word1 |= 2 << 30 }
        return [word0, word1, 0, 0]
    }

    /// `arm_smmu_make_s2_domain_ste`: V and Config = S2 translate; EATS, S2FWB (the domain's
    /// IO_PGTABLE_QUIRK_ARM_S2FWB) and SHCFG in word 1; the VMID, VTCR, S2AA64, S2PTW and S2R
    /// in word 2; S2TTB in word 3.
    public static func stage2STE(vtcr: TranslationControl, vttbr: UInt64, vmid: UInt64, s2fwb: Bool, ats: Bool = false,
                                 features: Features) -> [UInt64] {
        var word1: UInt64 = ats ? 1 << 28 : 0
        if s2fwb { word1 |= 1 << 25 }
        if features.attributeTypesOverride { word1 |= 1 << 44 }
        var fields = vtcr.tsz & 0x3f | (vtcr.sl & 0x3) << 6 | (vtcr.irgn & 0x3) << 8 | (vtcr.orgn & 0x3) << 10
        fields |= (vtcr.sh & 0x3) << 12 | (vtcr.tg & 0x3) << 14 | (vtcr.ps & 0x7) << 16
        // S2AA64 (51), S2PTW (54: stage-1 walks of device memory fault), S2R (58: record faults).
        let word2 = vmid & 0xffff | fields << 32 | 1 << 51 | 1 << 54 | 1 << 58
        return [1 | Config.stage2.rawValue << 1, word1, word2, vttbr & 0x000F_FFFF_FFFF_FFF0]
    }

    /// `arm_smmu_make_nested_cd_table_ste`: the S2 STE of the parent with Config = nested, the
    /// guest's vSTE word 0 (all but Config) and word 1 ORed in, and MEV (merge events).
    public static func nestedSTE(vste: [UInt64], stage2: [UInt64]) -> [UInt64] {
        var words = stage2
        words[0] = 1 | Config.nested.rawValue << 1 | vste[0] & ~0xe
        words[1] |= vste[1] | 1 << 19
        return words
    }
}

/// How SMMUv3 names walk faults: event records of stage 1 or 2, with their CLASS.
struct SMMUv3WalkRules: WalkRules {
    var stage: TranslationStage
    var outputBits: Int
    /// What every fault's event of this walk starts from: StreamID, input address, the
    /// transaction's direction (RnW) and CLASS (CD, TT for a stage-1 table fetch, IN for the
    /// input); a stage-2 walk's caller adds the IPA (`StageWalker.walk(root:ipa:...)`), the
    /// driver the SubstreamID and stall tag. These fields, not a whole event: a walker is made
    /// for every walk, and an event is thirteen fields to copy into it.
    private var streamID: UInt32
    private var inputAddress: UInt64
    private var read: Bool
    private var eventClass: SMMUv3Event.Class
    /// CD.AFFD: an AF = 0 leaf translates without F_ACCESS (and without setting AF).
    var accessFlagFaultsDisabled = false

    /// The rules of a walk whose faults' events start from `event`'s StreamID, input address,
    /// RnW and CLASS; its other fields are not kept (`fault` sets the event ID, S2, TT_READ
    /// and the fetch address itself).
    init(stage: TranslationStage, outputBits: Int, event: SMMUv3Event, accessFlagFaultsDisabled: Bool = false) {
        self.stage = stage
        self.outputBits = outputBits
        streamID = event.streamID
        inputAddress = event.inputAddress
        read = event.read
        eventClass = event.eventClass
        self.accessFlagFaultsDisabled = accessFlagFaultsDisabled
    }

    func tableRights(_ descriptor: UInt64, level: Int) -> AccessRights {
        // APTable[1] (bit 62) removes write permission below, in stage 1 only.
        stage == .stage1 && (descriptor >> 62) & 1 != 0 ? .read : .readWrite
    }

    func leafRights(_ descriptor: UInt64, level: Int) -> AccessRights {
        if stage == .stage1 { return (descriptor >> 7) & 1 != 0 ? .read : .readWrite }
        var rights: AccessRights = []
        if (descriptor >> 6) & 1 != 0 { rights.insert(.read) }
        if (descriptor >> 7) & 1 != 0 { rights.insert(.write) }
        return rights
    }

    func leafFault(_ descriptor: UInt64, level: Int) -> WalkFaultKind? {
        (descriptor >> 10) & 1 == 0 && !accessFlagFaultsDisabled ? .accessFlag : nil
    }

    func fault(_ kind: WalkFaultKind, stage: TranslationStage, level: Int, access: AccessRights) -> TranslationFault {
        var event = SMMUv3Event(.F_TRANSLATION, streamID: streamID, inputAddress: inputAddress)
        event.read = read
        event.eventClass = eventClass
        switch kind {
        case .inputRange, .translation: event.id = .F_TRANSLATION
        case .externalAbort(let address):
            event.id = .F_WALK_EABT
            event.fetchAddress = address
        case .accessFlag: event.id = .F_ACCESS
        case .permission: event.id = .F_PERMISSION
        case .addressSize: event.id = .F_ADDR_SIZE
        }
        event.stage2 = stage == .stage2
        // The walk of a table's (or the CD's) IPA reads; RnW stays the transaction's.
        event.tableRead = event.eventClass == .TT
        return TranslationFault(.smmuv3(event), stage: stage, level: level, origin: .walk)
    }
}

extension ArmSMMUv3.Configuration {
    /// IDR0.HTTU: 2 (Access flag and dirty state updates) with `dirtyTracking`, else 0.
    public var httu: UInt64 { dirtyTracking ? 2 : 0 }
}

extension SMMUv3WalkRules {
    /// The rules of a stage-1 walk of `format` under `cd`: CD.AFFD turns Access flag faults off.
    init(stage1Under cd: SMMUv3.ContextDescriptor, _ format: ArmLPAE, event: SMMUv3Event) {
        self.init(stage: .stage1, outputBits: format.oas, event: event, accessFlagFaultsDisabled: cd.accessFlagFaultDisable)
    }
}

extension SMMUv3.StreamTableEntry {
    /// The STE fields the translation reads (SMMUv3 spec §5.2), bits numbered across the
    /// four words as the spec numbers them.
    public enum Field {
        private static let ref = SpecReference.smmuSTE
        public static let v = FieldDefinition("V", 0...0, "valid: 0 aborts every transaction of the stream (C_BAD_STE)", ref)
        public static let config = FieldDefinition("Config", 1...3, "000 abort, 100 bypass, 101 S1 only, 110 S2 only, 111 nested", ref)
        public static let s1Fmt = FieldDefinition("S1Fmt", 4...5, "CD table layout: 00 linear, 01 2-level 4K, 10 2-level 64K leaves", ref)
        public static let s1ContextPtr = FieldDefinition("S1ContextPtr", 6...51, "address of the CD or CD table (an IPA when nested)", ref)
        public static let s1CDMax = FieldDefinition("S1CDMax", 59...63, "log2 of the CD count: substream ID bits (0: one CD)", ref)
        public static let s1DSS = FieldDefinition("S1DSS", 64...65, "no-substream transactions: 00 terminate, 01 bypass S1, 10 use CD 0", ref)
        public static let s1STALLD = FieldDefinition("S1STALLD", 91...91, "stall disable: stage-1 faults terminate instead of stalling", ref)
        public static let s2VMID = FieldDefinition("S2VMID", 128...143, "virtual machine ID tagging the stage-2 TLB entries", ref)
        public static let s2T0SZ = FieldDefinition("S2T0SZ", 160...165, "stage-2 input size: 64 - S2T0SZ IPA bits", ref)
        public static let s2SL0 = FieldDefinition("S2SL0", 166...167, "starting level of the stage-2 walk (meaning depends on S2TG)", ref)
        public static let s2TG = FieldDefinition("S2TG", 174...175, "stage-2 granule: 00 4K, 01 64K, 10 16K", ref)
        public static let s2PS = FieldDefinition("S2PS", 176...178, "stage-2 output size: 000 32 bits ... 101 48, 110 52", ref)
        public static let s2TTB = FieldDefinition("S2TTB", 196...243, "address of the stage-2 translation table", ref)
    }

    /// The fields `Field` defines, read from the words.
    public var fields: [DescriptorField] {
        typealias F = Field
        return [F.v, F.config, F.s1Fmt].map { DescriptorField($0, words: words) } + [
            DescriptorField(F.s1ContextPtr, contextPointer), DescriptorField(F.s1CDMax, words: words),
            DescriptorField(F.s1DSS, words: words), DescriptorField(F.s1STALLD, words: words),
            DescriptorField(F.s2VMID, vmid), DescriptorField(F.s2T0SZ, UInt64(s2t0sz)), DescriptorField(F.s2SL0, s2sl0),
            DescriptorField(F.s2TG, s2tg), DescriptorField(F.s2PS, s2ps), DescriptorField(F.s2TTB, s2ttb),
        ]
    }
}

extension SMMUv3.ContextDescriptor {
    /// The CD fields the translation reads (SMMUv3 spec §5.4), bits numbered across the words.
    public enum Field {
        private static let ref = SpecReference.smmuCD
        public static let t0sz = FieldDefinition("T0SZ", 0...5, "input size of TTB0's table: 64 - T0SZ IOVA bits", ref)
        public static let tg0 = FieldDefinition("TG0", 6...7, "TTB0 granule: 00 4K, 01 64K, 10 16K", ref)
        public static let epd0 = FieldDefinition("EPD0", 14...14, "1: no TTB0 walks, misses fault", ref)
        public static let epd1 = FieldDefinition("EPD1", 30...30, "1: no TTB1 walks, misses fault", ref)
        public static let v = FieldDefinition("V", 31...31, "valid: 0 faults the substream's transactions (C_BAD_CD)", ref)
        public static let ips = FieldDefinition("IPS", 32...34, "output size of stage 1: 000 32 bits ... 101 48, 110 52", ref)
        public static let aa64 = FieldDefinition("AA64", 41...41, "1: VMSAv8-64 descriptors (Linux always)", ref)
        public static let hd = FieldDefinition("HD", 42...42, "hardware dirty-state update (DBM) enabled", ref)
        public static let ha = FieldDefinition("HA", 43...43, "hardware Access flag update enabled", ref)
        public static let asid = FieldDefinition("ASID", 48...63, "address space ID tagging the stage-1 TLB entries", ref)
        public static let ttb0 = FieldDefinition("TTB0", 68...115, "address of the stage-1 translation table", ref)
        public static let mair = FieldDefinition("MAIR", 192...255, "MAIR0 and MAIR1: the memory types AttrIndx selects", ref)
    }

    /// The fields `Field` defines, read from the words.
    public var fields: [DescriptorField] {
        typealias F = Field
        return [
            DescriptorField(F.t0sz, UInt64(t0sz)), DescriptorField(F.tg0, tg0),
        ] + [F.epd0, F.epd1, F.v].map { DescriptorField($0, words: words) } + [
            DescriptorField(F.ips, ips),
        ] + [F.aa64, F.hd, F.ha].map { DescriptorField($0, words: words) } + [
            DescriptorField(F.asid, asid), DescriptorField(F.ttb0, ttb0), DescriptorField(F.mair, words: words),
        ]
    }
}

extension SMMUv3 {
    /// The level-1 descriptor of a two-level CD table (SMMUv3 spec §5.3).
    public enum L1CDField {
        private static let ref = SpecReference.smmuL1CD
        public static let v = FieldDefinition("V", 0...0, "valid: 0 faults the substreams of this L2 table", ref)
        public static let l2Ptr = FieldDefinition("L2Ptr", 12...51, "address of the level-2 CD table", ref)
    }
}
