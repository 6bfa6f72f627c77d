/// `enum iommu_resv_type`: what a device's reserved region means to the IOMMU core.
public enum ReservedRegionType: String, Sendable, CaseIterable {
    /// Must stay identity-mapped at all times (an RMRR or IVMD unity map); refuses DMA ownership.
    case direct
    /// Identity-mapped by the host, but may be relaxed when the device is assigned.
    case directRelaxable = "direct-relaxable"
    /// Never map (an AMD exclusion range, the HyperTransport window).
    case reserved
    /// A hardware MSI window that bypasses translation (x86 interrupt remapping).
    case msi
    /// The software-managed MSI window where doorbells are mapped (Arm).
    case swMSI = "sw_msi"
}

/// One region from a driver's `get_resv_regions`.
public struct ReservedRegion: Sendable, Equatable {
    public var range: IOVARange
    public var type: ReservedRegionType

    public init(range: IOVARange, type: ReservedRegionType) {
        self.range = range
        self.type = type
    }
}
