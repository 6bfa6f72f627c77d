import IOMMUCore

/// Replays logged faults on a machine. Owned by the host-model work.
public struct FaultExplainer {
    public var machine: Machine
    public var tables: TableRebuildReport

    public init(machine: Machine, tables: TableRebuildReport) {
        self.machine = machine
        self.tables = tables
    }

    public func explain(_ record: FaultRecord) -> FaultExplanation {
        FaultExplanation(record: record, device: nil, outcome: .notWalked("not implemented"), cause: .noDevice, sentence: "")
    }
}
