import IOMMUCore

/// A logged fault replayed on the model: the walk of that device at that address, where it
/// stops, the model's reason next to the logged one, and the likely cause in one sentence.
public struct FaultExplanation {
    public var record: FaultRecord
    /// The model device the record's requester matched (by BDF, sysfs name, StreamID or
    /// requester id); nil when no device matched.
    public var device: String?
    public var outcome: Outcome
    public var cause: FaultCause
    /// One sentence for a person ("0x8d801000 is not mapped in 0000:00:02.0's DMA domain:
    /// the walk stops at the empty PDE (level 2)").
    public var sentence: String
    /// The logged reason next to the model's, and whether they name the same kind of fault.
    public var reasons: ReasonComparison?

    public init(record: FaultRecord, device: String?, outcome: Outcome, cause: FaultCause, sentence: String) {
        self.record = record
        self.device = device
        self.outcome = outcome
        self.cause = cause
        self.sentence = sentence
    }

    /// What the model's walk of the same DMA gave.
    public enum Outcome {
        /// The model faults too: its fault, with the descriptors read up to the stop.
        case faulted(TranslationFault)
        /// The model translates it now (the mapping came after the fault, or the log is
        /// from another state of the machine).
        case translated(Translation)
        /// No walk was possible: why (no such device, no address in the record, an
        /// architecture whose walk is not modelled).
        case notWalked(String)
    }
}

/// The likely cause of a logged fault, as the explanation's sentence names it.
public enum FaultCause: String, Sendable, Equatable, CaseIterable {
    /// No leaf maps the address.
    case unmapped
    /// A write to a page mapped without write permission.
    case readOnly = "read-only"
    /// Beyond the domain's input range.
    case outsideAperture = "outside-aperture"
    /// Inside one of the device's reserved regions.
    case reservedRegion = "reserved-region"
    /// The address was mapped earlier and has been unmapped: a DMA after unmap.
    case staleAfterUnmap = "stale-after-unmap"
    /// The configuration (root/context/PASID entry, STE, CD, DTE) stops the DMA before any table.
    case configuration
    /// The tables on the walk's path were not dumped: unknown, not empty.
    case unknownTables = "unknown-tables"
    /// The model translates the DMA: the fault came from another state.
    case translatesNow = "translates-now"
    /// Nothing in the model matches the record's device.
    case noDevice = "no-device"
    /// The model cannot replay the DMA: the record has no address, or the architecture's walk
    /// of this request is not modelled.
    case notModelled = "not-modelled"
}

/// A logged fault reason beside the model's: SMMUv3 event names, VT-d reason codes and
/// AMD-Vi event types sorted into the kinds of fault they report, so a legacy-mode DMAR
/// `0x06` and the model's scalable-mode `0x71` agree while `F_PERMISSION` and
/// `F_TRANSLATION` do not.
public struct ReasonComparison: Sendable, Equatable {
    public var logged: String
    /// The model's reason as `FaultText.reason` names it; nil when the model does not fault.
    public var model: String?
    /// Nil when the model does not fault.
    public var agree: Bool?

    public init(logged: String, model: String?, agree: Bool?) {
        self.logged = logged
        self.model = model
        self.agree = agree
    }
}
