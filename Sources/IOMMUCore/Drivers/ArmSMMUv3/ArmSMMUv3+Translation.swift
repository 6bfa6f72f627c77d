/// The SMMUv3 configuration Linux installs in host memory, and the walk the SMMU makes from
/// the STE through the CD to the translation tables (IHI0070 chapter 3; QEMU `smmuv3.c` and
/// `smmu-common.c`, following the architecture where QEMU simplifies).
extension ArmSMMUv3 {
    // MARK: Installing STEs and CDs

    /// `arm_smmu_attach_dev` and its blocked/nested variants for the RID, `arm_smmu_set_pasid`
    /// and `arm_smmu_blocking_set_dev_pasid` for a PASID: CDs are written before the STE that
    /// points at them, and the CD the RID no longer uses is cleared after it.
    public func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {
        let sid = device.streamID
        if pasid == noPASID {
            ridAttachments[sid] = attachment
            writeStreamTableEntry(device, memory: memory)
            if !isStage1(attachment) { clearContext(sid, substream: 0, memory: memory) }
        } else if case .paging(let domain) = attachment, let cd = contextDescriptor(domain, for: device) {
            writeContext(device, substream: pasid, cd, memory: memory)
            // arm_smmu_update_ste: a RID without the CD table in its STE gets it now, with
            // S1DSS keeping its blocked behaviour for transactions without a PASID.
            if !isStage1(ridAttachments[sid] ?? .blocked) { writeStreamTableEntry(device, memory: memory) }
        } else {
            clearContext(sid, substream: pasid, memory: memory)
            // The last PASID gone: re-attaching the blocked RID drops the CD table from the STE.
            if contextTables[sid]?.usedSSIDs.isEmpty ?? true, !isStage1(ridAttachments[sid] ?? .blocked) {
                writeStreamTableEntry(device, memory: memory)
            }
        }
        // arm_smmu_write_ste and arm_smmu_write_cd_entry end with CFGI_STE / CFGI_CD.
        forgetConfiguration(of: sid)
    }

    /// CFGI_STE / CFGI_CD of a StreamID: its cached STE and every CD read through it go.
    func forgetConfiguration(of sid: UInt32) {
        configurationCache[sid] = nil
        contextCache.removeAll { key, _ in key >> 32 == UInt64(sid) }
    }

    /// `arm_smmu_install_ste_for_dev`: the RID's STE into the stream table.
    private func writeStreamTableEntry(_ device: PlatformDevice, memory: PhysicalMemory) {
        guard let base = try? streamTableBase(memory) else { return }
        try? memory.write64(base + UInt64(device.streamID) * SMMUv3.steSize, words: streamTableEntry(device, memory: memory))
    }

