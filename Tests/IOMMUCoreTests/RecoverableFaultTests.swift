import Testing
@testable import IOMMUCore

/// Devices that take recoverable faults: the SMMUv3 stall bits Linux writes for a
/// `stall_enabled` master, the platform rules for `pri=` and `stall=`, and the commands the
/// drivers' `page_response` issue.
struct RecoverableFaultTests {
    static let tcr = SMMUv3.TranslationControl(tsz: 16, irgn: 1, orgn: 1, sh: 3, tg: 0, ps: 5)

    /// `arm_smmu_make_s1_cd`: CTXDESC_CD_0_S (bit 44) only for a master with `stall_enabled`.
    @Test func contextDescriptorStallBit() {
        let plain = SMMUv3.contextDescriptor(tcr: Self.tcr, ttbr: 0x4000_2000, mair: 0, asid: 1, hardwareDirty: false)
        let stalling = SMMUv3.contextDescriptor(tcr: Self.tcr, ttbr: 0x4000_2000, mair: 0, asid: 1, hardwareDirty: false, stall: true)
        #expect(stalling[0] == plain[0] | 1 << 44)
        #expect(Array(stalling[1...]) == Array(plain[1...]))
        #expect(SMMUv3.ContextDescriptor(words: stalling).stall)
        #expect(!SMMUv3.ContextDescriptor(words: plain).stall)
    }

    /// `arm_smmu_make_cdtable_ste`: S1STALLD (word 1 bit 27) with ARM_SMMU_FEAT_STALLS for a
    /// master that cannot stall, never for one that can, and never without the feature.
    @Test(arguments: [(true, false, true), (true, true, false), (false, false, false), (false, true, false)])
    func cdTableSTEStallDisable(featureStalls: Bool, stallEnabled: Bool, s1stalld: Bool) {
        let features = SMMUv3.Features(stalls: featureStalls, attributeTypesOverride: false)
        let words = SMMUv3.cdTableSTE(table: 0x1_0080_c000, format: .linear, s1cdmax: 0, s1dss: .substream0,
                                      stallEnabled: stallEnabled, features: features)
        #expect(SMMUv3.StreamTableEntry(words: words).stage1StallDisabled == s1stalld)
        #expect(words[1] & ~(1 << 27) == 0xd6)
    }

    static func unit(_ configuration: UnitConfiguration) -> IOMMUUnit { IOMMUUnit(name: "u", configuration: configuration) }

    /// Stall is an SMMU's; PRI a PCIe function's, which the selftest's mock devices are not.
    @Test(arguments: [(UnitConfiguration.intelVTd(IntelVTd.Configuration()), RecoverableFaults.stall, "stall"),
                      (.amdVi(AMDVi.Configuration()), .stall, "stall"), (.mock, .pri, "pri")])
    func refusedCapability(configuration: UnitConfiguration, faults: RecoverableFaults, option: String) {
        let description = PlatformDescription(units: [Self.unit(configuration)], groups: [IOMMUGroup(id: 0)], devices: [
            DeviceDescription(name: "d", requesterID: .requesterID(0x100), unit: "u", group: 0, recoverableFaults: faults),
        ])
        #expect(throws: PlatformDescriptionError.self) { try description.validate() }
        do { try description.validate() } catch { #expect(error.option == option) }
    }

    @Test(arguments: [(UnitConfiguration.armSMMUv3(ArmSMMUv3.Configuration()), RecoverableFaults([.stall, .pri])),
                      (.intelVTd(IntelVTd.Configuration()), .pri), (.amdVi(AMDVi.Configuration()), .pri)])
    func acceptedCapability(configuration: UnitConfiguration, faults: RecoverableFaults) throws {
        let machine = try Machine(platform: PlatformDescription(units: [Self.unit(configuration)], groups: [IOMMUGroup(id: 0)], devices: [
            DeviceDescription(name: "d", requesterID: .requesterID(0x100), unit: "u", group: 0, recoverableFaults: faults),
        ]))
        #expect(machine.devices.first?.recoverableFaults == faults)
    }

    /// SSIDSIZE bounds an SMMUv3 master's PASIDs (`dev_iommu_get_max_pasids`).
    @Test func armPASIDWidth() {
        let smmu = ArmSMMUv3(name: "smmu0")
        #expect(PlatformDevice(name: "d", iommu: smmu, streamID: 1, maxPASIDLog2: 31).maxPASIDLog2 == 20)
        #expect(PlatformDevice(name: "d", iommu: smmu, streamID: 1, maxPASIDLog2: 8).maxPASIDLog2 == 8)
    }

    /// The commands `arm_smmu_page_response`, `intel_iommu_page_response` and
    /// `amd_iommu_complete_ppr` write, as `fault_respond` prints them.
    @Test func pageResponseCommands() {
        #expect(PageResponseCommand.resume(streamID: 0x100, stag: 2, retry: true).description
                == "CMD_RESUME SID=0x100 STAG=0x2 RESP=RETRY")
        #expect(PageResponseCommand.resume(streamID: 0x100, stag: 0xffff, retry: false).description
                == "CMD_RESUME SID=0x100 STAG=0xffff RESP=ABORT")
        #expect(PageResponseCommand.pageGroupResponse(requesterID: 0x100, pasid: 5, prgIndex: 0x1ff, code: .invalid).description
                == "QI_PGRP_RESP RID=0x100 PASID=0x5 PRGI=0x1ff RESPONSE=INVALID")
        #expect(PageResponseCommand.completePPRRequest(deviceID: 0x300, pasid: nil, tag: 0, code: .success).description
                == "COMPLETE_PPR_REQUEST DEVID=0x300 TAG=0x0 STATUS=SUCCESS")
    }
}
