/// `enum iommu_resv_type`: what a device's reserved region means to the IOMMU core.
public enum ReservedRegionType: String, Sendable, CaseIterable, Codable {
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
public struct ReservedRegion: Sendable, Equatable, Codable {
    public var range: IOVARange
    public var type: ReservedRegionType

    public init(range: IOVARange, type: ReservedRegionType) {
        self.range = range
        self.type = type
    }

    private enum CodingKeys: String, CodingKey { case start, last, type }

    /// `start`, `last` and `type`, as sysfs `reserved_regions` lists them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let start = try container.decode(UInt64.self, forKey: .start), last = try container.decode(UInt64.self, forKey: .last)
        guard start <= last else {
            throw DecodingError.dataCorruptedError(forKey: .last, in: container, debugDescription: "last is below start")
        }
        range = IOVARange(start: start, last: last)
        type = try container.decode(ReservedRegionType.self, forKey: .type)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(range.start, forKey: .start)
        try container.encode(range.last, forKey: .last)
        try container.encode(type, forKey: .type)
    }
}