    /// `arm_smmu_s1_set_dev_pasid` and `arm_smmu_set_pasid`: only a stage-1 paging domain of
    /// this SMMU attaches to a PASID, the core bounds the PASID by the master's `max_pasids`
    /// (the device's width and IDR1.SSIDSIZE), and the RID must already use the CD table (a
    /// stage-1 domain) or be blocked.
    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain, pasid: UInt32) throws(Refusal) {
        guard pasid != noPASID else { return try checkAttach(device, to: domain) }
        guard UInt64(pasid) >> UInt64(substreamBits(device)) == 0 else {
            throw Refusal(.EINVAL, .armSMMUSubstreamRange, values: [Refusal.InvolvedValue("pasid", UInt64(pasid), .requested),
                                                                    Refusal.InvolvedValue("ssid_bits", UInt64(substreamBits(device)), .limit)])
        }
        try checkAttach(device, to: domain)
        guard domain.stage == .stage1 else {
            throw Refusal(.EINVAL, .armSMMUPASIDNeedsStage1, values: [Refusal.InvolvedValue("domain \(domain.stage.rawValue)", nil, .requested)])
        }
        switch ridAttachments[device.streamID] ?? .blocked {
        case .blocked: break
        case .paging(let rid) where rid.stage == .stage1: break
        case .paging(let rid):
            throw Refusal(.EINVAL, .armSMMUPASIDWithoutCDTable, values: [Refusal.InvolvedValue("RID domain \(rid.stage.rawValue)", nil, .existing)])
        case .nested:
            throw Refusal(.EINVAL, .armSMMUPASIDWithoutCDTable, values: [Refusal.InvolvedValue("RID domain nested", nil, .existing)])
        }
    }

    /// `master->ssid_bits`: the PCI function's PASID width, bounded by IDR1.SSIDSIZE.
    func substreamBits(_ device: PlatformDevice) -> Int { min(Int(device.maxPASIDLog2), SMMUv3.substreamIDBits) }

    private func isStage1(_ attachment: DeviceAttachment) -> Bool {
        if case .paging(let domain) = attachment { return domain.stage == .stage1 }
        return false
    }

    /// The RID's STE as `arm_smmu_attach_dev*` builds it for the attachment recorded for the
    /// StreamID; a blocked RID whose CD table serves PASIDs gets a CD-table STE with
    /// S1DSS = terminate (`arm_smmu_attach_dev_ste`).
    private func streamTableEntry(_ device: PlatformDevice, memory: PhysicalMemory) -> [UInt64] {
        let sid = device.streamID, features = SMMUv3.Features.simulated
        switch ridAttachments[sid] ?? .blocked {
        case .blocked:
            guard let table = contextTables[sid], !table.usedSSIDs.isEmpty else { return SMMUv3.abortSTE }
            return SMMUv3.cdTableSTE(table: table.base, format: table.format, s1cdmax: table.s1cdmax, s1dss: .terminate,
                                     stallEnabled: stallEnabled(device), features: features)
        case .paging(let domain) where domain.stage == .stage2:
            return stage2STE(domain) ?? SMMUv3.abortSTE
        case .paging(let domain):
            // arm_smmu_attach_dev: CD 0 holds the domain's CD, S1DSS = SSID0.
            guard let cd = contextDescriptor(domain, for: device), writeContext(device, substream: 0, cd, memory: memory),
                  let table = contextTables[sid] else { return SMMUv3.abortSTE }
            return SMMUv3.cdTableSTE(table: table.base, format: table.format, s1cdmax: table.s1cdmax, s1dss: .substream0,
                                     stallEnabled: stallEnabled(device), features: features)
        case .nested(let nested):
            // arm_smmu_make_nested_domain_ste: a non-valid vSTE becomes an abort STE (so that
            // C_BAD_STE could be reported to the guest), a bypass vSTE the parent's S2 STE.
            guard case .armSMMUv3(let vste) = nested.configuration, vste[0] & 1 != 0,
                  let s2 = stage2STE(nested.parent) else { return SMMUv3.abortSTE }
            switch SMMUv3.Config(rawValue: (vste[0] >> 1) & 0x7) {
            case .bypass?: return s2
            case .stage1?: return SMMUv3.nestedSTE(vste: vste, stage2: s2)
            default: return SMMUv3.abortSTE
            }
        }
    }

    /// `arm_smmu_alloc_cd_ptr`: the master's CD table (allocated on first use) and the slot of
    /// `substream` in it.
    @discardableResult
    private func contextSlot(_ device: PlatformDevice, substream: UInt32, memory: PhysicalMemory) throws(Refusal) -> UInt64 {
        var table: SMMUv3.ContextTable
        if let existing = contextTables[device.streamID] {
            table = existing
        } else {
            table = try SMMUv3.ContextTable.allocate(ssidBits: substreamBits(device), memory: memory)
        }
        defer { contextTables[device.streamID] = table }
        guard let address = try table.descriptorAddress(substream, memory: memory, allocating: true) else {
            throw .contextTableMemory(substream: substream)
        }
        return address
    }

    /// `arm_smmu_write_cd_entry`: writes a CD and counts the valid CDs of non-zero SSIDs.
    @discardableResult
    private func writeContext(_ device: PlatformDevice, substream: UInt32, _ cd: [UInt64], memory: PhysicalMemory) -> Bool {
        guard let address = try? contextSlot(device, substream: substream, memory: memory),
              (try? memory.write64(address, words: cd)) != nil else { return false }
        if substream != 0 { contextTables[device.streamID]?.usedSSIDs.insert(substream) }
        return true
    }

    /// `arm_smmu_clear_cd`: zeroes the CD of `substream` if the table has a slot for it.
    private func clearContext(_ sid: UInt32, substream: UInt32, memory: PhysicalMemory) {
        guard var table = contextTables[sid],
              let address = try? table.descriptorAddress(substream, memory: memory, allocating: false) else { return }
        try? memory.write64(address, words: [0, 0, 0, 0])
        table.usedSSIDs.remove(substream)
        contextTables[sid] = table
    }

    /// The device's STE and, for a stage-1 STE, the CD a transaction at `pasid` (none: the
    /// one S1DSS selects) uses, with the L1 descriptor of a two-level table. Nested CD tables
    /// live in guest memory and are not shown.
    public func configurationStructures(for device: PlatformDevice, pasid: UInt32?, memory: PhysicalMemory) -> [ConfigurationStructure] {
        guard let base = streamTable else { return [] }
        let address = base + UInt64(device.streamID) * SMMUv3.steSize
        let words = memory.peek64(address, count: 4)
        let ste = SMMUv3.StreamTableEntry(words: words)
        var structures = [ConfigurationStructure(name: "STE", address: address, words: words, fields: ste.fields)]
        guard ste.config == .stage1, let format = ste.contextTableFormat else { return structures }
        let index: UInt32
        if let pasid {
            guard UInt64(pasid) >> UInt64(min(ste.s1cdmax, SMMUv3.substreamIDBits)) == 0 else { return structures }
            index = pasid
        } else {
            guard ste.s1cdmax == 0 || ste.defaultSubstream == .substream0 else { return structures }
            index = 0
        }
        var cdAddress = ste.contextPointer + UInt64(index) * SMMUv3.cdSize
        if ste.s1cdmax > 0, let split = format.split {
            let l1Address = ste.contextPointer + UInt64(index >> UInt32(split)) * SMMUv3.l1DescriptorSize
            let l1 = memory.peek64(l1Address)
            structures.append(ConfigurationStructure(name: "L1CD", address: l1Address, words: [l1], fields: [
                DescriptorField(SMMUv3.L1CDField.v, of: l1), DescriptorField(SMMUv3.L1CDField.l2Ptr, l1 & SMMUv3.l1DescriptorPointerMask),
            ]))
            guard l1 & SMMUv3.l1DescriptorValid != 0 else { return structures }
            cdAddress = (l1 & SMMUv3.l1DescriptorPointerMask) + UInt64(index & ((1 << UInt32(split)) - 1)) * SMMUv3.cdSize
        }
        let cdWords = memory.peek64(cdAddress, count: 4)
        let cd = SMMUv3.ContextDescriptor(words: cdWords)
        structures.append(ConfigurationStructure(name: "CD \(index)", address: cdAddress, words: cdWords, fields: cd.fields))
        return structures
    }

    /// `arm_smmu_tlb_inv_range_domain`: by ASID for stage 1; by VMID for stage 2, where a
    /// nest parent's unmap also drops the stage-1 entries built over it (TLBI_NH_ALL).
    public func flushIOTLB(_ domain: PagingDomain, range: IOVARange) {
        guard let tag = domainTags[domain] else { return }
        if domain.stage == .stage2 {
            iotlb.invalidate(.addressSpaces(domain: tag))
            iotlb.invalidate(.tag(IOTLB.Tag(domain: tag, addressSpace: nil)), range: range)
        } else {
            iotlb.invalidate(.tag(IOTLB.Tag(domain: nil, addressSpace: tag)), range: range)
        }
    }

    private func streamTableBase(_ memory: PhysicalMemory) throws(Refusal) -> UInt64 {
        try memory.allocateOnce(&streamTable, length: SMMUv3.steSize << UInt64(SMMUv3.streamIDBits))
    }

    func tag(for domain: PagingDomain) -> UInt64 {
        if let tag = domainTags[domain] { return tag }
        let tag: UInt64
        if domain.stage == .stage2 { tag = nextVMID; nextVMID += 1 } else { tag = nextASID; nextASID += 1 }
        domainTags[domain] = tag
        return tag
    }

    /// `arm_smmu_make_s2_domain_ste` for a stage-2 domain.
    private func stage2STE(_ domain: PagingDomain) -> [UInt64]? {
        guard let table = domain.table as? DescriptorPageTable, let format = table.format as? ArmLPAE else { return nil }
        return SMMUv3.stage2STE(vtcr: SMMUv3.TranslationControl(format), vttbr: table.root, vmid: tag(for: domain),
                                s2fwb: format.s2fwb, features: .simulated)
    }

    /// `arm_smmu_make_s1_cd` for a stage-1 domain and the master it is written for.
    private func contextDescriptor(_ domain: PagingDomain, for device: PlatformDevice) -> [UInt64]? {
        guard domain.stage == .stage1, let table = domain.table as? DescriptorPageTable,
              let format = table.format as? ArmLPAE else { return nil }
        return SMMUv3.contextDescriptor(for: format, root: table.root, asid: tag(for: domain), dirty: domain.dirtyTracking,
                                        stall: stallEnabled(device))
    }

    /// `arm_smmu_probe_device`: `master->stall_enabled` for a `dma-can-stall` device on an SMMU
    /// with ARM_SMMU_FEAT_STALLS (IDR0.STALL_MODEL = 0b00, the simulated SMMU's).
    func stallEnabled(_ device: PlatformDevice) -> Bool {
        SMMUv3.Features.simulated.stalls && device.recoverableFaults.contains(.stall)
    }

    // MARK: The walk

    /// A transaction of the device, with SSV and SubstreamID when `pasid` is given.
    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                          memory: PhysicalMemory, detail: WalkDetail) -> Result<Translation, TranslationFault>? {
        var stalls = false
        return WalkRecord.run(detail: detail, { (record: inout WalkRecord) throws(TranslationFault) in
            try walk(device, iova: iova, substream: pasid, access: access, caches: caches, memory: memory, recording: record.recordsSteps,
                     steps: &record.steps, fetches: &record.fetches, stalls: &stalls)
        }, adjustingFault: { fault in
            fault = fault.changingSMMUv3Event { event in
                // Every event of a transaction with a substream records SSV and the SubstreamID.
                event.substreamID = pasid
                // IHI0070 3.12.2: under a CD with S = 1 (and no S1STALLD), a stage-1 translation,
                // address size, access or permission fault stalls the transaction: the event has
                // Stall = 1 and a STAG that CMD_RESUME names. Stage 2 never stalls here: Linux
                // leaves STE.S2S clear (the host's stage 2 is pinned).
                if stalls, !event.stage2, [.F_TRANSLATION, .F_ADDR_SIZE, .F_ACCESS, .F_PERMISSION].contains(event.id) {
                    event.stag = nextStallTag
                    // A view shows the tag the SMMU would give, without taking it.
                    if caches.fills { nextStallTag &+= 1 }
                }
            }
        })
    }

    /// An event found while reading the STE or CD, before any translation table.
    private func configurationFault(_ id: SMMUv3Event.ID, _ device: PlatformDevice, iova: UInt64,
                                    fetchAddress: UInt64? = nil) -> TranslationFault {
        var event = SMMUv3Event(id, streamID: device.streamID, inputAddress: iova)
        event.fetchAddress = fetchAddress
        return TranslationFault(.smmuv3(event), stage: .configuration, level: 0, origin: .configuration)
    }

    /// A translation event of the input address that the configuration decides (no walk).
    private func inputFault(_ id: SMMUv3Event.ID, _ device: PlatformDevice, iova: UInt64, access: AccessRights,
                            stage: TranslationStage, level: Int, origin: FaultOrigin) -> TranslationFault {
        SMMUv3.inputFault(id, streamID: device.streamID, iova: iova, access: access, stage: stage, level: level, origin: origin)
    }

    /// `stalls` is set once the CD that serves the transaction says its stage-1 faults stall.
    private func walk(_ device: PlatformDevice, iova: UInt64, substream: UInt32?, access: AccessRights, caches: CachePolicy,
                      memory: PhysicalMemory, recording: Bool, steps: inout [WalkStep], fetches: inout [ConfigurationFetch],
                      stalls: inout Bool) throws(TranslationFault) -> Translation {
        let configuration = try configuration(of: device, iova: iova, caches: caches, memory: memory, fetches: &fetches)
        let ste = configuration.ste
        // STE.Config = abort terminates the transaction without recording an event.
        if ste.config == .abort {
            throw TranslationFault(.terminated(.streamAborted), stage: .configuration, level: 0, origin: .configuration)
        }
        let context: SMMUv3.CachedContext?
        if let index = try contextIndex(device, iova: iova, substream: substream, ste: ste) {
            context = try self.context(index, of: device, configuration, iova: iova, access: access, caches: caches, memory: memory,
                                       recording: recording, steps: &steps, fetches: &fetches)
        } else {
            context = nil
        }
        stalls = (context?.cd.stall ?? false) && !ste.stage1StallDisabled
        guard let tag = iotlbTag(ste, context) else {
            // Both stages bypassed: the output is the input.
            return Translation(iova: iova, output: iova, pageSize: pageSize, rights: .readWrite, steps: steps, iotlbHit: false)
        }
        let s1Updates = HardwareUpdatePolicy(stage1Updates(context), caches: caches)
        if s1Updates.mayUseIOTLB(for: access), let hit = iotlb.lookup(tag, iova, policy: caches) {
            guard hit.rights.isSuperset(of: access) else {
                throw inputFault(.F_PERMISSION, device, iova: iova, access: access, stage: context == nil ? .stage2 : .stage1,
                                 level: 0, origin: .iotlb)
            }
            return Translation(iova: iova, hit: hit, steps: steps)
        }
        let stages = SMMUv3.ConfiguredWalk(configuration, context, ias: self.configuration.ias, streamID: device.streamID)
        let result = try stages.walk(iova, access: access, updates: s1Updates, memory: memory, recording: recording, steps: &steps)
        iotlb.insert(stages.entry(result, iova: iova, tag: tag), policy: caches)
        return Translation(iova: iova, output: result.output, pageSize: result.size, rights: result.rights, steps: steps, iotlbHit: false)
    }

    /// The IOTLB tag of a transaction under `ste` and the CD that serves it (the VMID, the
    /// ASID or both); nil when both stages are bypassed.
    private func iotlbTag(_ ste: SMMUv3.StreamTableEntry, _ context: SMMUv3.CachedContext?) -> IOTLB.Tag? {
        switch (ste.config, context) {
        case (.bypass?, _), (.stage1?, nil), (.abort?, _), (nil, _): nil
        case (.stage1?, let context?): IOTLB.Tag(domain: nil, addressSpace: context.cd.asid)
        case (.nested?, let context?): IOTLB.Tag(domain: ste.vmid, addressSpace: context.cd.asid)
        case (.stage2?, _), (.nested?, nil): IOTLB.Tag(domain: ste.vmid, addressSpace: nil)
        }
    }

    /// CD.AFFD/HA/HD of a stage-1 configuration (the guest's CD for a nested STE).
    private func stage1Updates(_ context: SMMUv3.CachedContext?) -> HardwareUpdates {
        context?.cd.hardwareUpdates(httu: self.configuration.httu) ?? []
    }

    /// The route of the device's transactions while its STE (and the CD that serves them)
    /// stay cached: nil until they are, and for a configuration that aborts, bypasses both
    /// stages or refuses the substream. Without HTTU it walks the misses too.
    public func route(for device: PlatformDevice, pasid: UInt32?) -> TranslationRoute? {
        guard let configuration = configurationCache[device.streamID] else { return nil }
        let ste = configuration.ste
        let index: UInt32?, context: SMMUv3.CachedContext?
        do throws(TranslationFault) {
            index = try contextIndex(device, iova: 0, substream: pasid, ste: ste)
        } catch {
            return nil
        }
        if let index {
            guard let cached = contextCache[SMMUv3.contextKey(device.streamID, substream: index)] else { return nil }
            context = cached
        } else {
            context = nil
        }
        guard let tag = iotlbTag(ste, context) else { return nil }
        let updates = stage1Updates(context)
        // The walk depends on the STE and the CD serving the transaction, so the routes of
        // PASIDs served by one CD share it (a CD index is below 2^SSIDSIZE: UInt32.max files
        // the walk with stage 1 bypassed). A miss walked with HTTU may write descriptors: the
        // driver walks those.
        let key = SMMUv3.contextKey(device.streamID, substream: index ?? .max)
        return TranslationRoute(pasid: pasid, iotlb: iotlb, tag: tag, updates: updates, generation: cacheGeneration,
                                missWalk: updates.isEmpty ? (key, { [self] in
                                    SMMUv3.RouteMissWalk(SMMUv3.ConfiguredWalk(configuration, context, ias: self.configuration.ias,
                                                                               streamID: device.streamID), iotlb: iotlb, tag: tag)
                                }) : nil)
    }

    /// The StreamID's STE, from the configuration cache or fetched from the stream table and
    /// checked as IHI0070 5.2 requires (ILLEGAL fields are C_BAD_STE).
    private func configuration(of device: PlatformDevice, iova: UInt64, caches: CachePolicy, memory: PhysicalMemory,
                               fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> SMMUv3.CachedConfiguration {
        if let cached = configurationCache.cached(device.streamID, policy: caches) { return cached }
        guard let base = streamTable, UInt64(device.streamID) >> UInt64(SMMUv3.streamIDBits) == 0 else {
            throw configurationFault(.C_BAD_STREAMID, device, iova: iova)
        }
        let ste = SMMUv3.StreamTableEntry(words: try memory.fetch(.streamTableEntry, at: base + UInt64(device.streamID) * SMMUv3.steSize,
                                                                  count: 4, into: &fetches) {
            self.configurationFault(.F_STE_FETCH, device, iova: iova, fetchAddress: $0)
        })
        guard ste.valid, let config = ste.config else { throw configurationFault(.C_BAD_STE, device, iova: iova) }
        var cached = SMMUv3.CachedConfiguration(ste: ste)
        if config == .stage2 || config == .nested {
            guard let s2 = ste.stage2Format else { throw configurationFault(.C_BAD_STE, device, iova: iova) }
            cached.stage2 = s2
        }
        if config == .stage1 || config == .nested {
            // S1CDMax beyond IDR1.SSIDSIZE is ILLEGAL; with substreams, so are the reserved
            // S1Fmt and S1DSS encodings (both are ignored when S1CDMax = 0).
            guard ste.s1cdmax <= SMMUv3.substreamIDBits,
                  ste.s1cdmax == 0 || (ste.contextTableFormat != nil && ste.defaultSubstream != nil) else {
                throw configurationFault(.C_BAD_STE, device, iova: iova)
            }
        }
        configurationCache.fill(device.streamID, cached, policy: caches)
        return cached
    }

    /// Which CD serves the transaction (IHI0070 3.9 and STE.S1DSS), or nil when stage 1 is
    /// bypassed. A SubstreamID needs stage 1 with substreams (S1CDMax > 0) and must be below
    /// 2^S1CDMax, else C_BAD_SUBSTREAMID; with S1DSS = SSID0, SubstreamID 0 is reserved for
    /// transactions without one. Without a SubstreamID, S1DSS decides.
    private func contextIndex(_ device: PlatformDevice, iova: UInt64, substream: UInt32?,
                              ste: SMMUv3.StreamTableEntry) throws(TranslationFault) -> UInt32? {
        let stage1 = ste.config == .stage1 || ste.config == .nested
        if let substream {
            guard stage1, ste.s1cdmax > 0, UInt64(substream) >> UInt64(ste.s1cdmax) == 0,
                  substream != 0 || ste.defaultSubstream != .substream0 else {
                throw configurationFault(.C_BAD_SUBSTREAMID, device, iova: iova)
            }
            return substream
        }
        guard stage1 else { return nil }
        guard ste.s1cdmax > 0 else { return 0 }
        switch ste.defaultSubstream {
        case .terminate?: throw configurationFault(.F_STREAM_DISABLED, device, iova: iova)
        case .bypass?: return nil
        default: return 0
        }
    }

    /// The CD at `index` of the STE's CD table, from the configuration cache or fetched: the
    /// L1 descriptor of a two-level table first (V = 0 is C_BAD_SUBSTREAMID), then the CD
    /// (C_BAD_CD unless valid, AArch64 and consistent). For a nested STE every address is an
    /// IPA that stage 2 resolves first (CLASS = CD).
    private func context(_ index: UInt32, of device: PlatformDevice, _ configuration: SMMUv3.CachedConfiguration, iova: UInt64,
                         access: AccessRights, caches: CachePolicy, memory: PhysicalMemory, recording: Bool, steps: inout [WalkStep],
                         fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> SMMUv3.CachedContext {
        let key = SMMUv3.contextKey(device.streamID, substream: index)
        if let cached = contextCache.cached(key, policy: caches) { return cached }
        let ste = configuration.ste, stage2 = configuration.stage2
        var event = SMMUv3Event(.F_TRANSLATION, streamID: device.streamID, inputAddress: iova)
        event.read = !access.contains(.write)
        event.eventClass = .CD
        func hostAddress(_ address: UInt64) throws(TranslationFault) -> UInt64 {
            guard ste.config == .nested, let stage2 else { return address }
            return try SMMUv3.stage2Walk(stage2, root: ste.s2ttb, ipa: address, access: .read, event: event,
                                         role: .stage2OfConfiguration, memory: memory, recording: recording, steps: &steps).output
        }
        var cdAddress = ste.contextPointer + UInt64(index) * SMMUv3.cdSize
        if ste.s1cdmax > 0, let split = ste.contextTableFormat?.split {
            let l1Address = try hostAddress(ste.contextPointer + UInt64(index >> UInt32(split)) * SMMUv3.l1DescriptorSize)
            let l1 = try memory.fetch(.contextDescriptorL1, at: l1Address, count: 1, into: &fetches) {
                self.configurationFault(.F_CD_FETCH, device, iova: iova, fetchAddress: $0)
            }[0]
            guard l1 & SMMUv3.l1DescriptorValid != 0 else { throw configurationFault(.C_BAD_SUBSTREAMID, device, iova: iova) }
            cdAddress = (l1 & SMMUv3.l1DescriptorPointerMask) + UInt64(index & ((1 << UInt32(split)) - 1)) * SMMUv3.cdSize
        }
        let cd = SMMUv3.ContextDescriptor(words: try memory.fetch(.contextDescriptor, at: try hostAddress(cdAddress), count: 2,
                                                                 into: &fetches) {
            self.configurationFault(.F_CD_FETCH, device, iova: iova, fetchAddress: $0)
        })
        let context = try decode(cd, device, iova: iova, access: access)
        contextCache.fill(key, context, policy: caches)
        return context
    }

    /// The checks of a fetched CD (IHI0070 5.4): C_BAD_CD unless it is valid, AArch64 and
    /// describes a stage-1 format; a disabled TTB0 region (EPD0) translates nothing.
    private func decode(_ cd: SMMUv3.ContextDescriptor, _ device: PlatformDevice, iova: UInt64,
                        access: AccessRights) throws(TranslationFault) -> SMMUv3.CachedContext {
        guard cd.valid, cd.aa64, let format = cd.stage1Format else { throw configurationFault(.C_BAD_CD, device, iova: iova) }
        if cd.epd0 {
            throw inputFault(.F_TRANSLATION, device, iova: iova, access: access, stage: .stage1, level: format.startLevel,
                             origin: .configuration)
        }
        return SMMUv3.CachedContext(cd: cd, stage1: format)
    }
}

extension SMMUv3 {
    /// A translation event of the input address that the configuration decides (no walk).
    static func inputFault(_ id: SMMUv3Event.ID, streamID: UInt32, iova: UInt64, access: AccessRights,
                           stage: TranslationStage, level: Int, origin: FaultOrigin) -> TranslationFault {
        var event = SMMUv3Event(id, streamID: streamID, inputAddress: iova)
        event.read = !access.contains(.write)
        event.stage2 = stage == .stage2
        return TranslationFault(.smmuv3(event), stage: stage, level: level, origin: origin)
    }

    /// A stage-2 walk of `ipa`; `event` carries the CLASS of what the IPA is for, `role` the same for the steps.
    static func stage2Walk(_ format: ArmLPAE, root: UInt64, ipa: UInt64, access: AccessRights, event: SMMUv3Event,
                           role: WalkStep.Role, memory: PhysicalMemory, recording: Bool,
                           steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
        try stage2Walker(format, event: event, role: role, memory: memory)
            .walk(root: root, ipa: ipa, access: access, recording: recording, steps: &steps)
    }

    /// The walker of stage-2 walks of IPAs for what `event`'s CLASS names, `role` the same
    /// for the steps: a nested translation makes one for its table walks and one for its
    /// output, not one per walk.
    static func stage2Walker(_ format: ArmLPAE, event: SMMUv3Event, role: WalkStep.Role,
                             memory: PhysicalMemory) -> StageWalker<ArmLPAE, SMMUv3WalkRules> {
        StageWalker(format: format, rules: SMMUv3WalkRules(stage: .stage2, outputBits: format.oas, event: event),
                    memory: memory, stage: .stage2, role: role)
    }

    /// The walk that a cached STE and the CD serving a transaction configure once the IOTLB
    /// misses: stage 2 alone, stage 1 alone, or stage 1 nested in stage 2. The driver makes
    /// it for every miss, a route (`SMMUv3.RouteMissWalk`) for the misses of a configuration
    /// whose walks write nothing.
    struct ConfiguredWalk {
        /// The STE's stage 2 (STE.Config stage 2 or nested) and its table (S2TTB).
        let stage2: ArmLPAE?
        let s2ttb: UInt64
        /// The CD, unless stage 1 is bypassed.
        let context: CachedContext?
        /// Stage 1 is nested in stage 2 (STE.Config nested with a CD).
        let nests: Bool
        /// The SMMU's input address size (IDR5.OAS, as `ArmSMMUv3.Configuration.ias`).
        let ias: Int
        let streamID: UInt32

        /// The walk `configuration` and `context` configure, decoded once.
        init(_ configuration: CachedConfiguration, _ context: CachedContext?, ias: Int, streamID: UInt32) {
            stage2 = configuration.stage2
            s2ttb = configuration.ste.s2ttb
            self.context = context
            nests = context != nil && configuration.ste.config != .stage1
            self.ias = ias
            self.streamID = streamID
        }

        /// Walks `iova` for `access`, stage 1 with `updates` (a nested stage 2 never updates).
        func walk(_ iova: UInt64, access: AccessRights, updates s1Updates: HardwareUpdatePolicy, memory: PhysicalMemory,
                  recording: Bool, steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
            guard let context else {
                // With stage 1 bypassed the input is an IPA of IAS bits: beyond the SMMU's IAS is a
                // stage-1 address-size fault; beyond S2T0SZ (but within IAS) a stage-2 translation fault.
                let s2 = stage2!
                // Masking shifts: both sizes are below 64 bits.
                guard iova &>> UInt64(truncatingIfNeeded: s2.ias) == 0 || iova &>> UInt64(truncatingIfNeeded: ias) == 0 else {
                    throw inputFault(.F_ADDR_SIZE, streamID: streamID, iova: iova, access: access, stage: .stage1, level: 0,
                                     origin: .configuration)
                }
                return try stage2Walk(s2, root: s2ttb, ipa: iova, access: access, event: event(of: iova, access: access),
                                      role: .stage2, memory: memory, recording: recording, steps: &steps)
            }
            guard nests, stage2 != nil else {
                let walker = stage1Walker(context, event: event(of: iova, access: access), memory: memory)
                return try walker.walk(root: context.cd.ttb0, input: iova, access: access, steps: &steps, recording: recording,
                                       updates: s1Updates)
            }
            return try nestedWalk(iova, access: access, updates: s1Updates, memory: memory, recording: recording, steps: &steps)
        }

        /// What every fault's event of a walk of `iova` for `access` starts from.
        private func event(of iova: UInt64, access: AccessRights) -> SMMUv3Event {
            var event = SMMUv3Event(.F_TRANSLATION, streamID: streamID, inputAddress: iova)
            event.read = !access.contains(.write)
            return event
        }

        /// The walker of the CD's stage 1.
        private func stage1Walker(_ context: CachedContext, event: SMMUv3Event,
                                  memory: PhysicalMemory) -> StageWalker<ArmLPAE, SMMUv3WalkRules> {
            StageWalker(format: context.stage1, rules: SMMUv3WalkRules(stage1Under: context.cd, context.stage1, event: event),
                        memory: memory, stage: .stage1)
        }

        /// `walk` of the CD's stage 1 nested in stage 2. Out of line, so that a single stage's
        /// walk keeps a small frame.
        @inline(never)
        private func nestedWalk(_ iova: UInt64, access: AccessRights, updates s1Updates: HardwareUpdatePolicy, memory: PhysicalMemory,
                                recording: Bool, steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
            // `walk` calls it for a CD nested in stage 2.
            let context = context!, s1 = context.stage1, s2 = stage2!
            let input = event(of: iova, access: access)
            let walker = stage1Walker(context, event: input, memory: memory)
            var table = input
            table.eventClass = .TT
            let tableWalker = stage2Walker(s2, event: table, role: .stage2OfStage1Table, memory: memory)
            // The steps of a stage-2 walk before each stage-1 fetch and of the output, in one allocation.
            if recording { steps.reserveCapacity(steps.count + (s1.levelCount + 1) * s2.levelCount + s1.levelCount) }
            // Every stage-1 descriptor address is an IPA, translated by stage 2 (CLASS = TT);
            // an AF/dirty update of a guest descriptor is a write, which stage 2 must permit.
            let first = try walker.walk(root: context.cd.ttb0, input: iova, access: access, steps: &steps, recording: recording,
                                        updates: s1Updates, fetchAddress: { entry, steps throws(TranslationFault) in
                try tableWalker.walk(root: s2ttb, ipa: entry, access: .read, recording: recording, steps: &steps).output
            }, permitsUpdate: { entry throws(TranslationFault) in
                var unrecorded: [WalkStep] = []
                do throws(TranslationFault) {
                    _ = try tableWalker.walk(root: s2ttb, ipa: entry, access: .write, recording: false, steps: &unrecorded)
                } catch {
                    // TTRnW = 0: the fault is on the HTTU write of the descriptor, not its fetch.
                    throw error.changingSMMUv3Event { $0.tableRead = false }
                }
            })
            let second = try stage2Walk(s2, root: s2ttb, ipa: first.output, access: access, event: input, role: .stage2OfOutput,
                                        memory: memory, recording: recording, steps: &steps)
            return first.combined(withStage2: second)
        }

        /// The IOTLB entry of a walk's `result` for `iova` under `tag`.
        func entry(_ result: StageOutput, iova: UInt64, tag: IOTLB.Tag) -> IOTLB.Entry {
            let size = result.size
            let leaf = context.map { SMMUv3.iotlbLeaf(of: result, granule: $0.stage1.granule, stage: .stage1) }
                ?? SMMUv3.iotlbLeaf(of: result, granule: stage2!.granule, stage: .stage2)
            // A mask: a leaf's size is a power of two.
            let offset = size &- 1
            return IOTLB.Entry(tag: tag, input: iova & ~offset, size: size, output: result.output & ~offset, rights: result.rights,
                               leaf: leaf.leaf, global: leaf.global)
        }

        /// `MissWalk.fill`: the walk without updates, and its entry filed.
        func fill(_ iova: UInt64, access: AccessRights, tag: IOTLB.Tag, into iotlb: IOTLB, memory: PhysicalMemory, recording: Bool,
                  steps: inout [WalkStep]) -> IOTLB.Hit? {
            do throws(TranslationFault) {
                let entry = entry(try walk(iova, access: access, updates: .none, memory: memory, recording: recording, steps: &steps),
                                  iova: iova, tag: tag)
                iotlb.insert(entry)
                return IOTLB.Hit(entry)
            } catch {
                return nil
            }
        }
    }

    /// A route's walk of a miss under a cached STE and CD without HTTU: the driver's walk,
    /// whose only effect is the IOTLB fill the route makes.
    final class RouteMissWalk: MissWalk {
        let configured: ConfiguredWalk
        /// The SMMU's IOTLB and the tag the configuration gives its entries.
        let iotlb: IOTLB
        let tag: IOTLB.Tag

        init(_ configured: ConfiguredWalk, iotlb: IOTLB, tag: IOTLB.Tag) {
            self.configured = configured
            self.iotlb = iotlb
            self.tag = tag
        }

        func fill(_ iova: UInt64, access: AccessRights, memory: PhysicalMemory, recording: Bool, steps: inout [WalkStep]) -> IOTLB.Hit? {
            configured.fill(iova, access: access, tag: tag, into: iotlb, memory: memory, recording: recording, steps: &steps)
        }
    }
}

extension StageWalker where Format == ArmLPAE, Rules == SMMUv3WalkRules {
    /// A stage-2 walk of `ipa`: a fault's event records the IPA.
    func walk(root: UInt64, ipa: UInt64, access: AccessRights, recording: Bool,
              steps: inout [WalkStep]) throws(TranslationFault) -> StageOutput {
        do {
            return try walk(root: root, input: ipa, access: access, steps: &steps, recording: recording)
        } catch {
            throw error.changingSMMUv3Event { $0.ipa = ipa }
        }
    }
}

extension TranslationFault {
    /// The fault with its SMMUv3 event changed by `change`.
    func changingSMMUv3Event(_ change: (inout SMMUv3Event) -> Void) -> TranslationFault {
        guard case .smmuv3(var event) = record else { return self }
        var fault = self
        change(&event)
        fault.record = .smmuv3(event)
        return fault
    }
}
