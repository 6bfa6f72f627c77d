/// An Arm SMMUv3 instance as `arm-smmu-v3.c` and `arm-smmu-v3-iommufd.c` present it.
public final class ArmSMMUv3: IOMMUDriver {
    /// What the hardware implements (the IDR registers), as scenario options set it.
    public struct Configuration: Sendable, Equatable, Codable {
        /// Input address size of stage 2 (`smmu->ias`), in bits.
        public var ias: Int = 48
        /// Output address size (`smmu->oas`, IDR5.OAS), in bits.
        public var oas: Int = 48
        /// Translation granules (IDR5.GRAN4K/16K/64K).
        public var granules: [UInt64] = [4096, 16384, 65536]
        public var stage1 = true
        public var stage2 = true
        /// IDR3.FWB: stage-2 forced write-back.
        public var s2fwb = false
        /// Hardware dirty-bit management (IDR0.HTTU = 2) with a coherent walk.
        public var dirtyTracking = true
        /// IDR3.RIL: range invalidation and the TTL level hint in TLBI commands, mandatory
        /// from SMMUv3.2 on.
        public var rangeInvalidation = true
        /// The ITS doorbell (GITS_TRANSLATER) that MSIs are written to.
        public var its: UInt64 = 0x0809_0040

        public init() {}

        /// IDR5.OAS encodings: 32, 36, 40, 42, 44, 48, 52 bits.
        public static let outputSizes = [32, 36, 40, 42, 44, 48, 52]
    }

    /// `MSI_IOVA_BASE`/`MSI_IOVA_LENGTH`: the software-managed MSI window.
    public static let swMSIWindow = IOVARange(start: 0x0800_0000, length: 0x10_0000)!

    public let name: String
    public let configuration: Configuration
    public var architecture: IOMMUArchitecture { .armSMMUv3 }
    /// SMMUv3 nests only through a vIOMMU: it has no `domain_alloc_nested` op.
    public var allocatesNestedDomains: Bool { false }

    /// STRTAB_BASE: the linear stream table in host memory, allocated at the first install.
    public internal(set) var streamTable: UInt64?
    /// Each master's CD table, by StreamID, allocated at its first stage-1 attach (RID or
    /// PASID) and kept, as Linux keeps it until the device is released.
    var contextTables: [UInt32: SMMUv3.ContextTable] = [:]
    /// What each StreamID's RID is attached to (`iommu_get_domain_for_dev`), which decides
    /// the STE when PASIDs come and go.
    var ridAttachments: [UInt32: DeviceAttachment] = [:]
    /// ASIDs of stage-1 domains and VMIDs of stage-2 domains, allocated from 1 as Linux does.
    var domainTags = DomainNumbers<UInt64>()
    var nextASID: UInt64 = 1
    var nextVMID: UInt64 = 1
    /// Translations cached by VMID and ASID.
    public let iotlb: IOTLB
    /// Decoded STE per StreamID, as the SMMU caches configuration until CFGI. Read by every
    /// transaction, so its accesses (never overlapping: each is one lookup or one store) skip
    /// the dynamic exclusivity check, as the context cache's do.
    @exclusivity(unchecked) var configurationCache = WordTable<UInt32, SMMUv3.CachedConfiguration>() {
        didSet { cacheGeneration.advance() }
    }
    /// The CDs read so far, by `SMMUv3.contextKey` (StreamID and the substream whose CD they
    /// are); CFGI_STE and CFGI_CD of the StreamID drop them with the STE (`forgetConfiguration`).
    @exclusivity(unchecked) var contextCache = WordTable<UInt64, SMMUv3.CachedContext>() {
        didSet { cacheGeneration.advance() }
    }
    /// Advanced by every change to either cache: what the routes read from them holds until it moves.
    let cacheGeneration = CacheGeneration()
    /// The STAG the next stalled transaction gets (IHI0070 3.12.2: an implementation-chosen
    /// 16-bit tag, unique among outstanding stalls; handed out in order here).
    var nextStallTag: UInt16 = 0

    public convenience init(name: String, configuration: Configuration = Configuration()) {
        self.init(name: name, configuration: configuration, iotlb: IOTLB())
    }

    private init(name: String, configuration: Configuration, iotlb: IOTLB) {
        self.name = name
        self.configuration = configuration
        self.iotlb = iotlb
    }

