import Foundation
import Testing
@testable import Inspector
@testable import iommuscope

/// The themes and the default scenario are compiled into the binary (an installed copy has no
/// resource bundle beside it): each generated Swift file holds its directory's files as string
/// constants, and must match them. `UPDATE_EMBEDDED=1 swift test --skip-build --filter
/// EmbeddedResourceTests` rewrites the generated files after a theme or the scenario changes.
@Suite struct EmbeddedResourceTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One generated file: the files of `directory` ending in `.extension`, as the cases of `constant`.
    struct Embedding {
        var directory: String
        var fileExtension: String
        var generated: String
        var type: String
        var constant: String

        /// The resource files, by name without the extension, sorted.
        func files() throws -> [(name: String, text: String)] {
            let url = repository.appendingPathComponent(directory)
            return try FileManager.default.contentsOfDirectory(atPath: url.path)
                .filter { $0.hasSuffix(".\(fileExtension)") }.sorted()
                .map { (String($0.dropLast(fileExtension.count + 1)), try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8)) }
        }

        /// The Swift source that embeds them: raw multi-line literals, with enough `#`s that no
        /// file's text ends the literal or escapes out of it.
        func source() throws -> String {
            var text = """
                // Generated from \(directory)/*.\(fileExtension) by EmbeddedResourceTests; do not edit.
                // Regenerate: UPDATE_EMBEDDED=1 swift test --skip-build --filter EmbeddedResourceTests

                extension \(type) {
                    static let \(constant): [String: String] = [

                """
            for file in try files() {
                var hashes = "#"
                while file.text.contains("\"\"\"" + hashes) || file.text.contains("\\" + hashes) { hashes += "#" }
                text += "        \"\(file.name)\": \(hashes)\"\"\"\n\(file.text)\(file.text.hasSuffix("\n") ? "" : "\\\(hashes)\n")\n\"\"\"\(hashes),\n"
            }
            return text + "    ]\n}\n"
        }
    }

    static let themes = Embedding(directory: "Themes", fileExtension: "toml",
                                  generated: "Sources/Inspector/EmbeddedThemes.swift", type: "InspectorThemes", constant: "shipped")
    static let scenarios = Embedding(directory: "Sources/iommuscope/Scenarios", fileExtension: "iommu",
                                     generated: "Sources/iommuscope/EmbeddedScenarios.swift", type: "ScenarioSource", constant: "builtIn")

    static let lessons = Embedding(directory: "Lessons", fileExtension: "md",
                                   generated: "Sources/iommuscope/EmbeddedLessons.swift", type: "BuiltInLessons", constant: "files")

    @Test(arguments: [themes, scenarios, lessons].map { $0.generated })
    func generatedFilesMatchTheResources(_ generated: String) throws {
        let embedding = try #require([Self.themes, Self.scenarios, Self.lessons].first { $0.generated == generated })
        let url = Self.repository.appendingPathComponent(generated)
        let expected = try embedding.source()
        if ProcessInfo.processInfo.environment["UPDATE_EMBEDDED"] != nil {
            try expected.write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == expected, "\(generated) is stale: regenerate it (UPDATE_EMBEDDED=1)")
    }

    /// What the binary holds is each file's text, byte for byte.
    @Test func theBinaryHoldsEachFile() throws {
        let themes = try Self.themes.files()
        #expect(themes.map(\.name) == InspectorThemes.names.sorted())
        for theme in themes {
            #expect(InspectorThemes.shipped[theme.name] == theme.text)
            _ = try InspectorThemes.load(theme.name)
        }
        let scenarios = try Self.scenarios.files()
        #expect(Set(scenarios.map(\.name)) == Set(ScenarioSource.builtIn.keys))
        for scenario in scenarios { #expect(ScenarioSource.builtIn[scenario.name] == scenario.text) }
        let lessons = try Self.lessons.files()
        #expect(lessons.map(\.name) == BuiltInLessons.names)
        for lesson in lessons { #expect(BuiltInLessons.files[lesson.name] == lesson.text) }
        let source = try ScenarioSource.builtInDefault.text()
        #expect(source == ScenarioSource.builtIn["default"])
        #expect(!(try loadScenario(.builtInDefault).lines.isEmpty))
    }
}
