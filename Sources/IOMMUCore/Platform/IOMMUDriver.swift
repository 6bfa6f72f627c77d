/// Which architecture an IOMMU instance implements.
public enum IOMMUArchitecture: String, Sendable, CaseIterable, Codable {
    case armSMMUv3 = "arm-smmu-v3"
    case intelVTd = "intel-vtd"
    case amdVi = "amd-vi"
    case mock
}

/// What `IOMMU_GET_HW_INFO` returns: the driver's info struct as named fields.
public struct HWInfo: Sendable, Equatable {
    public var type: HWInfoType
    /// `sizeof` the kernel's struct, written back as `data_len`.
    public var length: UInt32
    /// The struct's fields in declaration order, with their sizes in bytes.
    public var fields: [(name: String, value: UInt64, size: UInt32)]

    public init(type: HWInfoType, length: UInt32, fields: [(name: String, value: UInt64, size: UInt32)]) {
        self.type = type
        self.length = length
        self.fields = fields
    }

    public static func == (a: HWInfo, b: HWInfo) -> Bool {
        a.type == b.type && a.length == b.length && a.fields.map(\.name) == b.fields.map(\.name)
            && a.fields.map(\.value) == b.fields.map(\.value) && a.fields.map(\.size) == b.fields.map(\.size)
    }
}

/// The invalidation request an ioctl passes down (`struct iommu_user_data_array`).
public struct InvalidationArray: Sendable {
    public var type: UInt32
    /// `entry_len` as the user declared it.
    public var entryLength: UInt32
    public var entries: [InvalidationEntry]

    public init(type: UInt32, entryLength: UInt32, entries: [InvalidationEntry]) {
        self.type = type
        self.entryLength = entryLength
        self.entries = entries
    }
}

/// The outcome of a driver's cache invalidation: how many entries it handled, and the error
/// that stopped it, if any (the ioctl writes `entry_num` back either way).
public struct InvalidationOutcome: Sendable {
    public var handled: Int
    public var error: Refusal?
    public init(handled: Int, error: Refusal? = nil) {
        self.handled = handled
        self.error = error
    }
}

/// A configuration structure the IOMMU reads for a device (an STE, a CD, a PASID entry, a
/// DTE), read back from memory for display.
public struct ConfigurationStructure: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    public var words: [UInt64]
    public var fields: [DescriptorField]

    public init(name: String, address: UInt64, words: [UInt64], fields: [DescriptorField]) {
        self.name = name
        self.address = address
        self.words = words
        self.fields = fields
    }
}

/// What a device is attached to, as its configuration structure (STE, PASID entry, DTE)
/// must describe it.
public enum DeviceAttachment {
    /// Detached: DMA blocked.
    case blocked
    case paging(PagingDomain)
    case nested(NestedDomain)
}

/// An IOMMU driver instance as the iommufd core sees it (`struct iommu_ops` plus the
/// nesting and vIOMMU ops); one conforming type per architecture.
public protocol IOMMUDriver: ModelCopyable {
    /// The instance name the platform declared.
    var name: String { get }
    var architecture: IOMMUArchitecture { get }