    public func makeCopy(in copier: ModelCopy) -> ArmSMMUv3 {
        let copy = ArmSMMUv3(name: name, configuration: configuration, iotlb: copier.copy(iotlb))
        copy.streamTable = streamTable
        copy.contextTables = contextTables
        copy.nextASID = nextASID
        copy.nextVMID = nextVMID
        copy.configurationCache = configurationCache
        copy.contextCache = contextCache
        copy.nextStallTag = nextStallTag
        copier.later { [self] in
            copy.ridAttachments = ridAttachments.mapValues { $0.copied(in: copier) }
            copy.domainTags = domainTags.copied(in: copier)
        }
        return copy
    }

    /// MSIs go to the ITS's GITS_TRANSLATER through the SW_MSI window.
    public var msiDoorbell: UInt64? { configuration.its }
    /// `arm_smmu_set_dirty_tracking` changes nothing and `arm_smmu_read_and_clear_dirty` has
    /// no enabled check: dirty domains always have HD.
    public var switchesDirtyTracking: Bool { false }

    /// `ARM_SMMU_FEAT_NESTING`: both stages.
    public var supportsNesting: Bool { configuration.stage1 && configuration.stage2 }

    public func reservedRegions(for device: PlatformDevice) -> [ReservedRegion] {
        [ReservedRegion(range: Self.swMSIWindow, type: .swMSI)]
    }

    /// `arm_smmu_master_canwbs`: the IORT says the device's DMA can be forced write-back.
    public func canEnforceCacheCoherency(for device: PlatformDevice) -> Bool { device.canWBS }

    /// `smmu->iommu.max_pasids = 1UL << smmu->ssid_bits` (`arm_smmu_device_probe`): IDR1.SSIDSIZE
    /// bounds every master's PASIDs (`dev_iommu_get_max_pasids`).
    public var maxPASIDLog2: UInt8 { UInt8(SMMUv3.substreamIDBits) }

    public func capabilities(for device: PlatformDevice) -> HWCapabilities {
        configuration.dirtyTracking ? .dirtyTracking : []
    }

    /// `struct iommu_hw_info_arm_smmuv3`: the raw IDR0-5, IIDR and AIDR registers.
    public func hardwareInfo(for device: PlatformDevice, type: UInt32) throws(Refusal) -> HWInfo {
        guard type == HWInfoType.default.rawValue || type == HWInfoType.armSMMUv3.rawValue else { throw .hardwareInfoType(type) }
        let c = configuration
        var idr0: UInt64 = 0
        if c.stage2 { idr0 |= 1 << 0 }          // S2P
        if c.stage1 { idr0 |= 1 << 1 }          // S1P
        idr0 |= 2 << 2                          // TTF: AArch64 tables
        idr0 |= 1 << 4                          // COHACC
        idr0 |= c.httu << 6                     // HTTU: access flag and dirty state
        idr0 |= 1 << 10 | 1 << 12 | 1 << 13 | 1 << 14 // ATS, ASID16, MSI, SEV
        idr0 |= 1 << 18 | 1 << 19               // VMID16, CD2L
        idr0 |= 1 << 27                         // ST_LEVEL: two-level stream table
        // STALL_MODEL (bits 25:24) = 0b00: stall and terminate both supported (ARM_SMMU_FEAT_STALLS).
        let idr1: UInt64 = 20 << 6 | 16         // SSIDSIZE 20, SIDSIZE 16
        var idr3: UInt64 = c.rangeInvalidation ? 1 << 10 : 0 // RIL
        if c.s2fwb { idr3 |= 1 << 8 }
        var idr5 = UInt64(Configuration.outputSizes.firstIndex(of: c.oas) ?? 5)
        if c.granules.contains(4096) { idr5 |= 1 << 4 }
        if c.granules.contains(16384) { idr5 |= 1 << 5 }
        if c.granules.contains(65536) { idr5 |= 1 << 6 }
        return HWInfo(type: .armSMMUv3, length: 40, fields: [
            ("flags", 0, 4), ("__reserved", 0, 4), ("idr0", idr0, 4), ("idr1", idr1, 4), ("idr2", 0, 4), ("idr3", idr3, 4),
            ("idr4", 0, 4), ("idr5", idr5, 4), ("iidr", 0x43b, 4), ("aidr", 0x2, 4),
        ])
    }

