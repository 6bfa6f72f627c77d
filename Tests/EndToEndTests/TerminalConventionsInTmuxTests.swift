import Foundation
import Glibc
import Testing

/// What terminal users expect of a full-screen program, tried on the real binary in tmux:
/// TERM=dumb gets the printed summary, Ctrl-Z and `fg` suspend and resume it, a fatal signal
/// restores the terminal before the crash report prints, a paste is one event.
@Suite(.serialized)
struct TerminalConventionsInTmuxTests {
    typealias Tmux = InspectorInTmuxTests

    @Test func dumbTerminalGetsTheSummary() {
        let terminal = Tmux.start("dumb", environment: "TERM=dumb LANG=C.UTF-8")
        defer { terminal.stop() }
        guard terminal.waitFor("EXITED-0") else { return }
        let screen = terminal.screen()
        #expect(screen.contains("TERM=dumb cannot address the cursor"))
        #expect(screen.contains("IOAS 3"))
        #expect(!screen.contains("1 Objects"))
    }

    @Test func controlZSuspendsAndFgResumes() {
        // A shell with job control runs the binary, as a user's would.
        let terminal = Tmux.start("suspend", shell: true)
        defer { terminal.stop() }
        guard terminal.waitFor("$") else { return }
        terminal.keys("'\(Tmux.binary)' Enter")
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys("C-z")
        guard terminal.waitFor("Stopped") else { return }
        // The terminal is the shell's again: the inspector's screen is gone, the line is cooked.
        #expect(!terminal.screen().contains("1 Objects"))
        terminal.keys("fg Enter")
        guard terminal.waitFor("1 Objects") else { return }
        // A SIGTSTP from outside (kill -TSTP) suspends the same way.
        terminal.signal("TSTP")
        // The shell's second "Stopped" (the first is still on its screen).
        let stopping = Date().addingTimeInterval(5)
        while terminal.screen().components(separatedBy: "Stopped").count < 3, Date() < stopping { usleep(50_000) }
        #expect(terminal.screen().components(separatedBy: "Stopped").count == 3)
        #expect(!terminal.screen().contains("1 Objects"))
        terminal.keys("fg Enter")
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys("q")
        let deadline = Date().addingTimeInterval(5)
        while terminal.screen().contains("1 Objects"), Date() < deadline { usleep(50_000) }
        terminal.keys("'echo EXITED-$?' Enter")
        terminal.waitFor("EXITED-0")
    }

    @Test func sigquitRestoresTheTerminalThenReportsAndQuits() {
        // The runtime's crash report without its 30 s interactive prompt.
        let terminal = Tmux.start("quit", environment: "TERM=xterm-256color LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.signal("QUIT")
        guard terminal.waitFor("EXITED-131") else { return }
        let screen = terminal.tmux("capture-pane -p -S - -t s") // with what scrolled off
        #expect(screen.contains("Program crashed"))
        #expect(!screen.contains("1 Objects"))
        // Out of the alternate screen before the report printed: tmux says so.
        #expect(terminal.tmux("display -p -t s '#{alternate_on}'").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func aPasteIsOneEvent() {
        let terminal = Tmux.start("paste")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        // Pasted outside the `:` line, "q" is text, not the quit key.
        terminal.paste("q")
        terminal.keys(":")
        terminal.paste("ioas_unmap ioas_id=3 iova=0 length=u64max")
        guard terminal.waitFor(":ioas_unmap ioas_id=3 iova=0 length=u64max") else { return }
        terminal.keys("Enter")
        terminal.waitFor("ioas_unmap: ok")
        terminal.keys("F10")
        terminal.waitFor("EXITED-0")
    }

    @Test func commandHistoryIsKeptAcrossRuns() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-history-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state) }
        let environment = "TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=\(state.path)"
        do {
            let terminal = Tmux.start("history1", environment: environment)
            defer { terminal.stop() }
            guard terminal.waitFor("1 Objects") else { return }
            terminal.keys(": 'destroy id=3' Enter")
            guard terminal.waitFor("destroy: EBUSY") else { return }
            terminal.keys("q")
            guard terminal.waitFor("EXITED-0") else { return }
        }
        let saved = try String(contentsOf: state.appendingPathComponent("iommuscope/history"), encoding: .utf8)
        #expect(saved == "destroy id=3\n")
        let terminal = Tmux.start("history2", environment: environment)
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys(": Up")
        terminal.waitFor(":destroy id=3")
        terminal.keys("Escape q")
        terminal.waitFor("EXITED-0")
    }
}
