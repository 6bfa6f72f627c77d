import IOMMUCore
import ScenarioScript

/// An emulated vIOMMU's report of what it did for the guest, from QEMU's `hw/arm`
/// (smmu-common.c, smmuv3.c) and `hw/i386` (intel_iommu.c, amd_iommu.c) trace events: a
/// translation of the guest's own tables, a fault, an invalidation the guest issued, or a
/// change of the guest's IOMMU configuration. The timeline compares it with the model
/// (`QEMUTraceObservation+Compare.swift`).
public enum QEMUTraceObservation: Sendable, Equatable {
    case translation(EmulatedTranslation)
    case fault(EmulatedFault)
    case invalidation(GuestInvalidation)
    case configuration(GuestConfiguration)
}

/// The device a vIOMMU event names, as the guest numbers it.
public enum EmulatedRequester: Sendable, Equatable, CustomStringConvertible {
    /// An SMMUv3 StreamID (`sid=`): QEMU's `smmu_get_sid` is `PCI_BUILD_BDF(bus, devfn)` of
    /// the guest's PCI function, or the vSID a vDEVICE was given.
    case streamID(UInt32)
    /// A PCI requester: a VT-d source-id or `dev BB:DD.F`, an AMD-Vi `devid`.
    case pci(PCIAddress)

    public var description: String {
        switch self {
        case .streamID(let sid): "SID \(UInt64(sid).hex)"
        case .pci(let address): "dev \(String(address.description.dropFirst(5)))"
        }
    }
}

/// An emulated IOMMU's walk of the guest's tables: IOVA → GPA.
public struct EmulatedTranslation: Sendable, Equatable {
    public var unit: IOMMUArchitecture
    public var requester: EmulatedRequester
    public var iova: UInt64
    /// The guest physical address (`translated=`, `-> gpa`, AMD's `hpa`: the emulated IOMMU's
    /// output is the VM's memory).
    public var gpa: UInt64
    /// `perm=` (IOMMU_RO 1, IOMMU_WO 2, IOMMU_RW 3); nil where the event prints none.
    public var rights: AccessRights?
    /// The page the walk ended on (VT-d's `mask` + 1); nil where the event prints none.
    public var pageSize: UInt64?
    /// `stage=` (1, 2, or 3 nested) from QEMU 9.1; nil before.
    public var stage: Int?
    /// The VMM memory the trace's earlier lines put behind the IOVA (`withShadowedMemory`).
    public var shadow: ShadowedMemory? = nil
}

/// Why an emulated IOMMU stopped a transaction.
public enum EmulatedFaultReason: Sendable, Equatable {
    /// An SMMUv3 event type as `smmu_event_string` prints it (`SMMU_EVT_F_TRANSLATION`); nil
    /// `id` for a name the core's `SMMUv3Event.ID` lacks (`SMMU_EVT_OK`).
    case smmuv3(SMMUv3Event.ID?, name: String)
    /// `smmuv3_translate_abort`: QEMU's translate callback answered IOMMU_NONE.
    case smmuv3Abort
    /// QEMU's `VTDFaultReason`, numbered as the VT-d specification's fault reasons; nil
    /// `reason` for a code the core's `VTd.FaultReason` lacks (interrupt remapping, 0x20–0x26).
    case vtd(VTd.FaultReason?, code: UInt8)
    /// `amdvi_page_fault`: an I/O page fault (AMD-Vi IO_PAGE_FAULT).
    case amdViPageFault
}

/// A fault the emulated IOMMU reported for the guest.
public struct EmulatedFault: Sendable, Equatable {
    public var unit: IOMMUArchitecture
    /// Nil where the event names no device (`amdvi_page_fault`).
    public var requester: EmulatedRequester?
    /// The faulting IOVA; nil where the event prints none (`smmuv3_propagate_event`).
    public var address: UInt64?
    /// Nil where the event does not say.
    public var isWrite: Bool?
    public var reason: EmulatedFaultReason
}