    /// `get_resv_regions`: the driver's own regions for a device (firmware's come on top).
    func reservedRegions(for device: PlatformDevice) -> [ReservedRegion]
    /// `device_iommu_capable` and the PASID capabilities reported by `GET_HW_INFO`.
    func capabilities(for device: PlatformDevice) -> HWCapabilities
    /// `IOMMU_CAP_ENFORCE_CACHE_COHERENCY` for the device.
    func canEnforceCacheCoherency(for device: PlatformDevice) -> Bool
    /// `ilog2(iommu_device.max_pasids)`: the PASID bits the unit handles, which bound every
    /// device's (`dev_iommu_get_max_pasids`).
    var maxPASIDLog2: UInt8 { get }
    /// `hw_info`: the info struct for the requested `iommu_hw_info_type` (0 = the driver's own).
    /// A driver without `hw_info` answers type NONE with no data, whatever was asked.
    func hardwareInfo(for device: PlatformDevice, type: UInt32) throws(Refusal) -> HWInfo
    /// `domain_alloc_paging_flags`; the domain's tables live in `memory`.
    func allocatePagingDomain(for device: PlatformDevice, flags: HWPTAllocFlags, userData: UserData?,
                              memory: PhysicalMemory) throws(Refusal) -> PagingDomain
    /// Whether `ops->domain_alloc_nested` exists (nesting on an HWPT_PAGING parent).
    var allocatesNestedDomains: Bool { get }
    /// `domain_alloc_nested` on a nest-parent domain.
    func allocateNestedDomain(for device: PlatformDevice, parent: PagingDomain, flags: HWPTAllocFlags,
                              userData: UserData) throws(Refusal) -> NestedDomain
    /// `attach_dev` of a paging domain: EINVAL when the domain cannot serve this device.
    func checkAttach(_ device: PlatformDevice, to domain: PagingDomain) throws(Refusal)
    /// `set_dev_pasid` of a paging domain at `pasid` (`attach_dev` for `noPASID`): the driver's
    /// own checks after iommufd's PASID compatibility rules.
    func checkAttach(_ device: PlatformDevice, to domain: PagingDomain, pasid: UInt32) throws(Refusal)
    /// `attach_dev` of a nested domain; `vdevice` is the device's vDEVICE on the domain's vIOMMU.
    func checkAttach(_ device: PlatformDevice, to domain: NestedDomain, viommu: VIOMMU?, vdevice: VDevice?) throws(Refusal)
    /// `cache_invalidate_user` of a nested domain.
    func invalidate(_ domain: NestedDomain, _ request: InvalidationArray) -> InvalidationOutcome

    /// Writes the device's configuration structure for `pasid` (`noPASID`: the RID) in host
    /// memory after an attach, replace or detach, so that a walk starts where the IOMMU starts.
    func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory)
    /// The device's configuration structures as they are in memory now, decoded: those a
    /// transaction without a PASID reads (`pasid` nil), or those of the PASID's entry.
    func configurationStructures(for device: PlatformDevice, pasid: UInt32?, memory: PhysicalMemory) -> [ConfigurationStructure]
    /// The physical address MSIs are written to when software maps them (Arm: the ITS
    /// GITS_TRANSLATER); nil where interrupt remapping hardware handles MSIs.
    var msiDoorbell: UInt64? { get }
    /// The invalidation Linux issues after unmapping `range` from a domain (`iotlb_sync`).
    func flushIOTLB(_ domain: PagingDomain, range: IOVARange)
    /// `change_top`: the domain's table (`DescriptorPageTable.owner`) grew a level, so every
    /// reference the hardware has to its root and level count must be rewritten.
    func topChanged(of domain: PagingDomain)
    /// `dirty_ops->set_dirty_tracking` switches the hardware (VT-d SSADE, AMD-Vi DTE.HAD, the
    /// mock's flag) and, while tracking is off, `read_and_clear_dirty` refuses to fill a
    /// bitmap (EINVAL, which iommufd drops, so nothing is read or cleared). Arm's dirty
    /// domains always have CD.HA/HD: its `set_dirty_tracking` returns 0 and its read has no check.
    var switchesDirtyTracking: Bool { get }
    /// One DMA transaction from the device, walked as the hardware walks it, with the caches
    /// as `caches` says (a view walks without changing them) and the steps `detail` asks
    /// for; nil where this architecture's walk is not modelled yet.
    func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                   memory: PhysicalMemory, detail: WalkDetail) -> Result<Translation, TranslationFault>?
    /// What the configuration caches decide about the device's transactions at `pasid` for
    /// as long as they hold (`TranslationRoute`), if they decide it without a fetch; nil
    /// where the driver answers every transaction itself.
    func route(for device: PlatformDevice, pasid: UInt32?) -> TranslationRoute?

    /// `get_viommu_size`: EOPNOTSUPP unless the driver makes a vIOMMU of this type for the device.
    func checkVIOMMU(type: UInt32, device: PlatformDevice) throws(Refusal)
    /// `viommu_init` on the nest parent; returns the driver data written back (`out_data`).
    func initializeVIOMMU(type: UInt32, parent: PagingDomain, userData: UserData?) throws(Refusal) -> UInt32
    /// `viommu->ops->alloc_domain_nested`.
    func allocateNestedDomain(on viommu: VIOMMU, for device: PlatformDevice, flags: HWPTAllocFlags,
                              userData: UserData) throws(Refusal) -> NestedDomain
    /// `viommu->ops->cache_invalidate`.
    func invalidate(_ viommu: VIOMMU, _ request: InvalidationArray) -> InvalidationOutcome
    /// `vdevice_init`: driver checks of a virtual device id.
    func checkVDevice(virtualID: UInt64, viommu: VIOMMU) throws(Refusal)
}

