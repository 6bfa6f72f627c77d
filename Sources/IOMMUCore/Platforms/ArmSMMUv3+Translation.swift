/// The SMMUv3 configuration Linux installs in host memory, and the walk the SMMU makes from
/// the STE through the CD to the translation tables (IHI0070 chapter 3; QEMU `smmuv3.c` and
/// `smmu-common.c`, following the architecture where QEMU simplifies).
extension ArmSMMUv3 {
    // MARK: Installing STEs and CDs

    public func install(_ device: PlatformDevice, _ attachment: DeviceAttachment, memory: PhysicalMemory) {
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
        for (index, word) in words.enumerated() { try? memory.write64(entry + UInt64(index) * 8, word) }
    }

    private func streamTableBase(_ memory: PhysicalMemory) throws(Errno) -> UInt64 {
        if let streamTable { return streamTable }
        let size = SMMUv3.steSize << UInt64(SMMUv3.streamIDBits)
        let base = try memory.allocate(length: size, alignment: size)
        streamTable = base
        return base
    }

    private func tag(for domain: PagingDomain) -> UInt64 {
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
        for (index, word) in cd.enumerated() { try? memory.write64(cdTable + UInt64(index) * 8, word) }
        // S1DSS = SSID0, S1CIR/S1COR = WBRA, S1CSH = ISH.
        return [1 | SMMUv3.Config.stage1.rawValue << 1 | cdTable, 1 << 2 | 1 << 4 | 3 << 6, 0, 0]
    }

    // MARK: The walk

    public func translate(_ device: PlatformDevice, iova: UInt64, pasid: UInt32?, access: AccessRights,
                          memory: PhysicalMemory) -> Result<Translation, TranslationFault>? {
        do throws(TranslationFault) {
            return .success(try walk(device, iova: iova, access: access, memory: memory))
        } catch {
            return .failure(error)
        }
    }

    /// A configuration fault: stage 0 means "while reading the STE or CD".
    private func configurationFault(_ reason: String, _ details: [(name: String, value: String)] = []) -> TranslationFault {
        TranslationFault(stage: 0, level: 0, reason: reason, details: details)
    }

    private func readWords(_ address: UInt64, count: Int, memory: PhysicalMemory, fault: String) throws(TranslationFault) -> [UInt64] {
        var words: [UInt64] = []
        for index in 0..<count {
            do { words.append(try memory.read64(address + UInt64(index) * 8)) } catch {
                throw configurationFault(fault, [("fetch_addr", (address + UInt64(index) * 8).hex)])
            }
        }
        return words
    }

    private func walk(_ device: PlatformDevice, iova: UInt64, access: AccessRights, memory: PhysicalMemory) throws(TranslationFault) -> Translation {
        guard let base = streamTable, UInt64(device.streamID) >> UInt64(SMMUv3.streamIDBits) == 0 else {
            throw configurationFault("C_BAD_STREAMID")
        }
        let ste = SMMUv3.StreamTableEntry(words: try readWords(base + UInt64(device.streamID) * SMMUv3.steSize, count: 4,
                                                              memory: memory, fault: "F_STE_FETCH"))
        guard ste.valid, let config = ste.config else { throw configurationFault("C_BAD_STE") }
        var steps: [WalkStep] = []
        switch config {
        case .abort:
            // STE.Config = abort terminates the transaction without recording an event.
            throw configurationFault("ABORT")
        case .bypass:
            return Translation(iova: iova, output: iova, pageSize: pageSize, rights: .readWrite, steps: [], iotlbHit: false)
        case .stage2:
            guard let s2 = ste.stage2Format else { throw configurationFault("C_BAD_STE") }
            let result = try stage2Walk(s2, root: ste.s2ttb, ipa: iova, access: access, eventClass: "IN", memory: memory, steps: &steps)
            return Translation(iova: iova, output: result.output, pageSize: result.size, rights: result.rights, steps: steps, iotlbHit: false)
        case .stage1:
            let cd = SMMUv3.ContextDescriptor(words: try readWords(ste.contextPointer, count: 2, memory: memory, fault: "F_CD_FETCH"))
            let s1 = try stage1Format(cd)
            let walker = StageWalker(format: s1, rules: SMMUv3WalkRules(stage: 1, outputBits: s1.oas, eventClass: "IN"),
                                     memory: memory, stage: 1)
            let result = try walker.walk(root: cd.ttb0, input: iova, access: access, steps: &steps)
            return Translation(iova: iova, output: result.output, pageSize: result.size, rights: result.rights, steps: steps, iotlbHit: false)
        case .nested:
            guard let s2 = ste.stage2Format else { throw configurationFault("C_BAD_STE") }
            // The CD pointer is an IPA: stage 2 resolves it first (CLASS = CD).
            let cdAddress = try stage2Walk(s2, root: ste.s2ttb, ipa: ste.contextPointer, access: .read, eventClass: "CD",
                                           memory: memory, steps: &steps).output
            let cd = SMMUv3.ContextDescriptor(words: try readWords(cdAddress, count: 2, memory: memory, fault: "F_CD_FETCH"))
            let s1 = try stage1Format(cd)
            let walker = StageWalker(format: s1, rules: SMMUv3WalkRules(stage: 1, outputBits: s1.oas, eventClass: "IN"),
                                     memory: memory, stage: 1)
            // Every stage-1 descriptor address is an IPA, translated by stage 2 (CLASS = TT).
            let first = try walker.walk(root: cd.ttb0, input: iova, access: access, steps: &steps) { entry, steps throws(TranslationFault) in
                try self.stage2Walk(s2, root: ste.s2ttb, ipa: entry, access: .read, eventClass: "TT", memory: memory, steps: &steps).output
            }
            let second = try stage2Walk(s2, root: ste.s2ttb, ipa: first.output, access: access, eventClass: "IN",
                                        memory: memory, steps: &steps)
            return Translation(iova: iova, output: second.output, pageSize: min(first.size, second.size),
                               rights: first.rights.intersection(second.rights), steps: steps, iotlbHit: false)
        }
    }

    /// The CD checks QEMU makes (V, AA64, a valid granule and size) as C_BAD_CD; a disabled
    /// TTB0 region translates nothing.
    private func stage1Format(_ cd: SMMUv3.ContextDescriptor) throws(TranslationFault) -> ArmLPAE {
        guard cd.valid, cd.aa64, let format = cd.stage1Format else { throw configurationFault("C_BAD_CD") }
        if cd.epd0 { throw TranslationFault(stage: 1, level: format.startLevel, reason: "F_TRANSLATION", details: [("class", "IN")]) }
        return format
    }

    private func stage2Walk(_ format: ArmLPAE, root: UInt64, ipa: UInt64, access: AccessRights, eventClass: String,
                            memory: PhysicalMemory, steps: inout [WalkStep]) throws(TranslationFault) -> (output: UInt64, size: UInt64, rights: AccessRights) {
        let walker = StageWalker(format: format, rules: SMMUv3WalkRules(stage: 2, outputBits: format.oas, eventClass: eventClass),
                                 memory: memory, stage: 2)
        do {
            return try walker.walk(root: root, input: ipa, access: access, steps: &steps)
        } catch {
            var fault = error
            fault.details.append(("ipa", ipa.hex))
            throw fault
        }
    }
}
