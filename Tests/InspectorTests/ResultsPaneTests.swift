import Foundation
import ScenarioScript
import TestSupport
import Testing
import TerminalUI
@testable import Inspector

/// The results pane (8): the failed lines, the faulting translations and the logged faults,
/// each with its source line and reason; Enter moves the model just after the line and shows
/// the pane that explains it; the title bar counts them in words.
@Suite struct ResultsPaneTests {

    static func app(theme: String = "mono") throws -> InspectorApp {
        InspectorApp(model: try InspectorModel(scenario: Scenarios.failingResults, title: "failing"), theme: try InspectorThemes.load(theme),
                     symbols: .unicode)
    }

    static func press(_ app: InspectorApp, _ keys: [Key]) {
        for key in keys {
            _ = app.handle(.key(key))
            _ = app.render(width: 120, height: 40)
        }
    }

    static func pane(_ app: InspectorApp) -> ResultsPane? { app.panes[.results] as? ResultsPane }

    @Test func theTimelineIndexesFaultsAndFailures() throws {
        let timeline = try Timeline(scenario: Scenarios.failingResults)
        #expect(timeline.resultCount == 2)
        #expect((0..<timeline.resultCount).map { timeline.source(timeline.result($0)).line } == [10, 11])
        #expect(timeline.resultTally == TimelineTally(failed: 1, faults: 1))
        // A typed line drops the results after the position, and their counts.
        timeline.move(to: 10)
        _ = timeline.run(command: "ioas_iova_ranges ioas_id=ioas")
        #expect(timeline.resultCount == 1)
        #expect(timeline.resultTally == TimelineTally(faults: 1))
        _ = timeline.run(command: "ioas_unmap ioas_id=ioas iova=0x100000 length=2M expect=EINVAL")
        #expect(timeline.resultTally == TimelineTally(failed: 1, faults: 1))
    }

    @Test func theTitleCountsResultsInWords() throws {
        let title = String(try Self.app().render(width: 120, height: 40).text.split(separator: "\n").first ?? "")
        #expect(title.contains("line 12 (12/12)  1 failed, 1 fault"))
        let clean = try CommandAndTimelineTests.app()
        let cleanTitle = String(clean.render(width: 120, height: 40).text.split(separator: "\n").first ?? "")
        // The default scenario's title bar ends at its position: nothing failed, nothing faulted.
        #expect(cleanTitle.range(of: #"\(\d+/\d+\)$"#, options: .regularExpression) != nil, "\(cleanTitle)")
    }

