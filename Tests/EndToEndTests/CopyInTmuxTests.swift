import Foundation
import Glibc
import Testing

/// `y` on the real binary in tmux: the OSC 52 sequence reaches the terminal, and tmux with
/// `set-clipboard on` takes it as a paste buffer holding the copied text.
@Suite(.serialized)
struct CopyInTmuxTests {
    typealias Tmux = InspectorInTmuxTests

    @Test func yankReachesTmuxThroughOSC52() {
        let terminal = Tmux.start("yank")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        _ = terminal.tmux("set-option -s set-clipboard on")
        terminal.keys("/ 'DEVICE 1' Enter")
        terminal.keys("y")
        guard terminal.waitFor("copied \"") else { return }
        let buffer = terminal.tmux("show-buffer")
        #expect(buffer.contains("DEVICE 1"))
        #expect(terminal.screen().contains("copied \"\(buffer.trimmingCharacters(in: .newlines))"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    @Test func controlTLetsTheTerminalSelect() {
        let terminal = Tmux.start("mouse")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        // tmux knows which mouse reports the program asked for.
        #expect(terminal.tmux("display -p -t s '#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}'").contains("1"))
        terminal.keys("C-t")
        guard terminal.waitFor("mouse capture off") else { return }
        #expect(terminal.tmux("display -p -t s '#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "000")
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