    /// The granule `arm_lpae_restrict_pgsizes` picks: the CPU page size when supported.
    private var granule: UInt64 {
        configuration.granules.contains(pageSize) ? pageSize : configuration.granules.sorted()[0]
    }

    /// `arm_smmu_domain_alloc_paging_flags` and `arm_smmu_domain_finalise`.
    public func allocatePagingDomain(for device: PlatformDevice, flags: HWPTAllocFlags, userData: UserData?,
                                     memory: PhysicalMemory) throws(Refusal) -> PagingDomain {
        let valid: HWPTAllocFlags = [.dirtyTracking, .pasid, .nestParent]
        guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
        if let userData { throw .pagingUserData(userData) }
        let stage: DomainStage
        switch flags {
        case []:
            guard configuration.stage1 || configuration.stage2 else {
                throw Refusal(.EOPNOTSUPP, .armSMMUNoStage, values: [.lacking("IDR0.S1P"), .lacking("IDR0.S2P")])
            }
            stage = configuration.stage1 ? .stage1 : .stage2
        case .nestParent:
            guard supportsNesting else {
                throw Refusal(.EOPNOTSUPP, .armSMMUNestParentWithoutNesting,
                              values: [InvolvedValue("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag)] + missingStages)
            }
            stage = .stage2
        case .dirtyTracking, [.dirtyTracking, .pasid], .pasid:
            guard configuration.stage1 else { throw Refusal(.EOPNOTSUPP, .armSMMUStage1Required, values: [.lacking("IDR0.S1P")]) }
            stage = .stage1
        default:
            throw Refusal(.EOPNOTSUPP, .armSMMUFlagCombination, values: [InvolvedValue("flags", UInt64(flags.rawValue), .requested)])
        }
        // arm_smmu_domain_finalise: stage 1 translates a 48-bit VA into the SMMU's IAS; stage 2
        // the IAS into the OAS. io-pgtable-arm clamps both (48 bits, 52 with the 64K granule).
        let nestParent = flags.contains(.nestParent), dirty = flags.contains(.dirtyTracking)
        let format = ArmLPAE(stage: stage == .stage1 ? .stage1 : .stage2, granule: granule,
                             ias: stage == .stage1 ? 48 : configuration.ias,
                             oas: stage == .stage1 ? configuration.ias : configuration.oas,
                             s2fwb: nestParent && configuration.s2fwb, hardwareDirty: dirty)
        return PagingDomain(driver: self, stage: stage, aperture: .addressWidth(format.ias), pageSizes: format.pageSizes,
                            table: try DescriptorPageTable(format: format, memory: memory), nestParent: nestParent,
                            dirtyTracking: dirty)
    }

    public func allocateNestedDomain(for device: PlatformDevice, parent: PagingDomain, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        throw Refusal(.EOPNOTSUPP, .armSMMUNestsOnVIOMMU)
    }

    /// `arm_smmu_attach_dev` and `arm_smmu_attach_prepare`: a domain belongs to one SMMU
    /// instance, and a coherency-enforcing domain takes only CANWBS masters.
    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain) throws(Refusal) {
        guard domain.driver === self else { throw .otherSMMU(.armSMMUOtherInstance, owner: domain.driver, device: self) }
        if domain.enforcesCacheCoherency && !device.canWBS { throw Self.coherencyRefusal }
    }

    /// `arm_smmu_attach_dev_nested` with `arm_smmu_attach_prepare_vmaster`: a translating vSTE
    /// needs the device's vDEVICE on the vIOMMU (its vSID). An abort or bypass vSTE (Config 0
    /// or 0b100; a V=0 vSTE was zeroed to abort) attaches without one since the GBPA change of
    /// November 2025 (a guest with CR0.SMMUEN=0, as QEMU's accelerated SMMUv3 attaches before
    /// the guest installs an STE); v6.17 refused that too.
    public func checkAttach(_ device: PlatformDevice, to domain: NestedDomain, viommu: VIOMMU?, vdevice: VDevice?) throws(Refusal) {
        guard domain.driver === self else { throw .otherSMMU(.armSMMUNestedOtherInstance, owner: domain.driver, device: self) }
        if vdevice == nil {
            let config: UInt64? = if case .armSMMUv3(let ste) = domain.configuration { (ste[0] >> 1) & 0x7 } else { nil }
            guard let config, [0, 4].contains(config) else {
                throw Refusal(.ENOENT, .armSMMUNoVMaster, objects: viommu.map { [InvolvedObject($0, .parent)] } ?? [],
                              values: config.map { [InvolvedValue("STE.Config", $0, .flag)] } ?? [])
            }
        }
        if domain.parent.enforcesCacheCoherency && !device.canWBS { throw Self.coherencyRefusal }
    }

    /// Nested SMMUv3 domains have no `cache_invalidate_user`: invalidation goes to the vIOMMU.
    public func invalidate(_ domain: NestedDomain, _ request: InvalidationArray) -> InvalidationOutcome {
        InvalidationOutcome(handled: 0, error: Refusal(.EOPNOTSUPP, .armSMMUNestedInvalidation))
    }

    /// `arm_smmu_get_viommu_size`.
    public func checkVIOMMU(type: UInt32, device: PlatformDevice) throws(Refusal) {
        guard supportsNesting else { throw Refusal(.EOPNOTSUPP, .armSMMUVIOMMUWithoutNesting, values: missingStages) }
        guard device.canWBS || configuration.s2fwb else {
            throw Refusal(.EOPNOTSUPP, .armSMMUVIOMMUCoherency, values: [.lacking("CANWBS"), .lacking("IDR3.FWB")])
        }
        guard type == VIOMMUType.armSMMUv3.rawValue else { throw .vIOMMUType(type) }
    }

    /// `arm_vsmmu_init`: the parent must be this SMMU's; user data is ignored.
    public func initializeVIOMMU(type: UInt32, parent: PagingDomain, userData: UserData?) throws(Refusal) -> UInt32 {
        guard parent.driver === self else {
            throw .otherSMMU(.armSMMUVIOMMUParentOtherInstance, owner: parent.driver, of: "nest parent", device: self)
        }
        return 0
    }

    /// `arm_smmu_attach_prepare`'s refusal of a non-CANWBS master.
    private static let coherencyRefusal = Refusal(.EINVAL, .armSMMUCoherency, values: [.lacking("CANWBS")])

    /// The stages ARM_SMMU_FEAT_NESTING lacks: `flag IDR0.S1P=0` and/or `flag IDR0.S2P=0`.
    private var missingStages: [InvolvedValue] {
        (configuration.stage1 ? [] : [.lacking("IDR0.S1P")]) + (configuration.stage2 ? [] : [.lacking("IDR0.S2P")])
    }

    /// `STRTAB_STE_0_NESTING_ALLOWED`: V, Config, S1Fmt, S1ContextPtr, S1CDMax.
    public static let ste0NestingAllowed: UInt64 = 0xF80F_FFFF_FFFF_FFFF
    /// `STRTAB_STE_1_NESTING_ALLOWED`: S1DSS, S1CIR, S1COR, S1CSH, S1STALLD, EATS.
    public static let ste1NestingAllowed: UInt64 = 0x3800_00FF

    /// `arm_vsmmu_alloc_domain_nested` with `arm_smmu_validate_vste`.
    public func allocateNestedDomain(on viommu: VIOMMU, for device: PlatformDevice, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        guard flags.isEmpty else { throw .unsupportedFlags(flags, valid: []) }
        var ste = try userData.copy(IOMMUHWPTArmSMMUv3.self).ste
        if ste[0] & 1 == 0 {
            ste = [0, 0]
        } else {
            let disallowed = [ste[0] & ~Self.ste0NestingAllowed, ste[1] & ~Self.ste1NestingAllowed]
            if disallowed[0] != 0 || disallowed[1] != 0 {
                throw Refusal(.EIO, .armSMMUVSTEBits, values: disallowed.indices.filter { disallowed[$0] != 0 }.map {
                    InvolvedValue("STE[\($0)]", disallowed[$0], .flag)
                })
            }
            let config = (ste[0] >> 1) & 0x7
            guard [0, 4, 5].contains(config) else { throw Refusal(.EIO, .armSMMUVSTEConfig, values: [InvolvedValue("STE.Config", config, .flag)]) }
            let eats = (ste[1] >> 28) & 0x3
            ste[1] &= ~(UInt64(0x3) << 28)
            guard eats <= 1 else { throw Refusal(.EIO, .armSMMUVSTEEATS, values: [InvolvedValue("STE.EATS", eats, .flag)]) }
        }
        return NestedDomain(driver: self, parent: viommu.parent.domain, configuration: .armSMMUv3(ste: ste))
    }
}
