import ArgumentParser
import Foundation
import Testing
@testable import iommuscope

/// `--version` at the root, and the scenario file a subcommand opens: a missing file or a
/// directory is a validation error that says why (and so shows the subcommand's usage).
@Suite struct VersionAndFileTests {
    @Test func versionIsTheRootsOption() {
        #expect(parseFailure(["--version"]) == IOMMUScope.version)
        #expect(IOMMUScope.version.split(separator: ".").count == 3)
    }

    @Test func unreadableFilesSayWhy() {
        #expect(fileError("/nonexistent/x.iommu") == "cannot read /nonexistent/x.iommu: no such file or directory")
        #expect(fileError(NSTemporaryDirectory()) == "cannot read \(NSTemporaryDirectory()): it is a directory, not a scenario file")
        #expect(fileError("/nonexistent/\u{1b}[2J") == "cannot read /nonexistent/\\x1b[2J: no such file or directory")
    }

    /// A pipe (`run <(generate)`) is a file like any other.
    @Test func aPipeIsReadable() throws {
        let chunks = try FileChunks(path: "/dev/null")
        #expect(Array(chunks).isEmpty)
    }

    @Test func choicesAreListedAndCapped() {
        #expect(choices("bound devices", ["1 (nic0)", "2 (nvme0)"]) == "bound devices: 1 (nic0), 2 (nvme0)")
        #expect(choices("paging HWPTs", []) == "there are no paging HWPTs")
        #expect(choices("host devices", (1...20).map(String.init), width: 12) == "host devices: 1, 2, …+18")
        // In their own order, not sorted as strings ("10" before "2").
        #expect(choices("bound devices", ["2", "10", "2"]) == "bound devices: 2, 10")
    }

    private func fileError(_ path: String) -> String? {
        do {
            _ = try FileChunks(path: path)
            return nil
        } catch let error as ValidationError {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
