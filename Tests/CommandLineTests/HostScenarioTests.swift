import Foundation
import IOMMUCore
import ScenarioScript
import Testing
@testable import iommuscope

/// A scenario run on an imported host (`run F --host DIR`): the Kaby Lake fixture's dmar1 is
/// a legacy-mode unit (ECAP.SMTS = 0) whose root, context and page-table entries are rebuilt
/// from its debugfs dumps, so the device's DMA walks the kernel's DMA domain until iommufd
/// takes the device over.
@Suite struct HostScenarioTests {
    static let intel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("HostTrees/intel-kabylake").path

    func run(_ text: String, on host: HostModel) throws -> [LineReport] {
        try Scenario(source: text).lines.map { host.session.run($0) }
    }

    @Test func iommufdTakesOverALegacyUnitsDevice() throws {
        let host = try HostModel.open(Self.intel)
        let device = try #require(HostModel.device(named: "00:02.0", in: host.session.machine))
        // The kernel's identity-mapped DMA domain, as the domain dump shows it.
        guard case .success(let kernel)? = device.iommu.translate(device, iova: 0x8d80_1234, pasid: nil, access: .read, caches: .bypass,
                                                                    memory: host.session.machine.physical) else {
            Issue.record("the kernel's domain does not translate")
            return
        }
        #expect(kernel.output == 0x8d80_1234)
        let reports = try run("""
            buf = mmap length=64K
            gpu = device_bind dev=0000:00:02.0
            translate dev_id=gpu iova=0x8d801234 expect=fault
            ioas = ioas_alloc
            device_attach dev_id=gpu pt_id=ioas
            ioas_map ioas_id=ioas user_va=buf length=64K iova=0x100000 flags=fixed_iova|readable|writeable
            t = translate dev_id=gpu iova=0x101234
            translate dev_id=gpu iova=0x8d801234 expect=fault
            device_detach dev_id=gpu
            translate dev_id=gpu iova=0x101234 expect=fault
            """, on: host)
        let failed = reports.filter { !$0.passed }.map(\.json)
        #expect(failed.isEmpty, "\(failed)")
        // Binding claims DMA ownership: the blocking domain clears the legacy context entry
        // (domain_context_clear_one), so the kernel's mapping is gone (0x02).
        #expect(reports[2].json.contains(#""reason":"0x02""#))
        // The attach wrote a legacy context entry for the IOAS's domain: its table, not the kernel's.
        #expect(reports[6].json.contains(#""status":"ok""#) && !reports[6].json.contains("0x1017f8000"))
        #expect(reports[7].json.contains(#""reason":"0x06""#))
        #expect(reports[9].json.contains(#""reason":"0x02""#))
    }
}
