/// Per-device state of an attached AMD-Vi device (Linux's `iommu_dev_data`).
struct AMDViAttachment {
    var domain: ObjectIdentifier
    /// The DTE's DomainID: the domain's own for v1, the device's `gcr3_info.domid` for v2.
    var domainID: UInt16
    /// Tables of the device's GCR3 table, root first (v2 only).
    var gcr3Tables: [UInt64] = []
    /// `gcr3_info.glx`: the GCR3 table's levels − 1.
    var glx = 0
}

/// The device table Linux installs in host memory and the walk an AMD IOMMU makes from the
/// DTE through the v1 host table (or the GCR3 table and the v2 table), with an IOTLB tagged
/// by DomainID. Follows the AMD IOMMU spec where Linux leaves a case unexercised (level
/// skipping) and QEMU's `amd_iommu.c` for the DTE checks it makes.
///
/// Requests with a PASID walk the v2 table GCR3[PASID] names, as VT-d walks its PASID
/// entries: a PASID attach writes that entry in the device's GCR3 table (which exists while
/// the RID is on a v2 domain).
///
/// Not modelled: nested DTEs (Mode ≠ 0 with GIOV, which v6.17 never writes), a GCR3 table
/// under a v1 domain (Linux builds one only for SVA), ATS, interrupt remapping, Linux's boot-time fill of every
/// DTE with V|TV (only bound devices issue DMA, and binding writes their DTE), and reserved-bit
/// checks beyond Mode 7, GLX 3 and a present entry whose encoding the format rejects.
extension AMDVi {
    // MARK: Installing DTEs

    /// `amd_iommu_attach_device` / `blocked_domain_attach_device`: `detach_device` first (the
    /// old domain's IOTLB entries are flushed, a v2 GCR3 table is freed with its DomainID),
    /// then `set_dte_entry` or `clear_dte_entry`, then INVALIDATE_DEVTAB_ENTRY.
    public func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {
        guard let deviceID = UInt16(exactly: device.streamID) else { return }
        guard pasid == noPASID else { return installPASID(deviceID, attachment, pasid: pasid, memory: memory) }
        guard let base = try? deviceTableBase(memory) else { return }
        if let old = attachedDevices.removeValue(forKey: deviceID) {
            iotlb.invalidate(.domain(UInt64(old.domainID)))
            for table in old.gcr3Tables { memory.free(table) }
        }
        var words = AMDViDeviceTable.blockedWords
        if case .paging(let domain) = attachment, let table = domain.table as? DescriptorPageTable,
           let id = localDomainID(for: domain) {
            if let v1 = table.format as? AMDv1 {
                words = AMDViDeviceTable.hostWords(root: table.root, mode: v1.mode, domainID: id)
                // set_dte_entry: DTE_FLAG_HAD while the domain tracks dirty pages.
                if domain.dirtyTrackingEnabled { words[0] |= AMDViDeviceTable.hostAccessDirty }
                attachedDevices[deviceID] = AMDViAttachment(domain: ObjectIdentifier(domain), domainID: id)
            } else if let v2 = table.format as? X86FirstStage,
                      let (dte, state) = try? guestConfiguration(device, domain: domain, root: table.root, levels: v2.levelCount,
                                                                 memory: memory) {
                words = dte
                attachedDevices[deviceID] = state
            }
        }
        // A nested attachment cannot happen: v6.17 AMD-Vi allocates no nested domains.
        let entry = base + UInt64(deviceID) * AMDViDeviceTable.entrySize
        try? memory.write64(entry, words: words)
        configurationCache[deviceID] = nil
    }

    /// `amd_iommu_change_top` → `amd_iommu_update_dte`: a v1 table grew, so the DTE of every
    /// device attached to it here gets the new root pointer and Mode (the other fields stay),
    /// followed by INVALIDATE_DEVTAB_ENTRY.
    func changeTop(of domain: PagingDomain, _ table: DescriptorPageTable) {
        guard let base = deviceTable, let v1 = table.format as? AMDv1 else { return }
        for (deviceID, attachment) in attachedDevices where attachment.domain == ObjectIdentifier(domain) {
            let entry = base + UInt64(deviceID) * AMDViDeviceTable.entrySize
            let word0 = (try? table.memory.read64(entry)) ?? 0
            try? table.memory.write64(entry, AMDViDeviceTable.withHostTable(word0, root: table.root, mode: v1.mode))
            configurationCache[deviceID] = nil
        }
    }

