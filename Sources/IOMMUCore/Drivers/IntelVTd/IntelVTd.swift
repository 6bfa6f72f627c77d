/// An Intel VT-d remapping unit as `drivers/iommu/intel/` presents it (scalable mode).
///
/// Paging domains hold real descriptors: first stage x86-64 paging, second stage the VT-d SS
/// format. Attaches write the root, context and PASID entries in host memory, and `translate`
/// walks them as the unit does (`IntelVTd+Translation.swift`, `VTdConfiguration.swift`).
public final class IntelVTd: IOMMUDriver {
    public struct Configuration: Sendable, Equatable, Codable {
        /// Address width: 48 (4-level) or 57 (5-level) tables.
        public var addressWidth: Int = 48
        /// ECAP.FLTS: first-stage (x86-64 format) translation.
        public var firstStage = true
        /// ECAP.SLTS: second-stage translation.
        public var secondStage = true
        /// ECAP.SLADS with SMPWC: second-stage access/dirty bits (dirty tracking).
        public var dirtyTracking = true
        /// ECAP.PSS: the unit handles PSS + 1 PASID bits (19: all 20 of PCIe's).
        public var pasidSizeSupported = 19

        public init() {}

        /// ECAP.NEST: nesting needs both stages in scalable mode.
        public var nesting: Bool { firstStage && secondStage }
    }

    /// `IOAPIC_RANGE_START ... IOAPIC_RANGE_END`: the interrupt window, never translated.
    public static let msiWindow = IOVARange(start: 0xfee0_0000, last: 0xfeef_ffff)
    /// `IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17`, which Linux reports on every unit
    /// (`intel_iommu_hw_info`) and works around on every nest parent: the errata is not probed.
    public static let errata772415: UInt64 = 1

    public let name: String
    public let configuration: Configuration
    public var architecture: IOMMUArchitecture { .intelVTd }
    public var allocatesNestedDomains: Bool { true }

