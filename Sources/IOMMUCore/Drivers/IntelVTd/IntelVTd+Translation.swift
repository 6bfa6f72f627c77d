/// The scalable-mode configuration Linux installs for a VT-d device, and the walk the
/// remapping unit makes from the root entry through the context and PASID entries to the
/// first- and second-stage tables (VT-d spec chapters 3, 6 and 9; QEMU `intel_iommu.c`).
///
/// Fault records. A fault is a `VTdFaultRecord`: the reason code, the requester, PASID,
/// page address and direction as the fault recording register holds them, plus the entry a
/// bus error hit and the GPA a nested second-stage walk was resolving. The stage is the first
/// or second stage, or the configuration for the root/context/PASID structures; the level is
/// the VT-d level (5/4 ... 1) of the entry that faulted.
///
/// Which codes. The units run in scalable mode, so every fault carries a scalable-mode
/// reason (VT-d spec 4.x, the scalable-mode table of "Non-Recoverable Fault Reasons"): root
/// and context entries 0x30/0x38/0x39/0x40/0x41, PASID structures 0x45/0x46, 0x50/0x51,
/// 0x58/0x59/0x5B, the first stage 0x70-0x73, 0x80, 0x81, 0x85, the second stage 0x78-0x7B
/// and 0x83, a second-stage walk for a first-stage entry of a nested translation 0x74-0x76,
/// an output in the interrupt range 0x87 (`VTdWalkRules`). QEMU's scalable-mode emulation
/// uses the legacy codes (0x1-0xC) for the root, context and second-stage faults: a
/// simplification the model does not copy.
extension IntelVTd {
    // MARK: Installing context and PASID entries

    /// `dmar_domain_attach_device` / `intel_nested_attach_dev` after `device_block_translation`:
    /// the RID_PASID entry is torn down (zeroed, with the IOTLB flush
    /// `intel_pasid_tear_down_entry` issues for the old DID) and set up again as
    /// `intel_pasid_setup_first_level`, `_second_level` or `_nested` writes it. The root,
    /// context, PASID directory and PASID table come into being on the device's first install,
    /// as probing and `intel_pasid_get_entry` create them.
    ///
    /// A unit running a host's legacy-mode root table (`adoptRootTable`) gets legacy context
    /// entries instead (`installLegacy`).
    public func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {
        guard translationTableMode == .scalable else {
            installLegacy(device, attachment, pasid: pasid, memory: memory)
            return
        }
        let rid = requesterID(device)
        // The RID's requests use RID_PASID (PASID 0, which is also IOMMU_NO_PASID).
        guard let entryAddress = try? pasidEntryAddress(device, pasid: pasid, memory: memory) else { return }
        let old = VTd.PASIDEntry(words: memory.peek64(entryAddress, count: 8))
        var words = [UInt64](repeating: 0, count: 8)
        switch attachment {
        case .blocked:
            break
        case .paging(let domain):
            words = pagingEntry(domain)?.words ?? words
        case .nested(let nested):
            words = nestedEntry(nested)?.words ?? words
        }
        try? memory.write64(entryAddress, words: words)
        // PASID-cache invalidation for the RID; then the old DID's IOTLB flush: PASID-based
        // for first-stage (and pass-through) entries, domain-selective for second-stage and nested.
        configurationCache.removeAll { key, _ in key >> 32 == UInt64(rid) }
        if old.present {
            let did = old.domainID
            if old.pgtt == .firstStage || old.pgtt == .passThrough {
                iotlb.invalidate(.tag(IOTLB.Tag(domain: did, addressSpace: UInt64(pasid))))
            } else {
                iotlb.invalidate(.domain(did))
            }
        }
    }

