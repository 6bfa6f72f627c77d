import IOMMUCore
import Testing
import TestSupport
@testable import HostImport

/// The field named `name`'s value, or nil.
private func value(_ capabilities: UnitCapabilities, _ name: String) -> UInt64? { capabilities.field(name)?.value }

/// The platform accepts the unit: the decode always yields a configuration the core validates.
private func validates(_ capabilities: UnitCapabilities) -> Bool {
    (try? Machine().add(PlatformDescription(units: [IOMMUUnit(name: "u0", configuration: capabilities.configuration)]))) != nil
}

@Suite struct VTdCapabilityTests {
    /// `samples/sysfs/intel-iommu-cap-ecap-xeon-w1290p.txt`, as host-inputs §2.4's table decodes it.
    @Test func theXeonSampleDecodesAsTheTableSays() throws {
        let lines = try AMDSamples.text("sysfs/intel-iommu-cap-ecap-xeon-w1290p.txt").split(separator: "\n")
        let cap = try #require(lines.firstIndex { $0.hasSuffix("intel-iommu/cap") }.flatMap { parseBareHex(lines[$0 + 1]) })
        let ecap = try #require(lines.firstIndex { $0.hasSuffix("intel-iommu/ecap") }.flatMap { parseBareHex(lines[$0 + 1]) })
        #expect((cap, ecap) == (0xd2_008c_4066_0462, 0xf0_50da))
        let decoded = UnitCapabilities.decode(.intelVTd(cap: cap, ecap: ecap))
        let expected: [(String, UInt64)] = [
            ("ND", 2), ("CM", 0), ("SAGAW", 0x4), ("MGAW", 38), ("FRO", 0x40), ("NFR", 0), ("SLLPS", 0x3), ("PSI", 1),
            ("FL1GP", 0), ("PI", 0), ("FL5LP", 0), ("MAMV", 0x12),
            ("C", 0), ("QI", 1), ("DT", 0), ("IR", 1), ("EIM", 1), ("PT", 1), ("SC", 1), ("IRO", 0x50),
            ("NEST", 0), ("PRS", 0), ("PASID", 0), ("SMTS", 0), ("SLTS", 0), ("FLTS", 0), ("SLADS", 0), ("PSS", 0),
        ]
        for (name, bits) in expected { #expect(value(decoded, name) == bits, "\(name)") }
        #expect(decoded.field("ND")?.meaning == "256 domains")
        #expect(decoded.field("ND")?.bits == "cap 2:0")
        #expect(decoded.field("SAGAW")?.meaning == "4-level tables")
        #expect(decoded.field("MGAW")?.meaning == "39-bit guest addresses")
        #expect(decoded.field("FRO")?.meaning == "fault records at offset 0x400")
        #expect(decoded.field("NFR")?.meaning == "1 fault record")
        #expect(decoded.field("SLLPS")?.meaning == "2 MiB and 1 GiB pages")
        #expect(decoded.field("IRO")?.meaning == "IOTLB registers at offset 0x500")
        #expect(decoded.field("QI")?.meaning == "queued invalidation: yes")
        #expect(decoded.field("SMTS")?.bits == "ecap 43")
        // Legacy only: second-stage (legacy) tables, 4-level, no first stage, no PASIDs.
        guard case .intelVTd(let c) = decoded.configuration else { Issue.record("\(decoded.configuration)"); return }
        #expect(c.addressWidth == 48 && !c.firstStage && c.secondStage && !c.dirtyTracking && c.pasidSizeSupported == 0)
        #expect(decoded.approximations.contains { $0.hasPrefix("mode: legacy only (ECAP.SMTS = 0)") })
        #expect(validates(decoded))
    }

    /// The boot log prints the same registers (`alloc_iommu`): dmar1 is the Xeon's twin, dmar0
    /// a graphics unit.
    @Test func theBootLogUnitsDecode() {
        let dmar1 = UnitCapabilities.decode(.intelVTd(cap: 0x8d_2008_c406_60462, ecap: 0xf0_50da))
        #expect(value(dmar1, "SAGAW") == 4 && value(dmar1, "MGAW") == 38 && value(dmar1, "SMTS") == 0)
        let dmar0 = UnitCapabilities.decode(.intelVTd(cap: 0x1c0_000c_4066_0462, ecap: 0x29a_00f0_505e))
        #expect(value(dmar0, "ND") == 2 && value(dmar0, "PSS") == 19 && value(dmar0, "PASID") == 0 && value(dmar0, "SMTS") == 0)
        #expect(value(dmar0, "C") == 0 && value(dmar0, "QI") == 1 && value(dmar0, "DT") == 1)
    }

    /// The core's own CAP/ECAP (what `GET_HW_INFO` reports) decode back to the configuration
    /// that made them, for every combination the options allow.
    @Test func theCoreRegistersDecodeToTheirConfiguration() {
        for width in [48, 57] {
            for (first, second) in [(true, true), (true, false), (false, true)] {
                for dirty in [false, true] {
                    for pss in [0, 7, 19] {
                        var c = IntelVTd.Configuration()
                        (c.addressWidth, c.firstStage, c.secondStage, c.dirtyTracking, c.pasidSizeSupported) = (width, first, second, dirty, pss)
                        let unit = IntelVTd(name: "dmar0", configuration: c)
                        let decoded = UnitCapabilities.decode(.intelVTd(cap: unit.capabilityRegister, ecap: unit.extendedCapabilityRegister))
                        #expect(decoded.configuration == .intelVTd(c), "\(c)")
                        #expect(decoded.approximations.isEmpty, "\(decoded.approximations)")
                    }
                }
            }
        }
    }

    @Test func whatTheCoreCannotSayIsApproximated() {
        let scalable: UInt64 = 1 << 43 | 1 << 46 | 1 << 40
        // 3-level only.
        let threeLevel = UnitCapabilities.decode(.intelVTd(cap: 0b0010 << 8 | 38 << 16, ecap: scalable))
        #expect(threeLevel.configuration == .intelVTd({ var c = IntelVTd.Configuration(); c.firstStage = false; c.dirtyTracking = false; c.pasidSizeSupported = 0; return c }()))
        #expect(threeLevel.approximations == ["aw: the unit's widest table is 39-bit (3-level); kept aw=48"])
        // Caching mode (an emulated VT-d), and no width at all.
        let emulated = UnitCapabilities.decode(.intelVTd(cap: 1 << 7, ecap: scalable))
        #expect(emulated.approximations.contains { $0.hasPrefix("aw: no address width") })
        #expect(emulated.approximations.contains { $0.hasPrefix("cm: caching mode") })
        // intel_iommu=sm_off turns a scalable unit into a legacy one.
        let unit = IntelVTd(name: "dmar0")
        let off = UnitCapabilities.decode(.intelVTd(cap: unit.capabilityRegister, ecap: unit.extendedCapabilityRegister),
                                          commandLine: "quiet intel_iommu=on,sm_off iommu=pt")
        guard case .intelVTd(let c) = off.configuration else { Issue.record("not VT-d"); return }
        #expect(!c.firstStage && c.secondStage && !c.dirtyTracking)
        #expect(off.approximations.first?.hasPrefix("mode: legacy only (intel_iommu=sm_off)") == true)
        // Scalable mode without the PASID capability.
        #expect(UnitCapabilities.decode(.intelVTd(cap: 0b0100 << 8, ecap: 1 << 43 | 1 << 46)).approximations
            == ["pss: ECAP.PASID = 0, the unit takes no PASIDs; kept pss=0"])
    }
}

