import Foundation
import TestSupport
import Testing
@testable import HostImport

/// Every host file reader and the whole host reader over random bytes, truncations and
/// spliced samples: no traps, every warning located at the file it read.
@Suite struct HostFuzzTests {
    static let seeds = HostTrees.all.map { tree in
        let source = DirectorySource(root: tree)
        return source.list("sys/kernel/iommu_groups").compactMap { try? source.read("sys/kernel/iommu_groups/\($0)/reserved_regions").get() }
            .joined() + ((try? source.read("proc/cmdline").get()) ?? "")
    }

    static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<random.below(8) {
            guard !bytes.isEmpty else { break }
            switch random.below(4) {
            case 0: bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            case 1: bytes.removeSubrange(random.below(bytes.count)...)
            case 2: bytes.insert(random.pick([0x0a, 0x20, 0x09, 0x3e, 0x0d, 0x00, 0x1b]), at: random.below(bytes.count))
            default: bytes.insert(contentsOf: Array("0xffffffffffffffff".utf8), at: random.below(bytes.count))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func everyFileReaderSurvivesMutatedInput() {
        var random = SplitMix64(seed: 0x9_2026)
        for _ in 0..<400 {
            let text = Self.mutate(random.pick(Self.seeds), &random)
            var warnings: [ImportWarning] = []
            _ = ReservedRegionsFile.parse(text, file: "f", warnings: &warnings)
            _ = GroupTypeFile.parse(text, file: "f", warnings: &warnings)
            _ = BareHexFile.parse(text, file: "f", warnings: &warnings)
            _ = PCIIDFile<UInt16>.parse(text, file: "f", warnings: &warnings)
            _ = PCIIDFile<UInt32>.parse(text, file: "f", warnings: &warnings)
            _ = VTdVersionFile.parse(text, file: "f", warnings: &warnings)
            _ = ProcLineFile.parse(text, file: "f", warnings: &warnings)
            _ = KernelCommandLine(text).explanations
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(warnings.allSatisfy { $0.file == "f" && ($0.line ?? 1) >= 1 && ($0.line ?? 1) <= lines })
        }
    }

    /// The whole reader over a capture of a fixture whose every file was mutated.
    @Test func theHostReaderSurvivesMutatedCaptures() {
        var random = SplitMix64(seed: 0x51_5f5)
        let captures = HostTrees.all.map { HostReader.capture(from: DirectorySource(root: $0)).capture }
        for _ in 0..<30 {
            var capture = random.pick(captures)
            for path in capture.files.keys where random.chance(1, in: 3) {
                capture.files[path] = Self.mutate(capture.files[path] ?? "", &random)
            }
            for path in capture.links.keys where random.chance(1, in: 5) {
                capture.links[path] = Self.mutate(capture.links[path] ?? "", &random)
            }
            let (host, warnings) = HostReader.read(from: SnapshotSource(capture: capture))
            #expect(warnings.allSatisfy { !$0.file.isEmpty })
            _ = HostReport.text(host)
            _ = host.jsonText()
        }
    }

    @Test func randomBytesAreNotACapture() {
        var random = SplitMix64(seed: 77)
        for _ in 0..<200 {
            var bytes = (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if random.chance(1, in: 2) { bytes.insert(UInt8(ascii: "{"), at: 0) }
            if case .success = HostCapture.decode(Data(bytes)) { Issue.record("random bytes decoded as a capture") }
        }
    }
}
