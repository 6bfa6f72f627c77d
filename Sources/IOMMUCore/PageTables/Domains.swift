/// What kind of translation a paging domain's table performs.
public enum DomainStage: String, Sendable {
    case stage1 = "stage-1"
    case stage2 = "stage-2"
    /// The selftest mock's single-level xarray.
    case mock

    /// The walk stage this domain's table serves (the mock's table counts as stage 1).
    public var translationStage: TranslationStage { self == .stage2 ? .stage2 : .stage1 }
}

/// A paging domain (`struct iommu_domain` of type `IOMMU_DOMAIN_UNMANAGED`): a page table an
/// IOMMU driver allocated, with the geometry and page sizes it advertises.
public final class PagingDomain {
    /// Unowned: the machine holds its drivers, and a driver holds the domains attached
    /// through it; the domain never outlives the machine.
    public unowned let driver: any IOMMUDriver
    public let stage: DomainStage
    /// `domain->geometry.aperture_start ... aperture_end`.
    public let aperture: IOVARange
    /// `domain->pgsize_bitmap`: every page size the table can map.
    public let pageSizes: UInt64
    public let table: any IOPageTableOps
    public let nestParent: Bool
    /// Allocated with `IOMMU_HWPT_ALLOC_DIRTY_TRACKING`: the domain has `dirty_ops`.
    public let dirtyTracking: Bool
    /// `set_dirty_tracking` enabled it (VT-d `dmar_domain->dirty_tracking`, AMD-Vi
    /// `pdom->dirty_tracking`, the mock's `MOCK_DIRTY_TRACK`): VT-d then sets SSADE in the
    /// PASID entries and AMD-Vi HAD in the DTEs. Arm's dirty domains always have CD.HA/HD.
    public internal(set) var dirtyTrackingEnabled = false
    /// `enforce_cache_coherency`: set when the HWPT was made for a device that can force
    /// coherent (snooped / write-back) DMA, after which non-coherent devices may not join it.
    public internal(set) var enforcesCacheCoherency = false

    public init(driver: any IOMMUDriver, stage: DomainStage, aperture: IOVARange, pageSizes: UInt64,
                table: any IOPageTableOps, nestParent: Bool = false, dirtyTracking: Bool = false) {
        precondition(pageSizes != 0)
        self.driver = driver
        self.stage = stage
        self.aperture = aperture
        self.pageSizes = pageSizes
        self.table = table
        self.nestParent = nestParent
        self.dirtyTracking = dirtyTracking
    }

    /// The smallest page size, which becomes the IOAS's `iova_alignment` floor.
    public var minimumPageSize: UInt64 { 1 << UInt64(pageSizes.trailingZeroBitCount) }
}

/// The guest-owned configuration of a nested domain, as the user's driver data gave it.
public enum NestedConfiguration: Sendable, Equatable {
    /// `struct iommu_hwpt_selftest`: the mock's four IOTLB entries, all set to `iotlb`.
    case selftest(iotlb: [UInt32])
    /// `struct iommu_hwpt_arm_smmuv3`: the guest's STE words 0 and 1.
    case armSMMUv3(ste: [UInt64])
    /// `struct iommu_hwpt_vtd_s1`.
    case vtdS1(flags: UInt64, pageTableAddress: UInt64, addressWidth: UInt32)
}

/// A nested domain (`IOMMU_DOMAIN_NESTED`): a guest stage-1 configuration on top of a
/// nest-parent paging domain that provides stage 2.
public final class NestedDomain {
    /// Unowned, as `PagingDomain.driver`.
    public unowned let driver: any IOMMUDriver
    public let parent: PagingDomain
    public var configuration: NestedConfiguration

    public init(driver: any IOMMUDriver, parent: PagingDomain, configuration: NestedConfiguration) {
        self.driver = driver
        self.parent = parent
        self.configuration = configuration
    }
}

extension PagingDomain: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> PagingDomain {
        let copy = PagingDomain(driver: copier.copy(driver), stage: stage, aperture: aperture, pageSizes: pageSizes,
                                table: copier.copy(table), nestParent: nestParent, dirtyTracking: dirtyTracking)
        copy.dirtyTrackingEnabled = dirtyTrackingEnabled
        copy.enforcesCacheCoherency = enforcesCacheCoherency
        return copy
    }
}

extension NestedDomain: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> NestedDomain {
        NestedDomain(driver: copier.copy(driver), parent: copier.copy(parent), configuration: configuration)
    }
}

/// A driver's number for each paging domain (an SMMUv3 ASID or VMID, an AMD-Vi DomainID),
/// held without keeping the domain alive: once a domain is gone its entry matches nothing,
/// so a new domain that reuses the freed one's identity never inherits its number (nor the
/// IOTLB entries tagged with it).
struct DomainNumbers<Number> {
    private struct Entry {
        weak var domain: PagingDomain?
        var number: Number
    }

    private var entries: [ObjectIdentifier: Entry] = [:]

    subscript(domain: PagingDomain) -> Number? {
        get { entries[ObjectIdentifier(domain)].flatMap { $0.domain === domain ? $0.number : nil } }
        set { entries[ObjectIdentifier(domain)] = newValue.map { Entry(domain: domain, number: $0) } }
    }

    /// The numbers of the copies of the domains still alive (in a `ModelCopy.later` body).
    func copied(in copier: ModelCopy) -> DomainNumbers {
        var copy = DomainNumbers()
        for entry in entries.values { if let domain = entry.domain { copy[copier.copy(domain)] = entry.number } }
        return copy
    }
}
