import Foundation
import Testing
@testable import ScenarioScript

/// The JSON results of every shipped and test scenario, byte for byte, against transcripts
/// recorded with `iommuscope run FILE --json` before the core was reshaped (issue 7): a
/// refactor that changes what a command answers fails here.
struct TranscriptTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let transcripts = repository.appendingPathComponent("Tests/ScenarioScriptTests/Transcripts")

    /// A transcript's name is its scenario's path with `/` as `__` (test scenarios relative
    /// to `Tests/ScenarioScriptTests/Scenarios`).
    static func scenario(for transcript: String) -> URL {
        let path = String(transcript.dropLast(".jsonl".count)).replacingOccurrences(of: "__", with: "/") + ".iommu"
        if path.hasPrefix("Examples/") || path.hasPrefix("Sources/") { return repository.appendingPathComponent(path) }
        return repository.appendingPathComponent("Tests/ScenarioScriptTests/Scenarios").appendingPathComponent(path)
    }

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: transcripts.path)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
    }

    @Test func everyScenarioHasATranscript() {
        #expect(Self.names.count >= 55)
    }

    @Test(arguments: names)
    func matches(_ name: String) throws {
        let source = try String(contentsOf: Self.scenario(for: name), encoding: .utf8)
        let expected = try String(contentsOf: Self.transcripts.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let actual = Session().run(try Scenario(source: source)).map(\.json)
        #expect(actual.count == expected.count, "\(name): \(actual.count) results, transcript has \(expected.count)")
        for (index, (have, want)) in zip(actual, expected).enumerated() where have != want {
            Issue.record("\(name) result \(index + 1):\n  have \(have)\n  want \(want)")
            break
        }
    }
}

/// A fault's record in `--json`: ids, counts and bit fields are integers (as `fault_read`'s
/// `pasid` and `flags` are), addresses `"0x..."` strings; AMD-Vi's DomainID, PASID and flags
/// are numbers though Linux's log line prints them in hex.
struct FaultRecordJSONTests {
    static func faults(_ transcript: String) throws -> [[String: Any]] {
        let source = try String(contentsOf: TranscriptTests.scenario(for: transcript), encoding: .utf8)
        return try Session().run(try Scenario(source: source)).compactMap { report in
            let object = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
            return object?["fault"] as? [String: Any]
        }
    }

    @Test func amdViDomainPASIDAndFlagsAreIntegers() throws {
        let withPASID = try Self.faults("amd__gcr3_pasid_walk.jsonl")
        let pasid = try #require(withPASID.first)
        #expect(pasid["pasid"] as? Int == 5, "\(pasid)")
        #expect(pasid["flags"] as? Int == 1, "\(pasid)")
        let withDomain = try #require(try Self.faults("amd__v1_table_growth.jsonl").first)
        #expect(withDomain["domain"] as? Int == 1, "\(withDomain)")
        #expect(withDomain["flags"] as? Int == 0, "\(withDomain)")
        #expect(withDomain["address"] as? String == "0x8000000000")
    }

    /// The text output prints them as Linux's `AMD-Vi: Event logged [IO_PAGE_FAULT …]` line
    /// does (`domain=0x%04x`, `pasid=0x%05x`, `flags=0x%04x`); JSON keeps the integers.
    @Test func amdViTextPrintsTheLogLinesHex() throws {
        let source = try String(contentsOf: TranscriptTests.scenario(for: "amd__gcr3_pasid_walk.jsonl"), encoding: .utf8)
        let faults = Session().run(try Scenario(source: source)).filter { $0.result.status == .fault }
        let walked = try #require(faults.first { $0.result.field("fetches") == .integer(4) })
        let text = try #require(walked.result.field("fault")).display
        #expect(text.contains("pasid=0x00005") && text.contains("flags=0x0071"), "\(text)")
        #expect(walked.json.contains("\"pasid\":5,") && walked.json.contains("\"flags\":113"), "\(walked.json)")
    }
}
