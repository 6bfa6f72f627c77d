import Foundation
import Testing
import ScenarioScript
import TerminalUI
@testable import Inspector

/// The `:` command line uses the scenario's bindings like any later line of the file would.
struct CommandLineBindingTests {
    @Test func boundNameRunsAndJoinsTheTimeline() throws {
        let app = try CommandAndTimelineTests.app()
        let before = app.model.view.timeline.count
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, "ioas_unmap ioas_id=ioas iova=0 length=u64max")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("ioas_unmap: ok length=0x4000000"), "\(app.message)")
        #expect(app.model.view.timeline.count == before + 1 && app.model.position == before + 1)
        #expect(app.model.view.timeline.source(before).text == "ioas_unmap ioas_id=ioas iova=0 length=u64max")
        // The line replays: stepping back and forward again reaches the same state.
        _ = app.handle(.key(.character("[")))
        _ = app.handle(.key(.character("]")))
        #expect(app.model.reports.last?.result.status.description == "ok")
        // A command can bind a name of its own and a later one use it.
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, "extra = ioas_alloc")
        _ = app.handle(.key(.enter))
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, "destroy id=extra")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("destroy: ok"), "\(app.message)")
    }

    /// A query's record list (here the nested STE alone) shows as a count on the status line,
    /// and a query changes nothing.
    @Test func statusLineCountsRecords() throws {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, "config dev_id=1")
        _ = app.handle(.key(.enter))
        #expect(app.message == "config: ok structures=1 record  (0 changes)", "\(app.message)")
    }

    /// The status line never carries the input's control characters to the terminal.
    @Test func statusLineEscapesControlCharacters() throws {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, "ioas_map ioas_id=\u{1b}]0;pwned\u{7}")
        let typing = app.render(width: 120, height: 40).text
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("error:"))
        let frame = app.render(width: 120, height: 40).text
        for text in [typing, frame] {
            #expect(!text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
            #expect(text.contains("\\x1b]0;pwned\\x07"))
        }
    }
}
