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
    @Option(help: "A QEMU trace log (-trace 'iommufd*'): opened as the scenario `import qemu-trace` writes of it.")
    var qemuTrace: String?
    @Option(help: "A syzkaller program (syz text of ioctl$IOMMU_* calls): opened as the scenario `import syz` writes of it.")
    var syz: String?
    @Option(help: "A theme: dark, light, mono, or a TOML file.") var theme: String = "dark"
    @Option(help: "Colours: none, 16, 256 or truecolor (default: detected; NO_COLOR means none).") var colors: ColorMode?
    @Flag(help: "Do not capture the mouse (keeps the terminal's own copy and paste).") var noMouse = false

    func run() throws {
        let model: InspectorModel
        if let host {
            let scenario = try file.map(loadScenario)
            let opened = try OpenedHost.open(host)
            let inspection = HostInspection(snapshot: opened.snapshot, platform: opened.platform,
                                            rebuild: { HostPlatform.rebuildTables(opened.snapshot, into: $0) })
            do {
                model = try InspectorModel(host: inspection, scenario: scenario, title: Self.title(file ?? host),
                                           faults: try loadFaultExplanations(paths: faults, host: opened, scenario: file))
            } catch let error as PlatformDescriptionError {
                throw ValidationError(terminalSafe("--host \(host): the model cannot build this host's platform: \(error)"))
            }
            guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
                // Not a terminal: the host's object tree as text, escaped like every host word.
                for row in ObjectTreePane().rows(model.view, symbols: .ascii) { print(String(repeating: "  ", count: row.depth) + row.label) }
                return
            }
        } else if let replayed = qemuTrace ?? syz {
            guard file == nil, qemuTrace == nil || syz == nil else { throw ValidationError("give a scenario FILE, --qemu-trace or --syz: one of them, not both") }
            let (text, _) = try qemuTrace != nil ? importQEMUTrace(replayed) : importSyzProgram(replayed)
            let scenario: Scenario
            do throws(ScenarioParseErrors) {
                scenario = try Scenario(source: text)
            } catch {
                throw reportParseErrors(error.errors, path: replayed)
            }
            let explained = try loadFaultExplanations(paths: faults, host: nil, scenario: nil)
            guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
                // Not a terminal: the replayed model's summary, as `show` prints a scenario's.
                let session = Session()
                _ = session.run(scenario)
                print(SessionSummary(session: session).text)
                return
            }
            model = InspectorModel(scenario: scenario, title: Self.title(replayed), faults: explained)
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

}

/// `tui --faults LOG...`: every IOMMU fault of the logs, explained on the host (`--host`, with
/// the scenario run on it) or on the scenario alone, for the faults pane.
func loadFaultExplanations(paths: [String], host: OpenedHost?, scenario: String?) throws -> [FaultExplanation] {
    guard !paths.isEmpty else { return [] }
    let logs = try FaultLogs.read(paths, strict: false)
    return try explainFaults(logs.records, host: host, scenario: scenario) ?? []
}

/// `--colors` takes the mode names as they are spelt (`none`, `16`, `256`, `truecolor`).
extension ColorMode: ExpressibleByArgument {}