    /// `init_gcr3_table` for a v2 domain: `setup_gcr3_table` (a per-device DomainID, a GCR3
    /// table of GLX + 1 levels for the device's PASIDs) and `update_gcr3(dev_data, 0, pgd)`.
    private func guestConfiguration(_ device: PlatformDevice, domain: PagingDomain, root: UInt64, levels: Int,
                                    memory: PhysicalMemory) throws(Refusal) -> ([UInt64], AMDViAttachment) {
        let pasids: UInt64 = device.maxPASIDLog2 > 0 ? 1 << UInt64(device.maxPASIDLog2) : 1
        let glx = min(AMDViDeviceTable.gcr3Levels(pasids: pasids), 2)
        let domainID = try allocateDomainID()
        let gcr3 = try memory.allocate(length: PhysicalMemory.frameSize)
        var state = AMDViAttachment(domain: ObjectIdentifier(domain), domainID: domainID, gcr3Tables: [gcr3], glx: glx)
        let entry = try gcr3Slot(&state, pasid: noPASID, memory: memory)
        try? memory.write64(entry, (root & ~0xfff) | AMDViDeviceTable.gcr3Valid)
        return (AMDViDeviceTable.guestWords(gcr3Table: gcr3, glx: glx, guestLevels: levels, domainID: domainID), state)
    }

    /// `__get_gcr3_pte(gcr3_info, pasid, alloc = true)`: the level-0 entry of `pasid`, the
    /// tables on the way allocated zeroed and linked with GCR3_VALID.
    private func gcr3Slot(_ state: inout AMDViAttachment, pasid: UInt32, memory: PhysicalMemory) throws(Refusal) -> UInt64 {
        var table = state.gcr3Tables[0]
        for level in stride(from: state.glx, to: 0, by: -1) {
            let slot = table + AMDViDeviceTable.gcr3Index(pasid, level: level) * 8
            let entry = memory.peek64(slot)
            if entry & AMDViDeviceTable.gcr3Valid != 0 {
                table = entry & AMDViDeviceTable.rootMask
                continue
            }
            let next = try memory.allocate(length: PhysicalMemory.frameSize)
            state.gcr3Tables.append(next)
            try? memory.write64(slot, next | AMDViDeviceTable.gcr3Valid)
            table = next
        }
        return table + AMDViDeviceTable.gcr3Index(pasid, level: 0) * 8
    }

