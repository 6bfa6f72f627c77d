/// Which part of a translation an event or a descriptor fetch belongs to.
public enum TranslationStage: Sendable, Hashable, CaseIterable {
    /// The structures read before any translation table: STE and CD, root, context and PASID
    /// entries, DTE and GCR3.
    case configuration
    case stage1
    case stage2

    /// The stage number the results print: 1 or 2, and 0 for the configuration.
    public var number: Int {
        switch self {
        case .configuration: 0
        case .stage1: 1
        case .stage2: 2
        }
    }
}

/// Where a translation stopped: which check saw the fault. Every architecture reports the
/// same record whichever check found it; the simulator keeps the origin so that a view can
/// say whether a walk happened.
public enum FaultOrigin: Sendable, Hashable {
    /// A check of the configuration or of the input against it, before any descriptor fetch
    /// of the stage (an STE or CD check, an input beyond IAS, a disabled TTB0).
    case configuration
    /// A descriptor of the walk (or its fetch).
    case walk
    /// A cached IOTLB entry whose rights refuse the access: no walk was made.
    case iotlb
}

/// A transaction the IOMMU ends without writing any record.
public enum Termination: Sendable, Hashable {
    /// SMMUv3 STE.Config = abort (the blocking domain): the transaction aborts, no event.
    case streamAborted
    /// VT-d 3.14: a read without PASID of the interrupt address range is an Unsupported
    /// Request, which records no DMA-remapping fault.
    case interruptRangeRead
}

/// The record an IOMMU writes for a fault, in the architecture's own terms.
public enum FaultRecord: Sendable, Equatable {
    case smmuv3(SMMUv3Event)
    case vtd(VTdFaultRecord)
    case amdVi(AMDViEvent)
    /// The transaction ended without a record.
    case terminated(Termination)
}

/// A translation that faulted: the record the hardware writes, where in the walk it stopped,
/// and the descriptor fetches made before it.
public struct TranslationFault: Error, Sendable, Equatable {
    public var record: FaultRecord
    public var stage: TranslationStage
    /// The architecture's level number of the entry that faulted (0 where none did).
    public var level: Int
    public var origin: FaultOrigin
    /// The descriptor fetches made before the fault, in hardware order (the last one faulted).
    public var steps: [WalkStep] = []
    /// The configuration structures read before the fault.
    public var configurationFetches: [ConfigurationFetch] = []

    public init(_ record: FaultRecord, stage: TranslationStage, level: Int, origin: FaultOrigin, steps: [WalkStep] = []) {
        self.record = record
        self.stage = stage
        self.level = level
        self.origin = origin
        self.steps = steps
    }
}

extension TranslationFault {
    /// The SMMUv3 event, when an SMMUv3 reported the fault.
    public var smmuv3Event: SMMUv3Event? { if case .smmuv3(let event) = record { event } else { nil } }
    /// The VT-d fault record, when a VT-d remapping unit reported the fault.
    public var vtdRecord: VTdFaultRecord? { if case .vtd(let record) = record { record } else { nil } }
    /// The AMD-Vi event, when an AMD IOMMU reported the fault.
    public var amdViEvent: AMDViEvent? { if case .amdVi(let event) = record { event } else { nil } }
}