@Suite struct AMDExtendedFeatureTests {
    static let efr: UInt64 = 0x25bf_732f_a229_5afe, efr2: UInt64 = 0x53d

    @Test func theSampleFeaturesFileReadsInTheCurrentOrder() throws {
        let text = try AMDSamples.text("sysfs/amd-iommu-features-efr-efr2.txt").split(separator: "\n").filter { !$0.hasPrefix("$") }
        let line = try #require(text.first)
        let parsed = try #require(AMDFeaturesForm.parse(String(line)))
        #expect(parsed.efr == Self.efr && parsed.efr2 == Self.efr2 && parsed.form == .efrThenEFR2)
    }

    @Test func everyFormOfFeatures() {
        #expect(AMDFeaturesForm.parse("25bf732fa2295afe\n").map { [$0.efr, $0.efr2] } == [Self.efr, 0])
        #expect(AMDFeaturesForm.parse("25bf732fa2295afe")?.form == .efrOnly)
        let old = AMDFeaturesForm.parse("53d:25bf732fa2295afe")
        #expect(old?.efr == Self.efr && old?.efr2 == Self.efr2 && old?.form == .efr2ThenEFR)
        #expect(AMDFeaturesForm.parse("0:0")?.form == .efrThenEFR2)
        for junk in ["", "x", "1:2:3", "12345678901234567", ":5", "5:", "1 2", "0xzz"] {
            #expect(AMDFeaturesForm.parse(junk) == nil, "\(junk)")
        }
    }