/// An invalidation the guest issued to its emulated IOMMU.
public enum GuestInvalidation: Sendable, Equatable {
    /// `smmuv3_cmdq_opcode`: the command the SMMU's queue consumed (`SMMU_CMD_TLBI_NH_VA`).
    case smmuv3Command(String)
    /// `smmuv3_cmdq_cfgi_ste`: CMD_CFGI_STE of one StreamID; `smmu_config_cache_inv`: QEMU
    /// dropping that StreamID's cached configuration.
    case smmuv3STE(streamID: UInt32)
    /// `smmuv3_cmdq_cfgi_cd`: CMD_CFGI_CD(_ALL) of one StreamID.
    case smmuv3CD(streamID: UInt32)
    /// `smmuv3_cmdq_cfgi_ste_range` and `smmu_configs_inv_sid_range`: STEs `[first, last]`.
    case smmuv3STERange(first: UInt32, last: UInt32)
    /// `smmuv3_range_inval` (`smmuv3_s1_range_inval` before 9.1): CMD_TLBI_*_VA(A)/_IPA.
    case smmuv3Range(vmid: Int32, asid: Int32, address: UInt64, granule: UInt8, pages: UInt64, ttl: UInt8, leaf: Bool, stage: Int?)
    /// `smmu_iotlb_inv_*`, `smmuv3_cmdq_tlbi_*`: TLB entries by ASID and/or VMID (nil: any),
    /// at one address or all.
    case smmuTLB(asid: Int32?, vmid: Int32?, address: UInt64?)
    /// `vtd_inv_desc`: a descriptor of the invalidation queue, by QEMU's type name.
    case vtdDescriptor(type: String, high: UInt64, low: UInt64)
    /// `vtd_inv_desc_iotlb_*`: IOTLB entries of a domain (nil: all), at `address` over
    /// 2^mask pages (nil: the whole domain), of one PASID (nil: any).
    case vtdIOTLB(domain: UInt16?, address: UInt64?, mask: UInt8?, pasid: UInt32?)
    /// `vtd_inv_desc_cc_*`: context-cache entries globally (all nil), of a domain, of a
    /// device, or of the devices a source-id and function mask select.
    case vtdContextCache(domain: UInt16?, device: PCIAddress?, functionMask: UInt16?)
    /// `vtd_context_cache_reset`: QEMU dropped its whole context cache.
    case vtdContextCacheReset
}

/// How the guest set up its emulated IOMMU.
public enum GuestConfiguration: Sendable, Equatable {
    /// `vtd_switch_address_space`: the device now DMAs through the vIOMMU (true) or straight
    /// to guest RAM (false).
    case vtdAddressSpace(PCIAddress, translated: Bool)
    /// `vtd_reg_dmar_root`: the root table address the guest wrote to RTADDR_REG, and its
    /// translation-table mode (`scalable`; `extended` before QEMU 3.1).
    case vtdRootTable(address: UInt64, mode: VTdRootTableMode)
    /// `vtd_dmar_enable`: GCMD.TE.
    case vtdTranslation(enabled: Bool)
}

/// RTADDR_REG.TTM as QEMU reports it.
public enum VTdRootTableMode: String, Sendable, Equatable {
    case legacy, scalable, extended
}

// MARK: Reading

extension QEMUTraceObservation {
    /// The observation an event line reports: nil for an event that reports none, a failure
    /// naming what is missing for a known event whose arguments are not its format.
    public static func read(name: String, arguments: String) -> Result<QEMUTraceObservation, ObservationFormatError>? {
        guard let parse = parsers[name] else { return nil }
        guard let observation = parse(ObservationWords(arguments)) else { return .failure(ObservationFormatError(event: name)) }
        return .success(observation)
    }

