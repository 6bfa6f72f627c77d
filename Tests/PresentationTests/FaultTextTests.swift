import Testing
import IOMMUCore
@testable import Presentation

/// Fault text as Linux prints it, rendered from the typed records.
struct FaultTextTests {
    @Test func dmarLine() {
        let record = VTdFaultRecord(.readNotSet, sourceID: 0x0100, address: 0x40_0123, write: false)
        #expect(FaultText.dmarLine(record)
                == "DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x400000 [fault reason 0x06] PTE Read access is not set")
        let pasid = VTdFaultRecord(.directoryNotPresent, sourceID: 0x006a, pasid: 2, address: 0x1026a4000, write: true)
        #expect(FaultText.dmarLine(pasid) == "DMAR: [DMA Write PASID 0x2] Request device [00:0d.2] fault addr 0x1026a4000"
                + " [fault reason 0x51] SM: Present bit in Directory Entry is clear")
    }

    @Test func amdViLines() {
        let fault = AMDViEvent(.IO_PAGE_FAULT, deviceID: 0x0500, domainID: 0x12, address: 0xff61_01b0, flags: [.PR, .RW, .PE])
        #expect(FaultText.amdViLine(fault)
                == "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:05:00.0 domain=0x0012 address=0xff6101b0 flags=0x0070]")
        let illegal = AMDViEvent(.ILLEGAL_DEV_TABLE_ENTRY, deviceID: 0x0100, domainID: nil, address: 0xcff4_9550, flags: [])
        #expect(FaultText.amdViLine(illegal)
                == "AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=0000:01:00.0 pasid=0x00000 address=0xcff49550 flags=0x0000]")
    }

    /// The fields `translate` prints: an SMMUv3 walk fault names CLASS and RnW, an IOTLB hit
    /// CLASS and the hit, a configuration event neither.
    @Test func smmuFieldsFollowTheOrigin() {
        var event = SMMUv3Event(.F_PERMISSION, streamID: 1, inputAddress: 0x5000_0000)
        event.read = false
        event.stage2 = true
        event.ipa = 0x5000_0000
        let walk = TranslationFault(.smmuv3(event), stage: .stage2, level: 3, origin: .walk)
        #expect(FaultText.fields(walk).map(\.name) == ["reason", "class", "rnw", "ipa"])
        // RnW is a bit of the record, not text: JSON prints it as the integer 0 or 1.
        #expect(FaultText.fields(walk).map(\.value) == [.text("F_PERMISSION"), .text("IN"), .bit(false), .text("0x50000000")])
        #expect(FaultText.details(walk) == "class=IN rnw=0 ipa=0x50000000")
        let hit = TranslationFault(.smmuv3(SMMUv3Event(.F_PERMISSION, streamID: 1)), stage: .stage1, level: 0, origin: .iotlb)
        #expect(FaultText.fields(hit).map(\.name) == ["reason", "class", "iotlb"])
        let bad = TranslationFault(.smmuv3(SMMUv3Event(.C_BAD_STE, streamID: 1)), stage: .configuration, level: 0, origin: .configuration)
        #expect(FaultText.fields(bad).map(\.name) == ["reason"])
        #expect(FaultText.kernelLog(bad) == ["event 0x04 received:", "\t0x0000000100000004", "\t0x0000000000000000",
                                             "\t0x0000000000000000", "\t0x0000000000000000",
                                             "event: C_BAD_STE client: (unassigned sid) sid: 0x1 ssid: 0x0"])
    }

    /// AMD-Vi's DomainID, PASID and flags are numbers (JSON integers), shown as Linux's log
    /// line prints them.
    @Test func amdViFieldsAreNumbersInLinuxHex() {
        let event = AMDViEvent(.IO_PAGE_FAULT, deviceID: 0x0500, domainID: 0x12, address: 0xff61_01b0, flags: [.PR, .RW, .PE])
        let fault = TranslationFault(.amdVi(event), stage: .stage1, level: 1, origin: .walk)
        #expect(FaultText.fields(fault).map(\.value) == [.text("IO_PAGE_FAULT"), .hex(0x12, digits: 4), .text("0xff6101b0"), .hex(0x70, digits: 4)])
        #expect(FaultText.details(fault) == "domain=0x0012 address=0xff6101b0 flags=0x0070")
        let pasid = AMDViEvent(.IO_PAGE_FAULT, deviceID: 0x0500, domainID: nil, pasid: 5, address: 0x1000, flags: [])
        #expect(FaultText.details(TranslationFault(.amdVi(pasid), stage: .stage1, level: 1, origin: .walk))
                == "pasid=0x00005 address=0x1000 flags=0x0001")
    }

    /// The decoded lines of a real record (a Linux 6.14+ log quoted in a patch description).
    @Test func smmuDecodedLinesMatchLinux() throws {
        let event = try #require(SMMUv3Event(words: [0x0000_0100_0000_0010, 0x0000_0200_0000_0000, 0x0000_0009_0000_f040, 0]))
        let fault = TranslationFault(.smmuv3(event), stage: .stage1, level: 3, origin: .walk)
        #expect(Array(FaultText.kernelLog(fault, client: "0000:01:00.0").suffix(2)) == [
            "event: F_TRANSLATION client: 0000:01:00.0 sid: 0x100 ssid: 0x0 iova: 0x90000f040 ipa: 0x0",
            "unpriv data write s1 \"Input address caused fault\" stag: 0x0",
        ])
    }
}

/// A VT-d fault's details already carry its `DMAR:` line; an SMMUv3 fault's log is the raw
/// event dump, which the details do not.
struct FaultLogTests {
    @Test func logBeyondDetails() {
        let vtd = TranslationFault(.vtd(VTdFaultRecord(.readNotSet, sourceID: 0x0100, address: 0x1000)), stage: .stage2, level: 1,
                                   origin: .walk)
        #expect(FaultText.details(vtd).hasSuffix("log=" + FaultText.dmarLine(VTdFaultRecord(.readNotSet, sourceID: 0x0100, address: 0x1000))))
        #expect(FaultText.kernelLogBeyondDetails(vtd).isEmpty)
        let smmu = TranslationFault(.smmuv3(SMMUv3Event(.C_BAD_STE, streamID: 1)), stage: .configuration, level: 0, origin: .configuration)
        #expect(FaultText.kernelLogBeyondDetails(smmu).count == 6)
    }
}
