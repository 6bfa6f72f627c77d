/// The SMMUv3 configuration Linux installs in host memory, and the walk the SMMU makes from
/// the STE through the CD to the translation tables (IHI0070 chapter 3; QEMU `smmuv3.c` and
/// `smmu-common.c`, following the architecture where QEMU simplifies).
extension ArmSMMUv3 {
    // MARK: Installing STEs and CDs

    public func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, pasid: UInt32, memory: PhysicalMemory) {
        // Substreams (PASIDs) are not modelled on this architecture: only the RID's entry is written.
        guard pasid == noPASID else { return }
        guard let base = try? streamTableBase(memory) else { return }
        let entry = base + UInt64(device.streamID) * SMMUv3.steSize
        var words: [UInt64] = [1, 0, 0, 0]  // V, Config = abort: the blocking domain
        switch attachment {
        case .blocked:
            break
        case .paging(let domain):
            words = pagingWords(device, domain, memory: memory) ?? words
        case .nested(let nested):
            guard case .armSMMUv3(let vste) = nested.configuration, let s2 = stage2Words(nested.parent) else { break }
            switch SMMUv3.Config(rawValue: (vste[0] >> 1) & 0x7) {
            case .bypass?:
                // A guest bypass STE translates by stage 2 alone.
                words = [1 | SMMUv3.Config.stage2.rawValue << 1, 0, s2.word2, s2.word3]
            case .stage1? where vste[0] & 1 != 0:
                // arm_smmu_make_nested_cd_table_ste: the guest's S1 fields over the parent's S2.
                let guestS1 = vste[0] & ArmSMMUv3.ste0NestingAllowed & ~0xf
                words = [1 | SMMUv3.Config.nested.rawValue << 1 | guestS1, vste[1], s2.word2, s2.word3]
            default:
                break
            }
        }
        try? memory.write64(entry, words: words)
        // arm_smmu_write_ste ends with CFGI_STE for the StreamID.
        configurationCache[device.streamID] = nil
    }

    /// The device's STE and, for a stage-1 STE, its CD (nested CDs live in guest memory).
    public func configurationStructures(for device: PlatformDevice, memory: PhysicalMemory) -> [ConfigurationStructure] {
        guard let base = streamTable else { return [] }
        let address = base + UInt64(device.streamID) * SMMUv3.steSize
        let words = memory.peek64(address, count: 4)
        let ste = SMMUv3.StreamTableEntry(words: words)
        var structures = [ConfigurationStructure(name: "STE", address: address, words: words, fields: [
            DescriptorField("V", 0...0, of: words[0]), DescriptorField("Config", 1...3, of: words[0]),
            DescriptorField("S1Fmt", 4...5, of: words[0]), DescriptorField("S1ContextPtr", 6...51, ste.contextPointer),
            DescriptorField("S1CDMax", 59...63, of: words[0]), DescriptorField("S2VMID", 0...15, ste.vmid),
            DescriptorField("S2T0SZ", 32...37, UInt64(ste.s2t0sz)), DescriptorField("S2SL0", 38...39, ste.s2sl0),
            DescriptorField("S2TG", 46...47, ste.s2tg), DescriptorField("S2PS", 48...50, ste.s2ps),
            DescriptorField("S2TTB", 4...51, ste.s2ttb),
        ])]
        if ste.config == .stage1 {
            let cdWords = memory.peek64(ste.contextPointer, count: 2)
            let cd = SMMUv3.ContextDescriptor(words: cdWords)
            structures.append(ConfigurationStructure(name: "CD", address: ste.contextPointer, words: cdWords, fields: [
                DescriptorField("T0SZ", 0...5, UInt64(cd.t0sz)), DescriptorField("TG0", 6...7, cd.tg0),
                DescriptorField("EPD0", 14...14, of: cdWords[0]), DescriptorField("V", 31...31, of: cdWords[0]),
                DescriptorField("IPS", 32...34, cd.ips), DescriptorField("AA64", 41...41, of: cdWords[0]),
                DescriptorField("ASID", 48...63, cd.asid), DescriptorField("TTB0", 4...51, cd.ttb0),
            ]))
        }
        return structures
    }

    /// `arm_smmu_tlb_inv_range_domain`: by ASID for stage 1; by VMID for stage 2, where a
    /// nest parent's unmap also drops the stage-1 entries built over it (TLBI_NH_ALL).
    public func flushIOTLB(_ domain: PagingDomain, range: IOVARange) {
        guard let tag = domainTags[ObjectIdentifier(domain)] else { return }
        if domain.stage == .stage2 {
            iotlb.invalidate { $0.tag.domain == tag && ($0.tag.addressSpace != nil || $0.overlaps(range)) }
        } else {
            iotlb.invalidate { $0.tag == IOTLB.Tag(domain: nil, addressSpace: tag) && $0.overlaps(range) }
        }
    }

    private func streamTableBase(_ memory: PhysicalMemory) throws(Errno) -> UInt64 {
        try memory.allocateOnce(&streamTable, length: SMMUv3.steSize << UInt64(SMMUv3.streamIDBits))
    }

    func tag(for domain: PagingDomain) -> UInt64 {
        if let tag = domainTags[ObjectIdentifier(domain)] { return tag }
        let tag: UInt64
        if domain.stage == .stage2 { tag = nextVMID; nextVMID += 1 } else { tag = nextASID; nextASID += 1 }
        domainTags[ObjectIdentifier(domain)] = tag
        return tag
    }

    private func stage2Words(_ domain: PagingDomain) -> (word2: UInt64, word3: UInt64)? {
        guard let table = domain.table as? DescriptorPageTable, let format = table.format as? ArmLPAE else { return nil }
        return SMMUv3.stage2Words(for: format, root: table.root, vmid: tag(for: domain))
    }

    private func pagingWords(_ device: PlatformDevice, _ domain: PagingDomain, memory: PhysicalMemory) -> [UInt64]? {
        guard let table = domain.table as? DescriptorPageTable, let format = table.format as? ArmLPAE else { return nil }
        if domain.stage == .stage2 {
            let s2 = SMMUv3.stage2Words(for: format, root: table.root, vmid: tag(for: domain))
            return [1 | SMMUv3.Config.stage2.rawValue << 1, 0, s2.word2, s2.word3]
        }
        // arm_smmu_make_cdtable_ste over a one-entry CD table holding the domain's CD.
        let cdTable: UInt64
        if let existing = contextTables[device.streamID] {
            cdTable = existing
        } else {
            guard let allocated = try? memory.allocate(length: PhysicalMemory.frameSize) else { return nil }
            contextTables[device.streamID] = allocated
            cdTable = allocated
        }
        let cd = SMMUv3.contextDescriptor(for: format, root: table.root, asid: tag(for: domain), dirty: domain.dirtyTracking)
        try? memory.write64(cdTable, words: cd)
        // S1DSS = SSID0, S1CIR/S1COR = WBRA, S1CSH = ISH.
        return [1 | SMMUv3.Config.stage1.rawValue << 1 | cdTable, 1 << 2 | 1 << 4 | 3 << 6, 0, 0]
    }

    // MARK: The walk

    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                          memory: PhysicalMemory) -> Result<Translation, TranslationFault>? {
        WalkRecord.run { (record: inout WalkRecord) throws(TranslationFault) in
            try walk(device, iova: iova, access: access, caches: caches, memory: memory, steps: &record.steps,
                     fetches: &record.fetches)
        }
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
        var event = SMMUv3Event(id, streamID: device.streamID, inputAddress: iova)
        event.read = !access.contains(.write)
        event.stage2 = stage == .stage2
        return TranslationFault(.smmuv3(event), stage: stage, level: level, origin: origin)
    }

    private func walk(_ device: PlatformDevice, iova: UInt64, access: AccessRights, caches: CachePolicy, memory: PhysicalMemory,
                      steps: inout [WalkStep], fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> Translation {
        let configuration = try configuration(of: device, iova: iova, access: access, caches: caches, memory: memory, steps: &steps,
                                              fetches: &fetches)
        let ste = configuration.ste
        let tag: IOTLB.Tag
        switch ste.config! {
        case .abort:
            // STE.Config = abort terminates the transaction without recording an event.
            throw TranslationFault(.terminated(.streamAborted), stage: .configuration, level: 0, origin: .configuration)
        case .bypass:
            return Translation(iova: iova, output: iova, pageSize: pageSize, rights: .readWrite, steps: [], iotlbHit: false)
        case .stage1: tag = IOTLB.Tag(domain: nil, addressSpace: configuration.cd!.asid)
        case .stage2: tag = IOTLB.Tag(domain: ste.vmid, addressSpace: nil)
        case .nested: tag = IOTLB.Tag(domain: ste.vmid, addressSpace: configuration.cd!.asid)
        }
        // CD.AFFD/HA/HD of a stage-1 configuration (the guest's CD for a nested STE).
        let s1Updates = HardwareUpdatePolicy(configuration.cd?.hardwareUpdates(httu: self.configuration.httu) ?? [], caches: caches)
        if s1Updates.mayUseIOTLB(for: access), let hit = iotlb.lookup(tag, iova, policy: caches) {
            guard hit.rights.isSuperset(of: access) else {
                throw inputFault(.F_PERMISSION, device, iova: iova, access: access, stage: ste.config == .stage2 ? .stage2 : .stage1,
                                 level: 0, origin: .iotlb)
            }
            return Translation(iova: iova, output: hit.output + (iova - hit.input), pageSize: hit.size, rights: hit.rights,
                               steps: steps, iotlbHit: true)
        }
        var input = SMMUv3Event(.F_TRANSLATION, streamID: device.streamID, inputAddress: iova)
        input.read = !access.contains(.write)
        let result: (output: UInt64, size: UInt64, rights: AccessRights)
        switch ste.config! {
        case .stage2:
            // With stage 1 bypassed the input is an IPA of IAS bits: beyond the SMMU's IAS is a
            // stage-1 address-size fault; beyond S2T0SZ (but within IAS) a stage-2 translation fault.
            guard iova >> UInt64(configuration.stage2!.ias) == 0 || iova >> UInt64(self.configuration.ias) == 0 else {
                throw inputFault(.F_ADDR_SIZE, device, iova: iova, access: access, stage: .stage1, level: 0, origin: .configuration)
            }
            result = try stage2Walk(configuration.stage2!, root: ste.s2ttb, ipa: iova, access: access, event: input, role: .stage2,
                                    memory: memory, steps: &steps)
        case .stage1:
            let s1 = configuration.stage1!
            let walker = StageWalker(format: s1, rules: SMMUv3WalkRules(stage1Under: configuration.cd!, s1, event: input), memory: memory, stage: .stage1)
            result = try walker.walk(root: configuration.cd!.ttb0, input: iova, access: access, steps: &steps, updates: s1Updates)
        default:
            let s1 = configuration.stage1!, s2 = configuration.stage2!
            let walker = StageWalker(format: s1, rules: SMMUv3WalkRules(stage1Under: configuration.cd!, s1, event: input), memory: memory, stage: .stage1)
            var table = input
            table.eventClass = .TT
            // Every stage-1 descriptor address is an IPA, translated by stage 2 (CLASS = TT);
            // an AF/dirty update of a guest descriptor is a write, which stage 2 must permit.
            let first = try walker.walk(root: configuration.cd!.ttb0, input: iova, access: access, steps: &steps, updates: s1Updates,
                                        fetchAddress: { entry, steps throws(TranslationFault) in
                try self.stage2Walk(s2, root: ste.s2ttb, ipa: entry, access: .read, event: table, role: .stage2OfStage1Table,
                                    memory: memory, steps: &steps).output
            }, permitsUpdate: { entry throws(TranslationFault) in
                var unrecorded: [WalkStep] = []
                do throws(TranslationFault) {
                    _ = try self.stage2Walk(s2, root: ste.s2ttb, ipa: entry, access: .write, event: table, role: .stage2OfStage1Table,
                                            memory: memory, steps: &unrecorded)
                } catch {
                    // TTRnW = 0: the fault is on the HTTU write of the descriptor, not its fetch.
                    var fault = error
                    if case .smmuv3(var event) = fault.record {
                        event.tableRead = false
                        fault.record = .smmuv3(event)
                    }
                    throw fault
                }
            })
            let second = try stage2Walk(s2, root: ste.s2ttb, ipa: first.output, access: access, event: input, role: .stage2OfOutput,
                                        memory: memory, steps: &steps)
            // combine_tlb: the smaller page, both stages' permissions.
            let size = min(first.size, second.size)
            result = (second.output, size, first.rights.intersection(second.rights))
        }
        let size = result.size
        iotlb.insert(IOTLB.Entry(tag: tag, input: iova.alignedDown(to: size), size: size,
                                 output: result.output.alignedDown(to: size), rights: result.rights), policy: caches)
        return Translation(iova: iova, output: result.output, pageSize: size, rights: result.rights, steps: steps, iotlbHit: false)
    }

    /// The StreamID's STE (and CD), from the configuration cache or fetched: the STE from the
    /// stream table, the CD from host memory, or through stage 2 for a nested STE (CLASS = CD).
    private func configuration(of device: PlatformDevice, iova: UInt64, access: AccessRights, caches: CachePolicy, memory: PhysicalMemory,
                               steps: inout [WalkStep], fetches: inout [ConfigurationFetch]) throws(TranslationFault) -> SMMUv3.CachedConfiguration {
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
            var cdAddress = ste.contextPointer
            if config == .nested {
                // The CD pointer is an IPA: stage 2 resolves it first.
                var event = SMMUv3Event(.F_TRANSLATION, streamID: device.streamID, inputAddress: iova)
                event.read = !access.contains(.write)
                event.eventClass = .CD
                cdAddress = try stage2Walk(cached.stage2!, root: ste.s2ttb, ipa: cdAddress, access: .read, event: event,
                                           role: .stage2OfConfiguration, memory: memory, steps: &steps).output
            }
            let cd = SMMUv3.ContextDescriptor(words: try memory.fetch(.contextDescriptor, at: cdAddress, count: 2, into: &fetches) {
                self.configurationFault(.F_CD_FETCH, device, iova: iova, fetchAddress: $0)
            })
            guard cd.valid, cd.aa64, let format = cd.stage1Format else { throw configurationFault(.C_BAD_CD, device, iova: iova) }
            // A disabled TTB0 region translates nothing.
            if cd.epd0 {
                throw inputFault(.F_TRANSLATION, device, iova: iova, access: access, stage: .stage1, level: format.startLevel,
                                 origin: .configuration)
            }
            cached.stage1 = format
            cached.cd = cd
        }
        configurationCache.fill(device.streamID, cached, policy: caches)
        return cached
    }

    /// A stage-2 walk of `ipa`; `event` carries the CLASS of what the IPA is for, `role` the same for the steps.
    private func stage2Walk(_ format: ArmLPAE, root: UInt64, ipa: UInt64, access: AccessRights, event: SMMUv3Event,
                            role: WalkStep.Role, memory: PhysicalMemory, steps: inout [WalkStep]) throws(TranslationFault) -> (output: UInt64, size: UInt64, rights: AccessRights) {
        var event = event
        event.ipa = ipa
        let walker = StageWalker(format: format, rules: SMMUv3WalkRules(stage: .stage2, outputBits: format.oas, event: event),
                                 memory: memory, stage: .stage2, role: role)
        return try walker.walk(root: root, input: ipa, access: access, steps: &steps)
    }
}