/// Architectures whose configuration structures and walk are not modelled yet.
extension IOMMUDriver {
    public func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {}
    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain, pasid: UInt32) throws(Refusal) {
        try checkAttach(device, to: domain)
    }
    public func flushIOTLB(_ domain: PagingDomain, range: IOVARange) {}
    public func topChanged(of domain: PagingDomain) {}
    public var msiDoorbell: UInt64? { nil }
    public func configurationStructures(for device: PlatformDevice, pasid: UInt32?, memory: PhysicalMemory) -> [ConfigurationStructure] {
        []
    }
    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                          memory: PhysicalMemory, detail: WalkDetail) -> Result<Translation, TranslationFault>? { nil }
    public func route(for device: PlatformDevice, pasid: UInt32?) -> TranslationRoute? { nil }

    /// A transaction with every step recorded, as the views show it.
    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                          memory: PhysicalMemory) -> Result<Translation, TranslationFault>? {
        translate(device, iova: iova, pasid: pasid, access: access, caches: caches, memory: memory, detail: .steps)
    }
}

/// Drivers without a vIOMMU (VT-d and AMD-Vi in v6.17): `get_viommu_size` is absent, so
/// VIOMMU_ALLOC is EOPNOTSUPP and nothing vIOMMU-based can exist.
extension IOMMUDriver {
    public func checkVIOMMU(type: UInt32, device: PlatformDevice) throws(Refusal) { throw Refusal(.EOPNOTSUPP, .driverMakesNoVIOMMU) }
    public func initializeVIOMMU(type: UInt32, parent: PagingDomain, userData: UserData?) throws(Refusal) -> UInt32 {
        throw Refusal(.EOPNOTSUPP, .driverMakesNoVIOMMU)
    }
    public func allocateNestedDomain(on viommu: VIOMMU, for device: PlatformDevice, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        throw Refusal(.EOPNOTSUPP, .vIOMMUCannotNest, objects: [.init(viommu, .parent)])
    }
    public func invalidate(_ viommu: VIOMMU, _ request: InvalidationArray) -> InvalidationOutcome {
        InvalidationOutcome(handled: 0, error: Refusal(.EOPNOTSUPP, .vIOMMUCannotInvalidate, objects: [.init(viommu, .requested)]))
    }
    public func checkVDevice(virtualID: UInt64, viommu: VIOMMU) throws(Refusal) {}
}

/// Drivers that leave the PASID width to the device.
extension IOMMUDriver {
    /// No limit of the unit's own: the device's PASID capability decides.
    public var maxPASIDLog2: UInt8 { .max }
}

extension IOVARange {
    /// `[0, 2^bits - 1]`: the aperture of a domain with a `bits`-wide input address.
    public static func addressWidth(_ bits: Int) -> IOVARange {
        IOVARange(start: 0, last: bits >= 64 ? .max : (1 << UInt64(bits)) - 1)
    }
}

/// Drivers whose `set_dirty_tracking` switches the hardware (all but Arm's).
extension IOMMUDriver {
    public var switchesDirtyTracking: Bool { true }
}

extension DeviceAttachment {
    /// The same attachment to the copies of its domains.
    public func copied(in copier: ModelCopy) -> DeviceAttachment {
        switch self {
        case .blocked: .blocked
        case .paging(let domain): .paging(copier.copy(domain))
        case .nested(let domain): .nested(copier.copy(domain))
        }
    }
}
