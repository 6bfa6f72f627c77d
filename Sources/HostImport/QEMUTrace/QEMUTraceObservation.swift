import IOMMUCore
import ScenarioScript

/// An emulated vIOMMU's report of what it did for the guest, from QEMU's `hw/arm` and
/// `hw/i386` trace events: a translation, a fault or an invalidation.
///
/// NOTE (issue 10, stub): no event is read as an observation yet.
public struct QEMUTraceObservation: Sendable, Equatable, TimelineObservation {
    public var name: String
    public var arguments: String

    /// The observation an event line reports, nil for an event that reports none.
    public init?(name: String, arguments: String) {
        return nil
    }

    public var summary: String { name }

    public func compare(with model: ModelReader) -> ObservationVerdict {
        .notComparable("not compared yet")
    }
}
