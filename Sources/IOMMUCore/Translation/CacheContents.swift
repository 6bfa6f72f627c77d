/// One structure a configuration-cache entry holds, as the IOMMU read it from memory.
public struct CachedStructure: Sendable, Equatable {
    public var structure: ConfigurationFetch.Structure
    public var words: [UInt64]

    public init(structure: ConfigurationFetch.Structure, words: [UInt64]) {
        self.structure = structure
        self.words = words
    }
}

/// One configuration-cache entry of a device, as a read-only view sees it: the PASID or
/// SubstreamID it serves (nil: requests without one), and the structures kept for it until a
/// configuration invalidation (CFGI_STE/CFGI_CD, a context- or PASID-cache invalidation,
/// INVALIDATE_DEVTAB_ENTRY) drops them.
public struct CachedConfigurationEntry: Sendable, Equatable {
    public var pasid: UInt32?
    public var structures: [CachedStructure]

    public init(pasid: UInt32?, structures: [CachedStructure]) {
        self.pasid = pasid
        self.structures = structures
    }
}

/// The caches of an IOMMU that keeps them (an SMMUv3, a VT-d unit, an AMD IOMMU), read and
/// never changed: what a snapshot lists and compares with a fresh walk.
public protocol IOMMUCaches: IOMMUDriver {
    /// The completed translations, by tag.
    var iotlb: IOTLB { get }
    /// What the configuration cache holds for `device`, in a stable order.
    func cachedConfiguration(for device: PlatformDevice) -> [CachedConfigurationEntry]
}

extension ArmSMMUv3: IOMMUCaches {
    /// The STE with the CD of SubstreamID 0 (what requests without a SubstreamID use), and
    /// each other CD read since the last CFGI, by SubstreamID.
    public func cachedConfiguration(for device: PlatformDevice) -> [CachedConfigurationEntry] {
        let sid = device.streamID
        guard let cached = configurationCache[sid] else { return [] }
        func cd(_ index: UInt32) -> [CachedStructure] {
            contextCache[SMMUv3.contextKey(sid, substream: index)].map { [CachedStructure(structure: .contextDescriptor, words: $0.cd.words)] } ?? []
        }
        let substreams = contextCache.entries.map(\.key).filter { $0 >> 32 == UInt64(sid) }.map { UInt32(truncatingIfNeeded: $0) }
        return [CachedConfigurationEntry(pasid: nil, structures: [CachedStructure(structure: .streamTableEntry, words: cached.ste.words)] + cd(0))]
            + substreams.filter { $0 != 0 }.sorted().map { CachedConfigurationEntry(pasid: $0, structures: cd($0)) }
    }
}

extension IntelVTd: IOMMUCaches {
    /// The context and PASID entries kept per (RID, PASID); a request without PASID is keyed as none.
    public func cachedConfiguration(for device: PlatformDevice) -> [CachedConfigurationEntry] {
        let rid = UInt64(requesterID(device))
        return configurationCache.entries.filter { $0.key >> 32 == rid }.sorted { $0.key < $1.key }.map { key, cached in
            let pasid = UInt32(truncatingIfNeeded: key)
            return CachedConfigurationEntry(pasid: pasid == .max ? nil : pasid, structures: [
                CachedStructure(structure: .contextEntry, words: [cached.context.lo, cached.context.hi]),
                CachedStructure(structure: .pasidEntry, words: cached.entry.words),
            ])
        }
    }
}

extension AMDVi: IOMMUCaches {
    /// The DTE kept per DeviceID.
    public func cachedConfiguration(for device: PlatformDevice) -> [CachedConfigurationEntry] {
        guard let deviceID = UInt16(exactly: device.streamID), let cached = configurationCache[deviceID] else { return [] }
        return [CachedConfigurationEntry(pasid: nil, structures: [CachedStructure(structure: .deviceTableEntry, words: cached.dte.words)])]
    }
}
