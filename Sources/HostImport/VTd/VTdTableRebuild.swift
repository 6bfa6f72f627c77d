import IOMMUCore

/// Writes the VT-d structures and tables a snapshot's debugfs dumps show into `machine`'s
/// memory. Owned by the VT-d debugfs work.
public enum VTdTableRebuild {
    public static func rebuild(_ snapshot: HostSnapshot, into machine: Machine) -> TableRebuildReport { TableRebuildReport() }
}