    /// The events read, and how, by `hw/arm/trace-events` and `hw/i386/trace-events`.
    static let parsers: [String: @Sendable (ObservationWords) -> QEMUTraceObservation?] = [
        // "%s sid=0x%x iova=0x%"PRIx64" translated=0x%"PRIx64" perm=0x%x stage=%d" (no stage= before 9.1, sid=%d before 5.2)
        "smmuv3_translate_success": { w in
            guard w.count >= 5, let sid = w.keyed("sid").flatMap(number).flatMap(UInt32.init(exactly:)),
                  let iova = w.keyed("iova").flatMap(parseHexWord), let out = w.keyed("translated").flatMap(parseHexWord),
                  let perm = w.keyed("perm").flatMap(number), perm <= 3 else { return nil }
            let stage = w.keyed("stage").flatMap(number).flatMap { Int(exactly: $0) }
            if w.keyed("stage") != nil, stage == nil { return nil }
            return .translation(EmulatedTranslation(unit: .armSMMUv3, requester: .streamID(sid), iova: iova, gpa: out,
                                                    rights: AccessRights(rawValue: UInt8(perm)), pageSize: nil, stage: stage))
        },
        // "%s sid=0x%x abort on iova:0x%"PRIx64" is_write=%d"
        "smmuv3_translate_abort": { w in
            guard let sid = w.keyed("sid").flatMap(number).flatMap(UInt32.init(exactly:)),
                  let iova = w.keyed("iova").flatMap(parseHexWord), let write = w.keyed("is_write").flatMap(flag) else { return nil }
            return .fault(EmulatedFault(unit: .armSMMUv3, requester: .streamID(sid), address: iova, isWrite: write, reason: .smmuv3Abort))
        },
        // "%s sid=0x%x" (sid=%d before 5.2)
        "smmuv3_propagate_event": smmuEvent,
        "smmuv3_record_event": smmuEvent,
        // "streamid= 0x%x" ("streamid =%d" before 5.2)
        "smmuv3_cmdq_cfgi_ste": { w in
            w.keyed("streamid").flatMap(number).flatMap(UInt32.init(exactly:)).map { .invalidation(.smmuv3STE(streamID: $0)) }
        },
        // "start=0x%x - end=0x%x"
        "smmuv3_cmdq_cfgi_ste_range": { w in
            guard let first = w.keyed("start").flatMap(number).flatMap(UInt32.init(exactly:)),
                  let last = w.keyed("end").flatMap(number).flatMap(UInt32.init(exactly:)) else { return nil }
            return .invalidation(.smmuv3STERange(first: first, last: last))
        },
        // "Config cache INV SID range from 0x%x to 0x%x"
        "smmu_configs_inv_sid_range": { w in
            guard let first = w.after("from").flatMap(number).flatMap(UInt32.init(exactly:)),
                  let last = w.after("to").flatMap(number).flatMap(UInt32.init(exactly:)) else { return nil }
            return .invalidation(.smmuv3STERange(first: first, last: last))
        },
        "smmuv3_range_inval": smmuRange,
        "smmuv3_s1_range_inval": smmuRange,
        // "IOTLB invalidate asid=%d addr=0x%"PRIx64
        "smmu_iotlb_inv_iova": { w in
            guard let asid = w.keyed("asid").flatMap(signed), let address = w.keyed("addr").flatMap(parseHexWord) else { return nil }
            return .invalidation(.smmuTLB(asid: asid, vmid: nil, address: address))
        },
        // "IOTLB invalidate ipa=... vmid=%d addr=..." forms and the ASID/VMID-wide ones.
        "smmu_iotlb_inv_ipa": smmuTLB, "smmu_iotlb_inv_asid": smmuTLB, "smmu_iotlb_inv_vmid": smmuTLB,
        "smmu_iotlb_inv_vmid_s1": smmuTLB, "smmu_iotlb_inv_asid_vmid": smmuTLB, "smmu_iotlb_inv_all": smmuTLB,
        "smmuv3_cmdq_tlbi_nh": smmuTLB, "smmuv3_cmdq_tlbi_nsnh": smmuTLB, "smmuv3_cmdq_tlbi_nh_asid": smmuTLB,
        "smmuv3_cmdq_tlbi_s12_vmid": smmuTLB,
        // "sid=0x%x" ("streamid = %d" before 5.2)
        "smmuv3_cmdq_cfgi_cd": { w in
            (w.keyed("sid") ?? w.keyed("streamid")).flatMap(number).flatMap(UInt32.init(exactly:)).map { .invalidation(.smmuv3CD(streamID: $0)) }
        },
        // "Config cache INV for sid=0x%x" (smmu_config_cache_inv; smmuv3_config_cache_inv "... for sid %d" before)
        "smmu_config_cache_inv": smmuConfigInvalidation,
        "smmuv3_config_cache_inv": smmuConfigInvalidation,
        // "<--- %s"
        "smmuv3_cmdq_opcode": { w in
            guard w.count == 2, w.words[0] == "<---" else { return nil }
            return .invalidation(.smmuv3Command(String(w.words[1])))
        },
        // "dev %02x:%02x.%02x iova 0x%"PRIx64" -> gpa 0x%"PRIx64" mask 0x%"PRIx64
        "vtd_dmar_translate": { w in
            guard let dev = w.after("dev").flatMap({ PCIAddress(parsing: $0) }), let iova = w.after("iova").flatMap(parseHexWord),
                  let gpa = w.after("gpa").flatMap(parseHexWord), let mask = w.after("mask").flatMap(parseHexWord),
                  let size = mask.checkedAdd(1), size.nonzeroBitCount == 1 else { return nil }
            return .translation(EmulatedTranslation(unit: .intelVTd, requester: .pci(dev), iova: iova, gpa: gpa,
                                                    rights: nil, pageSize: size, stage: nil))
        },
        // "sid 0x%"PRIx16" fault %d addr 0x%"PRIx64" write %d": the reason in decimal.
        "vtd_dmar_fault": { w in
            guard let sid = w.after("sid").flatMap(parseHexWord).flatMap(UInt16.init(exactly:)),
                  let code = w.after("fault").flatMap({ UInt8($0) }), let address = w.after("addr").flatMap(parseHexWord),
                  let write = w.after("write").flatMap(flag) else { return nil }
            return .fault(EmulatedFault(unit: .intelVTd, requester: .pci(PCIAddress(requesterID: sid)), address: address,
                                        isWrite: write, reason: .vtd(VTd.FaultReason(rawValue: code), code: code)))
        },
        // "invalidate desc type %s high 0x%"PRIx64" low 0x%"PRIx64
        "vtd_inv_desc": { w in
            guard let type = w.after("type"), let high = w.after("high").flatMap(parseHexWord),
                  let low = w.after("low").flatMap(parseHexWord) else { return nil }
            return .invalidation(.vtdDescriptor(type: String(type), high: high, low: low))
        },
        "vtd_inv_desc_iotlb_global": { w in w.words == ["iotlb", "invalidate", "global"] ? .invalidation(.vtdIOTLB(domain: nil, address: nil, mask: nil, pasid: nil)) : nil },
        // "iotlb invalidate whole domain 0x%"PRIx16
        "vtd_inv_desc_iotlb_domain": { w in
            w.after("domain").flatMap(parseHexWord).flatMap(UInt16.init(exactly:)).map { .invalidation(.vtdIOTLB(domain: $0, address: nil, mask: nil, pasid: nil)) }
        },
        // "iotlb invalidate domain 0x%"PRIx16" addr 0x%"PRIx64" mask 0x%"PRIx8 (and " pasid 0x%"PRIx32)
        "vtd_inv_desc_iotlb_pages": vtdIOTLB, "vtd_inv_desc_iotlb_pasid_pages": vtdIOTLB, "vtd_inv_desc_iotlb_pasid": vtdIOTLB,
        "vtd_inv_desc_cc_global": { w in w.words == ["context", "invalidate", "globally"] ? .invalidation(.vtdContextCache(domain: nil, device: nil, functionMask: nil)) : nil },
        // "context invalidate domain 0x%"PRIx16
        "vtd_inv_desc_cc_domain": { w in
            w.after("domain").flatMap(parseHexWord).flatMap(UInt16.init(exactly:)).map { .invalidation(.vtdContextCache(domain: $0, device: nil, functionMask: nil)) }
        },
        // "context invalidate device %02"PRIx8":%02"PRIx8".%02"PRIx8
        "vtd_inv_desc_cc_device": { w in
            w.after("device").flatMap { PCIAddress(parsing: $0) }.map { .invalidation(.vtdContextCache(domain: nil, device: $0, functionMask: nil)) }
        },
        // "context invalidate devices sid 0x%"PRIx16" fmask 0x%"PRIx16
        "vtd_inv_desc_cc_devices": { w in
            guard let sid = w.after("sid").flatMap(parseHexWord).flatMap(UInt16.init(exactly:)),
                  let fmask = w.after("fmask").flatMap(parseHexWord).flatMap(UInt16.init(exactly:)) else { return nil }
            return .invalidation(.vtdContextCache(domain: nil, device: PCIAddress(requesterID: sid), functionMask: fmask))
        },
        // "" (the line ends in the one space after the name)
        "vtd_context_cache_reset": { w in w.count == 0 ? .invalidation(.vtdContextCacheReset) : nil },
        // "Device %02x:%02x.%x switching address space (iommu enabled=%d)"
        "vtd_switch_address_space": { w in
            guard w.words.first == "Device", let dev = w.after("Device").flatMap({ PCIAddress(parsing: $0) }),
                  let on = w.keyed("enabled").map({ $0.hasSuffix(")") ? $0.dropLast() : $0 }).flatMap(flag) else { return nil }
            return .configuration(.vtdAddressSpace(dev, translated: on))
        },
        // "addr 0x%"PRIx64" scalable %d" ("extended %d" before 3.1)
        "vtd_reg_dmar_root": { w in
            guard let address = w.after("addr").flatMap(parseHexWord) else { return nil }
            if let scalable = w.after("scalable").flatMap(flag) { return .configuration(.vtdRootTable(address: address, mode: scalable ? .scalable : .legacy)) }
            guard let extended = w.after("extended").flatMap(flag) else { return nil }
            return .configuration(.vtdRootTable(address: address, mode: extended ? .extended : .legacy))
        },
        // "enable %d"
        "vtd_dmar_enable": { w in w.after("enable").flatMap(flag).map { .configuration(.vtdTranslation(enabled: $0)) } },
        // "devid: %02x:%02x.%x gpa 0x%"PRIx64" hpa 0x%"PRIx64": QEMU's AMD-Vi names its input
        // (the guest's IOVA) gpa and its output (the VM's memory) hpa.
        "amdvi_translation_result": { w in
            guard let dev = w.after("devid:").flatMap({ PCIAddress(parsing: $0) }), let iova = w.after("gpa").flatMap(parseHexWord),
                  let out = w.after("hpa").flatMap(parseHexWord) else { return nil }
            return .translation(EmulatedTranslation(unit: .amdVi, requester: .pci(dev), iova: iova, gpa: out, rights: nil, pageSize: nil, stage: nil))
        },
        // "error: page fault accessing guest physical address 0x%"PRIx64
        "amdvi_page_fault": { w in
            guard w.words.first == "error:", let address = w.after("address").flatMap(parseHexWord) else { return nil }
            return .fault(EmulatedFault(unit: .amdVi, requester: nil, address: address, isWrite: nil, reason: .amdViPageFault))
        },
    ]

