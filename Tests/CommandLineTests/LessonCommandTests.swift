import ArgumentParser
import Foundation
import Inspector
import ScenarioScript
import Testing
@testable import iommuscope

/// `iommuscope learn`: the built-in lessons, each of which must open on its scenario, every
/// step at a command line of it, and every Predict question answered by the model at its step.
@Suite struct LessonCommandTests {
    static let numbers = Array(1...BuiltInLessons.names.count)

    @Test func theSevenLessonsOfTheIssueAreBuiltIn() {
        #expect(BuiltInLessons.names.count == 7)
    }

    @Test(arguments: numbers)
    func everyStepRunsAndEveryQuestionIsAnswered(_ number: Int) throws {
        let opened = try Learn.open("\(number)")
        let model = try InspectorModel(scenario: opened.scenario, title: opened.lesson.title)
        // Every line of the scenario runs as the lesson says: no expectation fails (faults are taught).
        let tally = model.view.timeline.resultTally
        #expect(tally.failed == 0 && tally.disagreements == 0, "lesson \(number): \(tally.words)")
        let timeline = model.view.timeline
        var questions = 0
        for step in opened.lesson.steps {
            let index = try #require(timeline.index(ofLine: step.scenarioLine))
            #expect(timeline.source(index).line == step.scenarioLine, "lesson \(number): line \(step.scenarioLine) is no command line")
            model.step(to: index + 1)
            guard let predict = step.predict else { continue }
            questions += 1
            let answer = predict.answer.answer(in: model.reports)
            #expect(answer?.isEmpty == false, "lesson \(number), line \(step.scenarioLine): no \(predict.answer) in the result")
        }
        #expect(questions > 0, "lesson \(number) asks nothing")
        // The transcript (learn N | cat) prints the answers the model computed.
        let transcript = Learn.transcript(opened.lesson, try InspectorModel(scenario: opened.scenario, title: ""))
        #expect(transcript.components(separatedBy: "\nAnswer (").count == questions + 1)
        #expect(!transcript.contains("has no"))
        // Narration keeps its line breaks: none is printed as an escaped "\\n".
        #expect(!transcript.contains("\\n"), "\(transcript)")
    }

    @Test func theNestedLessonCountsTheWalksReads() throws {
        let transcript = Learn.transcript(try Learn.open("4").lesson, try InspectorModel(scenario: try Learn.open("4").scenario, title: ""))
        #expect(transcript.contains("Answer (fetches): 28"))
        #expect(transcript.contains("Answer (fetches): 22"))
    }

    @Test func aLessonNumberOutOfRangeIsAUsageError() {
        #expect(throws: ValidationError.self) { _ = try Learn.open("8") }
        #expect(throws: ValidationError.self) { _ = try Learn.open("0") }
    }

    @Test func aBadLessonFileExitsTwo() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lesson-\(UUID().uuidString).md")
        try Data("# T\nscenario: missing.iommu\n## Step: line 1\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: ExitCode(2)) { _ = try Learn.open(url.path) }
    }

    @Test func autoplayTakesPositiveSeconds() throws {
        for bad in ["0", "-1", "nan", "inf", "3601"] {
            #expect(throws: (any Error).self, "\(bad)") { _ = try Learn.parseAsRoot(["1", "--autoplay", bad]) }
            #expect(throws: (any Error).self, "\(bad)") { _ = try TUI.parseAsRoot(["--autoplay", bad]) }
        }
        let learn = try #require(try Learn.parseAsRoot(["2", "--autoplay", "0.5"]) as? Learn)
        #expect(learn.autoplay == 0.5 && learn.lesson == "2" && !learn.projector)
        #expect(try #require(try Learn.parseAsRoot(["4", "--projector"]) as? Learn).projector)
        #expect(try #require(try TUI.parseAsRoot(["--projector"]) as? TUI).projector)
    }
}
