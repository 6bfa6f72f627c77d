import Testing
import TestSupport
@testable import ScenarioScript

/// The lesson format of docs/lessons.md: a good lesson reads as written, each malformed one
/// is an error at its line, and no bytes trap the reader.
@Suite struct LessonTests {
    static let good = """
        # Mapping, one step at a time

        An introduction
        over two lines.

        ```iommu
        iommu smmu0 type=arm-smmu-v3
        device nic0 iommu=smmu0 sid=0x100
        # a comment
        dev = device_bind dev=nic0
        ```

        ## Step: line 4
        The device is bound.
        show: details

        ### Predict
        Which ID does it get?
        answer: out_devid

        """

    static func read(_ text: String) throws(LessonError) -> Lesson {
        try Lesson(bytes: Array(text.utf8), file: "test.md")
    }

    @Test func aGoodLessonReadsAsWritten() throws {
        let lesson = try Self.read(Self.good)
        #expect(lesson.title == "Mapping, one step at a time")
        #expect(lesson.introduction == "An introduction\nover two lines.")
        guard case .inline(let text, let firstLine) = lesson.scenario else { Issue.record("no inline scenario"); return }
        #expect(firstLine == 7)
        #expect(text.hasPrefix("iommu smmu0") && text.hasSuffix("dev = device_bind dev=nic0\n"))
        #expect(lesson.steps.count == 1)
        let step = try #require(lesson.steps.first)
        #expect(step.scenarioLine == 4 && step.lessonLine == 13 && step.show == "details")
        #expect(step.narration == "The device is bound.")
        #expect(step.predict?.question == "Which ID does it get?")
        #expect(step.predict?.answer.description == "out_devid")
        try lesson.checkSteps(against: text)
    }

    @Test func aScenarioFileLineNamesItsPath() throws {
        let lesson = try Self.read("# T\nscenario: ../Examples/quickstart.iommu\n## Step: line 2\ntext\n")
        #expect(lesson.scenario == .file(path: "../Examples/quickstart.iommu", line: 2))
    }

    /// Each malformed lesson, the line its error names and words of the message.
    static let malformed: [(text: String, line: Int, words: String)] = [
        ("", 1, "empty lesson"),
        ("\n\nno title\n", 3, "starts with its title"),
        ("# T\n\n## Step: line 1\n", 3, "a step before the scenario"),
        ("# T\n```iommu\niommu a type=arm-smmu-v3\n", 2, "never closed"),
        ("# T\n```iommu\n```\n```iommu\n```\n", 4, "a second"),
        ("# T\nscenario: a.iommu\n```iommu\n```\n", 3, "a second"),
        ("# T\nscenario:\n", 2, "names a file"),
        ("# T\nscenario: a.iommu\n", 1, "no step"),
        ("# T\n## Step: line 1\n", 2, "a step before the scenario"),
        ("# T\nscenario: a\n## Notes\n", 3, "`## Step: line N`"),
        ("# T\nscenario: a\n## Step: 4\n", 3, "names a scenario line"),
        ("# T\nscenario: a\n## Step: line 0\n", 3, "names a scenario line"),
        ("# T\nscenario: a\n## Step: line 5\n## Step: line 5\n", 4, "steps go forward"),
        ("# T\nscenario: a\n### Predict\n", 3, "belongs to a step"),
        ("# T\nscenario: a\n## Step: line 1\n### Question\n", 4, "`### Predict`"),
        ("# T\nscenario: a\n## Step: line 1\n### Predict\nanswer: status\n", 4, "asks a question"),
        ("# T\nscenario: a\n## Step: line 1\n### Predict\nWhy?\n", 4, "ends with `answer: FIELD`"),
        ("# T\nscenario: a\n## Step: line 1\n### Predict\nWhy?\nanswer: steps[0].x\n", 6, "names a part of the line's result"),
        ("# T\nscenario: a\n## Step: line 1\n### Predict\nWhy?\nanswer: status.x\n", 6, "names a part"),
        ("# T\nscenario: a\n## Step: line 1\n### Predict\nWhy?\nanswer: fetches\nmore\n", 7, "ends at its `answer:` line"),
        ("# T\nscenario: a\n## Step: line 1\n### Predict\nQ\nanswer: a\n### Predict\n", 7, "one Predict block"),
        ("# T\nscenario: a\n## Step: line 1\nshow: everything\n", 4, "names a pane"),
        ("# T\n\u{FF}\n", 2, "not UTF-8"),
    ]