    @Test func theSampleDecodesFieldByField() {
        let decoded = UnitCapabilities.decode(.amdVi(efr: Self.efr, efr2: Self.efr2))
        let expected: [(String, UInt64)] = [
            ("PreFSup", 0), ("PPRSup", 1), ("XTSup", 1), ("NXSup", 1), ("GTSup", 1), ("IASup", 1), ("GASup", 1), ("HESup", 0),
            ("PCSup", 1), ("HATS", 2), ("GATS", 1), ("GLXSup", 1), ("SmiFSup", 1), ("SmiFRC", 2), ("GAMSup", 1),
            ("DualPprLogSup", 2), ("DualEventLogSup", 2), ("PASmax", 15), ("USSup", 1), ("DevTblSegSup", 0),
            ("PprOvrflwEarlySup", 1), ("PPRAutoRspSup", 1), ("MarcSup", 0), ("BlkStopMrkSup", 1), ("PerfOptSup", 1),
            ("MsiCapMmioSup", 1), ("GIoSup", 1), ("HASup", 1), ("EPHSup", 1), ("AttrFWSup", 1), ("HDSup", 1),
            ("InvIotlbTypeSup", 0), ("VIommuSup", 1), ("GAUpdateDisSup", 1), ("ForcePhyDestSup", 0), ("SNPSup", 0),
            ("SEVSNPIOSup", 0), ("GCR3TRPMode", 1), ("SNPAVICSup", 1), ("NumIntRemapSup", 1), ("HTRangeIgnore", 0),
        ]
        for (name, bits) in expected { #expect(value(decoded, name) == bits, "\(name)") }
        #expect(decoded.field("HATS")?.meaning == "6-level host tables")
        #expect(decoded.field("PASmax")?.meaning == "16-bit PASIDs")
        #expect(decoded.field("NumIntRemapSup")?.meaning == "2048 IRTEs per device")
        #expect(decoded.field("NumIntRemapSup")?.bits == "efr2 9:8")
        var c = AMDVi.Configuration()
        (c.levels, c.dirtyTracking, c.hyperTransportRangeIgnored, c.defaultsToV2) = (6, true, false, false)
        #expect(decoded.configuration == .amdVi(c))
        #expect(decoded.approximations.isEmpty)
        c.defaultsToV2 = true
        #expect(UnitCapabilities.decode(.amdVi(efr: Self.efr, efr2: Self.efr2), commandLine: "amd_iommu=pgtbl_v2").configuration == .amdVi(c))
    }

    @Test func configurationMapping() {
        // HATS 0 -> 4 levels, no HDSup, HT range ignored by EFR2.
        var c = AMDVi.Configuration()
        (c.levels, c.dirtyTracking, c.hyperTransportRangeIgnored) = (4, false, true)
        #expect(UnitCapabilities.decode(.amdVi(efr: 0, efr2: 1 << 11)).configuration == .amdVi(c))
        // HATS 3 is a firmware bug: Linux disables host translation.
        let bad = UnitCapabilities.decode(.amdVi(efr: 3 << 10, efr2: 0))
        #expect(bad.approximations.first?.hasPrefix("levels: EFR.HATS = 3") == true)
        // pgtbl_v2 without GT/GIoSup falls back to v1, as Linux does; a later pgtbl_v1 wins.
        let fallback = UnitCapabilities.decode(.amdVi(efr: 1 << 10, efr2: 0), commandLine: "amd_iommu=pgtbl_v2")
        guard case .amdVi(let v1) = fallback.configuration else { Issue.record("not AMD-Vi"); return }
        #expect(v1.levels == 5 && !v1.defaultsToV2)
        #expect(fallback.approximations.count == 1)
        let later = UnitCapabilities.decode(.amdVi(efr: 1 << 4 | 1 << 48, efr2: 0), commandLine: "amd_iommu=pgtbl_v2 amd_iommu=pgtbl_v1")
        guard case .amdVi(let v) = later.configuration else { Issue.record("not AMD-Vi"); return }
        #expect(!v.defaultsToV2)
    }
}

@Suite struct SMMUv3IDRegisterTests {
    /// The IDR words the core reports for a configuration (`ArmSMMUv3.hardwareInfo`).
    func registers(_ c: ArmSMMUv3.Configuration) throws -> UnitRegisters {
        let machine = Machine()
        try machine.add(PlatformDescription(
            units: [IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(c))], groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "dev0", requesterID: .streamID(1), unit: "smmu0", group: 0)]))
        let device = try #require(machine.device(named: "dev0"))
        let info = try machine.iommu(named: "smmu0")?.hardwareInfo(for: device, type: 0)
        let words = Dictionary((info?.fields ?? []).map { ($0.name, UInt32(truncatingIfNeeded: $0.value)) }, uniquingKeysWith: { a, _ in a })
        let idr = try (0...5).map { try #require(words["idr\($0)"]) }
        return .armSMMUv3(idr: idr, iidr: words["iidr"] ?? 0, aidr: words["aidr"] ?? 0)
    }

    @Test func theCoreRegistersDecodeToTheirConfiguration() throws {
        for oas in ArmSMMUv3.Configuration.outputSizes {
            for granules: [UInt64] in [[4096], [65536], [4096, 16384, 65536]] {
                for (s1, s2) in [(true, true), (true, false), (false, true)] {
                    for flags in 0..<8 {
                        var c = ArmSMMUv3.Configuration()
                        (c.oas, c.ias, c.granules, c.stage1, c.stage2) = (oas, max(oas, 32), granules, s1, s2)
                        (c.dirtyTracking, c.rangeInvalidation, c.s2fwb) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0)
                        let decoded = UnitCapabilities.decode(try registers(c))
                        c.ias = oas
                        #expect(decoded.configuration == .armSMMUv3(c), "\(c)")
                        #expect(decoded.approximations.count == 1)  // the ITS doorbell
                    }
                }
            }
        }
    }

    @Test func fieldsAndTheProbeRules() throws {
        let decoded = UnitCapabilities.decode(try registers(ArmSMMUv3.Configuration()))
        #expect(value(decoded, "S1P") == 1 && value(decoded, "TTF") == 2 && value(decoded, "HTTU") == 2)
        #expect(decoded.field("HTTU")?.meaning == "Access flag and dirty state")
        #expect(value(decoded, "SSIDSIZE") == 20 && value(decoded, "SIDSIZE") == 16 && value(decoded, "RIL") == 1)
        #expect(decoded.field("OAS")?.meaning == "48-bit output addresses")
        #expect(decoded.field("AIDR")?.meaning == "SMMUv3.2")
        // TTF = AArch32+64 starts ias at 40: a 32-bit OAS still gets a 40-bit IAS.
        let mixed = UnitCapabilities.decode(.armSMMUv3(idr: [3 << 2 | 1 << 1, 0, 0, 0, 0, 1 << 4], iidr: 0, aidr: 0))
        guard case .armSMMUv3(let c) = mixed.configuration else { Issue.record("not SMMUv3"); return }
        #expect(c.ias == 40 && c.oas == 32 && c.granules == [4096] && !c.dirtyTracking && c.stage1 && !c.stage2)
        // HTTU = 2 without COHACC is no dirty tracking (arm_smmu_dbm_capable); short pastes read as zero.
        let short = UnitCapabilities.decode(.armSMMUv3(idr: [2 << 6 | 2 << 2 | 1 << 1], iidr: 0, aidr: 0))
        guard case .armSMMUv3(let s) = short.configuration else { Issue.record("not SMMUv3"); return }
        #expect(!s.dirtyTracking && s.oas == 32 && s.granules == [4096])
        #expect(short.approximations.contains("registers: 1 of the 6 IDR words given; the rest read as zero"))
        #expect(validates(short))
    }
}

