import Foundation
import Glibc
import Testing

/// The real binary in a real terminal: tmux on a private socket with no user configuration,
/// driven with send-keys and read with capture-pane. Each test polls the screen until what it
/// waits for appears (5 s at most) instead of sleeping.
@Suite(.serialized)
struct InspectorInTmuxTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iommuscope").path
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs a shell command with popen (Foundation's Process hangs on tmux's forked server,
    /// which inherits its pipes); returns the output.
    @discardableResult
    static func shell(_ command: String) -> String {
        guard let pipe = popen(command + " 2>&1", "r") else { return "" }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil { output += String(cString: buffer) }
        pclose(pipe)
        return output
    }

    /// One tmux server per test, named after it.
    struct Terminal {
        let socket: String
        func tmux(_ arguments: String) -> String { InspectorInTmuxTests.shell("tmux -L \(socket) -f /dev/null \(arguments)") }
        func keys(_ keys: String) { _ = tmux("send-keys -t s \(keys)") }
        func screen(escapes: Bool = false) -> String { tmux("capture-pane -p \(escapes ? "-e " : "")-t s") }

        /// Waits until the screen contains `text`; records the screen when it never does.
        @discardableResult
        /// Waits for `text` on screen: up to 15 s, as a loaded 2-core machine running the whole
        /// suite can take seconds to start a binary or to quit one; a pass returns at once.
        func waitFor(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline {
                if screen().contains(text) { return true }
                usleep(50_000)
            }
            Issue.record("'\(text)' never appeared; the screen was:\n\(screen())", sourceLocation: sourceLocation)
            return false
        }

        /// Pastes `text` as a terminal does, bracketed when the program asked for it.
        func paste(_ text: String) {
            _ = tmux("set-buffer -- '\(text)'")
            _ = tmux("paste-buffer -p -t s")
        }

        /// Sends `signal` (`TERM`, `QUIT`) to the program this terminal runs: the child of the
        /// pane's shell, not every copy of the binary (other suites run it at the same time).
        func signal(_ signal: String) {
            let shell = tmux("display -p -t s '#{pane_pid}'").trimmingCharacters(in: .whitespacesAndNewlines)
            InspectorInTmuxTests.shell("pkill -\(signal) -P \(shell)")
        }

        func stop() { _ = tmux("kill-server") }
    }

    /// Runs the binary in a new tmux server; with `shell`, an interactive shell with job
    /// control instead, prompt `$`, for the test to start the binary in.
    static func start(_ name: String, width: Int = 120, height: Int = 40, environment: String = "TERM=xterm-256color LANG=C.UTF-8",
                      arguments: String = "", shell: Bool = false) -> Terminal {
        let terminal = Terminal(socket: "iommuscope-e2e-\(name)-\(getpid())")
        // swift test sets NO_COLOR; the app under test gets an explicit environment, keeps
        // its `:` history out of the user's home and reads no theme or keys of the user's
        // (an `environment` may name other places).
        let base = "env -u NO_COLOR XDG_STATE_HOME=\(FileManager.default.temporaryDirectory.path)/iommuscope-e2e-state "
            + "XDG_CONFIG_HOME=\(FileManager.default.temporaryDirectory.path)/iommuscope-e2e-no-config \(environment)"
        let command = shell ? "\(base) PS1=\"$ \" bash --norc --noprofile -i" : "\(base) \(binary) \(arguments); echo EXITED-$?; sleep 30"
        _ = terminal.tmux("new-session -d -s s -x \(width) -y \(height) '\(command)' </dev/null >/dev/null 2>&1")
        return terminal
    }

    @Test func opensNavigatesResizesAndQuits() {
        let terminal = Self.start("main")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        #expect(terminal.screen().contains("HWPT_NESTED 8"))
        terminal.keys("/ HWPT_NESTED Enter 2")
        terminal.waitFor("guest STE 0x4000000b")
        // The nested walk of DEVICE 1, then one memory access at a time.
        terminal.keys("/ 'DEVICE 1' Enter 4")
        terminal.waitFor("IOTLB bypassed (probe): 22 fetches")
        terminal.keys("s Space Space")
        terminal.waitFor("step 3/22")
        terminal.keys("?")
        terminal.waitFor("Keys: Walk")
        terminal.keys("Escape")
        _ = terminal.tmux("resize-window -t s -x 50 -y 10")
        terminal.waitFor("terminal too small")
        _ = terminal.tmux("resize-window -t s -x 100 -y 30")
        terminal.waitFor("1 Objects")
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
        // The alternate screen is gone: nothing of the inspector is left on the terminal.
        #expect(!terminal.screen().contains("1 Objects"))
    }

    @Test func controlCRestoresTheTerminal() {
        let terminal = Self.start("ctrlc")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys("C-c")
        terminal.waitFor("EXITED-0")
        #expect(!terminal.screen().contains("1 Objects"))
    }

    @Test func sigtermRestoresTheTerminal() {
        let terminal = Self.start("term")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.signal("TERM")
        terminal.waitFor("EXITED-0")
        #expect(!terminal.screen().contains("1 Objects"))
    }

    @Test func noColorAndNoUTF8FallBack() {
        let terminal = Self.start("ascii", environment: "NO_COLOR=1 TERM=xterm-256color LANG=C LC_ALL=C")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        let screen = terminal.screen(escapes: true)
        #expect(screen.contains("+-") || screen.contains("+="))
        #expect(!screen.contains("38;5;"))
        #expect(!screen.contains("─"))
        // Without colours the title and status bars stay bars: reverse video (SGR 7).
        let lines = screen.split(separator: "\n")
        #expect(lines.first?.contains("7m") == true && lines.last?.contains("7m") == true)
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    @Test func colourThemeUsesColours() {
        let terminal = Self.start("colour")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        // The dark theme's title bar is black on cyan: SGR 30 and 46 reach the terminal.
        let screen = terminal.screen(escapes: true)
        #expect(screen.contains("\u{1B}[46m") && screen.contains("\u{1B}[36m"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