    /// Legacy mode (RTADDR.TTM = 00b, a real host's unit without SMTS): an attach is
    /// `domain_context_mapping_one`, which writes the device's 128-bit context entry with the
    /// domain's DID, its second-level table, its AGAW and TT = 00b (`CONTEXT_TT_MULTI_LEVEL`:
    /// untranslated requests walk the table), fault processing enabled, P; blocking is
    /// `domain_context_clear_one`, a zeroed entry. The bus's context table is made if the root
    /// entry has none. Then the context-cache and the old DID's IOTLB are invalidated. There
    /// are no PASIDs and no first stage in legacy mode: a PASID install or a domain without a
    /// second-level table leaves the entry cleared.
    private func installLegacy(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {
        guard pasid == VTd.ridPASID, let root = rootTable else { return }
        let rid = requesterID(device)
        let rootEntry = root + UInt64(rid >> 8) * VTd.rootEntrySize
        var contextTable = memory.peek64(rootEntry)
        if contextTable & 1 == 0 {
            guard let table = try? memory.allocate(length: PhysicalMemory.frameSize) else { return }
            contextTable = table | 1
            try? memory.write64(rootEntry, contextTable)
        }
        let entryAddress = (contextTable & 0x000F_FFFF_FFFF_F000) + UInt64(rid & 0xff) * VTd.legacyContextEntrySize
        let old = memory.peek64(entryAddress, count: 2)
        var words: [UInt64] = [0, 0]
        if case .paging(let domain) = attachment, let table = domain.table as? DescriptorPageTable,
           let format = table.format as? VTdSecondStage {
            words = [table.root & 0x000F_FFFF_FFFF_F000 | 1, UInt64(format.aw) & 0x7 | (domainID(for: domain) & 0xffff) << 8]
        }
        try? memory.write64(entryAddress, words: words)
        configurationCache.removeAll { key, _ in key >> 32 == UInt64(rid) }
        if old[0] & 1 != 0 {
            iotlb.invalidate(.domain((old[1] >> 8) & 0xffff))
        }
    }

    /// `cache_tag_flush_range` after an unmap: the domain's DID over `range`; a nest
    /// parent's unmap also drops every nested translation built over it (the nested
    /// domains' DIDs, whatever their input address: a GPA range cannot be traced back).
    public func flushIOTLB(_ domain: PagingDomain, range: IOVARange) {
        if let did = domainIDs[ObjectIdentifier(domain)]?.did {
            iotlb.invalidate(.domain(did), range: range)
        }
        if domain.nestParent {
            for (nested, did) in domainIDs.values where (nested as? NestedDomain)?.parent === domain {
                iotlb.invalidate(.domain(did))
            }
        }
    }

    /// A guest's `iommu_hwpt_vtd_s1_invalidate` entry: the nested domain's translations in
    /// `[address, address + pages * 4K)`; `pages` = U64_MAX (with address 0) is everything.
    func flushNested(_ domain: NestedDomain, address: UInt64, pages: UInt64) {
        guard pages > 0, let did = domainIDs[ObjectIdentifier(domain)]?.did else { return }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: 4096)
        let range = IOVARange(start: address, last: overflow ? .max : (address.checkedAdd(bytes - 1) ?? .max))
        iotlb.invalidate(.addressSpaces(domain: did), range: range)
    }

    /// The device's requester ID: bus in bits 15:8, devfn in 7:0.
    func requesterID(_ device: PlatformDevice) -> UInt32 { device.streamID & 0xffff }

    /// `domain_attach_iommu`: the domain's DID on this unit, allocated at its first attach.
    func domainID(for domain: AnyObject) -> UInt64 {
        if let known = domainIDs[ObjectIdentifier(domain)] { return known.did }
        let did = nextDomainID
        nextDomainID += 1
        domainIDs[ObjectIdentifier(domain)] = (domain, did)
        return did
    }

    /// The unit's AGAW (`iommu->agaw`): 2 for 48 bits, 3 for 57.
    var adjustedGuestAddressWidth: UInt64 { UInt64(configuration.addressWidth - 30) / 9 }
    private var pageWalkSnoop: Bool { extendedCapabilityRegister >> 48 & 1 != 0 }  // ECAP.SMPWC

    /// `pasid_pte_config_first_level` (PGTT 1) or `pasid_pte_config_second_level` (PGTT 2),
    /// with SSADE while the domain's dirty tracking is enabled (`intel_pasid_setup_dirty_tracking`).
    private func pagingEntry(_ domain: PagingDomain) -> VTd.PASIDEntryFields? {
        guard let table = domain.table as? DescriptorPageTable else { return nil }
        if let format = table.format as? X86FirstStage {
            return VTd.PASIDEntryFields(pgtt: .firstStage, domainID: domainID(for: domain), addressWidth: adjustedGuestAddressWidth,
                                        pageWalkSnoop: pageWalkSnoop, firstStageTable: table.root, fiveLevel: format.levelCount == 5,
                                        pageSnoop: domain.enforcesCacheCoherency)
        }
        guard let format = table.format as? VTdSecondStage else { return nil }
        return VTd.PASIDEntryFields(pgtt: .secondStage, domainID: domainID(for: domain), addressWidth: UInt64(format.aw),
                                    pageWalkSnoop: pageWalkSnoop, secondStageTable: table.root,
                                    secondStageAD: domain.dirtyTrackingEnabled)
    }