    @Test(arguments: malformed.indices)
    func aMalformedLessonIsAnErrorAtItsLine(_ index: Int) {
        let (text, line, words) = Self.malformed[index]
        var bytes = Array(text.utf8)
        if words == "not UTF-8" { bytes = Array("# T\n".utf8) + [0xff, 0x0a] }
        #expect {
            _ = try Lesson(bytes: bytes, file: "bad.md")
        } throws: { error in
            guard let error = error as? LessonError else { return false }
            return error.line == line && error.description.hasPrefix("bad.md:\(line): ") && error.message.contains(words)
        }
    }

    /// A step must name a command line of its scenario: not past its end, not a comment.
    @Test func stepsNameCommandLines() throws {
        let scenario = "iommu smmu0 type=arm-smmu-v3\n# a comment\n\n"
        for (line, words) in [(2, "is blank or a comment"), (3, "is blank or a comment"), (9, "there is no line 9")] {
            let lesson = try Self.read("# T\nscenario: a\n## Step: line \(line)\n")
            #expect { try lesson.checkSteps(against: scenario) } throws: { error in
                (error as? LessonError).map { $0.line == 3 && $0.message.contains(words) } ?? false
            }
        }
        try Self.read("# T\nscenario: a\n## Step: line 1\n").checkSteps(against: scenario)
    }

    @Test func answersAreReadFromTheResult() {
        let result = CommandResult(fields: [
            ("fetches", .integer(4)), ("fault", .record([("reason", .text("F_TRANSLATION"))])),
            ("steps", .records([[("entry_address", .address(0x1000))], [("entry_address", .address(0x2008))]])),
        ])
        let reports = [LineReport(line: 1, command: "translate", result: result, expectation: nil)]
        #expect(AnswerPath("status")?.answer(in: reports) == "ok")
        #expect(AnswerPath("fetches")?.answer(in: reports) == "4")
        #expect(AnswerPath("fault.reason")?.answer(in: reports) == "F_TRANSLATION")
        #expect(AnswerPath("steps[2].entry_address")?.answer(in: reports) == "0x2008")
        #expect(AnswerPath("steps[3].entry_address")?.answer(in: reports) == nil)
        #expect(AnswerPath("iova")?.answer(in: reports) == nil)
        #expect(AnswerPath("status")?.answer(in: []) == nil)
        for bad in ["", "a b", "steps[x].y", "steps[1]", "a.", ".a", "a[1].b.c"] { #expect(AnswerPath(bad) == nil, "\(bad)") }
    }

    /// Random bytes, and the good lesson with random bytes spliced in: a lesson or an error, never a trap.
    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 0x1E55_0000)
        let good = Array(Self.good.utf8)
        for round in 0..<2000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.below(300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = good
                for _ in 0..<Int(random.below(6)) + 1 {
                    let at = Int(random.below(UInt64(bytes.count)))
                    bytes[at] = [UInt8(ascii: "#"), UInt8(ascii: "`"), UInt8(ascii: "\n"), UInt8(ascii: "["), 0xff,
                                 UInt8(truncatingIfNeeded: random.next())][Int(random.below(6))]
                }
            }
            if let lesson = try? Lesson(bytes: bytes, file: "r.md"), case .inline(let text, _) = lesson.scenario {
                _ = try? lesson.checkSteps(against: text)
            }
        }
    }
}
