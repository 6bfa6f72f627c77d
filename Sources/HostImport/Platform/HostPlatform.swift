import IOMMUCore

/// A host snapshot as the platform a scenario runs on. Owned by the host-model work.
public enum HostPlatform {
    public static func description(of snapshot: HostSnapshot) -> (platform: PlatformDescription, notes: [String]) {
        (PlatformDescription(), [])
    }

    /// Every arch's dumped tables rebuilt in `machine`'s memory (VT-d and AMD-Vi rebuilds).
    public static func rebuildTables(_ snapshot: HostSnapshot, into machine: Machine) -> TableRebuildReport {
        TableRebuildReport()
    }
}
