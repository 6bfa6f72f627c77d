import ArgumentParser
import Foundation
import HostImport
import Presentation

/// `iommuscope host`: a host's IOMMU facts, from its `/` (the live host), a copied tree, or a
/// capture (IMPORT.md §2). Exit 0 when read, 1 when no IOMMU fact was found, 2 for an
/// unreadable `--root`/`--snapshot`.
struct Host: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a host's IOMMU units, groups, devices and reserved regions, and what they mean for passthrough.")

    @Option(help: "A host root: / (the live host, the default) or a copy of its /sys and /proc.") var root: String?
    @Option(help: "A snapshot file written by `iommuscope capture`.") var snapshot: String?
    @Flag(help: "Print the snapshot as one JSON object.") var json = false
    @Flag(help: "List every decoded ID-register field under its unit.") var registers = false

    func validate() throws {
        if root != nil && snapshot != nil { throw ValidationError("give --root or --snapshot, not both") }
    }

    func run() throws {
        let source: any HostSource
        if let snapshot {
            guard try hostInput(snapshot, expecting: .capture) else {
                throw hostInputFailure(HostInputError(path: snapshot, reason: "is a directory: read it with --root"))
            }
            source = try openHost(snapshot)
        } else {
            let path = root ?? "/"
            guard try hostInput(path, expecting: .directory) else {
                throw hostInputFailure(HostInputError(path: path, reason: "is not a directory: a capture is read with --snapshot"))
            }
            source = try openHost(path)
        }
        let (host, warnings) = HostReader.read(from: source)
        printWarnings(warnings)
        print(json ? host.jsonText() : HostReport.text(host, registers: registers), terminator: json ? "\n" : "")
        if host.iommus.isEmpty && host.groups.isEmpty { throw ExitCode(1) }
    }
}

/// `iommuscope capture`: every file `host` reads, in one snapshot file. It writes nothing but
/// `-o FILE`.
struct Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every host file `host` reads into one snapshot file, to read elsewhere with --snapshot or --host.")

    @Option(help: "A host root: / (the live host, the default) or a copy of its /sys and /proc.") var root: String = "/"
    @Option(name: .shortAndLong, help: "The snapshot file to write.") var output: String

    func run() throws {
        guard try hostInput(root, expecting: .directory) else {
            throw hostInputFailure(HostInputError(path: root, reason: "is not a directory"))
        }
        let (capture, snapshot, warnings) = HostReader.capture(from: try openHost(root))
        printWarnings(warnings)
        let data = try capture.encoded()
        // Not `.atomic`: that writes a temporary file beside FILE, and capture writes nothing but FILE.
        guard FileManager.default.createFile(atPath: output, contents: data) else {
            throw hostInputFailure(HostInputError(path: output, reason: "cannot be written"))
        }
        FileHandle.standardError.write(Data("\(terminalSafe(output)): \(capture.files.count) files, \(capture.links.count) links, \(capture.dirs.count) directories\n".utf8))
        if snapshot.iommus.isEmpty && snapshot.groups.isEmpty { throw ExitCode(1) }
    }
}

/// Whether `path` is of the kind the option wants; a missing or unreadable path exits 2.
func hostInput(_ path: String, expecting kind: HostInput.Kind) throws -> Bool {
    do {
        return try HostInput.kind(of: path) == kind
    } catch {
        throw hostInputFailure(error)
    }
}

/// `HostInput.open`, its error printed and turned into exit status 2. Also what `--host` uses.
func openHost(_ path: String) throws -> any HostSource {
    do {
        return try HostInput.open(path)
    } catch {
        throw hostInputFailure(error)
    }
}

/// Prints `PATH: error: REASON` and gives exit status 2 (IMPORT.md: an unreadable path).
func hostInputFailure(_ error: HostInputError) -> ExitCode {
    FileHandle.standardError.write(Data("\(terminalSafe(error.path)): error: \(terminalSafe(error.reason))\n".utf8))
    return ExitCode(2)
}

/// Located warnings on stderr, escaped: `FILE:LINE: warning: REASON`.
func printWarnings(_ warnings: [ImportWarning]) {
    guard !warnings.isEmpty else { return }
    let text = warnings.map { terminalSafe($0.description) }.joined(separator: "\n") + "\n"
    FileHandle.standardError.write(Data(text.utf8))
}
