/// How far an IOMMU's configuration caches have changed: a count advanced by every change
/// to them (a fill, an invalidation, an install), so that what was read from them can be
/// known to still hold by one comparison.
public final class CacheGeneration {
    /// The count, where a route reads it without holding this object.
    fileprivate let count = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    public init() { count.initialize(to: 0) }

    deinit { count.deallocate() }

    public var value: UInt64 { count.pointee }

    /// The caches changed.
    public func advance() { count.pointee &+= 1 }
}

/// What a driver's configuration caches decide about one device's transactions at one
/// PASID (`nil`: without one), while they hold: the IOTLB a transaction looks up first and
/// the tag it looks up under, the Access/Dirty updates that may keep a hit from answering,
/// the rights the configuration itself grants (AMD-Vi DTE.IR/IW) and the inputs the driver
/// decides before its caches (VT-d's interrupt range). `IOMMUFD.translate` (and `.answer`) answers an IOTLB
/// hit through it, as the driver would with its caches unchanged (a cached configuration
/// reads nothing, a hit records no step); everything else (a miss, rights the hit lacks, a
/// probe that bypasses the caches) goes to the driver, which answers as if there were no
/// route.
///
/// A route holds neither the IOTLB nor the generation: it lives in the IOMMUFD beside the
/// bound device whose driver owns both, goes when the device is unbound, and a warm hit must
/// not pay for reference counting.
public struct TranslationRoute {
    let pasid: UInt32?
    private let iotlb: Unmanaged<IOTLB>
    private let tag: IOTLB.Tag
    private let updates: HardwareUpdatePolicy
    private let rights: AccessRights
    private let decidedFirst: IOVARange?
    private let generation: UnsafeMutablePointer<UInt64>
    /// The generation the route was read at.
    private let readAt: UInt64

    public init(pasid: UInt32?, iotlb: IOTLB, tag: IOTLB.Tag, updates: HardwareUpdates, rights: AccessRights = .readWrite,
                decidedFirst: IOVARange? = nil, generation: CacheGeneration) {
        self.pasid = pasid
        self.iotlb = Unmanaged.passUnretained(iotlb)
        self.tag = tag
        self.updates = HardwareUpdatePolicy(updates, caches: .use)
        self.rights = rights
        self.decidedFirst = decidedFirst
        self.generation = generation.count
        readAt = generation.value
    }

    /// The caches are as they were when the route was read.
    private var holds: Bool { generation.pointee == readAt }

    /// The route still tells where a transaction at `pasid` goes.
    func serves(pasid: UInt32?) -> Bool { holds && self.pasid == pasid }

    /// The IOTLB's answer for `iova` when it decides the transaction: a hit granting
    /// `access`, under a configuration that lets a hit answer it.
    @inline(__always)
    func hit(_ iova: UInt64, pasid: UInt32?, access: AccessRights) -> TranslationAnswer? {
        guard serves(pasid: pasid), rights.isSuperset(of: access), !(decidedFirst?.contains(iova) ?? false),
              updates.mayUseIOTLB(for: access) else { return nil }
        guard let hit = iotlb._withUnsafeGuaranteedRef({ $0.lookup(tag, iova) }), hit.rights.isSuperset(of: access) else {
            return nil
        }
        return TranslationAnswer(iova: iova, hit: hit)
    }
}