    private static let smmuEvent: @Sendable (ObservationWords) -> QEMUTraceObservation? = { w in
        guard w.count == 2, let sid = w.keyed("sid").flatMap(number).flatMap(UInt32.init(exactly:)) else { return nil }
        let name = String(w.words[0])
        return .fault(EmulatedFault(unit: .armSMMUv3, requester: .streamID(sid), address: nil, isWrite: nil,
                                    reason: .smmuv3(smmuEventID(name), name: name)))
    }

    private static let smmuConfigInvalidation: @Sendable (ObservationWords) -> QEMUTraceObservation? = { w in
        (w.keyed("sid") ?? w.after("sid")).flatMap(number).flatMap(UInt32.init(exactly:)).map { .invalidation(.smmuv3STE(streamID: $0)) }
    }

    // "vmid=%d asid=%d addr=0x%"PRIx64" tg=%d num_pages=0x%"PRIx64" ttl=%d leaf=%d stage=%d"
    // ("vmid =%d asid =%d ..." without stage= as smmuv3_s1_range_inval).
    private static let smmuRange: @Sendable (ObservationWords) -> QEMUTraceObservation? = { w in
        guard let vmid = w.keyed("vmid").flatMap(signed), let asid = w.keyed("asid").flatMap(signed),
              let address = w.keyed("addr").flatMap(parseHexWord), let tg = w.keyed("tg").flatMap({ UInt8($0) }),
              let pages = w.keyed("num_pages").flatMap(number), let ttl = w.keyed("ttl").flatMap({ UInt8($0) }),
              let leaf = w.keyed("leaf").flatMap(flag) else { return nil }
        let stage = w.keyed("stage").flatMap(number).flatMap { Int(exactly: $0) }
        if w.keyed("stage") != nil, stage == nil { return nil }
        return .invalidation(.smmuv3Range(vmid: vmid, asid: asid, address: address, granule: tg, pages: pages, ttl: ttl, leaf: leaf, stage: stage))
    }

