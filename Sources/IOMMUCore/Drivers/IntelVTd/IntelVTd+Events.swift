extension VTd {
    /// The DMA-remapping fault reasons, with the text Linux prints for each
    /// (`dmar_get_fault_reason`: `dma_remap_fault_reasons[]` below 0x0E,
    /// `dma_remap_sm_fault_reasons[]` from 0x30; the codes those tables call "Unknown" are
    /// left out).
    public enum FaultReason: UInt8, Sendable, CaseIterable {
        case software = 0x00
        case rootEntryNotPresent = 0x01
        case contextEntryNotPresent = 0x02
        case invalidContextEntry = 0x03
        case beyondMGAW = 0x04
        case writeNotSet = 0x05
        case readNotSet = 0x06
        case nextTableInvalid = 0x07
        case rootTableInvalid = 0x08
        case contextTableInvalid = 0x09
        case reservedRTP = 0x0a
        case reservedCTP = 0x0b
        case reservedPTE = 0x0c
        case blockingPCE = 0x0d
        case invalidRootTableAddress = 0x30
        case ttm0WithPASID = 0x31
        case ttm0PageGroupRequest = 0x32
        case rootEntryAccess = 0x38
        case smRootEntryNotPresent = 0x39
        case rootEntryReserved = 0x3a
        case contextEntryAccess = 0x40
        case smContextEntryNotPresent = 0x41
        case contextEntryReserved = 0x42
        case smInvalidContextEntry = 0x43
        case deviceTLBDisabled = 0x44
        case pasidNotEnabled = 0x45
        case pasidTooLarge = 0x46
        case pageRequestDisabled = 0x47
        case ridPASIDError = 0x48
        case directoryAccess = 0x50
        case directoryNotPresent = 0x51
        case directoryReserved = 0x52
        case pasidTableAccess = 0x58
        case pasidEntryNotPresent = 0x59
        case pasidEntryReserved = 0x5a
        case invalidPASIDEntry = 0x5b
        case executeRequestsDisabled = 0x5c
        case supervisorRequestsDisabled = 0x5d
        case firstStageAccess = 0x70
        case firstStageNotPresent = 0x71
        case firstStageReserved = 0x72
        case firstStageRootAccess = 0x73
        case nestedFirstStageBeyondMGAW = 0x74
        case nestedFirstStageRootRead = 0x75
        case nestedFirstStageRead = 0x76
        case nestedFirstStageWrite = 0x77
        case secondStageAccess = 0x78
        case secondStagePermission = 0x79
        case secondStageReserved = 0x7a
        case invalidSecondStageTable = 0x7b
        case secondStageAccessedDirtyNoSnoop = 0x7c
        case nonCanonical = 0x80
        case userSupervisor = 0x81
        case noExecute = 0x82
        case beyondDMAMaximum = 0x83
        case secondStageBeyondMaximum = 0x84
        case firstStageWrite = 0x85
        case firstStageRead = 0x86
        case interruptAddress = 0x87
        case firstStageAccessedDirtyNoSnoop = 0x90

        /// The string `dmar_get_fault_reason` returns for the code.
        public var linuxString: String {
            switch self {
            case .software: "Software"
            case .rootEntryNotPresent: "Present bit in root entry is clear"
            case .contextEntryNotPresent: "Present bit in context entry is clear"
            case .invalidContextEntry: "Invalid context entry"
            case .beyondMGAW: "Access beyond MGAW"
            case .writeNotSet: "PTE Write access is not set"
            case .readNotSet: "PTE Read access is not set"
            case .nextTableInvalid: "Next page table ptr is invalid"
            case .rootTableInvalid: "Root table address invalid"
            case .contextTableInvalid: "Context table ptr is invalid"
            case .reservedRTP: "non-zero reserved fields in RTP"
            case .reservedCTP: "non-zero reserved fields in CTP"
            case .reservedPTE: "non-zero reserved fields in PTE"
            case .blockingPCE: "PCE for translation request specifies blocking"
            case .invalidRootTableAddress: "SM: Invalid Root Table Address"
            case .ttm0WithPASID: "SM: TTM 0 for request with PASID"
            case .ttm0PageGroupRequest: "SM: TTM 0 for page group request"
            case .rootEntryAccess: "SM: Error attempting to access Root Entry"
            case .smRootEntryNotPresent: "SM: Present bit in Root Entry is clear"
            case .rootEntryReserved: "SM: Non-zero reserved field set in Root Entry"
            case .contextEntryAccess: "SM: Error attempting to access Context Entry"
            case .smContextEntryNotPresent: "SM: Present bit in Context Entry is clear"
            case .contextEntryReserved: "SM: Non-zero reserved field set in the Context Entry"
            case .smInvalidContextEntry: "SM: Invalid Context Entry"
            case .deviceTLBDisabled: "SM: DTE field in Context Entry is clear"
            case .pasidNotEnabled: "SM: PASID Enable field in Context Entry is clear"
            case .pasidTooLarge: "SM: PASID is larger than the max in Context Entry"
            case .pageRequestDisabled: "SM: PRE field in Context-Entry is clear"
            case .ridPASIDError: "SM: RID_PASID field error in Context-Entry"
            case .directoryAccess: "SM: Error attempting to access the PASID Directory Entry"
            case .directoryNotPresent: "SM: Present bit in Directory Entry is clear"
            case .directoryReserved: "SM: Non-zero reserved field set in PASID Directory Entry"
            case .pasidTableAccess: "SM: Error attempting to access PASID Table Entry"
            case .pasidEntryNotPresent: "SM: Present bit in PASID Table Entry is clear"
            case .pasidEntryReserved: "SM: Non-zero reserved field set in PASID Table Entry"
            case .invalidPASIDEntry: "SM: Invalid Scalable-Mode PASID Table Entry"
            case .executeRequestsDisabled: "SM: ERE field is clear in PASID Table Entry"
            case .supervisorRequestsDisabled: "SM: SRE field is clear in PASID Table Entry"
            case .firstStageAccess: "SM: Error attempting to access first-level paging entry"
            case .firstStageNotPresent: "SM: Present bit in first-level paging entry is clear"
            case .firstStageReserved: "SM: Non-zero reserved field set in first-level paging entry"
            case .firstStageRootAccess: "SM: Error attempting to access FL-PML4 entry"
            case .nestedFirstStageBeyondMGAW: "SM: First-level entry address beyond MGAW in Nested translation"
            case .nestedFirstStageRootRead: "SM: Read permission error in FL-PML4 entry in Nested translation"
            case .nestedFirstStageRead: "SM: Read permission error in first-level paging entry in Nested translation"
            case .nestedFirstStageWrite: "SM: Write permission error in first-level paging entry in Nested translation"
            case .secondStageAccess: "SM: Error attempting to access second-level paging entry"
            case .secondStagePermission: "SM: Read/Write permission error in second-level paging entry"
            case .secondStageReserved: "SM: Non-zero reserved field set in second-level paging entry"
            case .invalidSecondStageTable: "SM: Invalid second-level page table pointer"
            case .secondStageAccessedDirtyNoSnoop: "SM: A/D bit update needed in second-level entry when set up in no snoop"
            case .nonCanonical: "SM: Address in first-level translation is not canonical"
            case .userSupervisor: "SM: U/S set 0 for first-level translation with user privilege"
            case .noExecute: "SM: No execute permission for request with PASID and ER=1"
            case .beyondDMAMaximum: "SM: Address beyond the DMA hardware max"
            case .secondStageBeyondMaximum: "SM: Second-level entry address beyond the max"
            case .firstStageWrite: "SM: No write permission for Write/AtomicOp request"
            case .firstStageRead: "SM: No read permission for Read/AtomicOp request"
            case .interruptAddress: "SM: Invalid address-interrupt address"
            case .firstStageAccessedDirtyNoSnoop: "SM: A/D bit update needed in first-level entry when set up in no snoop"
            }
        }
    }
}

