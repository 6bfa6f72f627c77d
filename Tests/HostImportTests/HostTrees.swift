import Foundation
@testable import HostImport

/// The fixture host trees (`Tests/HostTrees/`, outside every target directory: their sysfs
/// symlink cycles must never meet SwiftPM's source walk) and the samples, read in place.
enum HostTrees {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let intel = tree("intel-kabylake")
    static let amd = tree("amd-host")
    static let arm = tree("arm-rk3588")
    static let all = [intel, amd, arm]

    static func tree(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../HostTrees/\(name)").standardized.path
    }

    /// A sample's text without its leading `# ` provenance block.
    static func sample(_ path: String) -> String {
        let text = (try? String(contentsOf: fixtures.appendingPathComponent("samples/\(path)"), encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.drop { $0.hasPrefix("# ") }.joined(separator: "\n")
    }

    /// A scratch copy of a tree (symlinks kept), removed by the caller.
    static func copy(_ tree: String) throws -> String {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-host-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-a", tree, target]
        try process.run()
        process.waitUntilExit()
        return target
    }

    static func remove(_ path: String) {
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/rm")
        process.arguments = ["-rf", path]
        try? process.run()
        process.waitUntilExit()
    }

    /// The damage of host-inputs §1 done to a file's text.
    enum Mangling: CaseIterable, Sendable {
        case mailQuote, doubleQuote, crlf, tabsExpanded, wrapped, trailingBlanks

        func apply(_ text: String) -> String {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            switch self {
            case .mailQuote: return lines.map { "> " + $0 }.joined(separator: "\n")
            case .doubleQuote: return lines.map { "> > " + $0 }.joined(separator: "\n")
            case .crlf: return lines.joined(separator: "\r\n")
            case .tabsExpanded: return text.replacingOccurrences(of: "\t", with: "        ")
            case .wrapped:
                // A mail client breaking at the last blank before column 40 (format=flowed keeps the blank).
                return lines.map { line -> String in
                    guard line.count > 40, let cut = line.prefix(40).lastIndex(of: " ") else { return String(line) }
                    return line[...cut] + "\n" + line[line.index(after: cut)...]
                }.joined(separator: "\n")
            case .trailingBlanks: return lines.map { $0 + " \t" }.joined(separator: "\n")
            }
        }
    }
}