    /// The TLB invalidations whose format is `asid=`, `vmid=` and `addr=` words or none.
    private static let smmuTLB: @Sendable (ObservationWords) -> QEMUTraceObservation? = { w in
        let asid = w.keyed("asid").flatMap(signed), vmid = w.keyed("vmid").flatMap(signed)
        let address = w.keyed("addr").flatMap(parseHexWord) ?? w.keyed("ipa").flatMap(parseHexWord)
        if (w.keyed("asid") != nil && asid == nil) || (w.keyed("vmid") != nil && vmid == nil)
            || ((w.keyed("addr") ?? w.keyed("ipa")) != nil && address == nil) { return nil }
        return .invalidation(.smmuTLB(asid: asid, vmid: vmid, address: address))
    }

    private static let vtdIOTLB: @Sendable (ObservationWords) -> QEMUTraceObservation? = { w in
        guard let domain = w.after("domain").flatMap(parseHexWord).flatMap(UInt16.init(exactly:)) else { return nil }
        let address = w.after("addr").flatMap(parseHexWord), mask = w.after("mask").flatMap(parseHexWord).flatMap(UInt8.init(exactly:))
        let pasid = w.after("pasid").flatMap(parseHexWord).flatMap(UInt32.init(exactly:))
        if (w.after("addr") != nil && address == nil) || (w.after("mask") != nil && mask == nil)
            || (w.after("pasid") != nil && pasid == nil) || (address == nil && pasid == nil) { return nil }
        return .invalidation(.vtdIOTLB(domain: domain, address: address, mask: mask, pasid: pasid))
    }

