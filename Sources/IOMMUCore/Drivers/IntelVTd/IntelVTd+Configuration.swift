/// The Intel VT-d scalable-mode structures Linux installs in host memory (`iommu.h`, `pasid.h`,
/// `pasid.c`), the fault reasons a walk through them reports, and the rules of the walk.
///
/// The chain is root table (RTADDR, SMT) → scalable context entry → PASID directory → PASID
/// table → PASID entry, whose PGTT selects first-stage, second-stage or nested translation.
public enum VTd {
    /// One root entry: `lo` = lower context table (devfn 0-127), `hi` = upper (128-255).
    public static let rootEntrySize: UInt64 = 16
    /// Root table: 256 entries indexed by bus.
    public static let rootTableSize: UInt64 = 4096
    /// A scalable-mode context entry is 256 bits; a 4K context table holds 128 of them
    /// (`iommu_context_addr` doubles the devfn into a table of 16-byte `context_entry`s).
    public static let contextEntrySize: UInt64 = 32
    /// A PASID directory entry (`struct pasid_dir_entry`).
    public static let directoryEntrySize: UInt64 = 8
    /// A PASID table entry (`struct pasid_entry`, 512 bits); 64 of them per 4K table.
    public static let pasidEntrySize: UInt64 = 64
    /// `PASID_PDE_SHIFT`: PASID bits 19:6 index the directory, 5:0 the table.
    public static let pasidDirectoryShift: UInt32 = 6
    /// `PASID_MAX` (`intel_pasid_max_id`).
    public static let pasidMax: UInt64 = 0x10_0000
    /// `IOMMU_NO_PASID`: the PASID Linux programs into RID_PASID for requests without PASID.
    public static let ridPASID: UInt32 = 0
    /// `FLPT_DEFAULT_DID` is reserved for pass-through and SVA; `IDA_START_DID` is where
    /// `domain_attach_iommu` starts handing out domain ids (0 is never used).
    public static let firstDomainID: UInt64 = 2
    /// `IOAPIC_RANGE_START ... IOAPIC_RANGE_END`: requests without PASID there are interrupt
    /// requests (VT-d spec 3.14), and no translation may produce an address there.
    public static let interruptRange = IOVARange(start: 0xfee0_0000, last: 0xfeef_ffff)

    /// RTADDR.TTM (VT-d spec 11.4.5): 00b legacy (16-byte context entries), 01b scalable.
    public enum TranslationTableMode: UInt64, Sendable {
        case legacy = 0, scalable = 1

        /// RTADDR bits 11:10; nil for the reserved 10b and 11b.
        public init?(rtaddr: UInt64) { self.init(rawValue: (rtaddr >> 10) & 0x3) }
    }

    /// A legacy-mode context entry (VT-d spec 9.3) is 128 bits at devfn * 16 in the context
    /// table the root entry's lower word points to.
    public static let legacyContextEntrySize: UInt64 = 16

    /// PASID-entry PGTT (`PASID_ENTRY_PGTT_*`).
    public enum PGTT: UInt64, Sendable {
        case firstStage = 1, secondStage = 2, nested = 3, passThrough = 4
    }

    // MARK: Context entries

    /// A scalable-mode context entry (VT-d spec 9.4), words 0 and 1 (2 and 3 are reserved).
    public struct ContextEntry: Sendable, Equatable {
        public var lo: UInt64
        public var hi: UInt64

        public init(lo: UInt64, hi: UInt64) {
            self.lo = lo
            self.hi = hi
        }

        public var present: Bool { lo & 1 != 0 }
        public var faultProcessingDisabled: Bool { (lo >> 1) & 1 != 0 }
        /// PASIDE: requests with PASID are allowed.
        public var pasidEnabled: Bool { (lo >> 3) & 1 != 0 }
        /// PDTS: the directory has 2^(PDTS + 7) entries.
        public var directorySizeCode: UInt64 { (lo >> 9) & 0x7 }
        public var directory: UInt64 { lo & ~0xfff }
        public var ridPASID: UInt32 { UInt32(hi & 0xf_ffff) }
        /// PASIDs the directory can hold (64 per directory entry).
        public var pasidLimit: UInt64 { 1 << (directorySizeCode + 7 + UInt64(VTd.pasidDirectoryShift)) }

        // The same words read as a legacy-mode context entry (VT-d spec 9.3, `context_set_*`
        // in `iommu.h`): P and FPD are the same bits.

