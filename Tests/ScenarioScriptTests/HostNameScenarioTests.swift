import IOMMUCore
import Testing
@testable import ScenarioScript

/// A host's devices and units keep their sysfs names in a scenario run on that host:
/// `device_bind dev=0000:03:00.0`, `iommu=smmu3.0x0000000005000000`.
@Suite struct HostNameScenarioTests {
    /// A VT-d host as `HostPlatform` describes one: devices named by BDF, requester ids.
    static var platform: PlatformDescription {
        PlatformDescription(
            units: [IOMMUUnit(name: "dmar0", configuration: .intelVTd(IntelVTd.Configuration()))],
            groups: [IOMMUGroup(id: 9, defaultDomain: .dma), IOMMUGroup(id: 10, defaultDomain: .dmaFQ)],
            devices: [
                DeviceDescription(name: "0000:00:1f.0", requesterID: .requesterID(0xf8), unit: "dmar0", group: 9,
                                  firmwareRegions: [ReservedRegion(range: IOVARange(start: 0, last: 0xff_ffff), type: .direct)]),
                DeviceDescription(name: "0000:03:00.0", requesterID: .requesterID(0x300), unit: "dmar0", group: 10),
            ])
    }

    @Test func bdfNamesBindAndTheMSIWindowIsReserved() throws {
        let session = try Session(platform: Self.platform)
        let reports = session.run(try Scenario(source: """
            dev = device_bind dev=0000:03:00.0
            ioas = ioas_alloc
            buf = mmap length=0x1000
            early = ioas_map ioas_id=ioas iova=0xfee00000 length=0x1000 user_va=buf flags=fixed_iova|readable|writeable
            device_attach dev_id=dev pt_id=ioas expect=EADDRINUSE
            ioas_unmap ioas_id=ioas iova=0xfee00000 length=0x1000
            device_attach dev_id=dev pt_id=ioas
            ioas_map ioas_id=ioas iova=0xfee00000 length=0x1000 user_va=buf flags=fixed_iova|readable expect=EINVAL
            device_bind dev=0000:00:1f.0 expect=EINVAL
            """))
        let failed = reports.filter { !$0.passed }.map(\.json)
        #expect(failed.isEmpty, "\(failed)")
        #expect(reports.count == 9)
    }

    @Test func sysfsNamesAreNamesButNotExpressions() throws {
        for name in ["0000:03:00.0", "fc900000.gpu", "smmu3.0x0000000005000000", "ACPI0007:00"] {
            #expect(isSysfsName(name), "\(name)")
        }
        for name in ["", ":03", ".x", "a,b", "a=b", "a#b", "{a}", String(repeating: "a", count: 256), "é"] {
            #expect(!isSysfsName(name), "\(name)")
        }
        // An unknown BDF is a run-time error at the argument, not a parse error.
        let report = try #require(Session(platform: Self.platform).run(try Scenario(source: "device_bind dev=0000:09:00.0")).first)
        #expect(report.result.status == .failed("1:17: error: no device named '0000:09:00.0' was declared (declared: 0000:00:1f.0, 0000:03:00.0)"))
    }
}
