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

    /// `tui --qemu-trace FILE` opens the replayed trace; without a terminal it prints the
    /// replayed model as `show` does: the mdev's ACCESS object on the IOAS and its three maps.
    @Test func theInspectorOpensATrace() {
        let shown = FaultsCommandLineTests.run("tui --qemu-trace '\(Self.sample)'", stdin: "")
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("IOAS 1  areas 3"))
        #expect(shown.stdout.contains("ACCESS 2"))
        #expect(shown.stdout.contains("area      0xc0000-0xdffff  r "))
        let both = FaultsCommandLineTests.run("tui x.iommu --qemu-trace '\(Self.sample)'", stdin: "")
        #expect(both.status != 0 && both.stderr.contains("not both"))
    }

    @Test func exitStatuses() {
        #expect(FaultsCommandLineTests.run("import qemu-trace /nonexistent/trace.txt").status == 2)
        #expect(FaultsCommandLineTests.run("import qemu-trace /dev/null").status == 1)
        let stdout = FaultsCommandLineTests.run("import qemu-trace '\(Self.sample)'")
        #expect(stdout.status == 0)
        #expect(stdout.stdout.contains("ioas2 = ioas_alloc # trace 8"))
    }

    /// A malformed event line: a located warning on stderr, escaped, and a comment in the scenario.
    @Test func aLocatedWarning() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qemu-trace-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("qemu-kvm: hello\niommufd_backend_map_dma  iommufd=15 ioas=2\u{1b}[31m\n".utf8))
        let result = FaultsCommandLineTests.run("import qemu-trace '\(path)'")
        #expect(result.status == 0)
        #expect(result.stderr == "\(path):2: warning: iommufd_backend_map_dma: not the map_dma format; kept as a comment\n")
        #expect(result.stdout.contains("# trace 2: iommufd_backend_map_dma iommufd=15 ioas=2\\x1b[31m (not replayed"))
    }
}