    /// `pasid_pte_config_nestd`: the guest's first-stage root (a GPA) and flags over the
    /// parent's second stage, with the nested domain's own DID. WPE only with SRE; SSADE
    /// while the parent tracks dirty pages.
    private func nestedEntry(_ nested: NestedDomain) -> VTd.PASIDEntryFields? {
        guard case .vtdS1(let flags, let pageTable, let width) = nested.configuration,
              let table = nested.parent.table as? DescriptorPageTable, let format = table.format as? VTdSecondStage else { return nil }
        let sre = flags & 1 != 0
        return VTd.PASIDEntryFields(pgtt: .nested, domainID: domainID(for: nested), addressWidth: UInt64(format.aw),
                                    pageWalkSnoop: pageWalkSnoop, secondStageTable: table.root,
                                    secondStageAD: nested.parent.dirtyTrackingEnabled, firstStageTable: pageTable,
                                    fiveLevel: width == 57, pageSnoop: nested.parent.enforcesCacheCoherency,
                                    supervisorRequests: sre, writeProtect: sre && flags & 4 != 0, extendedAccessFlag: flags & 2 != 0)
    }

    /// The PASID entry's address for the device, creating the root table, the context table
    /// and entry, the PASID directory and the PASID table on the way as Linux does.
    private func pasidEntryAddress(_ device: PlatformDevice, pasid: UInt32, memory: PhysicalMemory) throws(Refusal) -> UInt64 {
        let rid = requesterID(device)
        let root: UInt64
        if let rootTable {
            root = rootTable
        } else {
            root = try memory.allocate(length: VTd.rootTableSize)
            rootTable = root
        }
        // iommu_context_addr: devfn 0-127 in the root entry's lower half, 128-255 in the upper.
        let bus = UInt64(rid >> 8), devfn = UInt64(rid & 0xff)
        let rootEntry = root + bus * VTd.rootEntrySize + (devfn >= 0x80 ? 8 : 0)
        var contextTable = memory.peek64(rootEntry)
        if contextTable & 1 == 0 {
            contextTable = try memory.allocate(length: PhysicalMemory.frameSize) | 1
            try? memory.write64(rootEntry, contextTable)
        }
        let contextEntry = (contextTable & ~0xfff) + (devfn & 0x7f) * VTd.contextEntrySize
        let directory: UInt64
        if let existing = pasidDirectories[rid], memory.peek64(contextEntry) & 1 != 0 {
            directory = existing
        } else {
            // intel_pasid_alloc_table + device_pasid_table_setup.
            let geometry = VTd.directoryGeometry(maxPASIDLog2: device.maxPASIDLog2)
            if let existing = pasidDirectories[rid] {
                directory = existing
            } else {
                directory = try memory.allocate(length: geometry.bytes, alignment: geometry.bytes)
                pasidDirectories[rid] = directory
            }
            let pasidEnabled = device.maxPASIDLog2 > 0 && extendedCapabilityRegister >> 40 & 1 != 0
            try? memory.write64(contextEntry, words: VTd.contextEntry(directory: directory, sizeCode: geometry.sizeCode,
                                                                     pasidEnabled: pasidEnabled))
        }
        // intel_pasid_get_entry: the directory entry's PASID table on demand.
        let directoryEntry = directory + UInt64(pasid >> VTd.pasidDirectoryShift) * VTd.directoryEntrySize
        var pasidTable = memory.peek64(directoryEntry)
        if pasidTable & 1 == 0 {
            pasidTable = try memory.allocate(length: PhysicalMemory.frameSize) | 1
            try? memory.write64(directoryEntry, pasidTable)
        }
        return (pasidTable & ~0xfff) + UInt64(pasid & 0x3f) * VTd.pasidEntrySize
    }

