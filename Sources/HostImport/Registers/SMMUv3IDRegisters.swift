import IOMMUCore

/// Arm SMMUv3 `SMMU_IDR0`..`IDR5`, `IIDR` and `AIDR` (IHI0070 §6.3; `IDR*_` masks in
/// `drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h`) and the options
/// `arm_smmu_device_hw_probe` derives. Upstream sysfs shows none of them; users paste them
/// (from a boot log of a patched kernel, firmware or `GET_HW_INFO`). The core's
/// `ArmSMMUv3.hardwareInfo` encodes the same fields the other way, and a test checks that
/// this decode reads its words back into the configuration they came from.
struct SMMUv3IDRegisters {
    var idr: [UInt32]
    var iidr: UInt32
    var aidr: UInt32

    static let idr0Fields: [RegisterFieldSpec] = [
        RegisterFieldSpec("S2P", 0, "stage-2 translation"),
        RegisterFieldSpec("S1P", 1, "stage-1 translation"),
        RegisterFieldSpec("TTF", 2...3, "translation table formats") { ["reserved", "AArch32 only", "AArch64", "AArch32 and AArch64"][Int($0 & 3)] },
        RegisterFieldSpec("COHACC", 4, "coherent table walks"),
        RegisterFieldSpec("BTM", 5, "broadcast TLB maintenance"),
        RegisterFieldSpec("HTTU", 6...7, "hardware table updates") { ["none", "Access flag", "Access flag and dirty state", "reserved"][Int($0 & 3)] },
        RegisterFieldSpec("HYP", 9, "EL2 (hypervisor) streams"),
        RegisterFieldSpec("ATS", 10, "PCIe ATS"),
        RegisterFieldSpec("NS1ATS", 11, "stage-1-only ATS"),
        RegisterFieldSpec("ASID16", 12, "16-bit ASIDs"),
        RegisterFieldSpec("MSI", 13, "MSIs"),
        RegisterFieldSpec("SEV", 14, "wake-up events"),
        RegisterFieldSpec("ATOS", 15, "address translation operations"),
        RegisterFieldSpec("PRI", 16, "page requests (PRI)"),
        RegisterFieldSpec("VMW", 17, "VMID wildcards"),
        RegisterFieldSpec("VMID16", 18, "16-bit VMIDs"),
        RegisterFieldSpec("CD2L", 19, "two-level CD tables"),
        RegisterFieldSpec("VATOS", 20, "virtual ATOS"),
        RegisterFieldSpec("TTENDIAN", 21...22, "table endianness") { ["mixed", "reserved", "little", "big"][Int($0 & 3)] },
        RegisterFieldSpec("STALL_MODEL", 24...25, "stall model") { ["stall and terminate", "terminate only", "stall forced", "reserved"][Int($0 & 3)] },
        RegisterFieldSpec("TERM_MODEL", 26, "terminate aborts (no RAZ/WI)"),
        RegisterFieldSpec("ST_LEVEL", 27...28, "stream table levels") { $0 == 1 ? "linear and two-level" : $0 == 0 ? "linear" : "reserved" },
    ]

    static let idr1Fields: [RegisterFieldSpec] = [
        RegisterFieldSpec("SIDSIZE", 0...5, "StreamID bits") { "\($0)-bit StreamIDs" },
        RegisterFieldSpec("SSIDSIZE", 6...10, "SubstreamID bits") { "\($0)-bit SubstreamIDs" },
        RegisterFieldSpec("PRIQS", 11...15, "PRI queue") { "2^\($0) PRI queue entries" },
        RegisterFieldSpec("EVTQS", 16...20, "event queue") { "2^\($0) event queue entries" },
        RegisterFieldSpec("CMDQS", 21...25, "command queue") { "2^\($0) command queue entries" },
        RegisterFieldSpec("ATTR_PERMS_OVR", 26, "permission attribute override"),
        RegisterFieldSpec("ATTR_TYPES_OVR", 27, "memory type attribute override"),
        RegisterFieldSpec("REL", 28, "relative base addresses"),
        RegisterFieldSpec("QUEUES_PRESET", 29, "preset queues"),
        RegisterFieldSpec("TABLES_PRESET", 30, "preset tables"),
        RegisterFieldSpec("ECMDQ", 31, "enhanced command queues"),
    ]