@Suite struct RegisterFuzzTests {
    /// Random register words of every architecture: no trap, a fixed field list, and always a
    /// configuration the platform accepts.
    @Test func seededFuzzAlwaysValidates() {
        var random = SplitMix64(seed: 0x7265_6773)
        let vtdFields = VTdCapabilityRegisters.capFields.count + VTdCapabilityRegisters.ecapFields.count
        let amdFields = AMDExtendedFeatures.efrFields.count + AMDExtendedFeatures.efr2Fields.count
        for _ in 0..<300 {
            let cmdline = random.pick([nil, "intel_iommu=sm_off", "amd_iommu=pgtbl_v2,force_isolation", "amd_iommu= =,,"])
            let vtd = UnitCapabilities.decode(.intelVTd(cap: random.next(), ecap: random.next()), commandLine: cmdline)
            #expect(vtd.fields.count == vtdFields && validates(vtd))
            let amd = UnitCapabilities.decode(.amdVi(efr: random.next(), efr2: random.next()), commandLine: cmdline)
            #expect(amd.fields.count == amdFields && validates(amd))
            let idr = (0..<random.below(8)).map { _ in UInt32(truncatingIfNeeded: random.next()) }
            let smmu = UnitCapabilities.decode(.armSMMUv3(idr: idr, iidr: UInt32(truncatingIfNeeded: random.next()), aidr: 0xff))
            #expect(validates(smmu), "\(idr)")
            let text = String((0..<random.below(24)).map { _ in random.pick(Array("0123456789abcdefx: \n")) })
            _ = AMDFeaturesForm.parse(text)
        }
    }
}
