import Foundation
import Testing

/// `iommuscope import qemu-trace` run as a user runs it, and its scenario run by `iommuscope run`.
struct QEMUTraceCommandLineTests {
    static let sample = InspectorInTmuxTests.repository
        .appendingPathComponent("Tests/HostImportTests/Fixtures/samples/qemu-trace/iommufd-backend-mtty-mdev-x86-2024.txt").path

    @Test func theMttySampleImportsAndRuns() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("qemu-trace-\(UUID().uuidString).iommu").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let imported = FaultsCommandLineTests.run("import qemu-trace '\(Self.sample)' -o '\(out)'")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.isEmpty)
        let run = FaultsCommandLineTests.run("run '\(out)'")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("8 commands, 4 expectations, 0 failed"))
    }

    @Test func exitStatuses() {
        #expect(FaultsCommandLineTests.run("import qemu-trace /nonexistent/trace.txt").status == 2)
        #expect(FaultsCommandLineTests.run("import qemu-trace /dev/null").status == 1)
        let stdout = FaultsCommandLineTests.run("import qemu-trace '\(Self.sample)'")
        #expect(stdout.status == 0)
        #expect(stdout.stdout.contains("ioas2 = ioas_alloc # trace 8"))
    }
}