    /// `SMMU_EVT_F_TRANSLATION` → `.F_TRANSLATION`; QEMU's two spellings that differ from the
    /// specification's (`F_TRANS_FORBIDDEN`, `E_PAGE_REQ`) too.
    static func smmuEventID(_ name: String) -> SMMUv3Event.ID? {
        let bare = name.hasPrefix("SMMU_EVT_") ? String(name.dropFirst(9)) : name
        switch bare {
        case "F_TRANS_FORBIDDEN": return .F_TRANSL_FORBIDDEN
        case "E_PAGE_REQ": return .E_PAGE_REQUEST
        default: return SMMUv3Event.ID.allCases.first { $0.name == bare }
        }
    }
}

extension QEMUTraceObservation {
    /// Whether a vIOMMU event's line holds its format's last field (a hard-wrapped copy is cut
    /// short before it); nil for an event that is no observation. `words` follow the name.
    static func isComplete(name: Substring, words: [Substring]) -> Bool? {
        let last = words.last.map(String.init) ?? ""
        let label = words.dropLast().last.map(String.init)
        switch name {
        case "smmuv3_translate_success": return last.hasPrefix("perm=") || last.hasPrefix("stage=")
        case "smmuv3_translate_abort": return last.hasPrefix("is_write=")
        case "smmuv3_propagate_event", "smmuv3_record_event": return last.hasPrefix("sid=")
        case "smmuv3_cmdq_cfgi_ste": return last.last?.isHexDigit == true && last != "streamid"
        case "smmuv3_cmdq_cfgi_ste_range": return last.hasPrefix("end=")
        case "smmuv3_cmdq_cfgi_cd", "smmu_config_cache_inv", "smmuv3_config_cache_inv": return last.last?.isNumber == true
        case "smmu_configs_inv_sid_range": return label == "to"
        case "smmuv3_range_inval": return last.hasPrefix("stage=")
        case "smmuv3_s1_range_inval": return last.hasPrefix("leaf=")
        case "smmu_iotlb_inv_iova": return last.hasPrefix("addr=")
        case "smmuv3_cmdq_opcode": return words.count >= 2
        case "vtd_dmar_translate", "vtd_inv_desc_iotlb_pages": return label == "mask"
        case "vtd_inv_desc_iotlb_pasid_pages": return label == "pasid"
        case "vtd_dmar_fault": return label == "write"
        case "vtd_inv_desc": return label == "low"
        case "vtd_inv_desc_cc_device": return label == "device"
        case "vtd_inv_desc_cc_devices": return label == "fmask"
        case "vtd_switch_address_space": return last.hasPrefix("enabled=") && last.hasSuffix(")")
        case "vtd_reg_dmar_root": return label == "scalable" || label == "extended"
        case "vtd_dmar_enable": return label == "enable"
        case "amdvi_translation_result": return label == "hpa"
        case "amdvi_page_fault": return label == "address"
        default: return nil
        }
    }
}