        /// TT: 00b untranslated requests only, 01b all requests (device-TLB), 10b pass-through,
        /// 11b reserved.
        public var translationType: UInt64 { (lo >> 2) & 0x3 }
        public var passThrough: Bool { translationType == 0b10 }
        /// SLPTPTR (ASR): the second-level table.
        public var secondLevelTable: UInt64 { lo & 0x000F_FFFF_FFFF_F000 }
        /// AW: second-level levels − 2 (1 = 39-bit, 2 = 48-bit, 3 = 57-bit).
        public var legacyAddressWidth: UInt64 { hi & 0x7 }
        public var legacyDomainID: UInt64 { (hi >> 8) & 0xffff }
    }

    /// `context_entry_set_pasid_table`: the PASID directory with its PDTS, RID_PASID =
    /// IOMMU_NO_PASID, PASIDE when the device has PASID support, fault processing on, P.
    /// (DTE and PRE follow ATS and PRI, which the simulated devices do not have.)
    static func contextEntry(directory: UInt64, sizeCode: UInt64, pasidEnabled: Bool) -> [UInt64] {
        var lo = directory | (sizeCode & 0x7) << 9 | 1
        if pasidEnabled { lo |= 1 << 3 }
        return [lo, UInt64(ridPASID), 0, 0]
    }

    /// `intel_pasid_alloc_table`: the directory's size in bytes and its PDTS code for a
    /// device supporting `maxPASIDLog2` PASID bits (0 = no PASID capability).
    static func directoryGeometry(maxPASIDLog2: UInt8) -> (bytes: UInt64, sizeCode: UInt64) {
        let maxPASID = maxPASIDLog2 == 0 ? 0 : min(UInt64(1) << UInt64(maxPASIDLog2), pasidMax)
        let size = maxPASID >> (UInt64(pasidDirectoryShift) - 3)
        var order: UInt64 = 0
        while (PhysicalMemory.frameSize << order) < size { order += 1 }
        // max_pasid = 1 << (order + PAGE_SHIFT + 3); PDTS = log2(max_pasid >> 6) - 7.
        return (PhysicalMemory.frameSize << order, order + 2)
    }

    // MARK: PASID entries

    /// A scalable-mode PASID table entry (VT-d spec 9.6), `val[0..7]`.
    public struct PASIDEntry: Sendable, Equatable {
        public var words: [UInt64]

        /// `val[0..7]`; missing words read as zero.
        public init(words: [UInt64]) {
            self.words = words + [UInt64](repeating: 0, count: max(0, 8 - words.count))
        }

        public var present: Bool { words[0] & 1 != 0 }
        public var faultProcessingDisabled: Bool { (words[0] >> 1) & 1 != 0 }
        /// AW: second-stage levels − 2 (1 = 39-bit, 2 = 48-bit, 3 = 57-bit).
        public var addressWidth: UInt64 { (words[0] >> 2) & 0x7 }
        public var pgtt: PGTT? { PGTT(rawValue: (words[0] >> 6) & 0x7) }
        public var secondStageADEnable: Bool { (words[0] >> 9) & 1 != 0 }
        public var secondStageTable: UInt64 { words[0] & 0x000F_FFFF_FFFF_F000 }
        public var domainID: UInt64 { words[1] & 0xffff }
        /// PWSNP (bit 87) and PGSNP (bit 88).
        public var pageWalkSnoop: Bool { (words[1] >> 23) & 1 != 0 }
        public var pageSnoop: Bool { (words[1] >> 24) & 1 != 0 }
        public var supervisorRequests: Bool { words[2] & 1 != 0 }
        /// FSPM: 0 = 4-level, 1 = 5-level first-stage paging.
        public var firstStagePagingMode: UInt64 { (words[2] >> 2) & 0x3 }
        public var writeProtect: Bool { (words[2] >> 4) & 1 != 0 }
        public var extendedAccessFlag: Bool { (words[2] >> 7) & 1 != 0 }
        public var firstStageTable: UInt64 { words[2] & 0x000F_FFFF_FFFF_F000 }
    }

    /// The PASID-entry words the `pasid_pte_config_*` helpers write.
    struct PASIDEntryFields: Sendable {
        var pgtt: PGTT
        var domainID: UInt64
        var addressWidth: UInt64
        var pageWalkSnoop: Bool
        var secondStageTable: UInt64 = 0
        var secondStageAD = false
        var firstStageTable: UInt64 = 0
        var fiveLevel = false
        var pageSnoop = false
        var supervisorRequests = false
        var writeProtect = false
        var extendedAccessFlag = false

