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
    @Option(help: ArgumentHelp("A theme: dark, light, mono, high-contrast, or a TOML file.",
                               discussion: "Without it, $XDG_CONFIG_HOME/iommuscope/theme.toml (~/.config/iommuscope/theme.toml) "
                                   + "when there is one, else dark. A theme that does not load is an error, whatever the mode."))
    var theme: String?
    @Option(help: "Colours: none, 16, 256 or truecolor (default: detected; NO_COLOR means none).") var colors: ColorMode?
    @Flag(help: "Do not capture the mouse (keeps the terminal's own copy and paste).") var noMouse = false
    @Option(help: "Step the timeline one line every SECONDS until its end (any key pauses).") var autoplay: Double?
    @Flag(help: "For a projector: the walk's nested grid in large digits, the tree hidden.") var projector = false
    @Flag(help: ArgumentHelp("Print the key map as a keys.toml and exit.",
                             discussion: "The defaults with $XDG_CONFIG_HOME/iommuscope/keys.toml (~/.config/iommuscope/keys.toml) over them."))
    var dumpKeymap = false

    func validate() throws { try checkAutoplay(autoplay) }

    func run() throws {
        // The theme and the key map load before any mode is chosen: a bad one is an error
        // on a terminal, without one (the printed summary) and for --dump-keymap alike.
        let settings = try Self.settings(theme: theme, environment: ProcessInfo.processInfo.environment)
        if dumpKeymap {
            print(settings.keys.toml, terminator: "")
            return
        }
        if let host {
            try open(host: host, settings)
        } else if let qemuTrace {
            try checkOneRecord("--qemu-trace")
            try openReplay(try importQEMUTrace(qemuTrace).replay, unit: "trace line", path: qemuTrace, settings)
        } else if let syz {
            try checkOneRecord("--syz")
            try openReplay(try importSyzProgram(syz).replay, unit: "program line", path: syz, settings)
        } else {
            let source = ScenarioSource(file)
            let text = try scenarioText(source)
            let explained = try loadFaultExplanations(paths: faults, host: nil, scenario: source)
            guard Self.canDrawFullScreen() else {
                // Not a terminal (a pipe, CI) or one curses cannot draw on: print what the inspector would open on.
                try Show(file: file).run()
                return
            }
            try present(try InspectorModel(scenario: text, title: Self.title(source.name), faults: explained), settings)
        }
    }

    /// `--host DIR`: the host's platform with its tables rebuilt, and the scenario FILE run on it.
    private func open(host: String, _ settings: Settings) throws {
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
        try present(model, settings)
    }

    /// A replayed record (`option`) is opened alone: with no scenario FILE and no other record.
    private func checkOneRecord(_ option: String) throws {
        guard file == nil else { throw ValidationError("give a scenario FILE or \(option), not both") }
        guard qemuTrace == nil || syz == nil else { throw ValidationError("give --qemu-trace or --syz, not both") }
    }

    /// A replayed record of a real VMM, read from `path`:
    /// the inspector opens on its timeline, shown and focused; `unit` names its lines ("trace
    /// line"). Without a terminal, the replayed model's summary, as `show` prints a scenario's.
    private func openReplay(_ replay: ImportedReplay, unit: String, path: String, _ settings: Settings) throws {
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
        try present(model, settings, showing: .timeline)
    }

    /// Whether the inspector can run full-screen: stdin and stdout are a terminal curses can
    /// draw on. A terminal it cannot draw on (TERM=dumb) gets a note on stderr saying so; the
    /// caller prints its summary instead, as for a pipe.
    static func canDrawFullScreen() -> Bool {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return false }
        guard let reason = CursesBackend.cannotDraw(environment: ProcessInfo.processInfo.environment) else { return true }
        FileHandle.standardError.write(Data("iommuscope: \(terminalSafe(reason)): the inspector needs a full-screen terminal; printing the summary instead\n".utf8))
        return false
    }

    /// The user's look and keys: `--theme` or their theme.toml, and their keys.toml.
    struct Settings {
        var theme: Theme
        var keys: KeyMap
    }

    /// Loads the settings from the files `environment` points at; a file that does not load
    /// prints its located error and exits 2, as bad input does.
    static func settings(theme: String?, environment: [String: String]) throws -> Settings {
        do {
            return Settings(theme: try InspectorThemes.resolve(theme, environment: environment), keys: try KeyMap.load(environment: environment))
        } catch {
            printError("iommuscope: \(error)")
            throw ExitCode(2)
        }
    }

    /// Runs the inspector on the terminal until the user quits, `showing` a pane first.
    private func present(_ model: InspectorModel, _ settings: Settings, showing pane: PaneKind? = nil) throws {
        try Self.present(model, settings, colors: colors, mouse: !noMouse, autoplay: autoplay, projector: projector) { app in
            if let pane { app.show(pane) }
        }
    }

    /// Runs the inspector on `model` on the terminal until the user quits; `prepare` sets the
    /// app up first (a pane shown, a lesson opened). The `:` history is kept across runs.
    static func present(_ model: InspectorModel, _ settings: Settings, colors: ColorMode?, mouse: Bool, autoplay: Double?,
                        projector: Bool, prepare: (InspectorApp) -> Void) throws {
        var chosen = settings.theme
        let environment = ProcessInfo.processInfo.environment
        let backend = CursesBackend(colors: colors, mouse: mouse, environment: environment)
        defer { backend.close() }
        if backend.colorMode == .none { chosen = chosen.monochrome }
        let app = InspectorApp(model: model, theme: chosen, symbols: backend.symbols)
        app.mouseCapture = mouse
        app.keyMap = settings.keys
        app.projector = projector
        prepare(app)
        app.autoplay = autoplay
        let history = UserDirectories.state(environment)?.appendingPathComponent("history")
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

    /// A scenario's text, once its lines have parsed (`loadScenario` prints located errors).
    private func scenarioText(_ source: ScenarioSource) throws -> String {
        _ = try loadScenario(source)
        return try source.text()
    }

    /// The file's name is input too: its control characters are escaped like the file's.
    static func title(_ path: String) -> String {
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

/// `--autoplay SECONDS`: a positive, finite number of seconds, at most an hour.
func checkAutoplay(_ seconds: Double?) throws {
    guard let seconds else { return }
    guard seconds.isFinite, seconds > 0, seconds <= 3600 else {
        throw ValidationError("--autoplay takes seconds between steps, more than 0 and at most 3600 (got \(seconds))")
    }
}

/// `--colors` takes the mode names as they are spelt (`none`, `16`, `256`, `truecolor`).
extension ColorMode: ExpressibleByArgument {}