    // MARK: The walk

    /// One DMA request. Its steps are always recorded: a fault's reason is refined from the
    /// entries read before it (`VTdWalkRules.refine`, `checkTable`).
    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                          memory: PhysicalMemory, detail: WalkDetail) -> Result<Translation, TranslationFault>? {
        WalkRecord.run(detail: .steps, { (record: inout WalkRecord) throws(TranslationFault) in
            try walk(device, iova: iova, pasid: pasid, access: access, caches: caches, memory: memory, steps: &record.steps,
                     fetches: &record.fetches)
        }, adjustingFault: { fault in
            guard case .vtd(var record) = fault.record else { return }
            // dmar_fault_do_one: the request's identity; the recorded address is page-aligned.
            record.sourceID = UInt16(truncatingIfNeeded: requesterID(device))
            record.pasid = pasid
            record.address = iova.alignedDown(to: 4096)
            record.write = access.contains(.write)
            if translationTableMode == .legacy { record.reason = VTd.legacyReason(for: record.reason, write: record.write) }
            fault.record = .vtd(record)
        })
    }

    private func walk(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                      memory: PhysicalMemory, steps: inout [WalkStep],
                      fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> Translation {
        if pasid == nil && VTd.interruptRange.contains(iova) {
            // VT-d 3.14: requests without PASID to 0xFEEx_xxxx are interrupt requests, never
            // DMA-remapped (a write goes to interrupt remapping as it is); a read there is an
            // Unsupported Request, which records no DMA-remapping fault.
            guard access.contains(.write) else {
                throw TranslationFault(.terminated(.interruptRangeRead), stage: .configuration, level: 0, origin: .configuration)
            }
            return Translation(iova: iova, output: iova, pageSize: PhysicalMemory.frameSize, rights: .write, steps: [], iotlbHit: false)
        }
        let configuration = try configuration(rid: requesterID(device), pasid: pasid, caches: caches, memory: memory, fetches: &fetches)
        let entry = configuration.entry
        guard let tag = Self.iotlbTag(configuration) else {
            return Translation(iova: iova, output: iova, pageSize: PhysicalMemory.frameSize, rights: .readWrite, steps: [], iotlbHit: false)
        }
        // A hit that lacks the requested right is walked again (the cached rights may be
        // stale in the conservative direction; the walk decides the fault).
        let updates = HardwareUpdatePolicy(Self.updates(configuration), caches: caches)
        if updates.mayUseIOTLB(for: access), let hit = iotlb.lookup(tag, iova, policy: caches), hit.rights.isSuperset(of: access) {
            return Translation(iova: iova, hit: hit)
        }
        let result: StageOutput
        switch configuration.pgtt {
        case .secondStage:
            result = try secondStageWalk(configuration.secondStage!, root: entry.secondStageTable, input: iova, access: access,
                                         role: .stage2, updates: updates, memory: memory, steps: &steps)
        case .firstStage:
            result = try firstStageWalk(configuration.firstStage!, root: entry.firstStageTable, input: iova, access: access,
                                        memory: memory, steps: &steps)
        default:
            let s2 = configuration.secondStage!, s2root = entry.secondStageTable, s1root = entry.firstStageTable
            // Every first-stage table address is a GPA, translated (for read) before its fetch.
            let first = try firstStageWalk(configuration.firstStage!, root: s1root, input: iova, access: access,
                                           memory: memory, steps: &steps) { gpa, steps throws(TranslationFault) in
                do throws(TranslationFault) {
                    return try self.secondStageWalk(s2, root: s2root, input: gpa, access: .read, role: .stage2OfStage1Table,
                                                    updates: updates, memory: memory, steps: &steps).output
                } catch {
                    throw VTdWalkRules.nestedFirstStageFault(error, rootTable: gpa.alignedDown(to: 4096) == s1root)
                }
            }
            let second = try secondStageWalk(s2, root: s2root, input: first.output, access: access, role: .stage2OfOutput,
                                             updates: updates, memory: memory, steps: &steps)
            result = first.combined(withStage2: second)
        }
        let size = result.size
        // QEMU (VT-d 3.15): a translation into the interrupt range is blocked.
        if let page = IOVARange(start: result.output.alignedDown(to: size), length: size), page.intersects(VTd.interruptRange) {
            throw VTdFaultRecord(.interruptAddress).fault(configuration.pgtt == .firstStage ? .stage1 : .stage2, level: steps.last?.level ?? 0)
        }
        iotlb.insert(IOTLB.Entry(tag: tag, input: iova.alignedDown(to: size), size: size,
                                 output: result.output.alignedDown(to: size), rights: result.rights), policy: caches)
        return Translation(iova: iova, output: result.output, pageSize: size, rights: result.rights, steps: steps, iotlbHit: false)
    }

    /// Where the configuration cache files the entries of a RID's requests with `pasid` (nil: without one).
    private static func configurationKey(rid: UInt32, pasid: UInt32?) -> UInt64 { UInt64(rid) << 32 | UInt64(pasid ?? .max) }

    /// The IOTLB tag of the requests a configuration serves: the DID, with the PASID for
    /// first-stage and nested ones; nil for pass-through.
    private static func iotlbTag(_ configuration: VTd.CachedConfiguration) -> IOTLB.Tag? {
        switch configuration.pgtt {
        case .passThrough: nil
        case .secondStage: IOTLB.Tag(domain: configuration.entry.domainID, addressSpace: nil)
        case .firstStage, .nested: IOTLB.Tag(domain: configuration.entry.domainID, addressSpace: UInt64(configuration.pasid))
        }
    }

    /// SSADE: second-stage A/D updates (PGTT 2 and 3).
    private static func updates(_ configuration: VTd.CachedConfiguration) -> HardwareUpdates {
        configuration.entry.secondStageADEnable && configuration.pgtt != .firstStage ? [.access, .dirty] : []
    }

    /// The route of the device's requests while their context and PASID entries stay
    /// cached; requests without PASID to the interrupt range are decided before them.
    public func route(for device: PlatformDevice, pasid: UInt32?) -> TranslationRoute? {
        guard let configuration = configurationCache[Self.configurationKey(rid: requesterID(device), pasid: pasid)],
              let tag = Self.iotlbTag(configuration) else { return nil }
        return TranslationRoute(pasid: pasid, iotlb: iotlb, tag: tag, updates: Self.updates(configuration),
                                decidedFirst: pasid == nil ? VTd.interruptRange : nil, generation: cacheGeneration)
    }

    /// A fault in the root, context or PASID structures.
    private func configurationFault(_ reason: VTd.FaultReason, fetchAddress: UInt64? = nil) -> TranslationFault {
        VTdFaultRecord(reason, fetchAddress: fetchAddress).fault(.configuration, level: 0, origin: .configuration)
    }

    private func fetch(_ structure: ConfigurationFetch.Structure, at address: UInt64, count: Int = 1, _ memory: PhysicalMemory,
                       fault: VTd.FaultReason, into fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> [UInt64] {
        try memory.fetch(structure, at: address, count: count, into: &fetches) { self.configurationFault(fault, fetchAddress: $0) }
    }

    /// The (RID, PASID) configuration from the cache or from memory: root entry, context
    /// entry, PASID directory entry, PASID entry; a request without PASID uses RID_PASID.
    private func configuration(rid: UInt32, pasid requested: UInt32?, caches: CachePolicy, memory: PhysicalMemory,
                               fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> VTd.CachedConfiguration {
        let key = Self.configurationKey(rid: rid, pasid: requested)
        if let cached = configurationCache.cached(key, policy: caches) { return cached }
        guard let root = rootTable else { throw configurationFault(.invalidRootTableAddress) }
        if translationTableMode == .legacy {
            let cached = try legacyConfiguration(root: root, rid: rid, pasid: requested, memory: memory, fetches: &fetches)
            configurationCache.fill(key, cached, policy: caches)
            return cached
        }
        let bus = UInt64(rid >> 8), devfn = UInt64(rid & 0xff)
        let rootEntry = try fetch(.rootEntry, at: root + bus * VTd.rootEntrySize + (devfn >= 0x80 ? 8 : 0), memory,
                                  fault: .rootEntryAccess, into: &fetches)[0]
        guard rootEntry & 1 != 0 else { throw configurationFault(.smRootEntryNotPresent) }
        let contextAddress = (rootEntry & ~0xfff) + (devfn & 0x7f) * VTd.contextEntrySize
        let contextWords = try fetch(.contextEntry, at: contextAddress, count: 2, memory, fault: .contextEntryAccess, into: &fetches)
        let context = VTd.ContextEntry(lo: contextWords[0], hi: contextWords[1])
        guard context.present else { throw configurationFault(.smContextEntryNotPresent) }
        let pasid: UInt32
        if let requested {
            guard context.pasidEnabled else { throw configurationFault(.pasidNotEnabled) }
            pasid = requested
        } else {
            pasid = context.ridPASID
        }
        // ECAP.PSS: "requests-with-PASID with PASID value beyond the limit specified by this
        // field are treated as error" (VT-d spec, ECAP register). The spec names no code for
        // it; the model reports it as 0x46, the scalable-mode reason for a PASID above what
        // the context entry's PASID directory (PDTS) covers.
        guard UInt64(pasid) < min(context.pasidLimit, 1 << UInt64(maxPASIDLog2)) else { throw configurationFault(.pasidTooLarge) }
        let directoryEntry = try fetch(.pasidDirectoryEntry, at: context.directory + UInt64(pasid >> VTd.pasidDirectoryShift) * VTd.directoryEntrySize,
                                       memory, fault: .directoryAccess, into: &fetches)[0]
        guard directoryEntry & 1 != 0 else { throw configurationFault(.directoryNotPresent) }
        let entryAddress = (directoryEntry & ~0xfff) + UInt64(pasid & 0x3f) * VTd.pasidEntrySize
        let entry = VTd.PASIDEntry(words: try fetch(.pasidEntry, at: entryAddress, count: 8, memory, fault: .pasidTableAccess,
                                                    into: &fetches))
        guard entry.present else { throw configurationFault(.pasidEntryNotPresent) }
        guard let pgtt = entry.pgtt else { throw configurationFault(.invalidPASIDEntry) }
        var cached = VTd.CachedConfiguration(context: context, pasid: pasid, entry: entry, pgtt: pgtt)
        let cap = capabilityRegister
        if pgtt == .secondStage || pgtt == .nested {
            // AW must be a width CAP.SAGAW supports.
            let aw = entry.addressWidth
            guard (1...3).contains(aw), (cap >> (8 + aw)) & 1 != 0 else { throw configurationFault(.invalidPASIDEntry) }
            cached.secondStage = VTdSecondStage(levels: Int(aw) + 2, superpages: VTdSecondStage.Superpages(capability: cap),
                                                hostAddressBits: configuration.addressWidth)
        }
        if pgtt == .firstStage || pgtt == .nested {
            let mode = entry.firstStagePagingMode
            guard mode == 0 || (mode == 1 && (cap >> 60) & 1 != 0) else { throw configurationFault(.invalidPASIDEntry) }
            // The host address width bounds every first-stage address; XD is reserved (no NXE).
            cached.firstStage = X86FirstStage(levels: 4 + Int(mode), gigabytePages: (cap >> 56) & 1 != 0,
                                              physicalAddressBits: configuration.addressWidth, executeDisableReserved: true)
        }
        configurationCache.fill(key, cached, policy: caches)
        return cached
    }

    /// Legacy mode (RTADDR.TTM = 00b, VT-d spec 3.4.2): root entry → 128-bit context entry at
    /// devfn * 16 → the second-level table, with the legacy reasons of
    /// `dma_remap_fault_reasons[]`. The context entry's TT, AW, DID and SLPTPTR say what a
    /// scalable PASID entry's PGTT, AW, DID and SSPTPTR do, so the walk after it is the
    /// scalable one: TT 10b is pass-through, 00b and 01b second-level translation.
    private func legacyConfiguration(root: UInt64, rid: UInt32, pasid: UInt32?, memory: PhysicalMemory,
                                     fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> VTd.CachedConfiguration {
        // A request with PASID under TTM 00b (Linux: "SM: TTM 0 for request with PASID").
        guard pasid == nil else { throw configurationFault(.ttm0WithPASID) }
        let bus = UInt64(rid >> 8), devfn = UInt64(rid & 0xff)
        let rootEntry = try fetch(.rootEntry, at: root + bus * VTd.rootEntrySize, memory, fault: .rootTableInvalid,
                                  into: &fetches)[0]
        guard rootEntry & 1 != 0 else { throw configurationFault(.rootEntryNotPresent) }
        let words = try fetch(.contextEntry, at: (rootEntry & 0x000F_FFFF_FFFF_F000) + devfn * VTd.legacyContextEntrySize, count: 2,
                              memory, fault: .contextTableInvalid, into: &fetches)
        let context = VTd.ContextEntry(lo: words[0], hi: words[1])
        guard context.present else { throw configurationFault(.contextEntryNotPresent) }
        let aw = context.legacyAddressWidth, cap = capabilityRegister
        guard context.translationType != 0b11 else { throw configurationFault(.invalidContextEntry) }
        let pgtt: VTd.PGTT = context.passThrough ? .passThrough : .secondStage
        let entry = VTd.PASIDEntry(words: VTd.PASIDEntryFields(pgtt: pgtt, domainID: context.legacyDomainID, addressWidth: aw,
                                                               pageWalkSnoop: false,
                                                               secondStageTable: context.secondLevelTable).words)
        var cached = VTd.CachedConfiguration(context: context, pasid: 0, entry: entry, pgtt: pgtt)
        if pgtt == .secondStage {
            // AW must be a width CAP.SAGAW supports.
            guard (1...3).contains(aw), (cap >> (8 + aw)) & 1 != 0 else { throw configurationFault(.invalidContextEntry) }
            cached.secondStage = VTdSecondStage(levels: Int(aw) + 2, superpages: VTdSecondStage.Superpages(capability: cap),
                                                hostAddressBits: configuration.addressWidth)
        }
        return cached
    }

    /// A second-stage walk; a `role` other than `.stage2` is one resolving a GPA for a nested translation.
    private func secondStageWalk(_ format: VTdSecondStage, root: UInt64, input: UInt64, access: AccessRights, role: WalkStep.Role,
                                 updates: HardwareUpdatePolicy, memory: PhysicalMemory,
                                 steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
        let rules = VTdWalkRules(stage: .stage2, rootLevel: format.rootLevel, outputBits: configuration.addressWidth)
        let walker = StageWalker(format: format, rules: rules, memory: memory, stage: .stage2, role: role)
        let start = steps.count
        do {
            return try walker.walk(root: root, input: input, access: access, steps: &steps, updates: updates) { entry, steps throws(TranslationFault) in
                if let previous = steps[start...].last(where: { $0.stage == .stage2 }) { try rules.checkTable(previous, access: access) }
                return entry
            }
        } catch {
            var fault = rules.refine(error, last: steps[start...].last(where: { $0.stage == .stage2 }), access: access)
            if role != .stage2, case .vtd(var record) = fault.record {
                record.gpa = input
                fault.record = .vtd(record)
            }
            throw fault
        }
    }

    /// A first-stage walk: the canonical check, then x86-64 paging; `tableAddress` turns each
    /// entry's address into the host address to read (a second-stage walk when nested).
    private func firstStageWalk(_ format: X86FirstStage, root: UInt64, input: UInt64, access: AccessRights,
                                memory: PhysicalMemory, steps: inout [WalkStep],
                                tableAddress: (UInt64, inout [WalkStep]) throws(TranslationFault) -> UInt64 = { address, _ in address })
        throws(TranslationFault) -> StageOutput {
        let rules = VTdWalkRules(stage: .stage1, rootLevel: format.rootLevel, outputBits: configuration.addressWidth)
        guard format.isCanonical(input) else { throw rules.fault(.inputRange, stage: .stage1, level: format.rootLevel, access: access) }
        let walker = StageWalker(format: format, rules: rules, memory: memory, stage: .stage1)
        let start = steps.count
        // The walk indexes bits 47:12 (56:12); the sign extension above them is checked.
        let bits = (UInt64(1) << UInt64(format.inputBits)) - 1
        do {
            return try walker.walk(root: root, input: input & bits, access: access, steps: &steps) { entry, steps throws(TranslationFault) in
                if let previous = steps[start...].last(where: { $0.stage == .stage1 }) { try rules.checkTable(previous, access: access) }
                return try tableAddress(entry, &steps)
            }
        } catch {
            throw rules.refine(error, last: steps[start...].last(where: { $0.stage == .stage1 }), access: access)
        }
    }
}

extension IntelVTd {
    /// The device's root entry, scalable context entry and the PASID entry of `pasid` (with its
    /// PASID directory entry) or of RID_PASID 0, read back; in legacy mode the root entry and
    /// the 128-bit legacy context entry.
    public func configurationStructures(for device: PlatformDevice, pasid: UInt32?, memory: PhysicalMemory) -> [ConfigurationStructure] {
        guard let rootTable else { return [] }
        let rid = requesterID(device), bus = UInt64(rid >> 8), devfn = UInt64(rid & 0xff)
        let rootEntry = rootTable + bus * VTd.rootEntrySize
        let root = memory.peek64(rootEntry, count: 2)
        typealias F = VTd.Field
        let rootFields = translationTableMode == .legacy
            ? [DescriptorField(F.rootP, of: root[0]), DescriptorField(F.ctp, root[0] & ~0xfff)]
            : [DescriptorField(F.lp, of: root[0]), DescriptorField(F.lctp, root[0] & ~0xfff),
               DescriptorField(F.up, words: root), DescriptorField(F.uctp, root[1] & ~0xfff)]
        var structures = [ConfigurationStructure(name: "root entry", address: rootEntry, words: root, fields: rootFields)]
        if translationTableMode == .legacy {
            guard root[0] & 1 != 0 else { return structures }
            let contextAddress = (root[0] & ~0xfff) + devfn * VTd.legacyContextEntrySize
            let context = memory.peek64(contextAddress, count: 2)
            structures.append(ConfigurationStructure(name: "context entry", address: contextAddress, words: context, fields: [
                DescriptorField(F.p, words: context), DescriptorField(F.fpd, words: context), DescriptorField(F.tt, words: context),
                DescriptorField(F.slptptr, context[0] & ~0xfff), DescriptorField(F.aw, words: context),
                DescriptorField(F.did, words: context),
            ]))
            return structures
        }
        let contextTable = root[devfn >= 0x80 ? 1 : 0]
        guard contextTable & 1 != 0 else { return structures }
        let contextAddress = (contextTable & ~0xfff) + (devfn & 0x7f) * VTd.contextEntrySize
        let context = memory.peek64(contextAddress, count: 2)
        structures.append(ConfigurationStructure(name: "context entry", address: contextAddress, words: context, fields: [
            DescriptorField(F.scalableP, words: context), DescriptorField(F.pre, words: context), DescriptorField(F.pdts, words: context),
            DescriptorField(F.pasidDirPtr, context[0] & ~0xfff), DescriptorField(F.ridPASID, words: context),
        ]))
        guard context[0] & 1 != 0 else { return structures }
        let index = UInt64(pasid ?? 0)
        let directoryAddress = (context[0] & ~0xfff) + (index >> VTd.pasidDirectoryShift) * VTd.directoryEntrySize
        let directoryEntry = memory.peek64(directoryAddress)
        if pasid != nil {
            structures.append(ConfigurationStructure(name: "PASID directory entry", address: directoryAddress, words: [directoryEntry],
                                                     fields: [DescriptorField(F.directoryP, of: directoryEntry),
                                                              DescriptorField(F.smptblptr, directoryEntry & ~0xfff)]))
        }
        guard directoryEntry & 1 != 0 else { return structures }
        let entryAddress = (directoryEntry & ~0xfff) + (index & ((1 << VTd.pasidDirectoryShift) - 1)) * VTd.pasidEntrySize
        let entry = memory.peek64(entryAddress, count: 4)
        structures.append(ConfigurationStructure(name: "PASID entry \(index)", address: entryAddress, words: entry, fields: [
            DescriptorField(F.pasidP, words: entry), DescriptorField(F.pasidFPD, words: entry), DescriptorField(F.pasidAW, words: entry),
            DescriptorField(F.pgtt, words: entry), DescriptorField(F.ssade, words: entry),
            DescriptorField(F.ssptptr, entry[0] & ~0xfff), DescriptorField(F.pasidDID, words: entry),
            DescriptorField(F.sre, words: entry), DescriptorField(F.fspm, words: entry), DescriptorField(F.wpe, words: entry),
            DescriptorField(F.fsptptr, entry[2] & ~0xfff),
        ]))
        return structures
    }
}