/// A VT-d primary fault record (spec §7.2.1, the Fault Recording Register of §11.4.14) as
/// the remapping unit logs it and Linux's `dmar_fault_do_one` prints it.
public struct VTdFaultRecord: Sendable, Equatable {
    public var reason: VTd.FaultReason
    /// SID: the requester's bus, device and function.
    public var sourceID: UInt16
    /// PP and PV: the request's PASID, nil for a request without one.
    public var pasid: UInt32?
    /// FI: the faulting address, page-aligned as the register keeps it (`dma_frcd_page_addr`).
    public var address: UInt64
    /// T: a write request (false: a read).
    public var write: Bool
    /// Not in the register: the address of the entry whose fetch hit no memory.
    public var fetchAddress: UInt64?
    /// Not in the register: the guest-physical address a second-stage walk of a nested
    /// translation was resolving.
    public var gpa: UInt64?

    public init(_ reason: VTd.FaultReason, sourceID: UInt16 = 0, pasid: UInt32? = nil, address: UInt64 = 0, write: Bool = false,
                fetchAddress: UInt64? = nil, gpa: UInt64? = nil) {
        self.reason = reason
        self.sourceID = sourceID
        self.pasid = pasid
        self.address = address & ~0xfff
        self.write = write
        self.fetchAddress = fetchAddress
        self.gpa = gpa
    }

    /// The 128-bit fault recording register with F set, as two words (low, high): FI in
    /// 63:12, SID in 79:64, PP in 95, FR in 103:96, PV in 123:104, T in 126 (1 = read), F in 127.
    public var registerWords: (low: UInt64, high: UInt64) {
        var high = UInt64(sourceID) | UInt64(reason.rawValue) << 32 | 1 << 63
        if let pasid { high |= 1 << 31 | (UInt64(pasid) & 0xf_ffff) << 40 }
        if !write { high |= 1 << 62 }
        return (address & ~0xfff, high)
    }
}

extension VTdFaultRecord {
    /// The translation fault this record reports. The walk names the reason; `IntelVTd`
    /// stamps the request's source, PASID, address and direction before it returns.
    func fault(_ stage: TranslationStage, level: Int, origin: FaultOrigin = .walk) -> TranslationFault {
        TranslationFault(.vtd(self), stage: stage, level: level, origin: origin)
    }
}
