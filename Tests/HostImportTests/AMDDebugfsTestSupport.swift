import Foundation
import Testing
@testable import HostImport

enum AMDSamples {
    /// A sample's text without its leading `# ` provenance block.
    static func text(_ name: String) throws -> String { Samples.text(name) }

    /// The files a sample's `$ cat /sys/...` sections show (`iommu<x>` taken as `iommu00`);
    /// `$ echo` lines and their output close a section.
    static func files(_ text: String) -> [String: String] {
        var files: [String: String] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("$ cat /") {
                let path = String(line.dropFirst("$ cat /".count)).replacingOccurrences(of: "iommu<x>", with: "iommu00")
                files[path] = ""
                current = path
            } else if line.hasPrefix("$ ") {
                current = nil
            } else if let path = current, !line.isEmpty {
                files[path, default: ""] += line + "\n"
            }
        }
        return files
    }

    /// Every AMD debugfs sample's files in one tree.
    static func source() throws -> MemoryHostSource {
        var source = MemoryHostSource()
        for name in ["devid-devtbl-irqtbl-abi-doc.txt", "mmio-capability-abi-doc.txt", "cmdbuf-abi-doc.txt"] {
            source.files.merge(files(try text("amd-debugfs/\(name)"))) { $1 }
        }
        return source
    }
}
