/// An AMD-Vi IOMMU as `drivers/iommu/amd/iommu.c` (v6.17) presents it: v1 host tables, v2
/// tables for PASID domains, no hw_info, no nesting. Domains hold real descriptors in host
/// memory; `install` writes the device table as Linux does and `translate` walks it
/// (`AMDVi+Translation.swift`, `AMDViDeviceTable.swift`).
public final class AMDVi: IOMMUDriver {
    public struct Configuration: Sendable, Equatable, Codable {
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

    /// The device table base (`pci_seg->dev_table`), allocated at the first install.
    public internal(set) var deviceTable: UInt64?
    /// DomainIDs of paging domains, from 1 in allocation order (`pdom_id_alloc` in
    /// `protection_domain_init`; Linux frees and reuses ids, the simulator never reuses one).
    /// Linux's ids are global; here each IOMMU numbers the domains its DTEs name, so a domain
    /// another AMD-Vi instance allocated gets an id of this one at its first install.
    var domainIDs = DomainNumbers<UInt16>()
    var nextDomainID = 1
    /// Other AMD-Vi instances with devices attached to a domain this one allocated: its
    /// `iotlb_sync` flushes them too (Linux walks `pdom->iommu_array`).
    var peers: [ObjectIdentifier: [WeakAMDVi]] = [:]
    /// What Linux keeps per device (`struct iommu_dev_data`): the attached domain, the DTE's
    /// DomainID and, for v2 domains, the device's GCR3 table. By DeviceID.
    var attachedDevices: [UInt16: AMDViAttachment] = [:]
    /// Translations cached by DomainID (v2 entries also by PASID 0).
    public let iotlb: IOTLB
    /// Decoded DTEs (and GCR3[0]) per DeviceID, as the IOMMU caches them until
    /// INVALIDATE_DEVTAB_ENTRY.
    var configurationCache = WordTable<UInt16, AMDViDeviceTable.CachedConfiguration>() {
        didSet { cacheGeneration.advance() }
    }
    /// Advanced by every change to the cache: what the routes read from it holds until it moves.
    let cacheGeneration = CacheGeneration()

    public convenience init(name: String, configuration: Configuration = Configuration()) {
        self.init(name: name, configuration: configuration, iotlb: IOTLB())
    }

    private init(name: String, configuration: Configuration, iotlb: IOTLB) {
        self.name = name
        self.configuration = configuration
        self.iotlb = iotlb
    }

    public func makeCopy(in copier: ModelCopy) -> AMDVi {
        let copy = AMDVi(name: name, configuration: configuration, iotlb: copier.copy(iotlb))
        copy.deviceTable = deviceTable
        copy.nextDomainID = nextDomainID
        copy.configurationCache = configurationCache
        copier.later { [self] in
            copy.domainIDs = domainIDs.copied(in: copier)
            let peers = peers.mapValues { $0.compactMap { $0.iommu.map { WeakAMDVi(iommu: copier.copy($0)) } } }
            copier.rekey(peers) { copy.peers = $0 }
        }
        copier.whenComplete { [self] in
            // An attached domain is alive (its HWPT holds it), so it has a copy.
            copy.attachedDevices = attachedDevices.mapValues { attachment in
                var copied = attachment
                copied.domain = copier.identifier(attachment.domain) ?? attachment.domain
                return copied
            }
        }
        return copy
    }

    /// The DomainID of a paging domain this IOMMU allocated.
    public func domainID(of domain: PagingDomain) -> UInt16? { domainIDs[domain] }

