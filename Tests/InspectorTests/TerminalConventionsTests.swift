import Foundation
import Testing
import TerminalUI
@testable import Inspector

/// The keys terminal users expect (F1 help, F10 quit) and a `:` line that takes pastes and
/// long lines: the cursor stays on screen and the whole line runs.
struct TerminalConventionsTests {
    @Test func f1OpensHelpAndF10Quits() throws {
        let app = try CommandAndTimelineTests.app()
        #expect(app.handle(.key(.function(1))))
        #expect(app.mode == .help)
        #expect(app.render(width: 120, height: 40).text.contains("Keys: "))
        _ = app.handle(.key(.escape))
        #expect(app.mode == .normal)
        #expect(!app.handle(.key(.function(10))))
    }

    @Test func aPasteIsOneEventAndTheLineShowsItsEnd() throws {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character(":")))
        let filler = String(repeating: " ", count: 10_000)
        _ = app.handle(.paste("ioas_unmap" + filler + "ioas_id=3 iova=0 length=u64max"))
        // The status line shows the end of the line, where the cursor is.
        let status = app.render(width: 80, height: 24).text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(status.contains("length=u64max▏"))
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("ioas_unmap: ok"))
    }

    @Test func theCommandLineMovesItsCursor() throws {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, "destroy 3")
        for _ in 0..<1 { _ = app.handle(.key(.left)) }
        CommandAndTimelineTests.type(app, "id=")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("destroy: EBUSY"))
        // A paste outside the lines does nothing.
        _ = app.handle(.paste("q"))
        #expect(app.mode == .normal)
    }

    @Test func controlZSuspendsAndTheLoopGoesOn() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = TestBackend(width: 120, height: 40)
        backend.pendingEvents = [.key(.control("z")), .key(.character("?")), .key(.function(10)), .key(.function(10))]
        app.run(on: backend) { true }
        #expect(backend.suspensions == 1)
        // The loop went on after the suspension: `?` opened the help, the first F10 closed it,
        // the second quit with no event left over.
        #expect(app.mode == .normal && backend.pendingEvents.isEmpty)
    }

    @Test func keysTypedAheadCostOneFrame() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = TestBackend(width: 120, height: 40)
        // An unbracketed paste of a command: a thousand keys waiting at once.
        let command = "ioas_unmap ioas_id=3 iova=0 length=u64max" + String(repeating: " ", count: 1000)
        backend.pendingEvents = [.key(.character(":"))] + command.map { .key(.character($0)) } + [.key(.enter)]
        app.run(on: backend) { true }
        #expect(app.message.hasPrefix("ioas_unmap: ok"))
        // The first frame, and one after the burst.
        #expect(backend.frames.count == 2)
    }

    @Test func upAndDownRecallCommands() throws {
        let app = try CommandAndTimelineTests.app()
        app.history = ["destroy id=3"]
        for command in ["ioas_unmap ioas_id=3 iova=0 length=u64max", "destroy id=3"] {
            _ = app.handle(.key(.character(":")))
            CommandAndTimelineTests.type(app, command)
            _ = app.handle(.key(.enter))
        }
        #expect(app.history == ["destroy id=3", "ioas_unmap ioas_id=3 iova=0 length=u64max", "destroy id=3"])
        _ = app.handle(.key(.character(":")))
        _ = app.handle(.key(.up))
        _ = app.handle(.key(.up))
        #expect(app.mode == .command(LineEditor("ioas_unmap ioas_id=3 iova=0 length=u64max")))
        _ = app.handle(.key(.down))
        _ = app.handle(.key(.down))
        #expect(app.mode == .command(LineEditor()))
    }
}
