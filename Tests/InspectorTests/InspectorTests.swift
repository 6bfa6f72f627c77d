import Foundation
import Testing
import ScenarioScript
import TerminalUI
@testable import Inspector

/// The command line and the timeline: a typed command runs on the live model, its status
/// and errno show, what changed is marked; `[` and `]` replay the scenario line by line.
struct CommandAndTimelineTests {
    static func app() throws -> InspectorApp {
        let source = try String(contentsOf: GoldenFrameTests.repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu"),
                                encoding: .utf8)
        return InspectorApp(model: InspectorModel(scenario: try Scenario(source: source), title: "default"),
                            theme: try InspectorThemes.load("mono"), symbols: .unicode)
    }

    static func type(_ app: InspectorApp, _ text: String) {
        for character in text { _ = app.handle(.key(.character(character))) }
    }

    @Test func commandRunsAndMarksWhatChanged() throws {
        let app = try Self.app()
        _ = app.handle(.key(.character(":")))
        Self.type(app, "ioas_unmap ioas_id=3 iova=0 length=u64max")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("ioas_unmap: ok length=0x4000000"))
        let frame = app.render(width: 120, height: 40).text
        #expect(frame.contains("+ IOAS 3  0 areas"))
        #expect(app.model.position == app.model.lines.count)
        // An errno is a result: the same unmap again finds nothing.
        _ = app.handle(.key(.character(":")))
        Self.type(app, "destroy id=3")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("destroy: EBUSY"))
        // A malformed command is reported, not run.
        _ = app.handle(.key(.character(":")))
        Self.type(app, "ioas_map ioas_id=zz")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("error:"))
    }

    @Test func timelineStepsBackAndForward() throws {
        let app = try Self.app()
        let total = app.model.lines.count
        _ = app.handle(.key(.character("{")))
        #expect(app.model.position == 0)
        #expect(!app.render(width: 120, height: 40).text.contains("IOAS 3"))
        for _ in 0..<8 { _ = app.handle(.key(.character("]"))) }
        #expect(app.model.position == 8)
        #expect(app.render(width: 120, height: 40).text.contains("IOAS 3  1 areas"))
        _ = app.handle(.key(.character("}")))
        #expect(app.model.position == total)
        #expect(app.render(width: 120, height: 40).text.contains("HWPT_NESTED 8"))
    }
}
