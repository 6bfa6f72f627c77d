import ArgumentParser
import Foundation
import Presentation
import Glibc
import Inspector
import ScenarioScript
import TerminalUI

/// The full-screen inspector; without a terminal it prints the summary instead.
struct TUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Open the ncurses inspector on a scenario (the bundled default without FILE).")

    @Argument(help: "A scenario file (.iommu).") var file: String?
    @Option(help: "A theme: dark, light, mono, or a TOML file.") var theme: String = "dark"
    @Option(help: "Colours: none, 16, 256 or truecolor (default: detected; NO_COLOR means none).") var colors: ColorMode?
    @Flag(help: "Do not capture the mouse (keeps the terminal's own copy and paste).") var noMouse = false

    func run() throws {
        let path = try file ?? defaultScenarioPath()
        let scenario = try loadScenario(path)
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            // Not a terminal (a pipe, CI): print what the inspector would open on.
            try Show(file: path).run()
            return
        }
        var chosen = try InspectorThemes.load(theme)
        let environment = ProcessInfo.processInfo.environment
        let backend = CursesBackend(colors: colors, mouse: !noMouse, environment: environment)
        defer { backend.close() }
        if backend.colorMode == .none { chosen = chosen.monochrome }
        // The file's name is input too: its control characters are escaped like the file's.
        let title = terminalSafe(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
        let app = InspectorApp(model: InspectorModel(scenario: scenario, title: title), theme: chosen, symbols: backend.symbols)
        app.run(on: backend) { backend.terminationWasRequested }
    }
}

/// `--colors` takes the mode names as they are spelt (`none`, `16`, `256`, `truecolor`).
extension ColorMode: ExpressibleByArgument {}
