import ArgumentParser
import Foundation
import Inspector
import Presentation
import ScenarioScript
import TerminalUI

/// `learn`: the built-in lessons listed, or one (or a lesson file) opened in the inspector with
/// its lesson pane; without a terminal, the lesson printed step by step with its answers.
struct Learn: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in lessons, or open one (by number, or a lesson file) in the inspector, step by step.",
        discussion: "A lesson is a Markdown file with a scenario and narration tied to its lines (docs/lessons.md). "
            + "In the lesson pane (0): n or Space the next step, N or Backspace the previous, Enter reveals a Predict answer.")

    @Argument(help: "A built-in lesson's number (as `learn` lists them) or a lesson file (.md); none lists the built-in ones.")
    var lesson: String?
    @Option(help: "Advance one step every SECONDS until the end (any key pauses).") var autoplay: Double?
    @Flag(help: "For a projector at 100x30: the walk's nested grid in large digits, the lesson pane beside the views.")
    var projector = false
    @Option(help: "A theme: dark, light, mono, high-contrast, or a TOML file.") var theme: String?
    @Option(help: "Colours: none, 16, 256 or truecolor (default: detected; NO_COLOR means none).") var colors: ColorMode?
    @Flag(help: "Do not capture the mouse (keeps the terminal's own copy and paste).") var noMouse = false

    func validate() throws { try checkAutoplay(autoplay) }

    func run() throws {
        guard let lesson else {
            for (number, name) in BuiltInLessons.names.enumerated() {
                let title = (try? BuiltInLessons.lesson(name).title) ?? name
                print("\(number + 1)  \(terminalSafe(title))")
            }
            return
        }
        let settings = try TUI.settings(theme: theme, environment: ProcessInfo.processInfo.environment)
        let opened = try Self.open(lesson)
        let model: InspectorModel
        do {
            model = try InspectorModel(scenario: opened.scenario, title: terminalSafe(opened.lesson.title))
        } catch let error as ScenarioParseErrors {
            // An inline scenario's errors point into the lesson file.
            let errors = error.errors.map { error in
                ScenarioError(line: error.line + opened.firstLine - 1, column: error.column, error.reason)
            }
            throw reportParseErrors(errors, path: opened.firstLine > 1 ? opened.name : opened.scenarioName)
        }
        guard TUI.canDrawFullScreen() else {
            print(Self.transcript(opened.lesson, model), terminator: "")
            return
        }
        try TUI.present(model, settings, colors: colors, mouse: !noMouse, autoplay: autoplay, projector: projector) { $0.start(opened.lesson) }
    }

    /// A lesson read, with its scenario's text and where that text starts in the lesson file
    /// (1 for a `scenario:` file, whose errors name that file).
    struct Opened {
        var lesson: Lesson
        var name: String
        var scenario: String
        var scenarioName: String
        var firstLine: Int
    }

    /// Reads `argument`: a built-in lesson's number, else a lesson file. A lesson that does not
    /// read prints its located error and exits 2.
    static func open(_ argument: String) throws -> Opened {
        let name: String, bytes: [UInt8]
        if let number = Int(argument) {
            guard BuiltInLessons.names.indices.contains(number - 1) else {
                throw ValidationError("there is no lesson \(number): the built-in lessons are 1 to \(BuiltInLessons.names.count) (`iommuscope learn` lists them)")
            }
            name = BuiltInLessons.names[number - 1] + ".md"
            bytes = Array((BuiltInLessons.files[BuiltInLessons.names[number - 1]] ?? "").utf8)
        } else {
            name = argument
            bytes = Array(try FileChunks(path: argument).joined())
        }
        do {
            let lesson = try Lesson(bytes: bytes, file: name)
            let opened: Opened
            switch lesson.scenario {
            case .inline(let text, let firstLine):
                opened = Opened(lesson: lesson, name: name, scenario: text, scenarioName: name, firstLine: firstLine)
            case .file(let path, let line):
                let url = URL(fileURLWithPath: name).deletingLastPathComponent().appendingPathComponent(path)
                guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                    throw LessonError(line: line, "cannot read the scenario \(path) (looked for \(url.path))").in(name)
                }
                opened = Opened(lesson: lesson, name: name, scenario: text, scenarioName: url.path, firstLine: 1)
            }
            do throws(LessonError) { try lesson.checkSteps(against: opened.scenario) } catch { throw error.in(name) }
            return opened
        } catch let error as LessonError {
            printError("iommuscope: \(error)")
            throw ExitCode(2)
        }
    }

    /// The lesson as text, for a pipe: each step's line and narration, its question and the
    /// answer the model computed at the step.
    static func transcript(_ lesson: Lesson, _ model: InspectorModel) -> String {
        // Narration keeps its line breaks; each line is escaped on its own.
        func prose(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { terminalSafe(String($0)) }.joined(separator: "\n")
        }
        var text = "# \(terminalSafe(lesson.title))\n\n" + prose(lesson.introduction) + "\n"
        let timeline = model.view.timeline
        for (number, step) in lesson.steps.enumerated() {
            guard let index = timeline.index(ofLine: step.scenarioLine) else { continue }
            model.step(to: index + 1)
            text += "\n## Step \(number + 1): line \(step.scenarioLine): \(terminalSafe(timeline.source(index).text))\n\n"
            text += prose(step.narration) + "\n"
            if let predict = step.predict {
                let answer = predict.answer.answer(in: model.reports) ?? "(the line's result has no \(predict.answer))"
                text += "\nPredict: \(terminalSafe(predict.question))\nAnswer (\(predict.answer)): \(terminalSafe(answer))\n"
            }
        }
        return text
    }
}

extension LessonError {
    /// The error, naming the lesson file `file`.
    func `in`(_ file: String) -> LessonError {
        var named = self
        named.file = file
        return named
    }
}

/// The lessons compiled into the binary (EmbeddedLessons.swift, generated from the top-level
/// Lessons/ by EmbeddedResourceTests), numbered in the order of their file names.
enum BuiltInLessons {
    static var names: [String] { files.keys.sorted() }

    static func lesson(_ name: String) throws(LessonError) -> Lesson {
        try Lesson(bytes: Array((files[name] ?? "").utf8), file: name + ".md")
    }
}
