import Foundation
@testable import HostImport

/// The VT-d samples and in-memory host trees the VT-d suites read.
enum VTdSamples {
    /// A sample with its leading `# ` provenance block dropped.
    static func text(_ name: String) -> String {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/samples/vtd-debugfs/\(name)")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("# ") }.joined(separator: "\n")
    }

    static let regset = "iommu-regset-kabylake-abi-doc.txt"
    static let translation = "dmar-translation-struct-kabylake-abi-doc.txt"
    static let oldFormats = "dmar-translation-struct-old-and-v5.3-formats-2019.txt"
    static let domains = "domain-translation-struct-per-device-kabylake-abi-doc.txt"
    static let queue = "invalidation-queue-kabylake-abi-doc.txt"

    static let directory = VTdDebugfsReader.directory

    /// Parses `text` as the file at `path` under the intel debugfs directory.
    static func parse(_ text: String, as file: String) -> (VTdDebugfs, [ImportWarning]) {
        var warnings: [ImportWarning] = []
        let dump = VTdDebugfsReader.read(from: VTdTree(["\(directory)/\(file)": text]), warnings: &warnings)
        return (dump, warnings)
    }
}

/// A host tree held in memory: files by path; directories are the paths' prefixes.
struct VTdTree: HostSource {
    var files: [String: String]

    init(_ files: [String: String]) { self.files = files }

    func read(_ path: String) -> Result<String, HostReadFailure> { files[path].map { .success($0) } ?? .failure(.missing) }

    func list(_ directory: String) -> [String] {
        let prefix = directory + "/"
        return Set(files.keys.filter { $0.hasPrefix(prefix) }.compactMap { $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init) }).sorted()
    }

    func link(_ path: String) -> String? { nil }
    func exists(_ path: String) -> Bool { files[path] != nil || !list(path).isEmpty }
}

/// The damage pasted copies carry (host-inputs §1).
enum Mangle {
    static func quote(_ text: String) -> String { lines(text).map { "> " + $0 }.joined(separator: "\n") }
    static func crlf(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: "\r\n") }
    static func stamps(_ text: String) -> String {
        lines(text).enumerated().map { "[ \(100 + $0.offset).123456] " + $0.element }.joined(separator: "\n")
    }
    /// Runs of spaces back to one tab, as the kernel printed them.
    static func tabs(_ text: String) -> String {
        text.replacingOccurrences(of: " {2,}", with: "\t", options: .regularExpression)
    }
    static func expandTabs(_ text: String) -> String { text.replacingOccurrences(of: "\t", with: "        ") }
    /// Hard wraps at `width` columns, at the last space before it.
    static func wrap(_ text: String, width: Int = 72) -> String {
        var out: [String] = []
        for line in lines(text) {
            var rest = Substring(line)
            while rest.count > width {
                let head = rest.prefix(width)
                guard let space = head.lastIndex(where: { $0 == " " || $0 == "\t" }), space > rest.startIndex else { break }
                out.append(String(rest[..<space]))
                rest = rest[rest.index(after: space)...]
            }
            out.append(String(rest))
        }
        return out.joined(separator: "\n")
    }

    private static func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }
}
