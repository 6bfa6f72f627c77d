/// How far an IOMMU's configuration caches have changed: a count advanced by every change
/// to them (a fill, an invalidation, an install), so that what was read from them can be
/// known to still hold by one comparison.
public final class CacheGeneration {
    /// The count, where a route reads it without holding this object.
    fileprivate let count = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    /// The miss walks of the routes read at this count, by the key the driver files their
    /// configuration under: a route does not retain its walk (a warm hit must not pay for
    /// reference counting) and uses it only while the count holds, so they live here until
    /// the caches next change.
    private var missWalks = WordTable<UInt64, KeptMissWalk>()

    public init() { count.initialize(to: 0) }

    deinit { count.deallocate() }

    public var value: UInt64 { count.pointee }

    /// The caches changed: the routes read before, and their walks, are done.
    public func advance() {
        count.pointee &+= 1
        missWalks.removeAll()
    }

    /// The miss walk kept for `key` at this count, made by `make` the first time.
    fileprivate func missWalk(for key: UInt64, _ make: () -> any MissWalk) -> KeptMissWalk {
        if let kept = missWalks[key] { return kept }
        let made = KeptMissWalk(make())
        missWalks[key] = made
        return made
    }
}

/// A miss walk as a generation keeps it: a concrete class, so that a route can call it
/// through an unretained reference (a walk reached through an unowned existential is
/// retained and released around every call).
private final class KeptMissWalk {
    let walk: any MissWalk
    init(_ walk: any MissWalk) { self.walk = walk }
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
/// A route may also carry the walk its configuration makes of a miss (`MissWalk`): then a
/// miss is walked and filed here as the driver would, and only a fault (or a walk the
/// configuration makes with side effects, such as hardware Access/Dirty updates) goes to the
/// driver, which walks it again and reports it whole.
///
/// A route holds neither the IOTLB nor the generation: it lives in the IOMMUFD beside the
/// bound device whose driver owns both, goes when the device is unbound, and a warm hit must
/// not pay for reference counting.
public struct TranslationRoute {
    let pasid: UInt32?
    private let iotlb: Unmanaged<IOTLB>
    private let tag: IOTLB.Tag
    /// Where the IOTLB files the tag's entries, when it did as the route was read.
    private let filing: IOTLB.FilingHint?
    /// The accesses an IOTLB hit may answer, a bit per `AccessRights` raw value: those the
    /// configuration's rights grant and its Access/Dirty updates let a hit answer.
    private let hitAccesses: UInt8
    private let decidedFirst: IOVARange?
    private let generation: UnsafeMutablePointer<UInt64>
    /// The generation the route was read at.
    private let readAt: UInt64
    /// How a miss is walked, when the configuration walks without side effects; kept by the
    /// generation while the route holds.
    private let missWalk: Unmanaged<KeptMissWalk>?

    public init(pasid: UInt32?, iotlb: IOTLB, tag: IOTLB.Tag, updates: HardwareUpdates, rights: AccessRights = .readWrite,
                decidedFirst: IOVARange? = nil, generation: CacheGeneration,
                missWalk: (key: UInt64, make: () -> any MissWalk)? = nil) {
        self.pasid = pasid
        self.iotlb = Unmanaged.passUnretained(iotlb)
        self.tag = tag
        filing = iotlb.filingHint(for: tag)
        let policy = HardwareUpdatePolicy(updates, caches: .use)
        hitAccesses = [AccessRights(), .read, .write, .readWrite].reduce(0) { accesses, access in
            rights.isSuperset(of: access) && policy.mayUseIOTLB(for: access) ? accesses | 1 << access.rawValue : accesses
        }
        self.decidedFirst = decidedFirst
        self.generation = generation.count
        readAt = generation.value
        self.missWalk = missWalk.map { .passUnretained(generation.missWalk(for: $0.key, $0.make)) }
    }

    /// The caches are as they were when the route was read.
    private var holds: Bool { generation.pointee == readAt }

    /// The route still tells where a transaction at `pasid` goes.
    func serves(pasid: UInt32?) -> Bool { holds && self.pasid == pasid }

    /// The transaction's answer when the route decides it: an IOTLB hit granting `access`,
    /// else (under `caches: .use`, with a miss walk) the walk, its steps appended to `steps`
    /// when `recording`, and the fill; nil when the driver answers.
    @inline(__always)
    func answer(_ iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy, memory: PhysicalMemory,
                recording: Bool, steps: inout [WalkStep]) -> TranslationAnswer? {
        // A raw value of more than two bits is no access a hit answers; below 4, the shift
        // needs no check.
        guard serves(pasid: pasid), access.rawValue < 4, hitAccesses &>> access.rawValue & 1 != 0,
              !(decidedFirst?.contains(iova) ?? false) else { return nil }
        if let hit = iotlb._withUnsafeGuaranteedRef({ $0.lookup(tag, iova, hint: filing) }) {
            // A hit without the rights is a permission fault the driver reports.
            return hit.rights.isSuperset(of: access) ? TranslationAnswer(iova: iova, hit: hit) : nil
        }
        guard caches.fills, let missWalk, let filled = missWalk._withUnsafeGuaranteedRef({
            $0.walk.fill(iova, access: access, memory: memory, recording: recording, steps: &steps)
        }) else {
            return nil
        }
        var answer = TranslationAnswer(iova: iova, hit: filled)
        answer.iotlbHit = false
        return answer
    }
}

/// The walk a cached configuration makes of an IOTLB miss, for a route to make it without
/// the driver: the same walk as the driver's (the same descriptors read, the same steps
/// recorded), made only where it has no side effect but the fill.
public protocol MissWalk: AnyObject {
    /// Walks `iova` for `access` and files the entry the walk makes in the IOTLB the route
    /// looks up, under the route's tag (both the configuration's), its steps appended to
    /// `steps` when `recording`: what a lookup of the entry answers; nil when the walk faults
    /// (the driver walks it again and reports the fault whole).
    func fill(_ iova: UInt64, access: AccessRights, memory: PhysicalMemory, recording: Bool, steps: inout [WalkStep]) -> IOTLB.Hit?
}
