import Foundation
import HostImport
import Testing
@testable import iommuscope

/// `faults --scenario F`: logged faults explained against a scenario's model, its unmaps
/// telling a DMA after unmap from an address never mapped.
@Suite struct FaultExplainCommandTests {
    static let scenario = """
        iommu vtd0 type=intel-vtd
        device nic iommu=vtd0 rid=0x0300
        dev = device_bind dev=nic
        ioas = ioas_alloc
        buf = mmap length=0x2000
        device_attach dev_id=dev pt_id=ioas
        ioas_map ioas_id=ioas iova=0x100000 length=0x1000 user_va=buf flags=fixed_iova|readable|writeable
        ioas_map ioas_id=ioas iova=0x200000 length=0x1000 user_va=buf+0x1000 flags=fixed_iova|readable
        ioas_unmap ioas_id=ioas iova=0x100000 length=0x1000
        """

    private func record(_ address: UInt64, write: Bool = false, device: HostImport.FaultRecord.Requester) -> HostImport.FaultRecord {
        var record = HostImport.FaultRecord(sourceLine: 1, architecture: .intelVTd, reason: "0x06")
        record.device = device
        record.address = address
        record.access = write ? .write : .read
        return record
    }

    @Test func aScenarioExplainsItsOwnFaults() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString).iommu").path
        try Self.scenario.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bdf = PCIAddress(bus: 3, device: 0, function: 0)
        let records = [
            record(0x100_0000 >> 4, device: .named("nic")),       // 0x100000: unmapped at line 9
            record(0x200_010, write: true, device: .pci(bdf)),    // read-only page, by requester id
            record(0x300_000, device: .pci(bdf)),                 // never mapped
            record(0x200_000, device: .pci(bdf)),                 // translates now
            record(0x1000, device: .named("gpu")),                // no such device
        ]
        let explanations = try #require(try explainFaults(records, host: nil, scenario: .file(path)))
        #expect(explanations.map(\.cause) == [.staleAfterUnmap, .readOnly, .unmapped, .translatesNow, .noDevice])
        #expect(explanations[0].sentence.hasPrefix("0x100000 was mapped until line 9 unmapped 0x100000-0x100fff from IOAS 2"))
        #expect(explanations[1].device == "nic")
        #expect(try explainFaults(records, host: nil, scenario: nil) == nil)
    }

    /// The README's example: a real sample's faults (samples/faultlog/dmar-fault-legacy-read-write-vfio-host.txt)
    /// explained on the fixture scenario that models the VMM's IOAS for that VF.
    @Test func theXL710SampleIsExplainedAsUnmapped() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HostImportTests/Fixtures")
        let log = try String(contentsOf: fixtures.appendingPathComponent("samples/faultlog/dmar-fault-legacy-read-write-vfio-host.txt"),
                             encoding: .utf8)
        let records = FaultLogReader.read(log).records
        #expect(records.map(\.reason) == ["0x06", "0x06", "0x05"])
        let scenario = fixtures.appendingPathComponent("scenarios/xl710-vf-virtio-iommu-bypass.iommu").path
        let explanations = try #require(try explainFaults(records, host: nil, scenario: .file(scenario)))
        #expect(explanations.map(\.cause) == [.unmapped, .unmapped, .unmapped])
        #expect(explanations.allSatisfy { $0.device == "0000:2f:00.1" })
        #expect(explanations[2].sentence.contains("the log says 0x05"))
    }
}
