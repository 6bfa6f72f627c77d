import Foundation
import Testing
@testable import HostImport

/// The real fault-log samples, their `# ` provenance block dropped (it is no input).
enum FaultLogSamples {
    static let names = [
        "amd-vi-io-page-fault-known-device-ath10k", "amd-vi-old-split-line-format-apu2", "arm-smmu-v3-decoded-rk3588-r8125",
        "arm-smmu-v3-raw-hns3-hip08-2021", "dmar-fault-legacy-read-write-vfio-host", "dmar-fault-sm-0x51-with-dump-ptes-commit-194b3348",
        "dmar-fault-v5-pasid-ffffffff-intel-ipu3", "dmesg-dmar-boot-cap-ecap-intel-client", "dmesg-iommu-group-add-new-format",
        "tracepoint-io-page-fault-amd-vi-2021",
    ]

    /// The sample's log lines, without the leading provenance block.
    static func lines(_ name: String) -> [String] { Samples.lines("faultlog/\(name).txt") }

    static func text(_ name: String) -> String { Samples.text("faultlog/\(name).txt") }

    static func read(_ name: String) -> FaultLogReader.Result { FaultLogReader.read(text(name), file: name) }
}

/// Every sample of `samples/faultlog/`, decoded field by field against host-inputs §5's worked decodes.
@Suite struct FaultLogSampleTests {
    @Test func everySampleIsPresent() {
        for name in FaultLogSamples.names { #expect(!FaultLogSamples.lines(name).isEmpty, "\(name)") }
    }

    /// §5.1: w0 0x0000210000000010 is SID 0x2100, SSV 0, ID 0x10; w1 has only bit 41 (CLASS
    /// 2, write, unprivileged, data, stage 1); the third event's w2 is its iova 0x100. The
    /// decoded lines agree, so there is no warning; the prompt glued to line 1 is dropped.
    @Test func smmuDecodedRK3588() throws {
        let result = FaultLogSamples.read("arm-smmu-v3-decoded-rk3588-r8125")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.notUnderstood.isEmpty, "\(result.notUnderstood)")
        #expect(result.records.count == 3)
        #expect(result.records.map(\.address) == [0, 0, 0x100])
        #expect(result.records.map(\.sourceLine) == [6, 13, 20])
        for record in result.records {
            #expect(record.architecture == .armSMMUv3)
            #expect(record.iommu == "fc900000.iommu")
            #expect(record.device == .pci(PCIAddress(segment: 2, bus: 0x21, device: 0, function: 0)))
            #expect(record.sid == 0x2100)
            #expect(record.pasid == nil)
            #expect(record.access == .write)
            #expect(record.stage == 1)
            #expect(record.ipa == nil)
            #expect(record.reason == "F_TRANSLATION")
            #expect(record.reasonText == "Input address caused fault")
            #expect(record.raw.count == 4)
            #expect(record.raw.first == 0x0000_2100_0000_0010)
        }
        #expect(result.records.first?.timestamp == 131.474962)
    }

    /// §5.1: w1 0x000002088000003f is CLASS 2, read (bit 35), stall (bit 31), STAG 0x3f; the
    /// fourth event has hns3 lines between its words; the last stops after one word.
    @Test func smmuRawHNS3() throws {
        let result = FaultLogSamples.read("arm-smmu-v3-raw-hns3-hip08-2021")
        #expect(result.records.count == 5)
        let first = try #require(result.records.first)
        #expect(first.raw == [0x0000_3501_0000_0010, 0x0000_0208_8000_003f, 0xa50e_0800, 0])
        #expect(first.sid == 0x3501)
        #expect(first.device == nil)
        #expect(first.access == .read)
        #expect(first.stage == 1)
        #expect(first.address == 0xa50e_0800)
        #expect(first.iommu == "arm-smmu-v3.2.auto")
        #expect(result.records[3].raw.count == 4)
        #expect(result.records[3].address == 0xa50e_0840)
        let last = try #require(result.records.last)
        #expect(last.raw == [0x0000_3501_0000_0010])
        #expect(last.address == nil)
        #expect(last.sourceLine == 23)
        #expect(result.warnings.map(\.line) == [23])
        #expect(result.warnings.first?.reason.contains("truncated") == true)
    }

