import IOMMUCore
import Presentation

/// The IOMMUs' caches as a snapshot lists them, each entry checked against a fresh walk.
///
/// An IOTLB entry is tagged (VMID/ASID, DID/PASID, DomainID), not named by device: the
/// device it serves is the one whose transaction at the entry's input, looked up without
/// filling anything (`CachePolicy.lookupOnly`), hits it. It is stale when a walk from the
/// configuration down (`CachePolicy.bypass`, as after a global invalidation) translates some
/// address of its range differently: another output, other rights, or a fault. A cached
/// configuration is stale when a fresh walk fetches other words for one of its structures,
/// or no longer fetches it.
struct CacheReader {
    let machine: Machine
    let graph: ObjectGraph

    /// Fresh walks per IOTLB entry at most: a 1G entry split into 4K pages is checked page by
    /// page up to this many pages.
    static let walkLimit = 512

    /// Who may issue a transaction behind an IOMMU: each platform device behind it at its RID
    /// and at every PASID it is attached at.
    private func requesters(of iommu: any IOMMUDriver) -> [(device: PlatformDevice, bound: Device?, pasid: UInt32?)] {
        machine.devices.filter { $0.iommu === iommu }.flatMap { platform in
            let bound = graph.devices.first { $0.platform === platform }
            let pasids = (bound?.attachments.keys.filter { $0 != noPASID }.sorted() ?? []).map(Optional.some)
            return ([nil] + pasids).map { (platform, bound, $0) }
        }
    }

    /// The two cache policies that change nothing (`ModelReader.ProbeCaches`): the only walks a
    /// snapshot makes. They compare answers only, so they build no step list.
    private func probe(_ device: PlatformDevice, _ iova: UInt64, pasid: UInt32?, access: AccessRights,
                       _ caches: ModelReader.ProbeCaches) -> Result<Translation, TranslationFault>? {
        let policy: CachePolicy = switch caches {
        case .lookupOnly: .lookupOnly
        case .bypass: .bypass
        }
        return device.iommu.translate(device, iova: iova, pasid: pasid, access: access, caches: policy, memory: machine.physical,
                                      detail: .answer)
    }

    func iotlbEntries() -> [ModelSnapshot.IOTLBEntry] {
        machine.iommus.flatMap { iommu -> [ModelSnapshot.IOTLBEntry] in
            guard let caches = iommu as? any IOMMUCaches else { return [] }
            let users = requesters(of: iommu)
            return caches.iotlb.allEntries.map { entry in check(entry, iommu: iommu.name, users: users) }
        }
    }

    private func check(_ entry: IOTLB.Entry, iommu: String,
                       users: [(device: PlatformDevice, bound: Device?, pasid: UInt32?)]) -> ModelSnapshot.IOTLBEntry {
        var snapshot = ModelSnapshot.IOTLBEntry(
            iommu: iommu, domainTag: entry.tag.domain.map(Hex.init), addressSpaceTag: entry.tag.addressSpace.map(Hex.init),
            input: Hex(entry.input), size: Hex(entry.size), output: Hex(entry.output), rights: entry.rights.shortDescription,
            global: entry.global, device: nil, pasid: nil, stale: false, fresh: nil)
        let access: AccessRights = entry.rights.contains(.read) ? .read : .write
        guard !entry.rights.isEmpty,
              let user = users.first(where: { user in
                  guard case .success(let hit)? = probe(user.device, entry.input, pasid: user.pasid, access: access, .lookupOnly) else {
                      return false
                  }
                  return hit.iotlbHit && hit.output == entry.output && hit.pageSize == entry.size
              }) else { return snapshot }
        snapshot.device = user.bound?.id.rawValue
        snapshot.pasid = user.pasid
        var address = entry.input
        for _ in 0..<Self.walkLimit {
            let expected = entry.output &+ (address - entry.input)
            var fresh = ModelSnapshot.FreshWalk(iova: Hex(address), output: nil, pageSize: nil, rights: nil, fault: nil)
            switch probe(user.device, address, pasid: user.pasid, access: access, .bypass) {
            case .success(let walk)?:
                fresh.output = Hex(walk.output)
                fresh.pageSize = Hex(walk.pageSize)
                fresh.rights = walk.rights.shortDescription
                if address == entry.input { snapshot.fresh = fresh }
                if walk.output != expected || walk.rights != entry.rights {
                    snapshot.stale = true
                    snapshot.fresh = fresh
                    return snapshot
                }
                guard let next = address.alignedDown(to: max(walk.pageSize, 1)).checkedAdd(max(walk.pageSize, 1)),
                      next - entry.input < entry.size else { return snapshot }
                address = next
            case .failure(let fault)?:
                fresh.fault = "\(FaultText.reason(fault)) at stage \(fault.stage.number) level \(fault.level)"
                snapshot.stale = true
                snapshot.fresh = fresh
                return snapshot
            case nil:
                return snapshot
            }
        }
        return snapshot
    }

    func configurationEntries() -> [ModelSnapshot.ConfigurationCacheEntry] {
        machine.iommus.flatMap { iommu -> [ModelSnapshot.ConfigurationCacheEntry] in
            guard let caches = iommu as? any IOMMUCaches else { return [] }
            return machine.devices.filter { $0.iommu === iommu }.flatMap { device in
                let bound = graph.devices.first { $0.platform === device }
                return caches.cachedConfiguration(for: device).map { cached in
                    check(cached, device: device, bound: bound, iommu: iommu.name)
                }
            }
        }
    }

    private func check(_ cached: CachedConfigurationEntry, device: PlatformDevice, bound: Device?,
                       iommu: String) -> ModelSnapshot.ConfigurationCacheEntry {
        // The configuration is read before any walk: an input of 0 reaches it as well as any.
        let fetches: [ConfigurationFetch] = switch probe(device, 0, pasid: cached.pasid, access: .read, .bypass) {
        case .success(let walk)?: walk.configurationFetches
        case .failure(let fault)?: fault.configurationFetches
        case nil: []
        }
        func words(_ name: String, _ words: [UInt64]) -> ModelSnapshot.CachedWords {
            ModelSnapshot.CachedWords(name: name, words: words.map(Hex.init))
        }
        let stale = cached.structures.contains { structure in
            fetches.last { $0.structure == structure.structure }?.words != structure.words
        }
        return ModelSnapshot.ConfigurationCacheEntry(
            iommu: iommu, name: device.name, device: bound?.id.rawValue, pasid: cached.pasid,
            structures: cached.structures.map { words($0.structure.rawValue, $0.words) }, stale: stale,
            fresh: fetches.map { words($0.structure.rawValue, $0.words) })
    }
}