    /// `pdom_id_alloc`: `ida_alloc_range(1, MAX_DOMAIN_ID - 1)`.
    func allocateDomainID() throws(Refusal) -> UInt16 {
        guard nextDomainID < 0x10000 else {
            throw Refusal(.ENOSPC, .amdViDomainIDsExhausted, values: [Refusal.InvolvedValue("MAX_DOMAIN_ID", 0x10000, .limit)])
        }
        defer { nextDomainID += 1 }
        return UInt16(nextDomainID)
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
    public func hardwareInfo(for device: PlatformDevice, type: UInt32) throws(Refusal) -> HWInfo {
        HWInfo(type: .default, length: 0, fields: [])
    }

    /// `amd_iommu_domain_alloc_paging_flags`.
    public func allocatePagingDomain(for device: PlatformDevice, flags: HWPTAllocFlags, userData: UserData?,
                                     memory: PhysicalMemory) throws(Refusal) -> PagingDomain {
        let valid: HWPTAllocFlags = [.dirtyTracking, .pasid]
        guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
        if let userData { throw .pagingUserData(userData) }
        let domain: PagingDomain
        switch flags {
        case [] where !configuration.defaultsToV2, .dirtyTracking:
            if flags == .dirtyTracking && !configuration.dirtyTracking {
                throw Refusal(.EOPNOTSUPP, .amdViDirtyWithoutHD, values: [Refusal.InvolvedValue("IOMMU_HWPT_ALLOC_DIRTY_TRACKING", nil, .flag),
                                                                           .lacking("EFR.HDSUP")])
            }
            let levels = configuration.levels
            let aperture: IOVARange = levels < 6 ? .addressWidth(12 + 9 * levels) : .all
            // Linux starts a v1 table at mode 3 (`v1_alloc_pgtable`; generic_pt amdv1 with
            // `starting_level = 2` and PT_FEAT_DYNAMIC_TOP) and adds a level whenever an IOVA
            // above its reach is mapped, up to the host levels (`amd_iommu_hpt_level`, 4-6)
            // the aperture promises; `amd_iommu_change_top` then rewrites every attached
            // device's DTE. A walk below 512G reads three levels.
            let table = try DescriptorPageTable(format: AMDv1(mode: 3, maximumMode: levels), memory: memory)
            domain = PagingDomain(driver: self, stage: .stage2, aperture: aperture, pageSizes: Self.v1PageSizes,
                                  table: table, dirtyTracking: flags.contains(.dirtyTracking))
            table.owner = domain
        case [], .pasid:
            // v2 (x86-64 format) tables, 4-level (`amd_iommu_gpt_level` without 5-level
            // support), written by io_pgtable_v2.c: the canonical lower half.
            let format = X86FirstStage(levels: 4, gigabytePages: true, encoding: .amdIOPgtableV2)
            domain = PagingDomain(driver: self, stage: .stage1, aperture: .addressWidth(47),
                                  pageSizes: 4096 | 2 << 20 | 1 << 30, table: try DescriptorPageTable(format: format, memory: memory))
        default:
            throw Refusal(.EOPNOTSUPP, .amdViFlagCombination, values: [Refusal.InvolvedValue("flags", UInt64(flags.rawValue), .requested)])
        }
        domainIDs[domain] = try allocateDomainID()
        return domain
    }

    /// `amd_iommu_change_top` on every AMD-Vi instance the domain is attached through.
    public func topChanged(of domain: PagingDomain) {
        guard let table = domain.table as? DescriptorPageTable else { return }
        changeTop(of: domain, table)
        for peer in peers[ObjectIdentifier(domain)] ?? [] { peer.iommu?.changeTop(of: domain, table) }
    }

    public func allocateNestedDomain(for device: PlatformDevice, parent: PagingDomain, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        throw Refusal(.EOPNOTSUPP, .amdViNoNesting)
    }

    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain) throws(Refusal) {
        guard domain.driver is AMDVi else { throw .otherDriversDomain(domain.driver, device: self) }
        if domain.dirtyTracking && !configuration.dirtyTracking {
            throw Refusal(.EINVAL, .amdViAttachDirtyWithoutHD, values: [.lacking("EFR.HDSUP")])
        }
    }

    /// A nested domain is another driver's (AMD-Vi makes none): `domain_iommu_ops_compatible`.
    public func checkAttach(_ device: PlatformDevice, to domain: NestedDomain, viommu: VIOMMU?, vdevice: VDevice?) throws(Refusal) {
        throw .otherDriversDomain(domain.driver, device: self)
    }

    public func invalidate(_ domain: NestedDomain, _ request: InvalidationArray) -> InvalidationOutcome {
        InvalidationOutcome(handled: 0, error: Refusal(.EOPNOTSUPP, .amdViNoNesting))
    }
}

/// A reference to another AMD-Vi instance that does not keep it alive.
struct WeakAMDVi {
    weak var iommu: AMDVi?
}
