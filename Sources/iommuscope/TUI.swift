import ArgumentParser
import Foundation
import Presentation
import Glibc
import HostImport
import IOMMUCore
import Inspector
import ScenarioScript
import TerminalUI

/// The full-screen inspector; without a terminal it prints the summary instead.
struct TUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Open the ncurses inspector on a scenario (the bundled default without FILE), or on a host with --host.")

    @Argument(help: "A scenario file (.iommu); with --host, lines to run on the host (none without FILE).") var file: String?
    @Option(help: "A host to open: a copy of its /sys, /proc and debugfs trees, or a snapshot file `capture` wrote.")
    var host: String?
    @Option(help: "A kernel log whose IOMMU faults the faults pane (6) explains on the model (repeatable).")
    var faults: [String] = []
    @Option(help: "A theme: dark, light, mono, or a TOML file.") var theme: String = "dark"
    @Option(help: "Colours: none, 16, 256 or truecolor (default: detected; NO_COLOR means none).") var colors: ColorMode?
    @Flag(help: "Do not capture the mouse (keeps the terminal's own copy and paste).") var noMouse = false

    func run() throws {
        let model: InspectorModel
        if let host {
            let scenario = try file.map(loadScenario)
            let inspection = try openHost(host)
            do {
                model = try InspectorModel(host: inspection, scenario: scenario, title: Self.title(file ?? host),
                                           faults: try loadFaultExplanations(paths: faults, host: host, scenario: file))
            } catch let error as PlatformDescriptionError {
                throw ValidationError(terminalSafe("--host \(host): the model cannot build this host's platform: \(error)"))
            }
            guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
                // Not a terminal: the host's object tree as text, escaped like every host word.
                for row in ObjectTreePane().rows(model.view, symbols: .ascii) { print(String(repeating: "  ", count: row.depth) + row.label) }
                return
            }
        } else {
            let path = try file ?? defaultScenarioPath()
            let scenario = try loadScenario(path)
            let explained = try loadFaultExplanations(paths: faults, host: nil, scenario: path)
            guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
                // Not a terminal (a pipe, CI): print what the inspector would open on.
                try Show(file: path).run()
                return
            }
            model = InspectorModel(scenario: scenario, title: Self.title(path), faults: explained)
        }
        var chosen = try InspectorThemes.load(theme)
        let environment = ProcessInfo.processInfo.environment
        let backend = CursesBackend(colors: colors, mouse: !noMouse, environment: environment)
        defer { backend.close() }
        if backend.colorMode == .none { chosen = chosen.monochrome }
        let app = InspectorApp(model: model, theme: chosen, symbols: backend.symbols)
        app.run(on: backend) { backend.terminationWasRequested }
    }

    /// The file's name is input too: its control characters are escaped like the file's.
    private static func title(_ path: String) -> String {
        terminalSafe(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
    }

    /// `--host DIR|FILE`: the host's facts, its platform and the rebuild of its dumped tables.
    /// Warnings and notes go to standard error, located and escaped, before the screen opens.
    private func openHost(_ path: String) throws -> HostInspection {
        let source: any HostSource
        do throws(HostInputError) {
            source = try HostInput.open(path)
        } catch {
            throw ValidationError(terminalSafe("--host \(error)"))
        }
        let (snapshot, warnings) = HostReader.read(from: source)
        let (platform, notes) = HostPlatform.description(of: snapshot)
        let stderr = FileHandle.standardError
        for line in warnings.map(\.description) + notes + snapshot.notes {
            stderr.write(Data((terminalSafe(line) + "\n").utf8))
        }
        return HostInspection(snapshot: snapshot, platform: platform, rebuild: { HostPlatform.rebuildTables(snapshot, into: $0) })
    }
}

/// `tui --faults LOG...`: every IOMMU fault of the logs, explained on the host (`--host`) or
/// the scenario, for the faults pane. Until the fault-log reader is merged no log can be read.
func loadFaultExplanations(paths: [String], host: String?, scenario: String?) throws -> [FaultExplanation] {
    guard let first = paths.first else { return [] }
    throw ValidationError(terminalSafe("--faults \(first): kernel logs cannot be read yet (the fault-log reader is not in this build)"))
}

/// `--colors` takes the mode names as they are spelt (`none`, `16`, `256`, `truecolor`).
extension ColorMode: ExpressibleByArgument {}
