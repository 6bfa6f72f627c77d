import Foundation
import Testing

/// `translate --json`, `--dev` by name, and `--host` paths that cannot be read.
struct HostOptionCommandLineTests {
    static let scenario = WalkCommandLineTests.scenario

    @Test func translateJSONIsTheScenarioResult() {
        let (output, status) = WalkCommandLineTests.run("translate '\(Self.scenario)' --dev 1 --iova 0x12345000 --write --cold --json")
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("{\"status\":\"ok\",\"iova\":\"0x12345000\",\"output_address\":\"0x"), "\(output)")
        #expect(output.contains("\"steps\":[{\"stage\":"), "\(output)")
    }

    /// A device named as the platform names it walks through what it is attached to, past the
    /// caches: the same output as the device id's cold walk.
    @Test func deviceByNameMatchesItsID() {
        let (byName, nameStatus) = WalkCommandLineTests.run("translate '\(Self.scenario)' --dev nic0 --iova 0x12345000 --json")
        let (byID, idStatus) = WalkCommandLineTests.run("translate '\(Self.scenario)' --dev 1 --iova 0x12345000 --cold --json")
        #expect(nameStatus == 0 && idStatus == 0, "\(byName)\n\(byID)")
        #expect(byName == byID)
        let (unknown, status) = WalkCommandLineTests.run("translate '\(Self.scenario)' --dev nic9 --iova 0")
        #expect(status == 64, "\(unknown)")
        #expect(unknown.contains("no device named nic9"), "\(unknown)")
    }

    @Test(arguments: ["walk --dev 0000:00:02.0 --iova 0", "translate --dev 0000:00:02.0 --iova 0", "run '\(scenario)'"])
    func anUnreadableHostExitsTwo(_ command: String) {
        let (output, status) = WalkCommandLineTests.run("\(command) --host /nonexistent/host-\(UUID().uuidString)")
        #expect(status == 2, "\(output)")
        #expect(output.contains("iommuscope: --host /nonexistent/host-"), "\(output)")
    }
}
