import Foundation
@testable import HostImport

/// The real samples under `Fixtures/samples/`, their leading `# ` provenance block dropped
/// (it is no input).
enum Samples {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/samples")

    /// The lines of `samples/<path>` after the provenance block, without a final empty line.
    static func lines(_ path: String) -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let first = lines.first, first.hasPrefix("# ") { lines.removeFirst() }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The sample's text after the provenance block, each line ending in a newline.
    static func text(_ path: String) -> String { lines(path).map { $0 + "\n" }.joined() }
}

/// A host tree held in memory: files by path under the root, read failures, and directories
/// that exist empty (a pre-v6.17 `iommuNN`).
struct MemoryHostSource: HostSource {
    var files: [String: String] = [:]
    var directories: Set<String> = []
    var failures: [String: HostReadFailure] = [:]

    init(_ files: [String: String] = [:]) { self.files = files }

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

    func exists(_ path: String) -> Bool { files[path] != nil || directories.contains(path) || !list(path).isEmpty }
}

/// The damage pasted copies carry (host-inputs §1), applied to a file's or a log's text.
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
    static func truncated(_ text: String, keeping fraction: Double) -> String { String(text.prefix(Int(Double(text.count) * fraction))) }

    private static func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }
}
