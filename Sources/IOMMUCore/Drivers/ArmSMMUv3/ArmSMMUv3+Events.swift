/// An SMMUv3 event record (IHI0070 §7.3) as the SMMU writes it to the event queue: four
/// little-endian 64-bit words, whose fields Linux masks with `EVTQ_*` in `arm-smmu-v3.h`.
public struct SMMUv3Event: Sendable, Equatable {
    /// The event type, named and numbered as the specification names it (Linux `EVT_ID_*`,
    /// QEMU `SMMUEventType`).
    public enum ID: UInt8, Sendable, CaseIterable {
        case F_UUT = 0x01
        case C_BAD_STREAMID = 0x02
        case F_STE_FETCH = 0x03
        case C_BAD_STE = 0x04
        case F_BAD_ATS_TREQ = 0x05
        case F_STREAM_DISABLED = 0x06
        case F_TRANSL_FORBIDDEN = 0x07
        case C_BAD_SUBSTREAMID = 0x08
        case F_CD_FETCH = 0x09
        case C_BAD_CD = 0x0a
        case F_WALK_EABT = 0x0b
        case F_TRANSLATION = 0x10
        case F_ADDR_SIZE = 0x11
        case F_ACCESS = 0x12
        case F_PERMISSION = 0x13
        case F_TLB_CONFLICT = 0x20
        case F_CFG_CONFLICT = 0x21
        case E_PAGE_REQUEST = 0x24
        case F_VMS_FETCH = 0x25

        /// The specification's name (`F_TRANSLATION`).
        public var name: String { String(describing: self) }

        /// Translation events carry CLASS, S2, RnW, InD and PnU; configuration events do not.
        public var isTranslationFault: Bool {
            switch self {
            case .F_WALK_EABT, .F_TRANSLATION, .F_ADDR_SIZE, .F_ACCESS, .F_PERMISSION: true
            default: false
            }
        }

        /// Events whose last word holds the address of the structure that could not be fetched.
        public var hasFetchAddress: Bool {
            switch self {
            case .F_STE_FETCH, .F_CD_FETCH, .F_VMS_FETCH, .F_WALK_EABT: true
            default: false
            }
        }
    }

    /// CLASS: what the faulting access was for (`event_class_str[]`).
    public enum Class: UInt8, Sendable, CaseIterable {
        /// A CD fetch (stage 2 translating the CD's IPA).
        case CD = 0
        /// A stage-1 translation table fetch (stage 2 translating a descriptor's IPA).
        case TT = 1
        /// The input address itself.
        case IN = 2

        public var name: String { String(describing: self) }
    }

    public var id: ID
    public var streamID: UInt32
    /// SSV and SubstreamID: nil when the transaction had no substream.
    public var substreamID: UInt32?
    /// Stall and STAG: the transaction is stalled awaiting a resume carrying this tag.
    public var stag: UInt16?
    /// PnU: a privileged access.
    public var privileged = false
    /// InD: an instruction fetch.
    public var instruction = false
    /// RnW: a read (false: a write).
    public var read = true
    /// S2: stage 2 faulted.
    public var stage2 = false
    public var eventClass: Class = .IN
    /// TT_READ: the stage-1 table access was a read (for CLASS = TT).
    public var tableRead = false
    public var inputAddress: UInt64 = 0
    /// The IPA stage 2 was translating (stage-2 faults).
    public var ipa: UInt64?
    /// The address of the STE, CD or descriptor that could not be read (fetch events).
    public var fetchAddress: UInt64?

    public init(_ id: ID, streamID: UInt32, substreamID: UInt32? = nil, inputAddress: UInt64 = 0) {
        self.id = id
        self.streamID = streamID
        self.substreamID = substreamID
        self.inputAddress = inputAddress
    }

    // Field positions of the record (Linux EVTQ_0_* .. EVTQ_3_*).
    static let ssvBit: UInt64 = 1 << 11
    static let ssidShift: UInt64 = 12, ssidMask: UInt64 = 0xf_ffff
    static let sidShift: UInt64 = 32
    static let stallBit: UInt64 = 1 << 31
    static let pnuBit: UInt64 = 1 << 33
    static let indBit: UInt64 = 1 << 34
    static let rnwBit: UInt64 = 1 << 35
    static let s2Bit: UInt64 = 1 << 39
    static let classShift: UInt64 = 40
    static let ttReadBit: UInt64 = 1 << 44
    /// EVTQ_3_IPA: bits 51:12, kept in place.
    static let ipaMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// EVTQ_3_FETCH_ADDR: bits 51:3, kept in place.
    static let fetchAddressMask: UInt64 = 0x000F_FFFF_FFFF_FFF8

    /// The four words the SMMU writes to the event queue. Word 3 holds the fetch address for
    /// a fetch event, otherwise the IPA of a stage-2 fault.
    public var words: [UInt64] {
        var word0 = UInt64(id.rawValue) | UInt64(streamID) << Self.sidShift
        if let substreamID { word0 |= Self.ssvBit | (UInt64(substreamID) & Self.ssidMask) << Self.ssidShift }
        var word1: UInt64 = 0
        if id.isTranslationFault {
            if let stag { word1 |= UInt64(stag) | Self.stallBit }
            if privileged { word1 |= Self.pnuBit }
            if instruction { word1 |= Self.indBit }
            if read { word1 |= Self.rnwBit }
            if stage2 { word1 |= Self.s2Bit }
            word1 |= UInt64(eventClass.rawValue) << Self.classShift
            if tableRead { word1 |= Self.ttReadBit }
        }
        let word3 = id.hasFetchAddress ? (fetchAddress ?? 0) & Self.fetchAddressMask
                                       : stage2 ? (ipa ?? 0) & Self.ipaMask : 0
        return [word0, word1, inputAddress, word3]
    }

    /// The little-endian bytes of the 32-byte record.
    public var bytes: [UInt8] { words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } } }

    /// Decodes a record; nil for a record of fewer than four words, an unknown event id or the
    /// reserved CLASS 3.
    public init?(words: [UInt64]) {
        guard words.count >= 4, let id = ID(rawValue: UInt8(truncatingIfNeeded: words[0])) else { return nil }
        self.init(id, streamID: UInt32(truncatingIfNeeded: words[0] >> Self.sidShift), inputAddress: words[2])
        if words[0] & Self.ssvBit != 0 { substreamID = UInt32((words[0] >> Self.ssidShift) & Self.ssidMask) }
        let word1 = words[1]
        if id.isTranslationFault {
            if word1 & Self.stallBit != 0 { stag = UInt16(truncatingIfNeeded: word1) }
            privileged = word1 & Self.pnuBit != 0
            instruction = word1 & Self.indBit != 0
            read = word1 & Self.rnwBit != 0
            stage2 = word1 & Self.s2Bit != 0
            guard let eventClass = Class(rawValue: UInt8((word1 >> Self.classShift) & 3)) else { return nil }
            self.eventClass = eventClass
            tableRead = word1 & Self.ttReadBit != 0
        }
        if id.hasFetchAddress {
            fetchAddress = words[3] & Self.fetchAddressMask
        } else if stage2 {
            ipa = words[3] & Self.ipaMask
        }
    }
}
