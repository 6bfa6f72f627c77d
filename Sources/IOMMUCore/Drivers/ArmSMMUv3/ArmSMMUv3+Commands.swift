/// SMMUv3 command queue entries and what the SMMU does when it consumes them (IHI0070
/// chapter 4), in the field layout `arm_smmu_cmdq_build_cmd` writes (`arm-smmu-v3.h`,
/// `CMDQ_*`). The vSMMU path (`arm_vsmmu_cache_invalidate`) issues guest commands as they
/// are, once converted, so the model executes the words themselves.
public struct SMMUv3Command: Sendable, Equatable {
    /// The opcodes the model executes (IHI0070 4.1.1).
    public enum Opcode: UInt64, Sendable {
        case cfgiCD = 0x05, cfgiCDAll = 0x06
        case tlbiNHAll = 0x10, tlbiNHASID = 0x11, tlbiNHVA = 0x12, tlbiNHVAA = 0x13
        case tlbiNSNHAll = 0x30, atcInv = 0x40
    }

    public var word0: UInt64
    public var word1: UInt64

    public init(_ word0: UInt64, _ word1: UInt64) {
        self.word0 = word0
        self.word1 = word1
    }

    /// `CMDQ_0_OP`, bits [7:0].
    public var opcodeField: UInt64 { word0 & 0xff }
    public var opcode: Opcode? { Opcode(rawValue: opcodeField) }

    /// `CMDQ_TLBI_0_NUM`, bits [16:12]: the range's granule multiplier, minus one.
    public var num: UInt64 { (word0 >> 12) & 0x1f }
    /// `CMDQ_TLBI_0_SCALE`, bits [24:20]; bit 25 widens it only with IDR5.DS, which the
    /// model does not advertise, so it is RES0 here.
    public var scale: UInt64 { (word0 >> 20) & 0x1f }
    /// `CMDQ_TLBI_0_VMID`, bits [47:32].
    public var vmid: UInt64 { (word0 >> 32) & 0xffff }
    /// `CMDQ_TLBI_0_ASID`, bits [63:48].
    public var asid: UInt64 { word0 >> 48 }
    /// `CMDQ_TLBI_1_LEAF`, bit 0: only last-level entries need go. The model's IOTLB holds
    /// only leaf translations (no walk cache), so Leaf changes nothing it removes.
    public var leaf: Bool { word1 & 1 != 0 }
    /// `CMDQ_TLBI_1_TTL`, bits [9:8]: the level of the leaves meant, 0 for any.
    public var ttl: UInt64 { (word1 >> 8) & 0x3 }
    /// `CMDQ_TLBI_1_TG`, bits [11:10]: 0 non-range, 1 4K, 2 16K, 3 64K.
    public var tg: UInt64 { (word1 >> 10) & 0x3 }
    /// `CMDQ_TLBI_1_VA_MASK`, bits [63:12].
    public var address: UInt64 { word1 & ~0xfff }

    /// `CMDQ_CFGI_0_SID` (also `CMDQ_ATC_0_SID`), bits [63:32].
    public var streamID: UInt32 {
        get { UInt32(truncatingIfNeeded: word0 >> 32) }
        set { word0 = word0 & 0xffff_ffff | UInt64(newValue) << 32 }
    }

    /// Replaces `CMDQ_TLBI_0_VMID`, as `arm_vsmmu_convert_user_cmd` enforces the vSMMU's.
    public mutating func setVMID(_ vmid: UInt64) {
        word0 = word0 & ~(UInt64(0xffff) << 32) | (vmid & 0xffff) << 32
    }

    /// The addresses a by-address TLBI names (IHI0070 4.4.1.1, "Range-based invalidation
    /// and level hint").
    public enum AddressScope: Sendable, Equatable {
        /// A non-range invalidation: entries that translate the address, whatever their
        /// granule and level.
        case address(UInt64)
        /// A range invalidation: entries that translate an address of the range and were
        /// made with `granule` from a leaf at `level` (`nil`: any level).
        case range(IOVARange, granule: UInt64, level: Int?)
    }

    /// CERROR_ILL: the SMMU stops at the command and reports it (IHI0070 4.1.3).
    public struct IllegalCommand: Error, Sendable, Equatable {}