        var words: [UInt64] {
            var words = [UInt64](repeating: 0, count: 8)
            words[0] = secondStageTable & ~0xfff | (addressWidth & 0x7) << 2 | pgtt.rawValue << 6 | 1
            if secondStageAD { words[0] |= 1 << 9 }
            words[1] = domainID & 0xffff
            if pageWalkSnoop { words[1] |= 1 << 23 }
            if pageSnoop { words[1] |= 1 << 24 }
            words[2] = firstStageTable & ~0xfff
            if fiveLevel { words[2] |= 1 << 2 }
            if supervisorRequests { words[2] |= 1 << 0 }
            if writeProtect { words[2] |= 1 << 4 }
            if extendedAccessFlag { words[2] |= 1 << 7 }
            return words
        }
    }

    /// The legacy-mode reason (VT-d spec, "Non-Recoverable Fault Reasons", legacy table) for
    /// a fault the shared second-stage walk named with its scalable-mode reason: a missing
    /// right is 0x05 (write) or 0x06 (read), an unreadable table 0x07, reserved bits 0x0C, an
    /// input beyond the AGAW 0x04. Root and context faults are legacy already.
    static func legacyReason(for reason: FaultReason, write: Bool) -> FaultReason {
        switch reason {
        case .secondStagePermission: write ? .writeNotSet : .readNotSet
        case .secondStageAccess, .invalidSecondStageTable: .nextTableInvalid
        case .secondStageReserved: .reservedPTE
        case .beyondDMAMaximum: .beyondMGAW
        default: reason
        }
    }

    /// What the remapping unit keeps of a (RID, PASID) between context- and PASID-cache
    /// invalidations: the decoded entries and the formats they select.
    struct CachedConfiguration {
        var context: ContextEntry
        var pasid: UInt32
        var entry: PASIDEntry
        var pgtt: PGTT
        var firstStage: X86FirstStage?
        var secondStage: VTdSecondStage?
    }
}

/// How VT-d walks a stage and names its faults, with the scalable-mode reasons (VT-d spec
/// 4.x, "Non-Recoverable Fault Reasons", the scalable-mode table; the strings are Linux's
/// `dma_remap_sm_fault_reasons[]`). The units run in scalable mode (RTADDR.TTM = 01b), so
/// the legacy codes 0x01-0x0D never appear: QEMU (`vtd_iova_to_slpte`) reports its scalable
/// second stage with the legacy VTD_FR_WRITE / READ / PAGING_ENTRY_RSVD as a simplification;
/// the model follows the architecture, which is what a host such as Granite Rapids logs.
///
/// Second stage: no present bit, so an entry without the requested right, present or not,
/// is 0x79 (Read/Write permission); R and W are ANDed down the levels and checked at each
/// table entry. An entry that cannot be read is 0x78, or 0x7B (invalid SSPTPTR) at the top
/// level; a present entry with reserved bits is 0x7A; an input beyond the table's AGAW is
/// 0x83 (address beyond the hardware maximum). First stage is x86-64 paging,
/// `vtd_iova_to_flpte`'s checks: 0x80 non-canonical, 0x71 not present, 0x81 U/S, 0x85 R/W,
/// 0x72 reserved bits, 0x73 / 0x70 unreadable root / entry.
struct VTdWalkRules: WalkRules {
    var stage: TranslationStage
    var rootLevel: Int
    var outputBits: Int

    func tableRights(_ descriptor: UInt64, level: Int) -> AccessRights { rights(descriptor) }
    func leafRights(_ descriptor: UInt64, level: Int) -> AccessRights { rights(descriptor) }

    private func rights(_ descriptor: UInt64) -> AccessRights {
        if stage == .stage2 {
            var rights: AccessRights = []
            if descriptor & VTdSecondStage.read != 0 { rights.insert(.read) }
            if descriptor & VTdSecondStage.write != 0 { rights.insert(.write) }
            return rights
        }
        // Every request is a user request (no privileged-mode requests are modelled).
        if descriptor & X86FirstStage.user == 0 { return [] }
        return descriptor & X86FirstStage.readWrite != 0 ? .readWrite : .read
    }

    /// VT-d has no access-flag fault: hardware sets A (and D) itself.
    func leafFault(_ descriptor: UInt64, level: Int) -> WalkFaultKind? { nil }

