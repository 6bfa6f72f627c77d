/// Reads `sys/kernel/debug/iommu/amd/` (host-inputs §4). Owned by the AMD-Vi work.
public enum AMDDebugfsReader {
    public static func read(from source: any HostSource, warnings: inout [ImportWarning]) -> AMDDebugfs { AMDDebugfs() }
}
