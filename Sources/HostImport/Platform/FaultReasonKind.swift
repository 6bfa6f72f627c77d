import IOMMUCore
import Presentation

/// The kind of fault a reason reports, whichever architecture named it: what lets a logged
/// reason be set beside the model's own when the two use different codes for one event
/// (legacy and scalable-mode VT-d, an AMD-Vi fault told apart only by its PR flag).
enum FaultReasonKind: Equatable {
    /// No valid entry for the address (SMMU F_TRANSLATION, VT-d 0x71, AMD-Vi IO_PAGE_FAULT
    /// with PR clear).
    case notPresent
    /// A present leaf refuses the access (F_PERMISSION, VT-d 0x85, PR set).
    case permission
    /// Not present or refused: the codes that do not say which. Legacy VT-d 0x05/0x06
    /// ("PTE Write/Read access is not set") and second-stage 0x79 have no present bit apart
    /// from R/W; an AMD-Vi page fault whose flags were not logged.
    case noAccess
    /// The input address is beyond what the table or the unit translates (F_ADDR_SIZE,
    /// VT-d 0x04, 0x80, 0x83).
    case addressRange
    /// A descriptor fetch failed or a table entry is malformed (F_WALK_EABT, VT-d 0x70,
    /// 0x78, reserved bits, AMD-Vi PAGE_TAB_HARDWARE_ERROR).
    case tableFetch
    /// The Arm Access flag (F_ACCESS).
    case accessFlag
    /// A configuration structure stops the request before any table: STE, CD, root,
    /// context, PASID entries, DTE.
    case configuration
    /// The generic `iommu:io_page_fault` tracepoint: some translation fault, not which.
    case unspecified
    /// Anything else (command and invalidation errors, conflicts).
    case other

    /// Whether a logged reason of this kind and a model reason of `other` name the same event.
    func agrees(with other: FaultReasonKind) -> Bool {
        switch (self, other) {
        case (.unspecified, _), (_, .unspecified): true
        case (.noAccess, .notPresent), (.noAccess, .permission), (.notPresent, .noAccess), (.permission, .noAccess): true
        default: self == other
        }
    }

    /// A reason as a log or `FaultText.reason` names it; `amdFlags` are an AMD-Vi event's
    /// flags (`EVENT_FLAG_PR` tells a page fault's kind).
    init(architecture: FaultRecord.Architecture, reason: String, amdFlags: UInt64?) {
        switch architecture {
        case .armSMMUv3: self = Self.smmu(SMMUv3Event.ID.allCases.first { $0.name == reason.uppercased() })
        case .intelVTd: self = Self.vtd(reason)
        case .amdVi: self = Self.amd(AMDViEvent.EventType.allCases.first { $0.name == reason.uppercased() }, flags: amdFlags)
        case .iommu: self = .unspecified
        }
    }

    /// The model's fault, named as the log would name it.
    init(_ fault: TranslationFault) {
        switch fault.record {
        case .smmuv3(let event): self = Self.smmu(event.id)
        case .vtd(let record): self = Self.vtd(record.reason)
        case .amdVi(let event): self = Self.amd(event.type, flags: UInt64(event.flags.rawValue))
        case .terminated(.streamAborted): self = .configuration
        case .terminated(.interruptRangeRead): self = .other
        }
    }

    /// The SMMUv3 event types (IHI0070 §7.3; a logged name the spec lacks, `UNKNOWN`, is nil).
    private static func smmu(_ id: SMMUv3Event.ID?) -> FaultReasonKind {
        switch id {
        case .F_TRANSLATION?: .notPresent
        case .F_PERMISSION?: .permission
        case .F_ADDR_SIZE?: .addressRange
        case .F_ACCESS?: .accessFlag
        case .F_WALK_EABT?: .tableFetch
        case .F_UUT?, .C_BAD_STREAMID?, .F_STE_FETCH?, .C_BAD_STE?, .F_BAD_ATS_TREQ?, .F_STREAM_DISABLED?, .F_TRANSL_FORBIDDEN?,
             .C_BAD_SUBSTREAMID?, .F_CD_FETCH?, .C_BAD_CD?, .F_VMS_FETCH?, .F_CFG_CONFLICT?: .configuration
        case .F_TLB_CONFLICT?, .E_PAGE_REQUEST?, nil: .other
        }
    }

    /// `[fault reason 0x%02x]`; older kernels printed the code in decimal (`reason 6`).
    private static func vtd(_ text: String) -> FaultReasonKind {
        let code = parseHexWord(text) ?? (text.count <= 3 ? UInt64(text) : nil)
        guard let code, code <= 0xff, let reason = VTd.FaultReason(rawValue: UInt8(code)) else { return .other }
        return vtd(reason)
    }

    /// The VT-d spec's "Non-Recoverable Fault Reasons" tables (legacy and scalable mode).
    private static func vtd(_ reason: VTd.FaultReason) -> FaultReasonKind {
        switch reason {
        case .firstStageNotPresent: .notPresent
        case .writeNotSet, .readNotSet, .secondStagePermission: .noAccess
        case .firstStageWrite, .firstStageRead, .nestedFirstStageRootRead, .nestedFirstStageRead, .nestedFirstStageWrite,
             .userSupervisor, .noExecute: .permission
        case .beyondMGAW, .nonCanonical, .beyondDMAMaximum, .secondStageBeyondMaximum, .nestedFirstStageBeyondMGAW: .addressRange
        case .nextTableInvalid, .reservedPTE, .firstStageAccess, .firstStageReserved, .firstStageRootAccess, .secondStageAccess,
             .secondStageReserved, .invalidSecondStageTable, .secondStageAccessedDirtyNoSnoop, .firstStageAccessedDirtyNoSnoop: .tableFetch
        case .software, .interruptAddress: .other
        default: .configuration
        }
    }

    /// `amd_iommu_report_page_fault` and `iommu_print_event`'s event types.
    private static func amd(_ type: AMDViEvent.EventType?, flags: UInt64?) -> FaultReasonKind {
        switch type {
        case .IO_PAGE_FAULT?:
            guard let flags else { return .noAccess }
            return flags & UInt64(AMDViEvent.Flags.PR.rawValue) != 0 ? .permission : .notPresent
        case .ILLEGAL_DEV_TABLE_ENTRY?, .DEV_TAB_HARDWARE_ERROR?, .INVALID_DEVICE_REQUEST?: return .configuration
        case .PAGE_TAB_HARDWARE_ERROR?: return .tableFetch
        default: return .other
        }
    }
}