/// A known vIOMMU event whose arguments are not its format.
public struct ObservationFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var event: String
    public var description: String { "not the \(event) format" }
}

/// The words of a vIOMMU event's format, with `key =value` and `key= value` (QEMU's older
/// formats) closed up to `key=value`.
struct ObservationWords {
    let words: [Substring]
    var count: Int { words.count }

    init(_ text: String) {
        var closed: [Substring] = []
        var pendingKey: Substring?
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            if let key = pendingKey {
                closed.append(Substring(String(key) + String(word)))
                pendingKey = nil
            } else if word == "=", let last = closed.popLast() {
                pendingKey = Substring(String(last) + "=")
            } else if word.hasPrefix("="), word.count > 1, let last = closed.popLast() {
                closed.append(Substring(String(last) + String(word)))
            } else if word.hasSuffix("="), word.count > 1 {
                pendingKey = word
            } else {
                closed.append(word)
            }
        }
        if let key = pendingKey { closed.append(key) }
        words = closed
    }

    /// The value of `key=value` (or `key:value`, as `abort on iova:0x...` prints it).
    func keyed(_ key: String) -> Substring? {
        for word in words {
            for separator in ["=", ":"] where word.hasPrefix(key + separator) {
                return word.dropFirst(key.count + 1)
            }
        }
        return nil
    }

    /// The word after the word `label` (`iova 0x1000`).
    func after(_ label: String) -> Substring? {
        guard let index = words.firstIndex(where: { $0 == label }), index + 1 < words.count else { return nil }
        return words[index + 1]
    }
}

/// `0x%x` or `%d` (QEMU printed several SMMU numbers in decimal before 5.2).
private func number(_ text: Substring) -> UInt64? {
    text.hasPrefix("0x") || text.hasPrefix("0X") ? parseHexWord(text) : (text.count <= 20 ? UInt64(text) : nil)
}

/// `%d` of an `int` (an SMMU ASID or VMID; -1 where QEMU means any).
private func signed(_ text: Substring) -> Int32? { text.count <= 11 ? Int32(text) : nil }

/// `%d` of a `bool`.
private func flag(_ text: Substring) -> Bool? {
    switch text {
    case "0": false
    case "1": true
    default: nil
    }
}
