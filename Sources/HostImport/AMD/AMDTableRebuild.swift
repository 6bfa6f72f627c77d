import IOMMUCore

/// Writes the DTEs a snapshot's AMD-Vi debugfs shows into `machine`'s memory. Owned by the AMD-Vi work.
public enum AMDTableRebuild {
    public static func rebuild(_ snapshot: HostSnapshot, into machine: Machine) -> TableRebuildReport { TableRebuildReport() }
}
