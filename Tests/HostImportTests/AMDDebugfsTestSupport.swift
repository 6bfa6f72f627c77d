import Foundation
import Testing
@testable import HostImport

/// A host tree held in memory: files by path under the root, plus directories that exist
/// empty (a pre-v6.17 `iommuNN`).
struct AMDTestSource: HostSource {
    var files: [String: String] = [:]
    var directories: Set<String> = []
    var failures: [String: HostReadFailure] = [:]

    func read(_ path: String) -> Result<String, HostReadFailure> {
        if let failure = failures[path] { return .failure(failure) }
        return files[path].map { .success($0) } ?? .failure(.missing)
    }

    func list(_ directory: String) -> [String] {
        let prefix = directory + "/"
        let children = (Array(files.keys) + Array(failures.keys) + Array(directories)).compactMap { path -> String? in
            guard path.hasPrefix(prefix) else { return nil }
            return path.dropFirst(prefix.count).split(separator: "/").first.map(String.init)
        }
        return Array(Set(children)).sorted()
    }

    func link(_ path: String) -> String? { nil }

    func exists(_ path: String) -> Bool {
        files[path] != nil || directories.contains(path) || !list(path).isEmpty
    }
}

enum AMDSamples {
    /// A sample's text without its leading `# ` provenance block.
    static func text(_ name: String) throws -> String {
        let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/samples/\(name)")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return lines.drop { $0.hasPrefix("# ") }.joined(separator: "\n")
    }

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
    static func source() throws -> AMDTestSource {
        var source = AMDTestSource()
        for name in ["devid-devtbl-irqtbl-abi-doc.txt", "mmio-capability-abi-doc.txt", "cmdbuf-abi-doc.txt"] {
            source.files.merge(files(try text("amd-debugfs/\(name)"))) { $1 }
        }
        return source
    }
}

/// The damage pasted copies carry (host-inputs §1), applied to a file's text.
enum Mangle {
    static func quoted(_ text: String) -> String { lines(text).map { "> " + $0 }.joined(separator: "\n") }
    static func crlf(_ text: String) -> String { lines(text).joined(separator: "\r\n") }
    static func tabsExpanded(_ text: String) -> String { text.replacingOccurrences(of: "\t", with: "        ") }
    /// Breaks every line longer than `width` at the last space before it.
    static func wrapped(_ text: String, width: Int = 40) -> String {
        lines(text).flatMap { line -> [String] in
            var rest = Substring(line), out: [String] = []
            while rest.count > width, let cut = rest.prefix(width).lastIndex(of: " ") {
                out.append(String(rest[..<cut]))
                rest = rest[rest.index(after: cut)...]
            }
            return out + [String(rest)]
        }.joined(separator: "\n")
    }
    static func truncated(_ text: String, keeping fraction: Double) -> String { String(text.prefix(Int(Double(text.count) * fraction))) }
    static func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
}