    /// §5.2, current form: status lines are context, the ratelimit notice is no event.
    @Test func dmarLegacyVFIOHost() {
        let result = FaultLogSamples.read("dmar-fault-legacy-read-write-vfio-host")
        #expect(result.warnings.isEmpty)
        #expect(result.records.map(\.reason) == ["0x06", "0x06", "0x05"])
        #expect(result.records.map(\.access) == [.read, .read, .write])
        #expect(result.records.map(\.reasonText) == ["PTE Read access is not set", "PTE Read access is not set", "PTE Write access is not set"])
        for record in result.records {
            #expect(record.device == .pci(PCIAddress(bus: 0x2f, device: 0, function: 1)))
            #expect(record.address == 0x7ebb_0000)
            #expect(record.pasid == nil)
            #expect(record.iommu == nil)
            #expect(record.architecture == .intelVTd)
        }
    }

    /// §5.2: a commit-message copy (one leading space, no timestamps), the fault line wrapped
    /// before `[fault reason 0x51]`, and the dump that names `dmar1` and stops at level 4.
    @Test func dmarScalableModeWithDump() throws {
        let result = FaultLogSamples.read("dmar-fault-sm-0x51-with-dump-ptes-commit-194b3348")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.notUnderstood.isEmpty, "\(result.notUnderstood)")
        let record = try #require(result.records.first)
        #expect(result.records.count == 1)
        #expect(record.sourceLine == 2)
        #expect(record.iommu == "dmar1")
        #expect(record.device == .pci(PCIAddress(bus: 0, device: 0x0d, function: 2)))
        #expect(record.address == 0x1_026a_4000)
        #expect(record.reason == "0x51")
        #expect(record.reasonText == "SM: Present bit in Directory Entry is clear")
        #expect(record.access == .read)
        #expect(record.tableDump.count == 12)
        #expect(record.tableDump.first == .scalableRootEntry(high: 0x1_0244_8001, low: 0x1_01b3_e001))
        #expect(record.tableDump[1] == .contextEntry(high: 0, low: 0x1_01b4_d401))
        #expect(record.tableDump[2] == .pasidDirectoryEntry(0x1_01b4_e001))
        #expect(record.tableDump[3] == .pasidTableEntry(index: 0, value: 0x109))
        #expect(record.tableDump.last == .pteNotPresent(level: 4))
    }

    /// §5.2 v5.1–v5.13: `PASID ffffffff` is no PASID, the reason decimal, the address bare,
    /// and the hand-made break before `fault addr` joined.
    @Test func dmarV5PasidFFFFFFFF() throws {
        let result = FaultLogSamples.read("dmar-fault-v5-pasid-ffffffff-intel-ipu3")
        #expect(result.warnings.isEmpty)
        let record = try #require(result.records.first)
        #expect(result.records.count == 1)
        #expect(record.sourceLine == 2)
        #expect(record.device == .pci(PCIAddress(bus: 0, device: 5, function: 0)))
        #expect(record.pasid == nil)
        #expect(record.address == 0x7640_6000)
        #expect(record.reason == "0x06")
        #expect(record.reasonText == "PTE Read access is not set")
    }

    /// §5.3: the known-device `pci_err` form names no unit; 0x0070 (PR|RW|PE) is a denied write.
    @Test func amdKnownDeviceATH10K() {
        let result = FaultLogSamples.read("amd-vi-io-page-fault-known-device-ath10k")
        #expect(result.warnings.isEmpty)
        #expect(result.records.map(\.address) == [0xcff4_9550, 0xcece_9e50, 0xcede_b950])
        for record in result.records {
            #expect(record.architecture == .amdVi)
            #expect(record.reason == "IO_PAGE_FAULT")
            #expect(record.device == .pci(PCIAddress(bus: 1, device: 0, function: 0)))
            #expect(record.iommu == nil)
            #expect(record.flags == 0x70)
            #expect(record.access == .write)
            #expect(record.pasid == nil)
        }
    }

    /// §5.3 up to v4.13: each event split over two records; `source_line` is the `[` line;
    /// the concatenated boots (13.13 s, then 11.77 s) keep input order.
    @Test func amdOldSplitLineAPU2() throws {
        let result = FaultLogSamples.read("amd-vi-old-split-line-format-apu2")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.records.count == 8)
        #expect(result.records.map(\.sourceLine) == [1, 3, 5, 7, 9, 11, 13, 15])
        #expect(result.records.map(\.timestamp) == [13.134460, 11.773399, 221.562629, 221.565938, 221.569244, 221.572531, 221.575791, 221.579080])
        let first = result.records[0]
        #expect(first.reason == "INVALID_DEVICE_REQUEST")
        #expect(first.device == .pci(PCIAddress(bus: 0, device: 0, function: 1)))
        #expect(first.address == 0xfd_f800_0020)
        #expect(first.flags == 0xa00)
        #expect(first.access == nil)
        let fault = result.records[2]
        #expect(fault.reason == "IO_PAGE_FAULT")
        #expect(fault.device == .pci(PCIAddress(bus: 5, device: 0, function: 0)))
        #expect(fault.address == 0xff61_01b0)
        #expect(fault.flags == 0x70)
        #expect(fault.access == .write)
        #expect(fault.pasid == nil)
        #expect(result.records.last?.address == 0xff61_02c0)
    }

    /// §5.4: ftrace's 4-character irq flags, a comm with `-`, the redacted driver; flags 0 is a read.
    @Test func tracepointIOPageFault() throws {
        let result = FaultLogSamples.read("tracepoint-io-page-fault-amd-vi-2021")
        #expect(result.warnings.isEmpty)
        #expect(result.records.count == 6)
        let first = try #require(result.records.first)
        #expect(first.architecture == .iommu)
        #expect(first.reason == "io_page_fault")
        #expect(first.device == .pci(PCIAddress(bus: 5, device: 0, function: 0)))
        #expect(first.address == 0x9148_2640)
        #expect(first.access == .read)
        #expect(first.flags == nil)
        #expect(first.timestamp == 978.554289)
        #expect(result.records.last?.address == 0x9148_26a0)
    }

    /// Boot lines and `Adding to iommu group` are never events, and no warnings.
    @Test(arguments: ["dmesg-dmar-boot-cap-ecap-intel-client", "dmesg-iommu-group-add-new-format"])
    func logsWithoutFaults(_ name: String) {
        let result = FaultLogSamples.read(name)
        #expect(result.records.isEmpty)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.notUnderstood.isEmpty, "\(result.notUnderstood)")
    }

    /// The contract's JSON: its field names, hex strings, omitted absent fields.
    @Test func jsonLineOfEachArchitecture() {
        #expect(FaultLogSamples.read("arm-smmu-v3-decoded-rk3588-r8125").records.last?.jsonLine ==
            #"{"source_line":20,"arch":"arm-smmu-v3","iommu":"fc900000.iommu","device":"0002:21:00.0","sid":8448,"address":"0x100","access":"write","reason":"F_TRANSLATION","reason_text":"Input address caused fault","stage":1,"raw":["0x210000000010","0x20000000000","0x100","0x0"]}"#)
        #expect(FaultLogSamples.read("amd-vi-io-page-fault-known-device-ath10k").records.first?.jsonLine ==
            #"{"source_line":1,"arch":"amd-vi","device":"0000:01:00.0","address":"0xcff49550","access":"write","reason":"IO_PAGE_FAULT","flags":"0x70"}"#)
        #expect(FaultLogSamples.read("dmar-fault-v5-pasid-ffffffff-intel-ipu3").records.first?.jsonLine ==
            #"{"source_line":2,"arch":"intel-vtd","device":"0000:00:05.0","address":"0x76406000","access":"read","reason":"0x06","reason_text":"PTE Read access is not set"}"#)
        #expect(FaultLogSamples.read("tracepoint-io-page-fault-amd-vi-2021").records.first?.jsonLine ==
            #"{"source_line":1,"arch":"iommu","device":"0000:05:00.0","address":"0x91482640","access":"read","reason":"io_page_fault"}"#)
    }

    /// The human summary groups repeats of one device, page and reason with a count and span.
    @Test func summaryGroupsRepeats() {
        let lines = FaultSummary(FaultLogSamples.read("amd-vi-old-split-line-format-apu2").records).lines
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("   2x amd-vi 0000:00:00.1 INVALID_DEVICE_REQUEST page 0xfdf8000000 flags 0xa00"))
        #expect(lines[0].hasSuffix("(lines 1-3, 11.773399 s to 13.134460 s)"))
        #expect(lines[1].contains("6x amd-vi 0000:05:00.0 IO_PAGE_FAULT write page 0xff610000 flags 0x70 (PR RW PE)"))
        #expect(lines[2] == "8 faults in 2 groups")
    }
}
