/// The read-only face of a model, for views: what they may ask of an iommufd and its machine,
/// and nothing that changes either.
///
/// A view that holds the `IOMMUFD` could call any ioctl, and a driver's
/// `translate(..., caches: .use)` fills the IOTLB: drawing a pane would change what the next
/// transaction sees (the stale-IOTLB behaviour the walk pane exists to show). A view holds this
/// instead: every answer is a query, and its translate is a probe whose policy cannot fill or
/// flush a cache.
public struct ModelReader {
    private let iommufd: IOMMUFD

    public init(_ iommufd: IOMMUFD) { self.iommufd = iommufd }

    // MARK: Objects

    /// The object graph at the current generation.
    public var graph: ObjectGraph { iommufd.graph }

    /// Bumped by every mutating ioctl: a view's cache key.
    public var generation: UInt64 { iommufd.generation }

    /// The live object with this id, by kind; nil for a free id, a reserved slot or a tombstone.
    public func object(_ id: ObjectID) -> ObjectKind? { graph.node(id)?.kind }

    /// The iommufd device a platform device (by name) is bound as, if it is bound.
    public func device(boundTo name: String) -> Device? {
        iommufd.machine.device(named: name).flatMap(iommufd.device(boundTo:))
    }

    /// `IOMMU_IOAS_IOVA_RANGES`: the IOVAs the IOAS can map now.
    public func usableRanges(of ioas: IOAS) -> IOMMUFD.IOVARanges? { try? iommufd.ioasIOVARanges(ioasID: ioas.id.rawValue) }

    // MARK: Platform

    /// The IOMMU units, iommu groups and devices of the machine, with driver-added regions.
    public var platform: PlatformDescription { iommufd.machine.platform }

    /// The device's configuration structures (STE and CD, root/context/PASID entries, DTE) as
    /// they are in host memory now, decoded.
    public func configurationStructures(of device: Device, pasid: UInt32? = nil) -> [ConfigurationStructure] {
        device.platform.iommu.configurationStructures(for: device.platform, pasid: pasid, memory: iommufd.machine.physical)
    }

    /// What `IOMMU_GET_HW_INFO` returns for the device (the driver's own info type); nil on
    /// an errno. A query: the driver changes nothing answering it.
    public func hardwareInfo(of device: Device) -> HWInfo? {
        try? device.platform.iommu.hardwareInfo(for: device.platform, type: HWInfoType.default.rawValue)
    }

    // MARK: Memory

    /// A peek at host memory: one descriptor of a host domain's table, from the memory the
    /// table lives in; nil where nothing is allocated.
    public func descriptor(of table: DescriptorPageTable, at address: UInt64) -> UInt64? { try? table.memory.read64(address) }

    /// The host physical address behind a GPA of `ioas` (a nest parent's guest RAM); nil where
    /// the IOAS maps nothing there.
    public func hostPhysicalAddress(of gpa: UInt64, in ioas: IOAS) -> UInt64? {
        try? iommufd.hostPhysicalAddress(ioasID: ioas.id.rawValue, gpa: gpa)
    }

    /// One u64 of guest RAM at a GPA of `ioas`; nil where unbacked or unaligned.
    public func guestWord(at gpa: UInt64, in ioas: IOAS) -> UInt64? {
        try? iommufd.guestRead(ioasID: ioas.id.rawValue, gpa: gpa, count: 1).first
    }

    /// Where a nested HWPT's guest stage-1 table lives (read from guest RAM through the nest
    /// parent's IOAS), or why it has none.
    public func guestStage1Table(of nested: HWPTNested) -> Result<GuestStage1Table, GuestStage1Absence> {
        let ioas = nested.stage2.ioas.id.rawValue
        return nested.domain.guestStage1Table { [iommufd] gpa, count in try? iommufd.guestRead(ioasID: ioas, gpa: gpa, count: count) }
    }

    /// The stage-2 translation of an IPA/GPA of a nested HWPT: its nest parent's table
    /// looked up (`iova_to_phys`); nil where stage 2 maps nothing there.
    public func stage2Output(of intermediate: UInt64, for nested: HWPTNested) -> UInt64? {
        nested.stage2.domain.table.lookup(intermediate)?.output
    }

    /// The guest's stage-1 address space of a nested HWPT: each leaf of its stage-1 table, in
    /// IOVA order, with the IPA/GPA it maps and that address's stage-2 translation, leaves
    /// whose outputs and stage-2 translations continue one another merged; at most `limit`
    /// pieces (leaves and holes) are read. Empty where the guest has no table.
    public func guestMappings(of nested: HWPTNested, limit: Int = 4096) -> [GuestMapping] {
        guard case .success(let table) = guestStage1Table(of: nested), !table.walksDisabled else { return [] }
        let ioas = nested.stage2.ioas
        let cursor = TableCursor(format: table.format, root: table.root, stage: .stage1) { [self] in guestWord(at: $0, in: ioas) }
        var mappings: [GuestMapping] = []
        for path in cursor.pieces(from: 0, count: limit) {
            guard let leaf = path.last, leaf.kind == .block || leaf.kind == .page else { continue }
            let intermediate = table.format.outputAddress(of: leaf.descriptor, level: leaf.step.level)
            let mapping = GuestMapping(iova: leaf.range, intermediate: intermediate, output: stage2Output(of: intermediate, for: nested))
            if let last = mappings.last, last.iova.last &+ 1 == mapping.iova.start, last.continues(into: mapping) {
                mappings[mappings.count - 1].iova = IOVARange(start: last.iova.start, last: mapping.iova.last)
            } else {
                mappings.append(mapping)
            }
        }
        return mappings
    }

    // MARK: Translation

    /// How a probe treats the IOMMU's caches: the two `CachePolicy` cases that change nothing.
    public enum ProbeCaches: Sendable, Hashable {
        /// What the hardware would answer now, cached entries included (stale ones too).
        case lookupOnly
        /// A walk from the configuration down, as after a global invalidation.
        case bypass

        var policy: CachePolicy {
            switch self {
            case .lookupOnly: .lookupOnly
            case .bypass: .bypass
            }
        }
    }

    /// One DMA transaction by a bound device as its IOMMU would translate it, filling and
    /// flushing no cache; nil where the architecture's walk is not modelled yet.
    public func probe(deviceID: ObjectID, iova: UInt64, pasid: UInt32?, access: AccessRights,
                      caches: ProbeCaches) throws(Refusal) -> Result<Translation, TranslationFault>? {
        try iommufd.translate(deviceID: deviceID.rawValue, iova: iova, pasid: pasid, access: access, caches: caches.policy)
    }
}