    /// RTADDR: the root table in host memory, allocated at the first install (scalable
    /// mode) or adopted from a real host's dump (`adoptRootTable`).
    public internal(set) var rootTable: UInt64?
    /// RTADDR.TTM: how the root table is read. Scenario units are scalable; a real host's
    /// unit may be legacy (the kabylake ABI sample's dmar1).
    public internal(set) var translationTableMode = VTd.TranslationTableMode.scalable
    /// Each device's PASID directory, by RID.
    var pasidDirectories: [UInt32: UInt64] = [:]
    /// Domain ids by domain (`domain_attach_iommu`), from `VTd.firstDomainID`. The domains
    /// are retained so that an id (and the IOTLB entries tagged with it) never moves to a new
    /// domain that happens to reuse a freed object's identity.
    var domainIDs: [ObjectIdentifier: (domain: AnyObject, did: UInt64)] = [:]
    var nextDomainID = VTd.firstDomainID
    /// Translations cached by DID (and PASID for first-stage and nested ones).
    public let iotlb: IOTLB
    /// Decoded context and PASID entries per (RID, PASID), until an install invalidates them.
    var configurationCache = WordTable<UInt64, VTd.CachedConfiguration>() {
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

    public func makeCopy(in copier: ModelCopy) -> IntelVTd {
        let copy = IntelVTd(name: name, configuration: configuration, iotlb: copier.copy(iotlb))
        copy.rootTable = rootTable
        copy.translationTableMode = translationTableMode
        copy.pasidDirectories = pasidDirectories
        copy.nextDomainID = nextDomainID
        copy.configurationCache = configurationCache
        copier.later { [self] in
            // The retained domains come along, so the ids stay with the copies.
            for (domain, did) in domainIDs.values {
                let copied: AnyObject
                switch domain {
                case let paging as PagingDomain: copied = copier.copy(paging)
                case let nested as NestedDomain: copied = copier.copy(nested)
                default: continue
                }
                copy.domainIDs[ObjectIdentifier(copied)] = (copied, did)
            }
        }
        return copy
    }

    /// SRTP with a real host's RTADDR: the unit walks the root table the host's dump shows
    /// (written into `memory` by the caller) in its translation table mode. Every cached
    /// context, PASID and IOTLB entry is dropped, as the global invalidations after SRTP do.
    public func adoptRootTable(_ address: UInt64, mode: VTd.TranslationTableMode) {
        rootTable = address & ~0xfff
        translationTableMode = mode
        configurationCache.removeAll()
        iotlb.invalidateAll()
    }

    public func reservedRegions(for device: PlatformDevice) -> [ReservedRegion] {
        [ReservedRegion(range: Self.msiWindow, type: .msi)]
    }

    /// Snoop control (or its AMD equivalent) is always there.
    public func canEnforceCacheCoherency(for device: PlatformDevice) -> Bool { true }

    public func capabilities(for device: PlatformDevice) -> HWCapabilities {
        configuration.dirtyTracking ? .dirtyTracking : []
    }

    /// The capability register (VT-d spec 11.4.2).
    public var capabilityRegister: UInt64 {
        let c = configuration
        var cap: UInt64 = 2                                   // ND: 8-bit domain ids
        cap |= (c.addressWidth == 57 ? 0b1100 : 0b0100) << 8  // SAGAW: 4-level (and 5-level)
        cap |= UInt64(c.addressWidth - 1) << 16               // MGAW
        cap |= 0b11 << 34                                     // SLLPS: 2M and 1G second-stage pages
        cap |= 1 << 56                                        // FL1GP
        if c.addressWidth == 57 { cap |= 1 << 60 }            // FL5LP
        return cap
    }

    /// The extended capability register (VT-d spec 11.4.3).
    public var extendedCapabilityRegister: UInt64 {
        let c = configuration
        var ecap: UInt64 = 1 << 0 | 1 << 7                    // C (coherent walks), SC (snoop control)
        ecap |= 1 << 29 | 1 << 31 | 1 << 34 | 1 << 40 | 1 << 43  // PRS, SRS, EAFS, PASID, SMTS
        if c.nesting { ecap |= 1 << 26 }
        if c.dirtyTracking { ecap |= 1 << 45 | 1 << 48 }      // SLADS, SMPWC
        if c.secondStage { ecap |= 1 << 46 }
        if c.firstStage { ecap |= 1 << 47 }
        ecap |= UInt64(c.pasidSizeSupported & 0x1f) << 35      // PSS
        return ecap
    }

    /// `iommu->iommu.max_pasids = 2UL << ecap_pss(iommu->ecap)` (`alloc_iommu`), so
    /// `out_max_pasid_log2` and every PASID check agree with ECAP.PSS.
    public var maxPASIDLog2: UInt8 { UInt8(configuration.pasidSizeSupported + 1) }

    /// `struct iommu_hw_info_vtd`.
    public func hardwareInfo(for device: PlatformDevice, type: UInt32) throws(Refusal) -> HWInfo {
        guard type == HWInfoType.default.rawValue || type == HWInfoType.intelVTd.rawValue else { throw .hardwareInfoType(type) }
        return HWInfo(type: .intelVTd, length: 24, fields: [
            ("flags", Self.errata772415, 4), ("__reserved", 0, 4),
            ("cap_reg", capabilityRegister, 8), ("ecap_reg", extendedCapabilityRegister, 8),
        ])
    }

    /// `intel_iommu_domain_alloc_paging_flags`: first stage when it can, else second stage.
    /// First stage is x86-64 paging (`X86FirstStage`, 4 or 5 levels); second stage the VT-d
    /// SS format (`VTdSecondStage`) with 2M and 1G superpages as CAP.SLLPS allows and SNP on
    /// every leaf when the domain will enforce cache coherency. iommufd enforces it on every
    /// HWPT allocated for a device that can (`iommufd_hwpt_paging_enforce_cc`, before the
    /// domain is filled), which on VT-d is every device (ECAP.SC), so it is decided here.
    ///
    /// A nest parent's table gets `PT_FEAT_VTDSS_FORCE_WRITEABLE` (ERRATA_772415_SPR17, which
    /// `hardwareInfo` reports on every unit as Linux does): a read-only `ioas_map` into its
    /// IOAS fails with EINVAL, and so does allocating it over an IOAS that already holds a
    /// read-only area (`iopt_table_add_domain` fills the new domain and fails with the map).
    public func allocatePagingDomain(for device: PlatformDevice, flags: HWPTAllocFlags, userData: UserData?,
                                     memory: PhysicalMemory) throws(Refusal) -> PagingDomain {
        if let userData { throw .pagingUserData(userData) }
        let c = configuration
        let width = c.addressWidth
        if flags.isSubset(of: .pasid) && c.firstStage {
            // First stage drops the canonical sign bit from the aperture.
            let format = X86FirstStage(addressWidth: width, gigabytePages: capabilityRegister >> 56 & 1 != 0)
            return PagingDomain(driver: self, stage: .stage1, aperture: .addressWidth(width - 1),
                                pageSizes: format.pageSizes, table: try DescriptorPageTable(format: format, memory: memory))
        }
        let valid: HWPTAllocFlags = [.nestParent, .dirtyTracking, .pasid]
        guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
        if flags.contains(.nestParent) && !c.nesting {
            throw Refusal(.EOPNOTSUPP, .vtdNestParentWithoutNesting, values: [InvolvedValue("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag),
                                                                               .lacking("ECAP.NEST")])
        }
        if flags.contains(.dirtyTracking) && !c.dirtyTracking {
            throw Refusal(.EOPNOTSUPP, .vtdDirtyWithoutSSADS, values: [InvolvedValue("IOMMU_HWPT_ALLOC_DIRTY_TRACKING", nil, .flag),
                                                                        .lacking("ECAP.SLADS")])
        }
        guard c.secondStage else { throw Refusal(.EOPNOTSUPP, .vtdNoSecondStage, values: [.lacking("ECAP.SLTS")]) }
        let format = VTdSecondStage(addressWidth: width, superpages: VTdSecondStage.Superpages(capability: capabilityRegister),
                                    snoop: canEnforceCacheCoherency(for: device),
                                    forceWriteable: flags.contains(.nestParent))
        return PagingDomain(driver: self, stage: .stage2, aperture: .addressWidth(width),
                            pageSizes: format.pageSizes, table: try DescriptorPageTable(format: format, memory: memory),
                            nestParent: flags.contains(.nestParent), dirtyTracking: flags.contains(.dirtyTracking))
    }

    /// `intel_iommu_domain_alloc_nested`: the guest's first-stage root, stored unchecked.
    public func allocateNestedDomain(for device: PlatformDevice, parent: PagingDomain, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        guard configuration.nesting else { throw Refusal(.EOPNOTSUPP, .vtdNestedWithoutNesting, values: [.lacking("ECAP.NEST")]) }
        guard flags.isSubset(of: .pasid) else { throw .unsupportedFlags(flags, valid: .pasid) }
        guard userData.type == HWPTDataType.vtdS1.rawValue else { throw .nestedDataType(userData.type) }
        guard parent.stage == .stage2, parent.nestParent, parent.driver is IntelVTd else {
            let lacking = parent.nestParent ? [] : [InvolvedValue("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag)]
            throw Refusal(.EINVAL, .vtdNestedParent, values: [.iommu(parent.driver, of: "parent", .parent),
                                                               InvolvedValue("parent \(parent.stage.rawValue)", nil, .parent)] + lacking)
        }
        let s1 = try userData.copy(IOMMUHWPTVTdS1.self)
        return NestedDomain(driver: self, parent: parent, configuration: .vtdS1(
            flags: s1.flags, pageTableAddress: s1.pageTableAddress & ~0xfff, addressWidth: s1.addressWidth))
    }

    /// `paging_domain_compatible`: any VT-d unit can use a domain its widths and stages allow.
    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain) throws(Refusal) {
        guard domain.driver is IntelVTd else { throw .otherDriversDomain(domain.driver, device: self) }
        let c = configuration
        if domain.stage == .stage1 && !c.firstStage { throw Refusal(.EINVAL, .vtdAttachNoFirstStage, values: [.lacking("ECAP.FLTS")]) }
        if domain.stage == .stage2 && !c.secondStage { throw Refusal(.EINVAL, .vtdAttachNoSecondStage, values: [.lacking("ECAP.SLTS")]) }
        if domain.dirtyTracking && !c.dirtyTracking { throw Refusal(.EINVAL, .vtdAttachDirtyWithoutSSADS, values: [.lacking("ECAP.SLADS")]) }
        if domain.nestParent && !c.nesting {
            throw Refusal(.EINVAL, .vtdAttachNestParentWithoutNesting, values: [.lacking("ECAP.NEST")])
        }
        let reach = IOVARange.addressWidth(c.addressWidth)
        if domain.aperture.last > reach.last {
            throw Refusal(.EINVAL, .vtdAttachAddressWidth, ranges: [InvolvedRange(domain.aperture, .aperture, note: "domain"),
                                                                     InvolvedRange(reach, .limit, note: "\(c.addressWidth)-bit unit")])
        }
    }

    /// `intel_nested_attach_dev` and `intel_pasid_setup_nested`: the stage-1 settings are
    /// checked only now.
    public func checkAttach(_ device: PlatformDevice, to domain: NestedDomain, viommu: VIOMMU?, vdevice: VDevice?) throws(Refusal) {
        try checkAttach(device, to: domain.parent)
        guard case .vtdS1(_, _, let width) = domain.configuration else { throw Refusal(.EINVAL, .vtdNestedConfiguration) }
        switch width {
        case 48: break
        case 57:
            guard configuration.addressWidth == 57 else {
                throw Refusal(.EINVAL, .vtdNestedFiveLevel, values: [.addressWidth(width), .lacking("CAP.FL5LP")])
            }
        default: throw Refusal(.EINVAL, .vtdNestedAddressWidth, values: [.addressWidth(width)])
        }
    }

    /// `intel_nested_cache_invalidate_user`: `struct iommu_hwpt_vtd_s1_invalidate` entries.
    public func invalidate(_ domain: NestedDomain, _ request: InvalidationArray) -> InvalidationOutcome {
        guard request.type == InvalidateDataType.vtdS1.rawValue else {
            return InvalidationOutcome(handled: 0, error: .invalidationDataType(request.type))
        }
        return request.handleEach(as: IOMMUHWPTVTdS1Invalidate.self) { entry in
            let address = entry.address, pages = entry.pages
            if entry.flags & ~1 != 0 { return .unsupportedEntryFlags(entry.flags, valid: 1) }
            if entry.reserved != 0 { return .reservedField(.EOPNOTSUPP, "__reserved", entry.reserved) }
            if !address.isAligned(to: 4096) {
                return Refusal(.EINVAL, .vtdInvalidateUnaligned, values: [InvolvedValue("addr", address, .requested),
                                                                           InvolvedValue("VTD_PAGE_SIZE", 4096, .limit)])
            }
            if pages == .max && address != 0 {
                return Refusal(.EINVAL, .vtdInvalidateAllWithAddress, values: [InvolvedValue("npages", pages, .requested),
                                                                                InvolvedValue("addr", address, .requested)])
            }
            // cache_tag_flush_range over the nested domain's tags: its DID's first-stage
            // (nested) translations in [addr, addr + npages * 4K).
            flushNested(domain, address: address, pages: pages)
            return nil
        }
    }
    // VT-d has no vIOMMU in v6.17: the IOMMUDriver defaults answer EOPNOTSUPP.
}
