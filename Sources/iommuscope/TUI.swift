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
        if let host {
            try open(host: host)
        } else if let qemuTrace {
            try checkOneRecord("--qemu-trace")
            try openReplay(try importQEMUTrace(qemuTrace).replay, unit: "trace line", path: qemuTrace)
        } else if let syz {
            try checkOneRecord("--syz")
            try openReplay(try importSyzProgram(syz).replay, unit: "program line", path: syz)
        } else {
            let source = ScenarioSource(file)
            let text = try scenarioText(source)
            let explained = try loadFaultExplanations(paths: faults, host: nil, scenario: source)
            guard Self.canDrawFullScreen() else {
                // Not a terminal (a pipe, CI) or one curses cannot draw on: print what the inspector would open on.
                try Show(file: file).run()
                return
            }
            try present(try InspectorModel(scenario: text, title: Self.title(source.name), faults: explained))
        }
    }

    /// `--host DIR`: the host's platform with its tables rebuilt, and the scenario FILE run on it.
    private func open(host: String) throws {
        let text = try file.map { try scenarioText(.file($0)) }
        let opened = try OpenedHost.open(host)
        let inspection = HostInspection(snapshot: opened.snapshot, platform: opened.platform,
                                        rebuild: { HostPlatform.rebuildTables(opened.snapshot, into: $0) })
        let model: InspectorModel
        do {
            model = try InspectorModel(host: inspection, scenario: text, title: Self.title(file ?? host),
                                       faults: try loadFaultExplanations(paths: faults, host: opened, scenario: file.map(ScenarioSource.file)))
        } catch let error as PlatformDescriptionError {
            throw ValidationError(terminalSafe("--host \(host): the model cannot build this host's platform: \(error)"))
        }
        guard Self.canDrawFullScreen() else {
            // Not a terminal: the host's object tree as text, escaped like every host word.
            for row in ObjectTreePane().rows(model.view, symbols: .ascii) { print(String(repeating: "  ", count: row.depth) + row.label) }
            return
        }
        try present(model)
    }

    /// A replayed record (`option`) is opened alone: with no scenario FILE and no other record.
    private func checkOneRecord(_ option: String) throws {
        guard file == nil else { throw ValidationError("give a scenario FILE or \(option), not both") }
        guard qemuTrace == nil || syz == nil else { throw ValidationError("give --qemu-trace or --syz, not both") }
    }

    /// A replayed record of a real VMM, read from `path`:
    /// the inspector opens on its timeline, shown and focused; `unit` names its lines ("trace
    /// line"). Without a terminal, the replayed model's summary, as `show` prints a scenario's.
    private func openReplay(_ replay: ImportedReplay, unit: String, path: String) throws {
        let explained = try loadFaultExplanations(paths: faults, host: nil, scenario: nil)
        let model: InspectorModel
        do {
            model = try InspectorModel(replay: replay, unit: unit, title: Self.title(path), faults: explained)
        } catch let error as ScenarioParseErrors {
            throw reportParseErrors(error.errors, path: path)
        }
        guard Self.canDrawFullScreen() else {
            print(model.summary)
            return
        }
        try present(model, showing: .timeline)
    }

    /// Whether the inspector can run full-screen: stdin and stdout are a terminal curses can
    /// draw on. A terminal it cannot draw on (TERM=dumb) gets a note on stderr saying so; the
    /// caller prints its summary instead, as for a pipe.
    private static func canDrawFullScreen() -> Bool {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return false }
        guard let reason = CursesBackend.cannotDraw(environment: ProcessInfo.processInfo.environment) else { return true }
        FileHandle.standardError.write(Data("iommuscope: \(terminalSafe(reason)): the inspector needs a full-screen terminal; printing the summary instead\n".utf8))
        return false
    }

    /// Runs the inspector on the terminal until the user quits, `showing` a pane first.
    private func present(_ model: InspectorModel, showing pane: PaneKind? = nil) throws {
        var chosen = try InspectorThemes.load(theme)
        let environment = ProcessInfo.processInfo.environment
        let backend = CursesBackend(colors: colors, mouse: !noMouse, environment: environment)
        defer { backend.close() }
        if backend.colorMode == .none { chosen = chosen.monochrome }
        let app = InspectorApp(model: model, theme: chosen, symbols: backend.symbols)
        app.mouseCapture = !noMouse
        if let pane { app.show(pane) }
        let history = Self.historyFile(environment)
        if let history, let text = try? String(contentsOf: history, encoding: .utf8) {
            app.history = text.split(separator: "\n").map(String.init)
        }
        let loaded = app.history
        app.run(on: backend) { backend.terminationWasRequested }
        if let history, app.history != loaded {
            // The last thousand commands, one a line (a pasted command with a newline is left out).
            let kept = app.history.filter { !$0.contains("\n") && !$0.contains("\r") }.suffix(1000)
            try? FileManager.default.createDirectory(at: history.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? Data(kept.map { $0 + "\n" }.joined().utf8).write(to: history, options: .atomic)
        }
    }

    /// Where the `:` history is kept across runs: `$XDG_STATE_HOME/iommuscope/history`,
    /// `~/.local/state/iommuscope/history` without it (the XDG base directory rules).
    private static func historyFile(_ environment: [String: String]) -> URL? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return URL(fileURLWithPath: state).appendingPathComponent("iommuscope/history")
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".local/state/iommuscope/history")
    }

    /// A scenario's text, once its lines have parsed (`loadScenario` prints located errors).
    private func scenarioText(_ source: ScenarioSource) throws -> String {
        _ = try loadScenario(source)
        return try source.text()
    }

    /// The file's name is input too: its control characters are escaped like the file's.
    private static func title(_ path: String) -> String {
        terminalSafe(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
    }

}

/// `tui --faults LOG...`: every IOMMU fault of the logs, explained on the host (`--host`, with
/// the scenario run on it) or on the scenario alone, for the faults pane.
func loadFaultExplanations(paths: [String], host: OpenedHost?, scenario: ScenarioSource?) throws -> [FaultExplanation] {
    guard !paths.isEmpty else { return [] }
    let logs = try FaultLogs.read(paths, strict: false)
    return try explainFaults(logs.records, host: host, scenario: scenario) ?? []
}

/// `--colors` takes the mode names as they are spelt (`none`, `16`, `256`, `truecolor`).
extension ColorMode: ExpressibleByArgument {}