    @Test func rowsNameTheLineAndTheReason() throws {
        let app = try Self.app()
        Self.press(app, [.character("8")])
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("line 10  ↯ translation fault  → translate dev_id=nic iova=0x900000"))
        #expect(screen.contains("line 11  ✗ failed: returned ok  → ioas_unmap"))
    }

    /// In ASCII each result's glyph differs from the others: F a fault, x a failed line.
    @Test func asciiGlyphsAreDistinct() throws {
        let app = InspectorApp(model: try InspectorModel(scenario: Scenarios.failingResults, title: "failing"),
                               theme: try InspectorThemes.load("mono"), symbols: .ascii)
        Self.press(app, [.character("8")])
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("line 10  F translation fault"))
        #expect(screen.contains("line 11  x failed: returned ok"))
    }

    @Test func enterOnAFaultGoesAfterItsLineAndShowsTheWalk() throws {
        let app = try Self.app()
        Self.press(app, [.character("8"), .character("{")])
        #expect(app.model.position == 0)
        Self.press(app, [.enter])
        #expect(app.model.position == 10)
        #expect(app.main == .walk && app.focus == .walk)
    }

    @Test func enterOnAFailedLineGoesAfterItAndShowsTheTimeline() throws {
        let app = try Self.app()
        Self.press(app, [.character("8"), .character("{"), .character("j"), .enter])
        #expect(app.model.position == 11)
        #expect(app.main == .timeline && app.focus == .timeline)
    }

    @Test func enterOnALoggedFaultShowsTheFaultsPane() throws {
        let app = InspectorApp(model: try HostFixtures.vtdWithFaults(), theme: try InspectorThemes.load("mono"), symbols: .unicode)
        Self.press(app, [.character("8")])
        #expect(app.render(width: 120, height: 40).text.contains("log line"))
        Self.press(app, [.enter])
        #expect(app.main == .faults)
        #expect(app.inspected == .fault(0))
    }

    /// Two devices, the tree on the first: the faulting DMA is the second device's write to
    /// an IOVA no walk would pick by itself (line 13).
    static let secondDevice = """
        iommu smmu0 type=arm-smmu-v3 ias=48 oas=48 stages=1,2
        device nic0 iommu=smmu0 sid=0x100
        device nic1 iommu=smmu0 sid=0x200
        ram = mmap length=2M
        a = device_bind dev=nic0
        b = device_bind dev=nic1
        ioas = ioas_alloc
        ioas_map ioas_id=ioas user_va=ram length=2M iova=0x100000 flags=fixed_iova|readable
        hwpt = hwpt_alloc dev_id=a pt_id=ioas
        device_attach dev_id=a pt_id=hwpt
        device_attach dev_id=b pt_id=hwpt
        translate dev_id=a iova=0x100000 access=read expect=ok
        translate dev_id=b iova=0x1ff000 access=write
        """

    /// Enter on a faulting `translate` walks that DMA: its device, IOVA and access, not the
    /// tree's device and a mapped IOVA.
    @Test func enterOnAFaultWalksThatTranslate() throws {
        let app = InspectorApp(model: try InspectorModel(scenario: Self.secondDevice, title: "second"),
                               theme: try InspectorThemes.load("mono"), symbols: .unicode)
        Self.press(app, [.character("4")])
        let before = try #require(app.panes[.walk] as? WalkPane)
        #expect(before.iova == 0x100000)
        Self.press(app, [.character("8"), .enter])
        let walk = try #require(app.panes[.walk] as? WalkPane)
        #expect(app.main == .walk && app.model.position == 13)
        #expect(walk.iova == 0x1ff000 && walk.write && walk.pasid == nil)
        let screen = app.render(width: 120, height: 40).text
        #expect(screen.contains("DEVICE 2"), "\(screen)")
        #expect(screen.contains("IOVA 0x1ff000 ▸ write"))
        #expect(screen.contains("FAULT at stage"))
    }

    /// Enter on a failed line selects it in the timeline, even where the model already is
    /// after it and the timeline's cursor moved away.
    @Test func enterOnAFailedLineSelectsItInTheTimeline() throws {
        let app = try Self.app()
        Self.press(app, [.character("8"), .character("j"), .enter])
        Self.press(app, [.character("k"), .character("k"), .character("k")])
        let moved = try #require(app.panes[.timeline] as? TimelinePane)
        #expect(moved.list.selected == 7)
        Self.press(app, [.character("8"), .enter])
        let timeline = try #require(app.panes[.timeline] as? TimelinePane)
        #expect(app.main == .timeline && app.model.position == 11)
        #expect(timeline.list.selected == 10)
    }

    /// Enter on a logged fault moves the faults pane's cursor to that record.
    @Test func enterOnALoggedFaultSelectsItInTheFaultsPane() throws {
        let app = InspectorApp(model: try HostFixtures.vtdWithFaults(), theme: try InspectorThemes.load("mono"), symbols: .unicode)
        Self.press(app, [.character("8"), .character("j"), .enter])
        let faults = try #require(app.panes[.faults] as? FaultsPane)
        #expect(app.main == .faults && app.inspected == .fault(1))
        #expect(faults.list.selected == 1)
    }

    @Test func nothingToShowSaysSo() throws {
        let app = try CommandAndTimelineTests.app()
        Self.press(app, [.character("8")])
        #expect(app.render(width: 120, height: 40).text.contains("nothing failed"))
        Self.press(app, [.enter])
        #expect(app.message == "nothing failed")
    }
}
