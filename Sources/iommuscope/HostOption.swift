import ArgumentParser
import Foundation
import HostImport
import IOMMUCore
import Presentation
import ScenarioScript

/// A host read with `--host DIR|FILE` (IMPORT.md §2, "The host as a platform"): its facts and
/// the platform they describe. Reading prints the readers' warnings and notes on standard
/// error, escaped; an unreadable path exits 2, as IMPORT.md's readers do.
struct OpenedHost {
    let path: String
    let snapshot: HostSnapshot
    let platform: PlatformDescription

    static func open(_ path: String) throws -> OpenedHost {
        let source: any HostSource
        do {
            source = try HostInput.open(path)
        } catch {
            printError("iommuscope: --host \(error.description)")
            throw ExitCode(2)
        }
        let (snapshot, warnings) = HostReader.read(from: source)
        let (platform, notes) = HostPlatform.description(of: snapshot)
        for warning in warnings { printError(warning.description) }
        for note in snapshot.notes + notes { printError("note: " + note) }
        return OpenedHost(path: path, snapshot: snapshot, platform: platform)
    }

    /// A session on the host's platform with the dumped tables rebuilt in its memory.
    func model() throws -> HostModel {
        let session: Session
        do {
            session = try Session(platform: platform)
        } catch {
            // HostPlatform left out whatever the core refuses; this is a bug, not the input.
            printError("iommuscope: --host \(path): the imported platform does not validate: \(error.description)")
            throw ExitCode(1)
        }
        let tables = HostPlatform.rebuildTables(snapshot, into: session.machine)
        for warning in tables.warnings { printError(warning.description) }
        for note in tables.notes { printError("note: " + note) }
        return HostModel(snapshot: snapshot, session: session, tables: tables)
    }
}

/// A host as the model of a command: a session on its platform, with the page tables its
/// debugfs dumps showed rebuilt in that session's memory.
struct HostModel {
    let snapshot: HostSnapshot
    let session: Session
    let tables: TableRebuildReport

    /// Reads the host at `path` (a directory tree or a `capture` file) and builds its model.
    static func open(_ path: String) throws -> HostModel { try OpenedHost.open(path).model() }

    /// The platform device a command-line name means: its sysfs name, or a BDF in any form
    /// the logs print (`00:02.0`, `0000:00:02.0`).
    static func device(named name: String, in machine: Machine) -> PlatformDevice? {
        machine.device(named: name) ?? PCIAddress(parsing: name).flatMap { machine.device(named: $0.description) }
    }
}

/// One line on standard error, escaped for the terminal.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((terminalSafe(text) + "\n").utf8))
}
