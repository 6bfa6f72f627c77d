import Foundation
import ScenarioScript
import Snapshots

/// The scenarios the repository ships: the examples, the built-in default, and every scenario
/// the script tests run, by their path from the repository root.
enum Shipped {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let scenarios: [String] = {
        let manager = FileManager.default
        var paths = ((try? manager.contentsOfDirectory(atPath: repository.appendingPathComponent("Examples").path)) ?? [])
            .filter { $0.hasSuffix(".iommu") }.map { "Examples/" + $0 }
        paths.append("Sources/iommuscope/Scenarios/default.iommu")
        let tests = "Tests/ScenarioScriptTests/Scenarios"
        if let walker = manager.enumerator(atPath: repository.appendingPathComponent(tests).path) {
            for case let path as String in walker where path.hasSuffix(".iommu") { paths.append(tests + "/" + path) }
        }
        return paths.sorted()
    }()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    static func timeline(_ path: String) throws -> Timeline { try Timeline(scenario: try text(path)) }

    /// The snapshot after `line` (the end when nil) of a shipped scenario.
    static func snapshot(_ path: String, afterLine line: Int? = nil) throws -> ModelSnapshot {
        try timeline(path).snapshot(afterLine: line, file: path)
    }

    static let schema: SchemaValidator = {
        let text = (try? String(contentsOf: repository.appendingPathComponent("docs/snapshot.schema.json"), encoding: .utf8)) ?? "{}"
        return SchemaValidator(schema: (try? JSONValue.parse(text)) ?? .null)
    }()
}
