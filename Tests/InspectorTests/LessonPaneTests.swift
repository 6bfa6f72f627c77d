import Foundation
import ScenarioScript
import Testing
import TerminalUI
@testable import Inspector

/// The lesson pane (0) on a built-in lesson: stepping moves the timeline to each step's line
/// and shows the pane that explains it, a Predict answer is shown only when asked, autoplay
/// advances to the end; golden frames at 100x30 and 80x24.
@Suite(.serialized)
struct LessonPaneTests {
    /// The app on `Lessons/NAME.md`'s inline scenario, the lesson opened.
    static func app(_ name: String = "3-arm-stage2-walk", theme: String = "dark") throws -> (InspectorApp, Lesson) {
        let url = GoldenFrameTests.repository.appendingPathComponent("Lessons/\(name).md")
        let lesson = try Lesson(bytes: Array(try Data(contentsOf: url)), file: name)
        guard case .inline(let text, _) = lesson.scenario else { throw LessonError(line: 1, "not inline") }
        let app = InspectorApp(model: try InspectorModel(scenario: text, title: lesson.title), theme: try InspectorThemes.load(theme),
                               symbols: .unicode)
        app.start(lesson)
        return (app, lesson)
    }

    static func press(_ app: InspectorApp, _ keys: [Key], width: Int = 100, height: Int = 30) {
        for key in keys {
            _ = app.handle(.key(key))
            _ = app.render(width: width, height: height)
        }
    }

    @Test func steppingMovesTheTimelineToEachStepsLine() throws {
        let (app, lesson) = try Self.app()
        #expect(app.focus == .lesson && app.model.position == 0)
        let timeline = app.model.view.timeline
        for (number, step) in lesson.steps.enumerated() {
            // n (search next elsewhere) steps the lesson pane; Space too.
            Self.press(app, [number % 2 == 0 ? .character("n") : .character(" ")])
            #expect(app.lessonPane?.stop == number + 1)
            #expect(timeline.source(app.model.position - 1).line == step.scenarioLine)
            #expect(app.focus == .lesson)
        }
        // The translate of line 11 shows its walk, the nest-parent HWPT line the IOVA map.
        Self.press(app, [.character("g")])
        Self.press(app, [.character("n"), .character("n")])
        #expect(app.main == .iovaMap)
        Self.press(app, [.character("n"), .character("n")])
        #expect(app.main == .walk)
        // Past the end stays at the end; N and Backspace go back.
        Self.press(app, Array(repeating: .character("n"), count: 9))
        #expect(app.lessonPane?.stop == lesson.steps.count)
        Self.press(app, [.character("N"), .backspace])
        #expect(app.lessonPane?.stop == lesson.steps.count - 2)
    }

    @Test func theAnswerIsComputedAndShownWhenAsked() throws {
        let (app, _) = try Self.app()
        Self.press(app, Array(repeating: .character("n"), count: 4))
        #expect(app.lessonPane?.answer == "0x104400000")
        #expect(app.lessonPane?.revealed == false)
        var screen = app.render(width: 100, height: 30).text
        #expect(!screen.contains("Answer"))
        Self.press(app, [.enter])
        Self.press(app, Array(repeating: .character("j"), count: 6))
        screen = app.render(width: 100, height: 30).text
        #expect(screen.contains("Answer (steps[1].entry_address): 0x104400000"))
        // The next step's question is hidden again, its own answer computed there.
        Self.press(app, [.character("n")])
        #expect(app.lessonPane?.revealed == false && app.lessonPane?.answer == "0")
    }

    @Test func autoplayAdvancesToTheEndAndAKeyPausesIt() throws {
        let (app, lesson) = try Self.app()
        app.autoplay = 0.2
        #expect(app.playing)
        for _ in lesson.steps { app.autoplayStep() }
        #expect(app.lessonPane?.stop == lesson.steps.count && !app.playing)
        app.autoplay = 0.2
        Self.press(app, [.character("N")])
        #expect(!app.playing && app.message.hasPrefix("autoplay paused: step \(lesson.steps.count - 1) of"))
    }

    /// Without a lesson, autoplay steps the timeline a line at a time.
    @Test func autoplayWithoutALessonStepsTheTimeline() throws {
        let app = try DiffPaneTests.app("vtd_nested_guest")
        app.autoplay = 1
        #expect(app.model.position == 0)
        app.autoplayStep()
        #expect(app.model.position == 1 && app.playing)
    }

    /// Lesson 3's last step at 100x30 and 80x24; lesson 4's nested walk with `--projector` at 100x30.
    @Test(arguments: [(100, 30, false), (80, 24, false), (100, 30, true)])
    func lessonFrameMatchesGolden(_ width: Int, _ height: Int, _ projector: Bool) throws {
        let (app, _) = try Self.app(projector ? "4-nested-arm" : "3-arm-stage2-walk")
        app.projector = projector
        Self.press(app, Array(repeating: .character("n"), count: 6) + [.enter], width: width, height: height)
        let actual = GoldenFrameTests.serialize(app.render(width: width, height: height))
        let name = (projector ? "lesson-projector-" : "lesson-") + "\(width)x\(height)-dark"
        let file = GoldenFrameTests.frames.appendingPathComponent(name + ".frame")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try actual.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        #expect(actual == (try String(contentsOf: file, encoding: .utf8)), "\(name): the frame differs from Frames/\(name).frame (UPDATE_GOLDEN=1 rewrites it)")
    }

    /// The projector's digits: three rows, three columns a digit and a blank between two.
    @Test func bigDigitsAreThreeRowsTall() {
        #expect(BigDigits.rows(28, symbols: .unicode) == ["╶─┐ ┌─┐", "┌─┘ ├─┤", "└─╴ └─┘"])
        #expect(BigDigits.rows(7, symbols: .ascii) == [" _ ", "  |", "  |"])
        #expect(BigDigits.rows(-1, symbols: .ascii) == [" _ ", "| |", "|_|"])
    }

    /// In a lesson, the projector hides the tree and puts the lesson pane beside the views.
    @Test func theProjectorHidesTheTree() throws {
        let (app, _) = try Self.app("4-nested-arm")
        app.projector = true
        #expect(app.layout.treeHidden)
        let screen = app.render(width: 100, height: 30).text
        #expect(!screen.contains("1 Objects") && screen.split(separator: "\n")[1].contains("0 Lesson"))
    }
}
