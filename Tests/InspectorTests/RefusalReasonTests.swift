import Foundation
import IOMMUCore
import ScenarioScript
import TestSupport
import Testing
import TerminalUI
@testable import Inspector

/// Why, not just the errno: a refused `:` command, a refused scenario line and a failed
/// expectation show the rule's words and what it involved in the status line, the timeline
/// and the results pane.
struct RefusalReasonTests {
    static func command(_ app: InspectorApp, _ text: String) {
        _ = app.handle(.key(.character(":")))
        CommandAndTimelineTests.type(app, text)
        _ = app.handle(.key(.enter))
    }

    /// EBUSY of a destroy names the HWPT that still uses the IOAS.
    @Test func statusLineNamesTheUserOfABusyDestroy() throws {
        let app = try CommandAndTimelineTests.app()
        Self.command(app, "destroy id=ioas")
        #expect(app.message.hasPrefix("destroy: EBUSY (other objects, files or bindings still hold the object: requested IOAS 3"),
                "\(app.message)")
        #expect(app.message.contains("user HWPT_PAGING"), "\(app.message)")
        let frame = app.render(width: 200, height: 40).text
        #expect(frame.contains("EBUSY (other objects"), "\(frame)")
    }

    /// A fixed map onto the SW_MSI window names the reserved range, its type and the device that owns it.
    @Test func statusLineNamesTheReservedRangeAndItsOwner() throws {
        let app = try CommandAndTimelineTests.app()
        let reserved = try #require(app.model.view.graph.ioases.lazy.flatMap(\.reservations).first { reservation in
            if case .device(_, .swMSI) = reservation.owner { true } else { false }
        })
        Self.command(app, "ioas_map ioas_id=ioas user_va=0 length=4K iova=\(reserved.range.start.hex) flags=fixed_iova|readable")
        #expect(app.message.contains("EINVAL (the range overlaps a reserved range"), "\(app.message)")
        #expect(app.message.contains("reserved \(reserved.range) (sw_msi)"), "\(app.message)")
        guard case .device(let owner, _) = reserved.owner else { return }
        #expect(app.message.contains("owner DEVICE \(owner)"), "\(app.message)")
        #expect(app.model.reports.last?.result.status.refusal?.rule == .checkIOVAReserved)
    }

    /// The results pane's row for an expectation that failed says what the model returned and why.
    @Test func resultsRowSaysWhyTheLineWasRefused() throws {
        let source = Scenarios.failingResults.replacingOccurrences(of: "ioas_iova_ranges ioas_id=ioas",
                                                                   with: "destroy id=ioas expect=ok")
        let app = InspectorApp(model: try InspectorModel(scenario: source, title: "why"), theme: try InspectorThemes.load("mono"),
                               symbols: .unicode)
        _ = app.handle(.key(.character("8")))
        let frame = app.render(width: 200, height: 40).text
        #expect(frame.contains("failed: returned EBUSY (other objects, files or bindings still hold the object: requested IOAS"), "\(frame)")
    }
}
