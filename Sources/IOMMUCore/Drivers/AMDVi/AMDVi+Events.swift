/// An AMD-Vi event log entry (AMD IOMMU spec §2.5, the event log; Linux `iommu_print_event`
/// and `amd_iommu_report_page_fault`): 16 bytes with the type in bits 63:60 of the first
/// quadword, the DeviceID, the PASID or DomainID, the flags and the address.
public struct AMDViEvent: Sendable, Equatable {
    /// EventCode, named as Linux logs it (`EVENT_TYPE_*` in `amd_iommu_types.h`).
    public enum EventType: UInt8, Sendable, CaseIterable {
        case ILLEGAL_DEV_TABLE_ENTRY = 0x1
        case IO_PAGE_FAULT = 0x2
        case DEV_TAB_HARDWARE_ERROR = 0x3
        case PAGE_TAB_HARDWARE_ERROR = 0x4
        case ILLEGAL_COMMAND_ERROR = 0x5
        case COMMAND_HARDWARE_ERROR = 0x6
        case IOTLB_INV_TIMEOUT = 0x7
        case INVALID_DEVICE_REQUEST = 0x8
        case INVALID_PPR_REQUEST = 0x9
        case RMP_PAGE_FAULT = 0xd
        case RMP_HW_ERROR = 0xe

        public var name: String { String(describing: self) }
    }

    /// The flags of an IO_PAGE_FAULT and the hardware-error events (`EVENT_FLAG_*`), named as
    /// the spec names its bits.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// GN: the request carried a PASID (the event's PASID field is valid).
        public static let GN = Flags(rawValue: 1 << 0)
        /// NX: an instruction fetch to a no-execute page.
        public static let NX = Flags(rawValue: 1 << 1)
        /// US: a user-mode request.
        public static let US = Flags(rawValue: 1 << 2)
        /// I: an interrupt request.
        public static let I = Flags(rawValue: 1 << 3)
        /// PR: the translation reached a present entry.
        public static let PR = Flags(rawValue: 1 << 4)
        /// RW: the access was a write.
        public static let RW = Flags(rawValue: 1 << 5)
        /// PE: the entry's IR/IW (or R/W) did not permit the access.
        public static let PE = Flags(rawValue: 1 << 6)
        /// RZ: a reserved bit or reserved encoding was set.
        public static let RZ = Flags(rawValue: 1 << 7)
        /// TR: an ATS translation request.
        public static let TR = Flags(rawValue: 1 << 8)

        /// RW for a write, nothing for a read.
        public init(access: AccessRights) { self = access.contains(.write) ? .RW : [] }
    }

    public var type: EventType
    public var deviceID: UInt16
    /// The DomainID the DTE names (IO_PAGE_FAULT, PAGE_TAB_HARDWARE_ERROR); nil where the
    /// event has none (the DTE could not be used).
    public var domainID: UInt16?
    /// The request's PASID, which the PASID/DomainID field holds instead of the DomainID when
    /// GN is set (a request with a PASID, translated through its GCR3 entry).
    public var pasid: UInt32?
    /// The request's address, or for a hardware error the address that could not be read.
    public var address: UInt64
    public var flags: Flags

    /// With a `pasid`, GN is set and the field names the PASID rather than `domainID`.
    public init(_ type: EventType, deviceID: UInt16, domainID: UInt16?, pasid: UInt32? = nil, address: UInt64, flags: Flags) {
        self.type = type
        self.deviceID = deviceID
        self.domainID = pasid == nil ? domainID : nil
        self.pasid = pasid.map { $0 & 0xf_ffff }
        self.address = address
        self.flags = pasid == nil ? flags : flags.union(.GN)
    }
}

extension AMDViEvent {
    /// The 16-byte event log entry as four little-endian 32-bit words, as Linux reads them
    /// (`iommu_print_event`): DeviceID in word 0 bits 15:0, the 20-bit PASID/DomainID field
    /// in word 0 bits 19:16 and word 1 bits 15:0, the flags in word 1 bits 27:16, the event
    /// code in word 1 bits 31:28, and the address in words 3:2.
    public var words: [UInt32] {
        let field = pasid ?? UInt32(domainID ?? 0)
        return [UInt32(deviceID) | field & 0xf_0000, field & 0xffff | UInt32(flags.rawValue & 0xfff) << 16 | UInt32(type.rawValue) << 28,
                UInt32(truncatingIfNeeded: address), UInt32(truncatingIfNeeded: address >> 32)]
    }

    /// Decodes a log entry; nil for fewer than four words or an unknown event code. The
    /// PASID/DomainID field is the PASID when GN is set, else the DomainID (16 bits, as the
    /// simulator's DTEs hold it).
    public init?(words: [UInt32]) {
        guard words.count >= 4, let type = EventType(rawValue: UInt8(words[1] >> 28)) else { return nil }
        let flags = Flags(rawValue: UInt16((words[1] >> 16) & 0xfff))
        let field = words[0] & 0xf_0000 | words[1] & 0xffff
        self.init(type, deviceID: UInt16(truncatingIfNeeded: words[0]), domainID: UInt16(truncatingIfNeeded: words[1]),
                  pasid: flags.contains(.GN) ? field : nil, address: UInt64(words[3]) << 32 | UInt64(words[2]), flags: flags)
    }

    /// The translation fault this event reports.
    func fault(_ stage: TranslationStage, level: Int, origin: FaultOrigin) -> TranslationFault {
        TranslationFault(.amdVi(self), stage: stage, level: level, origin: origin)
    }
}
