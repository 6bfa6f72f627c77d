import Foundation
import Testing
@testable import HostImport
import ScenarioScript

/// The scenario a trace becomes, run on the model: the real mtty sample holds every
/// expectation, and a trace corrupted by hand fails exactly on the corrupted lines.
@Suite struct QEMUTraceScenarioTests {
    static func scenario(_ text: String) -> String {
        QEMUTraceScenario.make(QEMUTraceReader.read(Array(text.utf8), file: "t").records, file: "t")
    }

    /// The `# trace N` source lines of the scenario lines that did not pass.
    static func failingTraceLines(_ source: String) throws -> [Int] {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        return try Session().run(Scenario(source: source)).filter { !$0.passed }.compactMap { report in
            guard report.line >= 1, report.line <= lines.count, let mark = lines[report.line - 1].range(of: "# trace ") else { return nil }
            return Int(lines[report.line - 1][mark.upperBound...])
        }
    }

    /// The mtty sample as a PCI device's trace (its UUID replaced by a BDF, no vfio_mdev).
    static var pciTrace: String {
        Samples.lines(QEMUTraceReaderTests.mtty).filter { !$0.hasPrefix("vfio_mdev") }.joined(separator: "\n")
            .replacingOccurrences(of: QEMUTraceReaderTests.uuid, with: "0000:03:00.0")
    }

    @Test func theMttySampleRunsWithEveryExpectationHolding() throws {
        let source = Self.scenario(Samples.text(QEMUTraceReaderTests.mtty))
        let reports = try Session().run(Scenario(source: source))
        #expect(reports.filter { !$0.passed }.map(\.line) == [])
        #expect(reports.filter { $0.expectation != nil }.count == 4)
        #expect(source.contains("access1 = test_create_access ioas_id=ioas2 expect=ok # trace 7"))
        #expect(source.contains("ioas_map ioas_id=ioas2 user_va=va2 iova=0xc0000 length=0x20000 flags=fixed_iova|readable expect=ok # trace 9"))
        #expect(source.contains("va3 = mmap length=0xff00000 # trace 10"))
        #expect(source.contains("# trace 11: iommufd_cdev_device_info"))
    }

    @Test func aPCIDeviceIsBoundAndItsIdsChecked() throws {
        let source = Self.scenario(Self.pciTrace)
        #expect(source.contains("device 0000:03:00.0 iommu=iommu0"))
        #expect(source.contains("dev1 = device_bind dev=0000:03:00.0 # trace 3"))
        #expect(source.contains("check actual=dev1 expected=1 # trace 3"))
        #expect(source.contains("check actual=ioas2 expected=2 # trace 4"))
        #expect(source.contains("device_attach dev_id=dev1 pt_id=ioas2 expect=ok # trace 6"))
        #expect(try Self.failingTraceLines(source) == [])
    }

    /// A wrong IOAS id fails on its check alone; a wrong result fails on its map alone.
    @Test func aCorruptedCopyFailsOnTheCorruptedLines() throws {
        let wrongID = Self.pciTrace.replacingOccurrences(of: "ioas=2", with: "ioas=7")
            .replacingOccurrences(of: "ioasid=2", with: "ioasid=7").replacingOccurrences(of: "to id=2", with: "to id=7")
        #expect(try Self.failingTraceLines(Self.scenario(wrongID)) == [4])
        var lines = Self.pciTrace.split(separator: "\n").map(String.init)
        lines[7] = lines[7].replacingOccurrences(of: "(0)", with: "(-22)")
        #expect(try Self.failingTraceLines(Self.scenario(lines.joined(separator: "\n"))) == [8])
    }

    @Test func unmapsFreesAndTheirResults() throws {
        let source = Self.scenario(Self.pciTrace + """

            iommufd_backend_unmap_dma  iommufd=15 ioas=2 iova=0x0 size=0xc0000 (0)
            iommufd_backend_unmap_dma_non_exist  Unmap nonexistent mapping: iommufd=15 ioas=2 iova=0x0 size=0xc0000 (-2)
            iommufd_backend_free_id  iommufd=15 id=2 (-16)
            iommufd_cdev_detach_ioas_hwpt  [iommufd=15] Successfully detached 0000:03:00.0
            iommufd_backend_free_id  iommufd=15 id=2 (0)
            smmuv3_cmdq_opcode <--- CMD_SYNC
            """)
        #expect(source.contains("ioas_unmap ioas_id=ioas2 iova=0x0 length=0xc0000 expect=ok # trace 13"))
        #expect(source.contains("ioas_unmap ioas_id=ioas2 iova=0x0 length=0xc0000 expect=ENOENT # trace 14"))
        #expect(source.contains("destroy id=ioas2 expect=EBUSY # trace 15"))
        #expect(source.contains("device_detach dev_id=dev1 expect=ok # trace 16"))
        #expect(source.contains("destroy id=ioas2 expect=ok # trace 17"))
        #expect(source.contains("# trace 18: smmuv3_cmdq_opcode <--- CMD_SYNC (observed: guest invalidation: smmuv3 command CMD_SYNC)"))
        #expect(try Self.failingTraceLines(source) == [])
    }
}
