/// An AMD-Vi IOMMU as `drivers/iommu/amd/iommu.c` (v6.17) presents it: v1 host tables, v2
/// tables for PASID domains, no hw_info, no nesting.
public final class AMDVi: IOMMUDriver {
    public struct Configuration: Sendable, Equatable {
        /// Host page-table levels (EFR.HATS + 4): 4, 5 or 6.
        public var levels: Int = 6
        /// EFR.HDSUP: hardware dirty bits.
        public var dirtyTracking = true
        /// `amd_iommu_ht_range_ignore()`: the HyperTransport window is usable.
        public var hyperTransportRangeIgnored = false
        /// `amd_iommu=pgtbl_v2`: default domains use v2 (x86-64 format) tables.
        public var defaultsToV2 = false

        public init() {}
    }

    public static let msiWindow = IOVARange(start: 0xfee0_0000, last: 0xfeef_ffff)
    /// `HT_RANGE_START ... HT_RANGE_END`.
    public static let hyperTransportWindow = IOVARange(start: 0xfd_0000_0000, last: 0xff_ffff_ffff)
    /// `AMD_IOMMU_PGSIZES`: every power of two from 4K to 2^51 except 512G.
    public static let v1PageSizes: UInt64 = ((1 << 52) - (1 << 12)) ^ (1 << 39)

    public let name: String
    public let configuration: Configuration
    public var architecture: IOMMUArchitecture { .amdVi }
    public var allocatesNestedDomains: Bool { false }

    public init(name: String, configuration: Configuration = Configuration()) {
        self.name = name
        self.configuration = configuration
    }

    public func reservedRegions(for device: PlatformDevice) -> [ReservedRegion] {
        var regions = [ReservedRegion(range: Self.msiWindow, type: .msi)]
        if !configuration.hyperTransportRangeIgnored {
            regions.append(ReservedRegion(range: Self.hyperTransportWindow, type: .reserved))
        }
        return regions
    }

    /// Snoop control (or its AMD equivalent) is always there.
    public func canEnforceCacheCoherency(for device: PlatformDevice) -> Bool { true }

    public func capabilities(for device: PlatformDevice) -> HWCapabilities {
        configuration.dirtyTracking ? .dirtyTracking : []
    }

    /// No `hw_info` op in v6.17: type NONE, no data, whatever type was asked for.
    public func hardwareInfo(for device: PlatformDevice, type: UInt32) throws(Errno) -> HWInfo {
        HWInfo(type: .default, length: 0, fields: [])
    }

    /// `amd_iommu_domain_alloc_paging_flags`.
    public func allocatePagingDomain(for device: PlatformDevice, flags: HWPTAllocFlags, userData: UserData?,
                                     memory: PhysicalMemory) throws(Errno) -> PagingDomain {
        guard flags.isSubset(of: [.dirtyTracking, .pasid]), userData == nil else { throw .EOPNOTSUPP }
        switch flags {
        case [] where !configuration.defaultsToV2, .dirtyTracking:
            if flags == .dirtyTracking && !configuration.dirtyTracking { throw .EOPNOTSUPP }
            let levels = configuration.levels
            let aperture: IOVARange = levels < 6 ? .addressWidth(12 + 9 * levels) : .all
            return PagingDomain(driver: self, stage: .stage2, aperture: aperture, pageSizes: Self.v1PageSizes,
                                table: FlatPageTable(), dirtyTracking: flags.contains(.dirtyTracking))
        case [], .pasid:
            // v2 (x86-64 format) tables, 4-level: the canonical lower half.
            return PagingDomain(driver: self, stage: .stage1, aperture: .addressWidth(47),
                                pageSizes: 4096 | 2 << 20 | 1 << 30, table: FlatPageTable())
        default:
            throw .EOPNOTSUPP
        }
    }

    public func allocateNestedDomain(for device: PlatformDevice, parent: PagingDomain, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Errno) -> NestedDomain { throw .EOPNOTSUPP }

    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain) throws(Errno) {
        guard domain.driver is AMDVi else { throw .EINVAL }
        if domain.dirtyTracking && !configuration.dirtyTracking { throw .EINVAL }
    }

    public func checkAttach(_ device: PlatformDevice, to domain: NestedDomain, viommu: VIOMMU?, vdevice: VDevice?) throws(Errno) {
        throw .EINVAL
    }

    public func invalidate(_ domain: NestedDomain, _ request: InvalidationArray) -> InvalidationOutcome {
        InvalidationOutcome(handled: 0, error: .EOPNOTSUPP)
    }
}
