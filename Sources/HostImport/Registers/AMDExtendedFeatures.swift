import IOMMUCore

/// The AMD-Vi Extended Feature Registers EFR (MMIO 0x30) and EFR2 (MMIO 0x1a0), field for
/// field as AMD IOMMU spec 48882 names them (`FEATURE_*` in
/// `drivers/iommu/amd/amd_iommu_types.h` for the bits Linux reads), and the options
/// `early_amd_iommu_init` derives from them.
struct AMDExtendedFeatures {
    var efr: UInt64
    var efr2: UInt64

    static let efrFields: [RegisterFieldSpec] = [
        RegisterFieldSpec("PreFSup", 0, "prefetch of IOMMU pages"),
        RegisterFieldSpec("PPRSup", 1, "peripheral page requests"),
        RegisterFieldSpec("XTSup", 2, "x2APIC interrupts"),
        RegisterFieldSpec("NXSup", 3, "no-execute protection"),
        RegisterFieldSpec("GTSup", 4, "guest translation"),
        RegisterFieldSpec("IASup", 6, "INVALIDATE_IOMMU_ALL"),
        RegisterFieldSpec("GASup", 7, "guest virtual APIC"),
        RegisterFieldSpec("HESup", 8, "hardware error registers"),
        RegisterFieldSpec("PCSup", 9, "performance counters"),
        RegisterFieldSpec("HATS", 10...11, "host address translation size") { hats in
            hats == 3 ? "reserved (Linux disables host translation)" : "\(hats + 4)-level host tables"
        },
        RegisterFieldSpec("GATS", 12...13, "guest address translation size") { gats in
            gats <= 1 ? "\(gats + 4)-level guest tables" : "reserved"
        },
        RegisterFieldSpec("GLXSup", 14...15, "guest CR3 table levels") { "up to \($0 + 1)-level GCR3 tables" },
        RegisterFieldSpec("SmiFSup", 16...17, "SMI filter"),
        RegisterFieldSpec("SmiFRC", 18...20, "SMI filter registers") { "\(1 << $0) SMI filter register\($0 == 0 ? "" : "s")" },
        RegisterFieldSpec("GAMSup", 21...23, "guest APIC modes") { $0 & 1 != 0 ? "guest virtual APIC mode" : "interrupt remapping only" },
        RegisterFieldSpec("DualPprLogSup", 24...25, "dual PPR logs"),
        RegisterFieldSpec("DualEventLogSup", 28...29, "dual event logs"),
        RegisterFieldSpec("PASmax", 32...36, "PASID size") { "\($0 + 1)-bit PASIDs" },
        RegisterFieldSpec("USSup", 37, "user/supervisor page protection"),
        RegisterFieldSpec("DevTblSegSup", 38...39, "device table segments") { "\(1 << $0) device table segment\($0 == 0 ? "" : "s")" },
        RegisterFieldSpec("PprOvrflwEarlySup", 40, "PPR log overflow early warning"),
        RegisterFieldSpec("PPRAutoRspSup", 41, "PPR automatic response"),
        RegisterFieldSpec("MarcSup", 42...43, "memory address routing and control"),
        RegisterFieldSpec("BlkStopMrkSup", 44, "block StopMark messages"),
        RegisterFieldSpec("PerfOptSup", 45, "performance optimization"),
        RegisterFieldSpec("MsiCapMmioSup", 46, "MSI capability registers in MMIO"),
        RegisterFieldSpec("GIoSup", 48, "guest I/O protection"),
        RegisterFieldSpec("HASup", 49, "host access bits"),
        RegisterFieldSpec("EPHSup", 50, "enhanced PPR handling"),
        RegisterFieldSpec("AttrFWSup", 51, "attribute forwarding"),
        RegisterFieldSpec("HDSup", 52, "host dirty bits (dirty tracking)"),
        RegisterFieldSpec("InvIotlbTypeSup", 54, "invalidate IOTLB type"),
        RegisterFieldSpec("VIommuSup", 55, "hardware vIOMMU"),
        RegisterFieldSpec("GAUpdateDisSup", 56, "disabling the guest access/dirty update"),
        RegisterFieldSpec("ForcePhyDestSup", 57, "forced physical destination mode"),
        RegisterFieldSpec("SNPSup", 63, "SEV-SNP"),
    ]

