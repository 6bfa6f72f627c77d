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

/// The scenarios users meet first (the bundled default and `Examples/`) run clean too.
struct ShippedScenarioTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var files: [String] {
        let examples = (try? FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("Examples").path)) ?? []
        return ["Sources/iommuscope/Scenarios/default.iommu"] + examples.filter { $0.hasSuffix(".iommu") }.sorted().map { "Examples/" + $0 }
    }

    @Test(arguments: files)
    func runsClean(_ file: String) throws {
        let source = try String(contentsOf: Self.repository.appendingPathComponent(file), encoding: .utf8)
        let session = Session()
        for report in session.run(try Scenario(source: source)) where !report.passed {
            Issue.record("\(file):\(report.line): \(report.command) ended \(report.result.status)")
        }
    }

    @Test func defaultScenarioBuildsTheNestedSetup() throws {
        let source = try String(contentsOf: Self.repository.appendingPathComponent(Self.files[0]), encoding: .utf8)
        let session = Session()
        _ = session.run(try Scenario(source: source))
        let summary = SessionSummary(session: session).text
        #expect(summary.contains("HWPT_PAGING 4  user  stage-2  on smmu0  nest-parent"))
        #expect(summary.contains("VIOMMU 5"))
        #expect(summary.contains("HWPT_NESTED 8  vSTE 0x4000000b,0x0"))
        #expect(summary.contains("usable    0x0-0x7ffffff, 0x8100000-0xffffffffffff"))
    }
}
