/// Reads `sys/kernel/debug/iommu/intel/` (host-inputs §3). Owned by the VT-d debugfs work.
public enum VTdDebugfsReader {
    public static func read(from source: any HostSource, warnings: inout [ImportWarning]) -> VTdDebugfs { VTdDebugfs() }
}