    static let efr2Fields: [RegisterFieldSpec] = [
        RegisterFieldSpec("SEVSNPIOSup", 1, "SEV-SNP trusted I/O"),
        RegisterFieldSpec("GCR3TRPMode", 3, "GCR3 table root pointer mode"),
        RegisterFieldSpec("SNPAVICSup", 5...7, "AVIC with SNP") { $0 == 1 ? "guest virtual APIC mode with SNP" : "0x\(String($0, radix: 16))" },
        // FEATURE_NUM_INT_REMAP_SUP_2K: value 1 lets a DTE hold 2048 IRTEs (IntTabLen 11).
        RegisterFieldSpec("NumIntRemapSup", 8...9, "IRTEs per device") { $0 == 1 ? "2048 IRTEs per device" : "512 IRTEs per device" },
        RegisterFieldSpec("HTRangeIgnore", 11, "HyperTransport range not reserved"),
    ]

    private func bit(_ word: UInt64, _ index: UInt64) -> Bool { word >> index & 1 != 0 }

    func capabilities(_ options: BootOptions) -> UnitCapabilities {
        var configuration = AMDVi.Configuration()
        var approximations: [String] = []
        // early_amd_iommu_init: amd_iommu_hpt_level = HATS + PAGE_MODE_4_LEVEL; 3 is a firmware bug.
        let hats = Int((efr >> 10) & 3)
        if hats == 3 {
            configuration.levels = 4
            approximations.append("levels: EFR.HATS = 3 is invalid and Linux disables host translation (amd_iommu_hatdis); kept levels=4")
        } else {
            configuration.levels = hats + 4
        }
        configuration.dirtyTracking = bit(efr, 52)
        configuration.hyperTransportRangeIgnored = bit(efr2, 11)
        // amd_iommu_v2_pgtbl_supported: GT and GIoSup; without them Linux falls back to v1.
        if options.amdPageTableV2 {
            configuration.defaultsToV2 = bit(efr, 4) && bit(efr, 48)
            if !configuration.defaultsToV2 {
                approximations.append("pgtbl_v2: the unit lacks GTSup or GIoSup, so Linux falls back to v1 tables")
            }
        }
        let fields = Self.efrFields.decode(efr, register: "efr") + Self.efr2Fields.decode(efr2, register: "efr2")
        return UnitCapabilities(configuration: .amdVi(configuration), fields: fields, approximations: approximations)
    }
}

extension AMDFeaturesForm {
    /// Reads `amd-iommu/features` (`amd_iommu_show_features` in `drivers/iommu/amd/init.c`)
    /// in any of its forms: `%llx` (EFR only) or `%llx:%llx`. The two colon forms
    /// (features2:features in 2022, efr:efr2 from 2023) differ only in order: EFR has many
    /// bits set and EFR2 few, so the side with more bits set is taken as EFR (a tie reads as
    /// the current order). Nil for anything else.
    public static func parse(_ text: String) -> (efr: UInt64, efr2: UInt64, form: AMDFeaturesForm)? {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 1, let word = words.first else { return nil }
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        func number(_ digits: Substring) -> UInt64? {
            digits.hasPrefix("0x") ? parseHexWord(digits) : parseBareHex(digits)
        }
        switch parts.count {
        case 1:
            return number(parts[0]).map { ($0, 0, .efrOnly) }
        case 2:
            guard let left = number(parts[0]), let right = number(parts[1]) else { return nil }
            if right.nonzeroBitCount > left.nonzeroBitCount { return (right, left, .efr2ThenEFR) }
            return (left, right, .efrThenEFR2)
        default:
            return nil
        }
    }
}
