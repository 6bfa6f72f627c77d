/// How a translation treats the IOMMU's caches (the IOTLB and the configuration cache of
/// STEs/CDs, context/PASID entries or DTEs). The hardware always uses them; a view that
/// explains a walk must not change what the next transaction sees, so it asks for a walk
/// that leaves them as they are.
public enum CachePolicy: Sendable, Hashable {
    /// As the hardware: look up, and fill on a miss.
    case use
    /// Look up, never fill: what the hardware would answer now, without changing its caches.
    case lookupOnly
    /// Neither look up nor fill: a walk from the configuration down, as after a global
    /// invalidation, that invalidates nothing (a probe).
    case bypass

    var looksUp: Bool { self != .bypass }
    var fills: Bool { self == .use }
}

extension IOTLB {
    /// The entry covering `input`, if `policy` consults the IOTLB.
    func lookup(_ tag: Tag, _ input: UInt64, policy: CachePolicy) -> Hit? {
        policy.looksUp ? lookup(tag, input) : nil
    }

    /// Inserts a completed translation, if `policy` fills the IOTLB.
    func insert(_ entry: Entry, policy: CachePolicy) {
        if policy.fills { insert(entry) }
    }
}
