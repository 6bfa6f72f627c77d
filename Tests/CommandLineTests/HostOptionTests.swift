import ArgumentParser
import Testing
@testable import iommuscope

/// `--host` on `run`, `walk` and `translate`: which combinations of a scenario, a host, a
/// device id or name and a HWPT are usage errors, before anything is read.
@Suite struct HostOptionTests {
    @Test func translateTakesAHostDeviceByBDF() throws {
        #expect(parseFailure(["translate", "--host", "/tmp/h", "--dev", "0000:00:02.0", "--iova", "0x8d801234", "--pasid", "1",
                         "--write", "--json"]) == nil)
        let command = try #require(try IOMMUScope.parseAsRoot(["translate", "--host", "h", "--dev", "0000:00:02.0",
                                                               "--iova", "0x1000", "--json"]) as? Translate)
        #expect(command.dev == "0000:00:02.0" && command.json && command.file == nil && command.iova.value == 0x1000)
        // A scenario's device id still parses.
        #expect(parseFailure(["translate", "s.iommu", "--dev", "3", "--iova", "0"]) == nil)
        #expect(parseFailure(["translate", "--dev", "3", "--iova", "0"]) == "give a scenario FILE, --host, or both")
    }

    @Test func walkNeedsOneOfAHWPTOrAHostDevice() {
        #expect(parseFailure(["walk", "s.iommu", "--hwpt", "2", "--iova", "0"]) == nil)
        #expect(parseFailure(["walk", "--host", "h", "--dev", "0000:00:02.0", "--iova", "0", "--count", "4"]) == nil)
        #expect(parseFailure(["walk", "--host", "h", "--dev", "0000:00:02.0", "--pasid", "1", "--iova", "0"]) == nil)
        #expect(parseFailure(["walk", "s.iommu", "--iova", "0"]) == "give one of --hwpt (a scenario's HWPT) or --dev (a host device)")
        #expect(parseFailure(["walk", "s.iommu", "--hwpt", "2", "--dev", "x", "--iova", "0"])
                == "give one of --hwpt (a scenario's HWPT) or --dev (a host device)")
        #expect(parseFailure(["walk", "--host", "h", "--hwpt", "2", "--iova", "0"]) == "--hwpt names a scenario's HWPT: give the scenario FILE")
        #expect(parseFailure(["walk", "s.iommu", "--dev", "x", "--iova", "0"]) == "--dev walks a host device's kernel table: give --host")
        #expect(parseFailure(["walk", "s.iommu", "--hwpt", "2", "--pasid", "1", "--iova", "0"]) == "--pasid goes with --dev")
    }

    @Test func runTakesAHost() throws {
        let command = try #require(try IOMMUScope.parseAsRoot(["run", "s.iommu", "--host", "snap.json"]) as? Run)
        #expect(command.host == "snap.json")
    }
}