    func fault(_ kind: WalkFaultKind, stage: TranslationStage, level: Int, access: AccessRights) -> TranslationFault {
        var fetchAddress: UInt64?
        let reason: VTd.FaultReason
        if stage == .stage2 {
            switch kind {
            case .inputRange: reason = .beyondDMAMaximum
            case .translation, .permission, .accessFlag: reason = .secondStagePermission
            case .externalAbort(let address):
                // An unreadable top-level entry means SSPTPTR points nowhere.
                reason = level == rootLevel ? .invalidSecondStageTable : .secondStageAccess
                fetchAddress = address
            case .addressSize: reason = .secondStageReserved
            }
        } else {
            switch kind {
            case .inputRange: reason = .nonCanonical
            case .translation: reason = .firstStageNotPresent
            case .permission, .accessFlag: reason = .firstStageWrite
            case .externalAbort(let address):
                reason = level == rootLevel ? .firstStageRootAccess : .firstStageAccess
                fetchAddress = address
            case .addressSize: reason = .firstStageReserved
            }
        }
        return VTdFaultRecord(reason, fetchAddress: fetchAddress).fault(stage, level: level)
    }

    /// A second-stage fault met while translating the GPA of a first-stage entry of a nested
    /// translation: a missing read right is 0x75 for the FS-PML4 (PML5) entry, the one in
    /// the table FSPTPTR names, and 0x76 below it; a GPA beyond the second stage is 0x74.
    /// Access errors and reserved bits keep their second-stage reasons.
    static func nestedFirstStageFault(_ fault: TranslationFault, rootTable: Bool) -> TranslationFault {
        guard case .vtd(var record) = fault.record else { return fault }
        switch record.reason {
        case .secondStagePermission: record.reason = rootTable ? .nestedFirstStageRootRead : .nestedFirstStageRead
        case .beyondDMAMaximum: record.reason = .nestedFirstStageBeyondMGAW
        default: return fault
        }
        var refined = fault
        refined.record = .vtd(record)
        return refined
    }

    /// The check hardware makes on a table entry before it fetches the next level (QEMU
    /// faults at the level whose entry lacks the right, not at the leaf).
    func checkTable(_ step: WalkStep, access: AccessRights) throws(TranslationFault) {
        if let reason = deniedReason(step.descriptor, access: access) {
            throw VTdFaultRecord(reason).fault(stage, level: step.level)
        }
    }

    /// The fault a present entry gives this access: second stage, the right it lacks; first
    /// stage, U/S before R/W.
    func deniedReason(_ descriptor: UInt64, access: AccessRights) -> VTd.FaultReason? {
        let write = access.contains(.write)
        if stage == .stage2 {
            let needed = write ? VTdSecondStage.write : VTdSecondStage.read
            return descriptor & needed == 0 ? .secondStagePermission : nil
        }
        if descriptor & X86FirstStage.user == 0 { return .userSupervisor }
        if write && descriptor & X86FirstStage.readWrite == 0 { return .firstStageWrite }
        return nil
    }

    /// The walker names an entry that reads as invalid a translation fault; an entry that is
    /// present but malformed (PS where no page of that size exists) has reserved bits set,
    /// and a permission fault at the leaf is refined the same way as at a table.
    func refine(_ fault: TranslationFault, last step: WalkStep?, access: AccessRights) -> TranslationFault {
        let refinable: [VTd.FaultReason] = [.secondStagePermission, .firstStageNotPresent, .firstStageWrite]
        guard let step, case .vtd(var record) = fault.record, fault.stage == stage, step.stage == stage, step.level == fault.level,
              refinable.contains(record.reason) else { return fault }
        let present = stage == .stage2 ? step.descriptor & (VTdSecondStage.read | VTdSecondStage.write) != 0
                                       : step.descriptor & X86FirstStage.present != 0
        if step.kind == .invalid {
            guard present else { return fault }
            record.reason = stage == .stage2 ? .secondStageReserved : .firstStageReserved
        } else if let reason = deniedReason(step.descriptor, access: access) {
            record.reason = reason
        } else {
            return fault
        }
        return record.fault(stage, level: step.level)
    }
}