    /// A PASID's attach or detach: `amd_iommu_set_gcr3` / `amd_iommu_clear_gcr3` →
    /// `update_gcr3`, which writes GCR3[PASID] = the v2 table's root | GCR3_VALID (or 0) in the
    /// device's GCR3 table, then `dev_flush_pasid_all`: the PASID's IOTLB entries go. Without
    /// a GCR3 table (the RID is not on a v2 domain) there is nowhere to write it.
    private func installPASID(_ deviceID: UInt16, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {
        guard var state = attachedDevices[deviceID], !state.gcr3Tables.isEmpty,
              let slot = try? gcr3Slot(&state, pasid: pasid, memory: memory) else { return }
        attachedDevices[deviceID] = state
        var entry: UInt64 = 0
        if case .paging(let domain) = attachment, let table = domain.table as? DescriptorPageTable, table.format is X86FirstStage {
            entry = (table.root & ~0xfff) | AMDViDeviceTable.gcr3Valid
        }
        try? memory.write64(slot, entry)
        iotlb.invalidate(.tag(IOTLB.Tag(domain: UInt64(state.domainID), addressSpace: UInt64(pasid))))
    }

    /// `amd_iommu_iotlb_sync` → `domain_flush_pages`: INVALIDATE_IOMMU_PAGES for the domain's
    /// DomainID (v1) or each attached device's DomainID (v2), over the range, on every AMD-Vi
    /// instance the domain is attached through.
    public func flushIOTLB(_ domain: PagingDomain, range: IOVARange) {
        flushLocally(domain, range: range)
        for peer in peers[ObjectIdentifier(domain)] ?? [] { peer.iommu?.flushLocally(domain, range: range) }
    }

    private func flushLocally(_ domain: PagingDomain, range: IOVARange) {
        var ids = Set(attachedDevices.values.filter { $0.domain == ObjectIdentifier(domain) }.map { UInt64($0.domainID) })
        if let id = domainIDs[domain] { ids.insert(UInt64(id)) }
        for id in ids { iotlb.invalidate(.domain(id), range: range) }
    }

    /// The DomainID this IOMMU's DTEs give `domain`: its own allocation, or, for a domain of
    /// another AMD-Vi instance, one allocated here at the first install (and this instance
    /// joins the owner's flushes).
    private func localDomainID(for domain: PagingDomain) -> UInt16? {
        let key = ObjectIdentifier(domain)
        if let owner = domain.driver as? AMDVi, owner !== self, !(owner.peers[key] ?? []).contains(where: { $0.iommu === self }) {
            owner.peers[key, default: []].append(WeakAMDVi(iommu: self))
        }
        if let id = domainIDs[domain] { return id }
        guard let id = try? allocateDomainID() else { return nil }
        domainIDs[domain] = id
        return id
    }

    /// The Device Table Base Address Register of a real host: the unit reads DTEs from the
    /// host's own table (`memory` adopts its frames so the allocator never hands them out).
    /// False when the table is already placed, or the range cannot be adopted (it overlaps
    /// memory the simulator allocated).
    public func adoptDeviceTable(_ base: UInt64, memory: PhysicalMemory) -> Bool {
        let length = AMDViDeviceTable.entrySize << UInt64(AMDViDeviceTable.deviceIDBits)
        guard deviceTable == nil, let range = IOVARange(start: base & ~0xfff, length: length), memory.adopt(range) else { return false }
        deviceTable = range.start
        configurationCache.removeAll()
        return true
    }

    private func deviceTableBase(_ memory: PhysicalMemory) throws(Refusal) -> UInt64 {
        try memory.allocateOnce(&deviceTable, length: AMDViDeviceTable.entrySize << UInt64(AMDViDeviceTable.deviceIDBits))
    }

    /// Writes a DTE a host dumped (debugfs `devtbl`) at `base + deviceID * 32` of this unit's
    /// device table, allocating the table as `install` does, and drops the cached copy, so the
    /// next `translate` of that DeviceID reads it. Returns the entry's address. The IOMMU keeps
    /// no attachment for it: the host's domain is not an object of this machine.
    public func placeDeviceTableEntry(_ words: [UInt64], deviceID: UInt16, memory: PhysicalMemory) throws(Refusal) -> UInt64 {
        let entry = try deviceTableBase(memory) + UInt64(deviceID) * AMDViDeviceTable.entrySize
        do throws(BusError) { try memory.write64(entry, words: AMDViDeviceTable.Entry(words: words).words) } catch {
            throw Refusal(.EFAULT, .amdViDeviceTableUnbacked, values: [Refusal.InvolvedValue("DTE address", entry, .requested),
                                                                      Refusal.InvolvedValue("DeviceID", UInt64(deviceID), .requested)])
        }
        configurationCache[deviceID] = nil
        return entry
    }

    // MARK: The walk

    /// One untranslated DMA request, with or without a PASID. Its steps are always recorded:
    /// a reserved encoding's fault is told from the last entry read.
    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                          memory: PhysicalMemory, detail: WalkDetail) -> Result<Translation, TranslationFault>? {
        WalkRecord.run(detail: .steps) { (record: inout WalkRecord) throws(TranslationFault) in
            try walk(device, iova: iova, pasid: pasid, access: access, caches: caches, memory: memory, steps: &record.steps,
                     fetches: &record.fetches)
        }
    }

    /// What a cached DTE does with a request, before any right is checked.
    private enum Disposition: Equatable {
        /// V = 0: the DTE is ignored and DMA passes untranslated.
        case ignored
        /// V = 1, TV = 0: the blocked domain.
        case blocked
        /// A PASID selects a guest table of the GCR3 table: without GV (or with a GLX the
        /// spec reserves) the IOMMU has none to use and rejects the request.
        case noGuestTable
        /// A guest table over a host table (GV with Mode ≠ 0): a nested walk, not modelled.
        case nested
        /// Mode 0 without a guest table: translation disabled, access controlled by IR and IW alone.
        case untranslated
        /// Translated by the guest table or the host table, through the IOTLB.
        case translated(guest: Bool)
    }

