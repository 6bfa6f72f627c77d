import IOMMUCore

/// VT-d `CAP_REG` and `ECAP_REG` (VT-d spec §11.4.2, §11.4.3), field for field as the
/// `cap_*`/`ecap_*` macros of `drivers/iommu/intel/iommu.h` read them, and the options
/// `alloc_iommu` / `iommu_calculate_agaw` / `intel_iommu_domain_alloc_paging_flags` derive.
struct VTdCapabilityRegisters {
    var cap: UInt64
    var ecap: UInt64

    static let capFields: [RegisterFieldSpec] = [
        RegisterFieldSpec("ND", 0...2, "domains") { "\(1 << (4 + 2 * min($0, 6))) domains" },  // cap_ndoms
        RegisterFieldSpec("AFL", 3, "advanced fault logging"),
        RegisterFieldSpec("RWBF", 4, "required write-buffer flushing"),
        RegisterFieldSpec("PLMR", 5, "protected low-memory region"),
        RegisterFieldSpec("PHMR", 6, "protected high-memory region"),
        RegisterFieldSpec("CM", 7, "caching mode (set by emulated VT-d: not-present entries are cached)"),
        RegisterFieldSpec("SAGAW", 8...12, "second-stage table levels") { sagaw in
            let levels = [(1, "3-level"), (2, "4-level"), (3, "5-level")].filter { sagaw >> UInt64($0.0) & 1 != 0 }.map(\.1)
            return levels.isEmpty ? "no second-stage table depth" : levels.joined(separator: " and ") + " tables"
        },
        RegisterFieldSpec("MGAW", 16...21, "maximum guest address width") { "\($0 + 1)-bit guest addresses" },  // cap_mgaw
        RegisterFieldSpec("ZLR", 22, "zero-length reads"),
        RegisterFieldSpec("FRO", 24...33, "fault recording registers") { "fault records at offset \(RegisterText.hex($0 * 16))" },
        RegisterFieldSpec("SLLPS", 34...37, "second-stage large pages") { sllps in
            let sizes = [(0, "2 MiB"), (1, "1 GiB"), (2, "512 GiB"), (3, "1 TiB")].filter { sllps >> UInt64($0.0) & 1 != 0 }.map(\.1)
            return sizes.isEmpty ? "4 KiB pages only" : sizes.joined(separator: " and ") + " pages"
        },
        RegisterFieldSpec("PSI", 39, "page-selective IOTLB invalidation"),
        RegisterFieldSpec("NFR", 40...47, "fault recording registers") { "\($0 + 1) fault record\($0 == 0 ? "" : "s")" },
        RegisterFieldSpec("MAMV", 48...53, "maximum address mask value") { "page-selective invalidation of up to 2^\($0) pages" },
        RegisterFieldSpec("DWD", 54, "write draining"),
        RegisterFieldSpec("DRD", 55, "read draining"),
        RegisterFieldSpec("FL1GP", 56, "first-stage 1 GiB pages"),
        RegisterFieldSpec("PI", 59, "posted interrupts"),
        RegisterFieldSpec("FL5LP", 60, "first-stage 5-level tables"),
        RegisterFieldSpec("ECMDS", 61, "enhanced command support"),
        RegisterFieldSpec("ESIRTPS", 62, "enhanced set interrupt remap table pointer"),
        RegisterFieldSpec("ESRTPS", 63, "enhanced set root table pointer"),
    ]

    static let ecapFields: [RegisterFieldSpec] = [
        RegisterFieldSpec("C", 0, "coherent table walks"),
        RegisterFieldSpec("QI", 1, "queued invalidation"),
        RegisterFieldSpec("DT", 2, "device-TLB (ATS)"),
        RegisterFieldSpec("IR", 3, "interrupt remapping"),
        RegisterFieldSpec("EIM", 4, "extended interrupt mode (x2APIC)"),
        RegisterFieldSpec("PT", 6, "pass-through"),
        RegisterFieldSpec("SC", 7, "snoop control"),
        RegisterFieldSpec("IRO", 8...17, "IOTLB registers") { "IOTLB registers at offset \(RegisterText.hex($0 * 16))" },
        RegisterFieldSpec("MHMV", 20...23, "maximum handle mask value"),
        RegisterFieldSpec("MTS", 25, "memory type"),
        RegisterFieldSpec("NEST", 26, "nested translation"),
        RegisterFieldSpec("PRS", 29, "page requests"),
        RegisterFieldSpec("ERS", 30, "execute requests"),
        RegisterFieldSpec("SRS", 31, "supervisor requests"),
        RegisterFieldSpec("NWFS", 33, "no write flag"),
        RegisterFieldSpec("EAFS", 34, "extended accessed flag"),
        RegisterFieldSpec("PSS", 35...39, "PASID size") { "\($0 + 1)-bit PASIDs" },
        RegisterFieldSpec("PASID", 40, "process address space IDs"),
        RegisterFieldSpec("DIT", 41, "device-TLB invalidation throttling"),
        RegisterFieldSpec("PDS", 42, "page-request drain"),
        RegisterFieldSpec("SMTS", 43, "scalable mode (legacy-only when clear)"),
        RegisterFieldSpec("VCS", 44, "virtual command"),
        RegisterFieldSpec("SLADS", 45, "second-stage accessed/dirty bits"),
        RegisterFieldSpec("SLTS", 46, "second-stage translation (scalable mode)"),
        RegisterFieldSpec("FLTS", 47, "first-stage translation"),
        RegisterFieldSpec("SMPWC", 48, "scalable-mode page-walk coherency"),
        RegisterFieldSpec("RPS", 49, "RID_PASID"),
        RegisterFieldSpec("PMS", 51, "performance monitoring"),
    ]

