import Testing
import IOMMUCore
@testable import ScenarioScript

/// The events of SMMUv3 transactions with a SubstreamID, from the scenarios in `arm/`:
/// IHI0070 7.3 records SSV and the SubstreamID in word 0 of every event of such a transaction.
struct ArmSubstreamTests {
    static func deviceID(_ results: [String: CommandResult], _ line: String) -> UInt32? {
        guard case .integer(let id)? = results[line]?.field("out_devid") else { return nil }
        return UInt32(id)
    }

    @Test func substreamEventsCarrySSV() throws {
        let (session, _, results) = try VTdTranslationTests.runAll("../arm/pasid_two_level_cd_table.iommu")
        let device = try #require(Self.deviceID(results, "nic = device_bind dev=nic0"))
        // An L1 descriptor with V = 0: C_BAD_SUBSTREAMID, SSV, SSID 0x2345, StreamID 0x100.
        guard case .failure(let fault)? = try session.iommufd.translate(deviceID: device, iova: 0x10_0000, pasid: 0x2345,
                                                                       access: .read) else {
            Issue.record("no fault")
            return
        }
        let event = try #require(fault.smmuv3Event)
        #expect(event.id == .C_BAD_SUBSTREAMID && event.substreamID == 0x2345)
        #expect(event.words[0] == 0x0000_0100_0234_5808)
        // Without a SubstreamID the blocked RID's S1DSS = terminate is F_STREAM_DISABLED, SSV = 0.
        guard case .failure(let disabled)? = try session.iommufd.translate(deviceID: device, iova: 0x10_0000, pasid: nil,
                                                                          access: .read) else {
            Issue.record("no fault")
            return
        }
        #expect(disabled.smmuv3Event?.id == .F_STREAM_DISABLED && disabled.smmuv3Event?.words[0] == 0x0000_0100_0000_0006)
    }

    /// A probe (`caches: .bypass`) of a PASID walks the L1 descriptor and the CD and fills nothing.
    @Test func probeReadsTheL1DescriptorAndCD() throws {
        let (session, _, results) = try VTdTranslationTests.runAll("../arm/pasid_two_level_cd_table.iommu")
        let device = try #require(Self.deviceID(results, "nic = device_bind dev=nic0"))
        guard case .success(let translation)? = try session.iommufd.translate(deviceID: device, iova: 0x10_0000, pasid: 0x12345,
                                                                             access: .read, caches: .bypass) else {
            Issue.record("no translation")
            return
        }
        #expect(translation.configurationFetches.map(\.structure) == [.streamTableEntry, .contextDescriptorL1, .contextDescriptor])
        #expect(translation.configurationFetches[1].words == [0x1_0081_0001])
    }
}