    static let idr3Fields: [RegisterFieldSpec] = [
        RegisterFieldSpec("HAD", 2, "hierarchical attribute disables"),
        RegisterFieldSpec("PBHA", 3, "page-based hardware attributes"),
        RegisterFieldSpec("XNX", 4, "EL0/EL1 execute-never"),
        RegisterFieldSpec("PPS", 5, "PRI PASID-in-response"),
        RegisterFieldSpec("MPAM", 7, "memory partitioning and monitoring"),
        RegisterFieldSpec("FWB", 8, "stage-2 forced write-back"),
        RegisterFieldSpec("STT", 9, "small translation tables"),
        RegisterFieldSpec("RIL", 10, "range invalidation"),
        RegisterFieldSpec("BBML", 11...12, "break-before-make levels"),
    ]

    static let idr5Fields: [RegisterFieldSpec] = [
        RegisterFieldSpec("OAS", 0...2, "output address size") { oas in
            oas < 7 ? "\(ArmSMMUv3.Configuration.outputSizes[Int(oas)])-bit output addresses" : "reserved"
        },
        RegisterFieldSpec("GRAN4K", 4, "4 KiB granule"),
        RegisterFieldSpec("GRAN16K", 5, "16 KiB granule"),
        RegisterFieldSpec("GRAN64K", 6, "64 KiB granule"),
        RegisterFieldSpec("VAX", 10...11, "virtual address extend") { ["48-bit", "52-bit", "reserved", "reserved"][Int($0 & 3)] + " stage-1 input" },
        RegisterFieldSpec("STALL_MAX", 16...31, "outstanding stalls"),
    ]

    /// IDRn, zero when the paste had fewer words.
    func word(_ index: Int) -> UInt64 { index < idr.count ? UInt64(idr[index]) : 0 }

    var capabilities: UnitCapabilities {
        var configuration = ArmSMMUv3.Configuration()
        var approximations: [String] = []
        if idr.count < 6 { approximations.append("registers: \(idr.count) of the 6 IDR words given; the rest read as zero") }
        let idr0 = word(0), idr3 = word(3), idr5 = word(5)
        configuration.stage1 = idr0 >> 1 & 1 != 0
        configuration.stage2 = idr0 & 1 != 0
        if !configuration.stage1 && !configuration.stage2 {
            configuration.stage1 = true
            approximations.append("stages: IDR0 has neither S1P nor S2P (Linux refuses the SMMU); kept stage 1")
        }
        // arm_smmu_device_hw_probe: an unknown OAS is truncated to 48 bits.
        let oas = Int(idr5 & 7)
        configuration.oas = oas < ArmSMMUv3.Configuration.outputSizes.count ? ArmSMMUv3.Configuration.outputSizes[oas] : 48
        // TTF = AArch32+AArch64 sets ias = 40 first; then ias = max(ias, oas).
        configuration.ias = max((idr0 >> 2) & 3 == 3 ? 40 : 0, configuration.oas)
        if (idr0 >> 2) & 2 == 0 { approximations.append("ttf: no AArch64 table format (Linux refuses the SMMU); kept AArch64 tables") }
        configuration.granules = [(4, UInt64(4096)), (5, 16384), (6, 65536)].filter { idr5 >> UInt64($0.0) & 1 != 0 }.map(\.1)
        if configuration.granules.isEmpty {
            configuration.granules = [4096]
            approximations.append("granules: IDR5 names no granule; kept 4K")
        }
        // ARM_SMMU_FEAT_HD with a coherent walk (arm_smmu_dbm_capable): HTTU = 2 and COHACC.
        configuration.dirtyTracking = (idr0 >> 6) & 3 == 2 && idr0 >> 4 & 1 != 0
        configuration.rangeInvalidation = idr3 >> 10 & 1 != 0
        configuration.s2fwb = idr3 >> 8 & 1 != 0
        approximations.append("its: the ITS doorbell is not in the ID registers; kept \(RegisterText.hex(configuration.its))")
        var fields = Self.idr0Fields.decode(idr0, register: "idr0") + Self.idr1Fields.decode(word(1), register: "idr1")
        fields += Self.idr3Fields.decode(idr3, register: "idr3") + Self.idr5Fields.decode(idr5, register: "idr5")
        fields.append(CapabilityField(name: "IIDR", bits: "iidr 31:0", value: UInt64(iidr),
                                      meaning: "implementer \(RegisterText.hex(UInt64(iidr & 0xfff))), product \(RegisterText.hex(UInt64(iidr >> 20)))"))
        fields.append(CapabilityField(name: "AIDR", bits: "aidr 7:0", value: UInt64(aidr & 0xff),
                                      meaning: "SMMUv\(3 + (aidr >> 4) & 0xf).\(aidr & 0xf)"))
        return UnitCapabilities(configuration: .armSMMUv3(configuration), fields: fields, approximations: approximations)
    }
}
