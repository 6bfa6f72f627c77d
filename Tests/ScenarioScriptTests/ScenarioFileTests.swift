import Foundation
import Testing
@testable import ScenarioScript

/// Every scenario under `Scenarios/` replays with all of its `expect=` lines and checks holding.
struct ScenarioFileTests {
    static let scenarioDirectory = Bundle.module.resourceURL!.appendingPathComponent("Scenarios")

    static var files: [String] {
        let enumerator = FileManager.default.enumerator(at: scenarioDirectory, includingPropertiesForKeys: nil)
        var found: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "iommu" else { continue }
            found.append(String(url.path.dropFirst(scenarioDirectory.path.count + 1)))
        }
        return found.sorted()
    }

    @Test(arguments: files)
    func replays(_ file: String) throws {
        let source = try String(contentsOf: Self.scenarioDirectory.appendingPathComponent(file), encoding: .utf8)
        let scenario = try Scenario(source: source)
        let session = Session()
        for report in session.run(scenario) where !report.passed {
            Issue.record("\(file):\(report.line): \(report.command) ended \(report.result.status), expected \(report.expectation?.description ?? "success")")
        }
    }

    @Test func kernelSelftestPortIsSubstantial() throws {
        var expectations = 0
        for file in Self.files where file.hasPrefix("kernel-selftest/") {
            let source = try String(contentsOf: Self.scenarioDirectory.appendingPathComponent(file), encoding: .utf8)
            expectations += try Scenario(source: source).expectationCount
        }
        #expect(expectations >= 80)
    }
}