    private func bit(_ word: UInt64, _ index: UInt64) -> Bool { word >> index & 1 != 0 }

    /// ECAP.SMTS, unless `intel_iommu=sm_off`: `sm_supported()`.
    func scalableMode(_ options: BootOptions) -> Bool { bit(ecap, 43) && !options.scalableModeOff }

    /// `__iommu_calculate_sagaw`: the second-stage SAGAW for a legacy unit or one without
    /// first stage, the first stage's (4-level, 5-level with FL5LP) without second stage,
    /// else the widths both stages have.
    func supportedAGAWs(_ options: BootOptions) -> UInt64 {
        let firstStage: UInt64 = 1 << 2 | (bit(cap, 60) ? 1 << 3 : 0)
        let secondStage = (cap >> 8) & 0x1f
        guard scalableMode(options), bit(ecap, 47) else { return secondStage }
        guard bit(ecap, 46) else { return firstStage }
        return firstStage & secondStage
    }

    /// `__iommu_calculate_agaw(iommu, DEFAULT_DOMAIN_ADDRESS_WIDTH)`: the widest AGAW up to
    /// 57 bits (agaw 3); nil when none is supported (`alloc_iommu` then ignores the unit).
    func agaw(_ options: BootOptions) -> Int? {
        let sagaw = supportedAGAWs(options)
        return (0...3).reversed().first { sagaw >> UInt64($0) & 1 != 0 }
    }

    func capabilities(_ options: BootOptions) -> UnitCapabilities {
        var configuration = IntelVTd.Configuration()
        var approximations: [String] = []
        let scalable = scalableMode(options)
        switch agaw(options) {
        case 3?: configuration.addressWidth = 57
        case 2?: configuration.addressWidth = 48
        case let agaw?:
            approximations.append("aw: the unit's widest table is \(30 + 9 * agaw)-bit (\(agaw + 2)-level); kept aw=48")
        case nil:
            approximations.append("aw: no address width the driver can use (Linux ignores the unit); kept aw=48")
        }
        // `intel_iommu_domain_alloc_paging_flags`: first stage needs scalable mode and FLTS;
        // legacy mode translates with second-stage (SL) tables only.
        configuration.firstStage = scalable && bit(ecap, 47)
        configuration.secondStage = !scalable || bit(ecap, 46)
        // `ssads_supported`: scalable mode, SLADS and SMPWC.
        configuration.dirtyTracking = scalable && bit(ecap, 45) && bit(ecap, 48)
        let pss = Int((ecap >> 35) & 0x1f)
        configuration.pasidSizeSupported = min(pss, 19)
        if pss > 19 { approximations.append("pss: ECAP.PSS = \(pss) is wider than PCIe's 20-bit PASIDs; kept pss=19") }
        if !scalable {
            let why = bit(ecap, 43) ? "intel_iommu=sm_off" : "ECAP.SMTS = 0"
            approximations.append("mode: legacy only (\(why)): no scalable mode, no PASIDs, no first stage; "
                + "with the host's root table (dmar_translation_struct) the unit walks and writes legacy context entries, "
                + "without it the model runs it in scalable mode with the second stage only")
        } else if !bit(ecap, 40) {
            approximations.append("pss: ECAP.PASID = 0, the unit takes no PASIDs; kept pss=\(configuration.pasidSizeSupported)")
        }
        if !configuration.secondStage && !configuration.firstStage {
            configuration.secondStage = true
            approximations.append("stages: scalable mode with neither FLTS nor SLTS; kept the second stage")
        }
        if bit(cap, 7) {
            approximations.append("cm: caching mode (an emulated VT-d caches not-present entries); the core does not model it")
        }
        let fields = Self.capFields.decode(cap, register: "cap") + Self.ecapFields.decode(ecap, register: "ecap")
        return UnitCapabilities(configuration: .intelVTd(configuration), fields: fields, approximations: approximations)
    }
}
