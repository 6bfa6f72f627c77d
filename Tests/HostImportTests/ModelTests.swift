import Testing
@testable import HostImport

@Suite struct PCIAddressTests {
    @Test func everyPrintedFormParses() {
        let expected = PCIAddress(segment: 0, bus: 0x2f, device: 0, function: 1)
        for text in ["0000:2f:00.1", "2f:00.1", "0x2f:0x00.1", "2f:00.01"] {
            #expect(PCIAddress(parsing: text) == expected, "\(text)")
        }
        #expect(PCIAddress(parsing: "0002:21:00.0")?.description == "0002:21:00.0")
        #expect(PCIAddress(requesterID: 0x18).description == "0000:00:03.0")
    }

    @Test func outOfRangeIsRejected() {
        for text in ["00:20.0", "00:1f.8", "100:00.0", "00000:00:00.0", "00:00", "", ":.", "fc900000.iommu"] {
            #expect(PCIAddress(parsing: text) == nil, "\(text)")
        }
    }
}
