import Foundation
@testable import HostImport

/// The VT-d samples and in-memory host trees the VT-d suites read.
enum VTdSamples {
    /// A sample with its leading `# ` provenance block dropped.
    static func text(_ name: String) -> String { Samples.text("vtd-debugfs/\(name)") }

    static let regset = "iommu-regset-kabylake-abi-doc.txt"
    static let translation = "dmar-translation-struct-kabylake-abi-doc.txt"
    static let oldFormats = "dmar-translation-struct-old-and-v5.3-formats-2019.txt"
    static let domains = "domain-translation-struct-per-device-kabylake-abi-doc.txt"
    static let queue = "invalidation-queue-kabylake-abi-doc.txt"

    static let directory = VTdDebugfsReader.directory

    /// Parses `text` as the file at `path` under the intel debugfs directory.
    static func parse(_ text: String, as file: String) -> (VTdDebugfs, [ImportWarning]) {
        var warnings: [ImportWarning] = []
        let dump = VTdDebugfsReader.read(from: MemoryHostSource(["\(directory)/\(file)": text]), warnings: &warnings)
        return (dump, warnings)
    }
}