    /// The scope of a by-address TLBI on an SMMU with or without IDR3.RIL.
    ///
    /// Without RIL, TG, TTL, NUM and SCALE are RES0, and an SMMU either ignores a RES0 field
    /// or calls the command malformed (4.1.5); the model ignores them, as an SMMUv3.0/3.1
    /// that predates the fields does, so the command names its one address. With RIL and
    /// TG = 0 the command is a non-range one and TTL is RES0, likewise ignored. With TG ≠ 0
    /// the range is (NUM+1)·2^SCALE granules of TG from the address, not wrapping past the
    /// top of the address space; TTL = 1 with the 16K granule is reserved without IDR5.DS
    /// and read as 0; NUM = SCALE = 0 with TTL 0 is a reserved combination, CERROR_ILL.
    public func addressScope(rangeInvalidation: Bool) throws(IllegalCommand) -> AddressScope {
        guard rangeInvalidation, tg != 0 else { return .address(address) }
        let granuleShift = 10 + 2 * tg
        let level = tg == 2 && ttl == 1 ? 0 : ttl
        if num == 0 && scale == 0 && level == 0 { throw IllegalCommand() }
        // (NUM+1)·2^SCALE ≤ 2^36 granules of at most 64K: at most 2^52 bytes, no overflow.
        let length = ((num + 1) << scale) << granuleShift
        let (end, overflow) = address.addingReportingOverflow(length - 1)
        return .range(IOVARange(start: address, last: overflow ? .max : end), granule: 1 << granuleShift,
                      level: level == 0 ? nil : Int(level))
    }
}

extension IOTLB.Entry {
    /// The entry is one a by-address TLBI of `scope` must remove. TG and TTL name the
    /// granule and level of the entries meant; an SMMU may remove more (4.4), and this one
    /// removes exactly what the command requires, so a wrong hint leaves a stale entry.
    func isNamed(by scope: SMMUv3Command.AddressScope) -> Bool {
        switch scope {
        case .address(let address):
            return covers(address)
        case .range(let range, let granule, let level):
            guard overlaps(range) else { return false }
            guard let leaf else { return true }
            return leaf.granule == granule && (level == nil || leaf.level == level)
        }
    }
}

extension SMMUv3 {
    /// What the IOTLB records of a walk's leaf: the block or page descriptor of `stage`
    /// (stage 1 of a nested walk, which the NH TLBIs name) in a table of `granule`, and
    /// whether it is global, a stage-1 leaf with nG (bit 11) clear. Linux's io-pgtable-arm
    /// always sets nG (`ARM_LPAE_PTE_NG`), so global entries come from guest tables.
    static func iotlbLeaf(of walk: StageOutput, granule: UInt64, stage: TranslationStage) -> (leaf: IOTLB.Leaf, global: Bool) {
        (IOTLB.Leaf(level: walk.leafLevel, granule: granule), stage == .stage1 && walk.leafDescriptor & 1 << 11 == 0)
    }
}

extension ArmSMMUv3 {
    /// What the SMMU does as it consumes `command` from the command queue. A command it
    /// finds illegal has no effect: the SMMU raises CERROR_ILL, and Linux's
    /// `arm_smmu_cmdq_skip_err` logs it, overwrites it with a CMD_SYNC and lets the queue
    /// go on, so the rest of the batch still runs and the issuer sees success.
    func execute(_ command: SMMUv3Command) {
        let vmid = command.vmid
        // Stage-1-only STEs carry S2VMID 0 (arm_smmu_make_cdtable_ste); their entries have no VMID tag here.
        func stage1(_ entry: IOTLB.Entry) -> Bool { entry.tag.addressSpace != nil && (entry.tag.domain ?? 0) == vmid }
        switch command.opcode {
        case .tlbiNHAll?, .tlbiNSNHAll?:
            iotlb.invalidate(where: stage1)
        case .tlbiNHASID?:
            // ASIDE1: non-global entries of the ASID only.
            iotlb.invalidate { stage1($0) && !$0.global && $0.tag.addressSpace == command.asid }
        case .tlbiNHVA?, .tlbiNHVAA?:
            guard let scope = try? command.addressScope(rangeInvalidation: configuration.rangeInvalidation) else { return }
            // VA{L}E1 also removes global entries whatever ASID filled them; VAA{L}E1 any ASID's.
            let anyASID = command.opcode == .tlbiNHVAA
            iotlb.invalidate { stage1($0) && (anyASID || $0.global || $0.tag.addressSpace == command.asid) && $0.isNamed(by: scope) }
        case .cfgiCD?, .cfgiCDAll?:
            forgetConfiguration(of: command.streamID)
        case .atcInv?, nil:
            // No ATC is modelled; other opcodes never reach the queue here.
            break
        }
    }

    /// `arm_smmu_cmdq_issue_cmdlist` with a trailing CMD_SYNC: the commands run in order.
    func issue(_ commands: [SMMUv3Command]) {
        for command in commands { execute(command) }
    }
}
