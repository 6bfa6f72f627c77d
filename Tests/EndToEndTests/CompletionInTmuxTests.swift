import Foundation
import Testing

/// The `:` line's completion and its errors on the real binary in tmux: Tab completes, a
/// second Tab lists the choices, further ones cycle; a bad value lists the valid names.
@Suite(.serialized)
struct CompletionInTmuxTests {
    typealias Tmux = InspectorInTmuxTests

    @Test func tabCompletesAndAnErrorListsTheChoices() {
        let terminal = Tmux.start("complete")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        terminal.keys(": ioas_al Tab")
        // The common prefix of ioas_alloc and ioas_allow_iovas.
        guard terminal.waitFor(":ioas_allo▏") else { return }
        terminal.keys("Tab")
        guard terminal.waitFor("ioas_alloc ioas_allow_iovas") else { return }
        terminal.keys("Tab Tab BTab")
        guard terminal.waitFor(":ioas_alloc▏") else { return }
        terminal.keys("Escape")
        // A bad flag name: the status line lists the valid ones.
        terminal.keys(": 'ioas_map ioas_id=ioas user_va=ram length=4K flags=wrteable' Enter")
        guard terminal.waitFor("error: unknown name 'wrteable' (known: fixed_iova, readable, writeable)") else { return }
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
