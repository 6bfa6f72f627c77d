import Foundation
import TestSupport
import Testing

/// The executable on seeded variants of every test scenario: argument values swapped for
/// extremes and control characters, and random bytes inserted. ParserRobustnessTests drive
/// the parser and the session in process; this drives what the user runs (`run`'s two
/// streamed passes, its table and JSON lines, the located errors), so a trap anywhere on
/// that path, or a control character printed raw, fails here.
struct MutatedScenarioRunTests {
    static let corpus: [String] = {
        let root = InspectorInTmuxTests.repository.appendingPathComponent("Tests/ScenarioScriptTests/Scenarios")
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "iommu" }.sorted { $0.path < $1.path } ?? []
        return files.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
    }()

    static let extremes = ["u64max", "0", "-1", "18446744073709551616", "0xffffffffffffffff", "0x8000000000000000",
                           "4294967295", "1T", "\u{1b}[2J", "\u{1b}]0;x\u{07}", "\u{9b}", "a\rb", "{}", ""]

    /// One variant: a few `KEY=VALUE` values replaced, and sometimes one random byte inserted.
    static func variant(of source: String, _ rng: inout SplitMix64) -> [UInt8] {
        var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<(1 + rng.below(3)) {
            let index = rng.below(lines.count)
            var words = lines[index].split(separator: " ").map(String.init)
            let arguments = words.indices.filter { words[$0].contains("=") && words[$0] != "=" }
            guard !arguments.isEmpty else { continue }
            let at = rng.pick(arguments)
            let key = words[at].prefix { $0 != "=" }
            words[at] = "\(key)=\(rng.pick(extremes))"
            lines[index] = words.joined(separator: " ")
        }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        if rng.chance(1, in: 4) { bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(bytes.count + 1)) }
        return bytes
    }

    @Test(arguments: ["run", "run --json"])
    func variantsRunWithoutTrapping(_ command: String) throws {
        let corpus = Self.corpus
        #expect(corpus.count >= 20)
        var rng = SplitMix64(seed: command.hasSuffix("json") ? 0x5EED_0002 : 0x5EED_0001)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mutated-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for number in 0..<150 {
            let bytes = Self.variant(of: corpus[number % corpus.count], &rng)
            try Data(bytes).write(to: directory.appendingPathComponent(String(format: "v%03d.iommu", number)))
        }
        let output = InspectorInTmuxTests.shell("""
            for f in '\(directory.path)'/*.iommu; do '\(InspectorInTmuxTests.binary)' \(command) "$f"; echo "status=$?"; done
            """)
        let statuses = output.split(separator: "\n").filter { $0.hasPrefix("status=") }.compactMap { Int32($0.dropFirst(7)) }
        #expect(statuses.count == 150)
        // 0: ran, 1: an expectation failed, 2: a located parse error. A trap is a signal.
        let unexpected = statuses.filter { ![0, 1, 2].contains($0) }
        #expect(unexpected.isEmpty, "\(unexpected)")
        #expect(statuses.filter { $0 != 2 }.count >= 30, "too few variants ran")
        #expect(UntrustedInputTests.rawControls(output).isEmpty)
    }
}