extension VTd {
    /// The fields of the structures the remapping hardware reads on the way to a device's
    /// page tables (VT-d spec chapter 9), bits numbered across each structure's words as the
    /// spec numbers them.
    public enum Field {
        // §9.1: a legacy root entry.
        public static let rootP = FieldDefinition("P", 0...0, "present: the bus's context table exists", .vtdRootEntry)
        public static let ctp = FieldDefinition("CTP", 12...63, "address of the bus's context table", .vtdRootEntry)
        // §9.2: a scalable-mode root entry.
        public static let lp = FieldDefinition("LP", 0...0, "present: the lower (devfn 0-127) context table exists", .vtdScalableRootEntry)
        public static let lctp = FieldDefinition("LCTP", 12...63, "address of the lower context table", .vtdScalableRootEntry)
        public static let up = FieldDefinition("UP", 64...64, "present: the upper (devfn 128-255) context table exists", .vtdScalableRootEntry)
        public static let uctp = FieldDefinition("UCTP", 76...127, "address of the upper context table", .vtdScalableRootEntry)
        // §9.3: a legacy context entry.
        public static let p = FieldDefinition("P", 0...0, "present: 0 blocks the device's requests", .vtdContextEntry)
        public static let fpd = FieldDefinition("FPD", 1...1, "fault processing disable: faults are not recorded", .vtdContextEntry)
        public static let tt = FieldDefinition("TT", 2...3, "translation type: 00 untranslated only, 01 with device TLB, 10 pass-through", .vtdContextEntry)
        public static let slptptr = FieldDefinition("SLPTPTR", 12...63, "address of the second-stage page table", .vtdContextEntry)
        public static let aw = FieldDefinition("AW", 64...66, "address width: 1 39-bit, 2 48-bit, 3 57-bit (3, 4, 5 levels)", .vtdContextEntry)
        public static let did = FieldDefinition("DID", 72...87, "domain ID tagging the IOTLB entries", .vtdContextEntry)
        // §9.4: a scalable-mode context entry.
        public static let scalableP = FieldDefinition("P", 0...0, "present: 0 blocks the device's requests", .vtdScalableContextEntry)
        public static let pre = FieldDefinition("PRE", 3...3, "page request enable", .vtdScalableContextEntry)
        public static let pdts = FieldDefinition("PDTS", 9...11, "PASID directory size: 2^(PDTS + 7) entries", .vtdScalableContextEntry)
        public static let pasidDirPtr = FieldDefinition("PASIDDIRPTR", 12...63, "address of the PASID directory", .vtdScalableContextEntry)
        public static let ridPASID = FieldDefinition("RID_PASID", 64...83, "the PASID used for requests without one", .vtdScalableContextEntry)
        // §9.5: a PASID directory entry.
        public static let directoryP = FieldDefinition("P", 0...0, "present: the PASID table of these 64 PASIDs exists", .vtdPASIDDirectoryEntry)
        public static let smptblptr = FieldDefinition("SMPTBLPTR", 12...63, "address of the scalable-mode PASID table", .vtdPASIDDirectoryEntry)
        // §9.6: a scalable-mode PASID table entry.
        public static let pasidP = FieldDefinition("P", 0...0, "present: 0 blocks the PASID's requests", .vtdPASIDEntry)
        public static let pasidFPD = FieldDefinition("FPD", 1...1, "fault processing disable: faults are not recorded", .vtdPASIDEntry)
        public static let pasidAW = FieldDefinition("AW", 2...4, "second-stage address width: 1 39-bit, 2 48-bit, 3 57-bit", .vtdPASIDEntry)
        public static let pgtt = FieldDefinition("PGTT", 6...8, "translation type: 001 first stage, 010 second, 011 nested, 100 pass-through", .vtdPASIDEntry)
        public static let ssade = FieldDefinition("SSADE", 9...9, "second-stage accessed/dirty updates enabled", .vtdPASIDEntry)
        public static let ssptptr = FieldDefinition("SSPTPTR", 12...63, "address of the second-stage page table", .vtdPASIDEntry)
        public static let pasidDID = FieldDefinition("DID", 64...79, "domain ID tagging the IOTLB entries", .vtdPASIDEntry)
        public static let sre = FieldDefinition("SRE", 128...128, "supervisor requests allowed", .vtdPASIDEntry)
        public static let fspm = FieldDefinition("FSPM", 130...131, "first-stage paging mode: 00 4-level, 01 5-level", .vtdPASIDEntry)
        public static let wpe = FieldDefinition("WPE", 132...132, "write protect: supervisor writes honour R/W", .vtdPASIDEntry)
        public static let fsptptr = FieldDefinition("FSPTPTR", 140...191, "address of the first-stage page table (a GPA when nested)", .vtdPASIDEntry)
    }
}
