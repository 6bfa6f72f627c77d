/// The SMMUv3 stream table entry and context descriptor fields Linux programs
/// (`arm-smmu-v3.h`), and the rules of a walk through them.
public enum SMMUv3 {
    /// STE.Config (STRTAB_STE_0_CFG).
    public enum Config: UInt64, Sendable {
        case abort = 0, bypass = 4, stage1 = 5, stage2 = 6, nested = 7
    }

    /// Bytes of one STE (8 words) and one CD (8 words).
    public static let steSize: UInt64 = 64
    public static let cdSize: UInt64 = 64
    /// SIDSIZE of the simulated SMMU: a linear stream table of 2^16 STEs.
    public static let streamIDBits = 16

    /// The STE words 0-3 for a device.
    public struct StreamTableEntry: Sendable, Equatable {
        public var words: [UInt64]

        public init(words: [UInt64]) { self.words = words }

        public var valid: Bool { words[0] & 1 != 0 }
        public var config: Config? { Config(rawValue: (words[0] >> 1) & 0x7) }
        /// S1ContextPtr (bits 51:6).
        public var contextPointer: UInt64 { words[0] & 0x000F_FFFF_FFFF_FFC0 }
        public var vmid: UInt64 { words[2] & 0xffff }
        public var s2t0sz: Int { Int((words[2] >> 32) & 0x3f) }
        public var s2sl0: UInt64 { (words[2] >> 38) & 0x3 }
        public var s2tg: UInt64 { (words[2] >> 46) & 0x3 }
        public var s2ps: UInt64 { (words[2] >> 48) & 0x7 }
        /// S2TTB (bits 51:4 of word 3).
        public var s2ttb: UInt64 { words[3] & 0x000F_FFFF_FFFF_FFF0 }

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
        public var words: [UInt64]

        public init(words: [UInt64]) { self.words = words }

        public var valid: Bool { (words[0] >> 31) & 1 != 0 }
        public var t0sz: Int { Int(words[0] & 0x3f) }
        public var tg0: UInt64 { (words[0] >> 6) & 0x3 }
        public var ips: UInt64 { (words[0] >> 32) & 0x7 }
        public var epd0: Bool { (words[0] >> 14) & 1 != 0 }
        public var aa64: Bool { (words[0] >> 41) & 1 != 0 }
        /// CD.AFFD (bit 35): Access flag faults disabled, AF = 0 reads as AF = 1.
        public var accessFlagFaultDisable: Bool { (words[0] >> 35) & 1 != 0 }
        /// CD.HD (bit 42) and CD.HA (bit 43): hardware dirty state and Access flag updates.
        public var hardwareDirty: Bool { (words[0] >> 42) & 1 != 0 }
        public var hardwareAccess: Bool { (words[0] >> 43) & 1 != 0 }

        /// The updates the SMMU makes for this CD (IHI0070 §3.13 "HTTU"): HA when IDR0.HTTU
        /// is 1 or 2, HD only with HTTU = 2 and HA (with HA = 0, HD is ignored).
        public func hardwareUpdates(httu: UInt64) -> HardwareUpdates {
            guard hardwareAccess, httu >= 1 else { return [] }
            return httu >= 2 && hardwareDirty ? [.access, .dirty] : .access
        }
        public var asid: UInt64 { words[0] >> 48 }
        /// TTB0 (bits 51:4).
        public var ttb0: UInt64 { words[1] & 0x000F_FFFF_FFFF_FFF0 }

        public var stage1Format: ArmLPAE? {
            guard let granule = SMMUv3.granule(tg: tg0), ips < 7, (16...39).contains(t0sz) || t0sz == 12 else { return nil }
            return ArmLPAE(stage: .stage1, granule: granule, ias: 64 - t0sz, oas: [32, 36, 40, 42, 44, 48, 52][Int(ips)])
        }
    }

    /// What the SMMU keeps of a StreamID's configuration between CFGI commands.
    struct CachedConfiguration {
        var ste: StreamTableEntry
        /// The CD and the stage-1 format it describes (stage-1 and nested configurations).
        var cd: ContextDescriptor?
        var stage1: ArmLPAE?
        var stage2: ArmLPAE?
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

    /// `arm_smmu_make_s1_cd`: T0SZ, TG0, IRGN0/ORGN0 = WBWA, SH0 = IS, IPS, EPD1, V, AA64, R,
    /// A, ASET and the ASID in word 0; TTB0 in word 1; MAIR in word 3.
    static func contextDescriptor(for format: ArmLPAE, root: UInt64, asid: UInt64, dirty: Bool) -> [UInt64] {
        var word0 = format.t0sz | format.tg0 << 6 | 1 << 8 | 1 << 10 | 3 << 12
        word0 |= 1 << 30 | 1 << 31 | format.physicalSizeEncoding << 32
        word0 |= 1 << 41 | 1 << 45 | 1 << 46 | 1 << 47 | asid << 48
        if dirty { word0 |= 1 << 42 | 1 << 43 }
        return [word0, root & 0x000F_FFFF_FFFF_FFF0, 0, 0x0000_0000_f404_ff44]
    }

    /// The stage-2 words of `arm_smmu_make_s2_domain_ste`: VMID and VTCR in word 2, S2TTB in 3.
    static func stage2Words(for format: ArmLPAE, root: UInt64, vmid: UInt64) -> (word2: UInt64, word3: UInt64) {
        var vtcr = format.t0sz | format.sl0 << 6 | 1 << 8 | 1 << 10 | 3 << 12
        vtcr |= format.tg0 << 14 | format.physicalSizeEncoding << 16
        // S2AA64 (51), S2PTW (54: stage-1 walks of device memory fault), S2R (58: record faults).
        let word2 = vmid | vtcr << 32 | 1 << 51 | 1 << 54 | 1 << 58
        return (word2, root & 0x000F_FFFF_FFFF_FFF0)
    }
}

/// How SMMUv3 names walk faults: event records of stage 1 or 2, with their CLASS.
struct SMMUv3WalkRules: WalkRules {
    var stage: TranslationStage
    var outputBits: Int
    /// The event every fault of this walk starts from: StreamID, input address, the
    /// transaction's direction (RnW) and CLASS (CD, TT for a stage-1 table fetch, IN for the
    /// input); a stage-2 walk also sets the IPA.
    var event: SMMUv3Event
    /// CD.AFFD: an AF = 0 leaf translates without F_ACCESS (and without setting AF).
    var accessFlagFaultsDisabled = false

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
        var event = self.event
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