    private static func disposition(_ configuration: AMDViDeviceTable.CachedConfiguration, pasid: UInt32?) -> Disposition {
        let dte = configuration.dte
        guard dte.valid else { return .ignored }
        guard dte.translationValid else { return .blocked }
        if pasid != nil, !dte.guestValid || dte.glx >= 3 { return .noGuestTable }
        if dte.guestValid && (dte.guestIOProtection || pasid != nil) && dte.mode != 0 { return .nested }
        let guest = configuration.guest != nil || pasid != nil
        return !guest && dte.mode == 0 ? .untranslated : .translated(guest: guest)
    }

    /// Guest translations are tagged by PASID; a request without one uses PASID 0's table.
    private static func iotlbTag(_ dte: AMDViDeviceTable.Entry, guest: Bool, pasid: UInt32?) -> IOTLB.Tag {
        IOTLB.Tag(domain: UInt64(dte.domainID), addressSpace: guest ? UInt64(pasid ?? noPASID) : nil)
    }

    /// DTE.HAD: host-table Access/Dirty updates (dirty tracking enabled).
    private static func updates(_ dte: AMDViDeviceTable.Entry, guest: Bool) -> HardwareUpdates {
        guest ? [] : HardwareUpdates(amdHostAccessDirty: dte.hostAccessDirty)
    }

    /// The route of the device's requests while its DTE stays cached, for a DTE that
    /// translates them through the IOTLB; its IR/IW bound every hit.
    public func route(for device: PlatformDevice, pasid: UInt32?) -> TranslationRoute? {
        guard let deviceID = UInt16(exactly: device.streamID), let configuration = configurationCache[deviceID],
              case .translated(let guest) = Self.disposition(configuration, pasid: pasid) else { return nil }
        let dte = configuration.dte
        return TranslationRoute(pasid: pasid, iotlb: iotlb, tag: Self.iotlbTag(dte, guest: guest, pasid: pasid),
                                updates: Self.updates(dte, guest: guest), rights: dte.rights, generation: cacheGeneration)
    }

    /// An event found while reading the DTE or GCR3 table.
    private func configurationEvent(_ type: AMDViEvent.EventType, device: UInt16, domain: UInt16?, pasid: UInt32? = nil,
                                    address: UInt64, access: AccessRights) -> TranslationFault {
        AMDViEvent(type, deviceID: device, domainID: domain, pasid: pasid, address: address, flags: AMDViEvent.Flags(access: access))
            .fault(.configuration, level: 0, origin: .configuration)
    }

    private func walk(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                      memory: PhysicalMemory, steps: inout [WalkStep],
                      fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> Translation? {
        // DeviceIDs are 16 bits; the simulated table has an entry for each.
        guard let deviceID = UInt16(exactly: device.streamID) else {
            throw configurationEvent(.ILLEGAL_DEV_TABLE_ENTRY, device: UInt16(truncatingIfNeeded: device.streamID), domain: nil,
                                     address: iova, access: access)
        }
        let configuration = try configuration(of: deviceID, iova: iova, access: access, caches: caches, memory: memory,
                                              fetches: &fetches)
        let dte = configuration.dte
        let disposition = Self.disposition(configuration, pasid: pasid)
        // V = 0: the DTE is ignored and DMA passes untranslated.
        if disposition == .ignored {
            return Translation(iova: iova, output: iova, pageSize: pageSize, rights: .readWrite, steps: [], iotlbHit: false)
        }
        let domain = dte.domainID
        // V = 1, TV = 0 (the blocked domain): no translation information, the walk ends in an
        // IO_PAGE_FAULT (spec Table 8; the IO_PAGE_FAULT event table).
        if disposition == .blocked {
            throw configurationEvent(.IO_PAGE_FAULT, device: deviceID, domain: domain, pasid: pasid, address: iova, access: access)
        }
        // DTE.IR/IW head the permission AND; Linux always sets both.
        guard dte.rights.isSuperset(of: access) else {
            var flags = AMDViEvent.Flags(access: access)
            flags.formUnion([.PR, .PE])
            throw AMDViEvent(.IO_PAGE_FAULT, deviceID: deviceID, domainID: domain, pasid: pasid, address: iova, flags: flags)
                .fault(.configuration, level: 0, origin: .configuration)
        }
        if disposition == .noGuestTable {
            throw configurationEvent(.INVALID_DEVICE_REQUEST, device: deviceID, domain: nil, pasid: pasid, address: iova,
                                     access: access)
        }
        if disposition == .untranslated {
            return Translation(iova: iova, output: iova, pageSize: pageSize, rights: dte.rights, steps: [], iotlbHit: false)
        }
        // What is left is a nested walk (not modelled) or a translation.
        guard case .translated(let guest) = disposition else { return nil }
        let tag = Self.iotlbTag(dte, guest: guest, pasid: pasid)
        let updates = HardwareUpdatePolicy(Self.updates(dte, guest: guest), caches: caches)
        if updates.mayUseIOTLB(for: access), let hit = iotlb.lookup(tag, iova, policy: caches) {
            guard hit.rights.isSuperset(of: access) else {
                var flags = AMDViEvent.Flags(access: access)
                flags.formUnion([.PR, .PE])
                throw AMDViEvent(.IO_PAGE_FAULT, deviceID: deviceID, domainID: domain, pasid: pasid, address: iova, flags: flags)
                    .fault(guest ? .stage1 : .stage2, level: 0, origin: .iotlb)
            }
            return Translation(iova: iova, hit: hit)
        }
        let result: StageOutput
        if let pasid {
            let root = try gcr3Entry(dte, pasid: pasid, device: deviceID, iova: iova, access: access, memory: memory, fetches: &fetches)
            let format = X86FirstStage(levels: dte.guestLevels, gigabytePages: true, encoding: .amdIOPgtableV2)
            result = try guestWalk(format, root: root, iova: iova, pasid: pasid, access: access, device: deviceID, domain: domain,
                                   memory: memory, steps: &steps)
        } else if let format = configuration.guest, let root = configuration.guestRoot {
            result = try guestWalk(format, root: root, iova: iova, pasid: nil, access: access, device: deviceID, domain: domain,
                                   memory: memory, steps: &steps)
        } else if let format = configuration.host {
            result = try hostWalk(format, root: dte.root, iova: iova, access: access, device: deviceID, domain: domain,
                                  updates: updates, memory: memory, steps: &steps)
        } else {
            return nil
        }
        let rights = result.rights.intersection(dte.rights)
        let size = result.size
        iotlb.insert(IOTLB.Entry(tag: tag, input: iova.alignedDown(to: size), size: size,
                                 output: result.output.alignedDown(to: size), rights: rights), policy: caches)
        return Translation(iova: iova, output: result.output, pageSize: size, rights: rights, steps: steps, iotlbHit: false)
    }

    /// The DeviceID's DTE (and, for a guest-translating DTE, GCR3[0]) from the cache, or
    /// fetched and decoded. A DTE that cannot be read is a DEV_TAB_HARDWARE_ERROR, a reserved
    /// Mode (7) or GLX (3) an ILLEGAL_DEV_TABLE_ENTRY, a GCR3 entry without V an IO_PAGE_FAULT.
    private func configuration(of deviceID: UInt16, iova: UInt64, access: AccessRights, caches: CachePolicy, memory: PhysicalMemory,
                               fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> AMDViDeviceTable.CachedConfiguration {
        if let cached = configurationCache.cached(deviceID, policy: caches) { return cached }
        let entry = (deviceTable ?? 0) + UInt64(deviceID) * AMDViDeviceTable.entrySize
        guard deviceTable != nil else {
            throw configurationEvent(.DEV_TAB_HARDWARE_ERROR, device: deviceID, domain: nil, address: entry, access: access)
        }
        let dte = AMDViDeviceTable.Entry(words: try memory.fetch(.deviceTableEntry, at: entry, count: 4, into: &fetches) {
            self.configurationEvent(.DEV_TAB_HARDWARE_ERROR, device: deviceID, domain: nil, address: $0, access: access)
        })
        var cached = AMDViDeviceTable.CachedConfiguration(dte: dte)
        if dte.valid && dte.translationValid {
            switch dte.mode {
            case 0: break
            case 1...6: cached.host = AMDv1(mode: dte.mode)
            default: throw configurationEvent(.ILLEGAL_DEV_TABLE_ENTRY, device: deviceID, domain: nil, address: iova, access: access)
            }
            if dte.guestValid && dte.guestIOProtection {
                guard dte.glx < 3 else {
                    throw configurationEvent(.ILLEGAL_DEV_TABLE_ENTRY, device: deviceID, domain: nil, address: iova, access: access)
                }
                // Host-translated guest tables (Mode ≠ 0 with GIOV) are nested: not modelled.
                if dte.mode == 0 {
                    cached.guestRoot = try gcr3Entry(dte, pasid: nil, device: deviceID, iova: iova, access: access, memory: memory, fetches: &fetches)
                    cached.guest = X86FirstStage(levels: dte.guestLevels, gigabytePages: true, encoding: .amdIOPgtableV2)
                }
            }
        }
        configurationCache.fill(deviceID, cached, policy: caches)
        return cached
    }

    /// GCR3[PASID]: GLX + 1 levels of 512 eight-byte entries, indexed by the PASID's 9-bit
    /// groups from the top (`__get_gcr3_pte`). An entry without V is an IO_PAGE_FAULT (with
    /// GN and the PASID for a request that carried one), a read that hits no memory a
    /// PAGE_TAB_HARDWARE_ERROR.
    private func gcr3Entry(_ dte: AMDViDeviceTable.Entry, pasid requested: UInt32?, device: UInt16, iova: UInt64, access: AccessRights,
                           memory: PhysicalMemory, fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> UInt64 {
        let pasid = requested ?? noPASID
        var table = dte.gcr3Table
        for level in stride(from: dte.glx, through: 0, by: -1) {
            let slot = table + AMDViDeviceTable.gcr3Index(pasid, level: level) * 8
            let entry = try memory.fetch(.gcr3Entry, at: slot, count: 1, into: &fetches) {
                self.configurationEvent(.PAGE_TAB_HARDWARE_ERROR, device: device, domain: dte.domainID, pasid: requested,
                                        address: $0, access: access)
            }[0]
            guard entry & AMDViDeviceTable.gcr3Valid != 0 else {
                throw configurationEvent(.IO_PAGE_FAULT, device: device, domain: dte.domainID, pasid: requested, address: iova,
                                         access: access)
            }
            table = entry & AMDViDeviceTable.rootMask
        }
        return table
    }

    /// The v1 walk from the DTE's root pointer (stage 2: AMD-Vi's host table). After the
    /// generic walk, two architecture rules it does not know about:
    /// - a PDE whose NextLevel skips levels requires the IOVA bits of the skipped levels to
    ///   be zero, else IO_PAGE_FAULT there (spec §2.2.3; Linux never writes a skip, and its
    ///   `fetch_pte` treats one as not found). The walk stops at that PDE.
    /// - a present entry the format rejects (NextLevel ≥ its own level, a leaf where the level
    ///   maps none) is an IO_PAGE_FAULT with PR|RZ rather than a plain not-present one.
    private func hostWalk(_ format: AMDv1, root: UInt64, iova: UInt64, access: AccessRights, device: UInt16, domain: UInt16,
                          updates: HardwareUpdatePolicy, memory: PhysicalMemory, steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
        let rules = AMDViWalkRules(table: .host, deviceID: device, domainID: domain, address: iova)
        let walker = StageWalker(format: format, rules: rules, memory: memory, stage: .stage2)
        var walked: [WalkStep] = []
        let outcome: Result<StageOutput, TranslationFault>
        do { outcome = .success(try walker.walk(root: root, input: iova, access: access, steps: &walked, updates: updates)) } catch {
            outcome = .failure(error)
        }
        for (position, step) in walked.enumerated() where step.kind == .table {
            let next = Int(AMDv1.nextLevelField(step.descriptor))
            guard next < step.level - 1 else { continue }
            let skippedBits = UInt64(9 * (step.level - 1 - next)), low = UInt64(12 + 9 * next)
            let mask: UInt64 = (skippedBits + low >= 64 ? .max : (1 << (skippedBits + low)) - 1) & ~((1 << low) - 1)
            if iova & mask != 0 {
                steps += walked.prefix(position + 1)
                throw rules.event(.IO_PAGE_FAULT, flags: AMDViEvent.Flags(access: access)).fault(.stage2, level: step.level, origin: .walk)
            }
        }
        steps += walked
        return try reservedEncodingChecked(outcome, steps: walked, stage: .stage2, rules: rules, access: access)
    }

    /// The v2 walk from GCR3[PASID] (stage 1: the guest table, here with no host table under
    /// it). Inputs are canonical 48-bit addresses: the upper half walks with its sign bits
    /// dropped (the index bits are 47:12), a non-canonical input is an IO_PAGE_FAULT. R/W is
    /// ANDed through the levels; U/S is not checked (Linux sets it everywhere). Events set GN
    /// and name the PASID for a request with one; a request without one (GIOV borrowing
    /// PASID 0's table) leaves GN clear.
    private func guestWalk(_ format: X86FirstStage, root: UInt64, iova: UInt64, pasid: UInt32?, access: AccessRights, device: UInt16,
                           domain: UInt16, memory: PhysicalMemory,
                           steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
        let rules = AMDViWalkRules(table: .guest, deviceID: device, domainID: domain, pasid: pasid, address: iova)
        guard format.isCanonical(iova) else {
            throw rules.event(.IO_PAGE_FAULT, flags: AMDViEvent.Flags(access: access)).fault(.stage1, level: format.rootLevel, origin: .walk)
        }
        let input = iova & ((1 << UInt64(format.inputBits)) - 1)
        let walker = StageWalker(format: format, rules: rules, memory: memory, stage: .stage1)
        var walked: [WalkStep] = []
        let outcome: Result<StageOutput, TranslationFault>
        do { outcome = .success(try walker.walk(root: root, input: input, access: access, steps: &walked)) } catch {
            outcome = .failure(error)
        }
        steps += walked
        return try reservedEncodingChecked(outcome, steps: walked, stage: .stage1, rules: rules, access: access)
    }

    /// A walk that stopped at a present but invalid entry faulted on a reserved encoding: PR|RZ.
    private func reservedEncodingChecked(_ outcome: Result<StageOutput, TranslationFault>,
                                         steps: [WalkStep], stage: TranslationStage, rules: AMDViWalkRules,
                                         access: AccessRights) throws(TranslationFault) -> StageOutput {
        switch outcome {
        case .success(let result):
            return result
        case .failure(let fault):
            if let last = steps.last, last.kind == .invalid, last.descriptor & 1 != 0 {
                var flags = AMDViEvent.Flags(access: access)
                flags.formUnion([.PR, .RZ])
                throw rules.event(.IO_PAGE_FAULT, flags: flags).fault(stage, level: last.level, origin: .walk)
            }
            throw fault
        }
    }
}

extension AMDVi {
    /// The device's DTE, read back from the device table, and for a `pasid` the GCR3 table
    /// entries on the way to its guest CR3 (GLX + 1 levels, 9 PASID bits each).
    public func configurationStructures(for device: PlatformDevice, pasid: UInt32?, memory: PhysicalMemory) -> [ConfigurationStructure] {
        guard let deviceTable, device.streamID <= 0xffff else { return [] }
        let address = deviceTable + UInt64(device.streamID) * AMDViDeviceTable.entrySize
        let words = memory.peek64(address, count: 4)
        let dte = AMDViDeviceTable.Entry(words: words)
        var gcr3: [ConfigurationStructure] = []
        if let pasid, dte.guestValid {
            var table = dte.gcr3Table
            for level in stride(from: dte.glx, through: 0, by: -1) {
                let entryAddress = table + AMDViDeviceTable.gcr3Index(pasid, level: level) * 8
                let entry = memory.peek64(entryAddress)
                gcr3.append(ConfigurationStructure(name: "GCR3 entry", address: entryAddress, words: [entry], fields: [
                    DescriptorField(AMDViDeviceTable.Entry.Field.gcr3V, of: entry),
                    DescriptorField(AMDViDeviceTable.Entry.Field.gcr3, entry & AMDViDeviceTable.rootMask),
                ]))
                guard entry & AMDViDeviceTable.gcr3Valid != 0 else { break }
                table = entry & AMDViDeviceTable.rootMask
            }
        }
        return [ConfigurationStructure(name: "DTE", address: address, words: words, fields: dte.translationFields)] + gcr3
    }
}
