import Presentation

/// A lesson (docs/lessons.md): a scenario and narration tied to its lines, stepped through in
/// the inspector. The file is Markdown: a `# Title` first, an introduction, the scenario in a
/// fenced ```` ```iommu ```` block (or a `scenario: PATH` line, relative to the lesson), then one
/// `## Step: line N` section per step, N a command line of the scenario, in increasing order.
/// A step may end with a `### Predict` block: a question, then `answer: FIELD`, naming what of
/// the line's result answers it; the answer is read from the model at that step, never written.
public struct Lesson: Sendable, Equatable {
    /// Where the scenario is.
    public enum Scenario: Sendable, Equatable {
        /// The text of the fenced block, and the lesson line its first line is on.
        case inline(text: String, firstLine: Int)
        /// A `scenario:` path as written (relative to the lesson file).
        case file(path: String, line: Int)
    }

    public struct Step: Sendable, Equatable {
        /// The scenario line the step moves the model to just after.
        public var scenarioLine: Int
        /// The lesson line of the step's heading.
        public var lessonLine: Int
        /// The pane the step shows, when `show:` names one; else the line's command chooses.
        public var show: String?
        public var narration: String
        public var predict: Predict?
    }

    public struct Predict: Sendable, Equatable {
        public var question: String
        public var answer: AnswerPath
        public var lessonLine: Int
    }

    public var title: String
    /// The text before the first step, shown before any line ran.
    public var introduction: String
    public var scenario: Scenario
    public var steps: [Step]

    /// The panes a step's `show:` may name.
    public static let paneNames = ["details", "page-table", "walk", "iova-map", "timeline", "results", "diff"]
}

/// What answers a predict question: a part of the step line's result. `status` (ok, the errno's
/// name, fault), an out field (`fetches`, `output_address`), a field of a record (`fault.reason`),
/// or of the Nth record of a list, counted from 1 (`steps[1].entry_address`).
public struct AnswerPath: Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var index: Int?
    public var member: String?

    public var description: String {
        field + (index.map { "[\($0)]" } ?? "") + (member.map { "." + $0 } ?? "")
    }

    /// Reads `status`, `NAME`, `NAME.MEMBER` or `NAME[N].MEMBER`; nil for anything else.
    public init?(_ text: String) {
        let isName = { (word: Substring) in !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }
        var rest = Substring(text)
        let name = rest.prefix { $0 != "[" && $0 != "." }
        guard isName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        field = String(name)
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]"), let number = Int(rest[rest.index(after: rest.startIndex)..<close]), number >= 1,
                  rest[rest.index(after: close)...].first == "." else { return nil }
            index = number
            rest = rest[rest.index(after: close)...]
        }
        if rest.first == "." {
            let member = rest.dropFirst()
            guard isName(member) else { return nil }
            self.member = String(member)
        } else if !rest.isEmpty {
            return nil
        }
        if field == "status", index != nil || member != nil { return nil }
    }

    /// The answer in `reports` (the step line's), as `run` prints values; nil when the result
    /// has no such part.
    public func answer(in reports: [LineReport]) -> String? {
        for report in reports {
            if field == "status" { return report.result.status.description }
            guard let value = report.result.field(field) else { continue }
            switch (value, index, member) {
            case (_, nil, nil): return value.display
            case (.record(let record), nil, let member?): return record.first { $0.name == member }?.value.display
            case (.records(let records), let index?, let member?):
                guard index <= records.count else { return nil }
                return records[index - 1].first { $0.name == member }?.value.display
            default: return nil
            }
        }
        return nil
    }
}

/// A lesson that does not read: where (`file:line: message`) and why.
public struct LessonError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    /// The lesson's path as messages name it.
    public var file = "lesson"

    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "\(terminalSafe(file)):\(line): \(message)" }
}

extension Lesson {
    /// Reads a lesson's bytes; `file` names it in errors. Any bytes give a lesson or an error.
    public init(bytes: [UInt8], file: String) throws(LessonError) {
        do throws(LessonError) {
            try self.init(parsing: bytes)
        } catch {
            var located = error
            located.file = file
            throw located
        }
    }

    private init(parsing bytes: [UInt8]) throws(LessonError) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let line = Self.firstInvalidLine(bytes)
            throw LessonError(line: line, "not UTF-8 text")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard let first = lines.firstIndex(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw LessonError(line: 1, "empty lesson: it starts with a `# Title` line")
        }
        guard lines[first].hasPrefix("# "), !lines[first].dropFirst(2).allSatisfy(\.isWhitespace) else {
            throw LessonError(line: first + 1, "a lesson starts with its title, a `# Title` line")
        }
        title = lines[first].dropFirst(2).trimmingBlanks
        var introduction: [Substring] = []
        var scenario: Scenario?
        var steps: [Step] = []
        var narration: [Substring] = []
        var predict: (line: Int, question: [Substring], answer: AnswerPath?)?
        var number = first + 1
        func finishStep() throws(LessonError) {
            guard var step = steps.popLast() else { return }
            if let open = predict {
                guard !Self.paragraphs(open.question).isEmpty else { throw LessonError(line: open.line, "a Predict block asks a question before its answer") }
                guard let answer = open.answer else { throw LessonError(line: open.line, "a Predict block ends with `answer: FIELD`") }
                step.predict = Predict(question: Self.paragraphs(open.question), answer: answer, lessonLine: open.line)
            }
            step.narration = Self.paragraphs(narration)
            steps.append(step)
            narration = []
            predict = nil
        }
        while number < lines.count {
            let line = lines[number]
            let lessonLine = number + 1
            number += 1
            if line.hasPrefix("```") {
                let info = line.dropFirst(3).trimmingBlanks
                guard let close = lines[number...].firstIndex(where: { $0.hasPrefix("```") }) else {
                    throw LessonError(line: lessonLine, "this fenced block is never closed with ```")
                }
                defer { number = close + 1 }
                if info == "iommu" {
                    guard steps.isEmpty else { throw LessonError(line: lessonLine, "the ```iommu scenario comes before the first step") }
                    guard scenario == nil else { throw LessonError(line: lessonLine, "a lesson has one scenario; this is a second") }
                    scenario = .inline(text: lines[number..<close].map { $0 + "\n" }.joined(), firstLine: number + 1)
                } else {
                    // Another fenced block (an example of output) is narration as it stands.
                    if steps.isEmpty { introduction += lines[number - 1...close] } else { narration += lines[number - 1...close] }
                }
                continue
            }
            if steps.isEmpty, line.hasPrefix("scenario:") {
                guard scenario == nil else { throw LessonError(line: lessonLine, "a lesson has one scenario; this is a second") }
                let path = line.dropFirst("scenario:".count).trimmingBlanks
                guard !path.isEmpty else { throw LessonError(line: lessonLine, "`scenario:` names a file, relative to the lesson") }
                scenario = .file(path: path, line: lessonLine)
                continue
            }
            if line.hasPrefix("## ") {
                try finishStep()
                let heading = line.dropFirst(3).trimmingBlanks
                guard heading.hasPrefix("Step:") else {
                    throw LessonError(line: lessonLine, "a `##` heading is a step: `## Step: line N`")
                }
                let words = heading.dropFirst("Step:".count).split(whereSeparator: \.isWhitespace)
                guard words.count == 2, words[0] == "line", let target = Int(words[1]), target >= 1 else {
                    throw LessonError(line: lessonLine, "a step names a scenario line: `## Step: line N`, N from 1")
                }
                guard scenario != nil else { throw LessonError(line: lessonLine, "a step before the scenario: put the ```iommu block (or `scenario:`) first") }
                if let last = steps.last, target <= last.scenarioLine {
                    throw LessonError(line: lessonLine, "steps go forward: line \(target) is not after line \(last.scenarioLine)")
                }
                steps.append(Step(scenarioLine: target, lessonLine: lessonLine, show: nil, narration: "", predict: nil))
                continue
            }
            if line.hasPrefix("### ") {
                guard line.dropFirst(4).trimmingBlanks == "Predict" else {
                    throw LessonError(line: lessonLine, "a `###` heading is a question: `### Predict`")
                }
                guard !steps.isEmpty else { throw LessonError(line: lessonLine, "a Predict block belongs to a step") }
                guard predict == nil else { throw LessonError(line: lessonLine, "a step has one Predict block") }
                predict = (lessonLine, [], nil)
                continue
            }
            if line.hasPrefix("answer:"), predict != nil {
                let text = line.dropFirst("answer:".count).trimmingBlanks
                guard let path = AnswerPath(text) else {
                    throw LessonError(line: lessonLine, "`answer:` names a part of the line's result: status, FIELD, FIELD.MEMBER or FIELD[N].MEMBER")
                }
                predict?.answer = path
                continue
            }
            if line.hasPrefix("show:"), !steps.isEmpty, predict == nil {
                let pane = line.dropFirst("show:".count).trimmingBlanks
                guard Lesson.paneNames.contains(pane) else {
                    throw LessonError(line: lessonLine, "`show:` names a pane: \(Lesson.paneNames.joined(separator: ", "))")
                }
                steps[steps.count - 1].show = pane
                continue
            }
            if predict?.answer != nil {
                guard line.allSatisfy(\.isWhitespace) else {
                    throw LessonError(line: lessonLine, "the Predict block ends at its `answer:` line; narration goes before `### Predict`")
                }
                continue
            }
            if predict != nil { predict?.question.append(line) } else if steps.isEmpty { introduction.append(line) } else { narration.append(line) }
        }
        try finishStep()
        guard let scenario else { throw LessonError(line: first + 1, "no scenario: a ```iommu block or a `scenario: PATH` line") }
        guard !steps.isEmpty else { throw LessonError(line: first + 1, "no step: a lesson has `## Step: line N` sections") }
        self.scenario = scenario
        self.steps = steps
        self.introduction = Self.paragraphs(introduction)
    }

    /// Checks every step names a command line of `scenario` (its text); an error points at the step's heading.
    public func checkSteps(against scenario: String) throws(LessonError) {
        let lines = scenario.split(separator: "\n", omittingEmptySubsequences: false)
        for step in steps {
            guard step.scenarioLine <= lines.count else {
                throw LessonError(line: step.lessonLine, "the scenario has \(lines.count) lines; there is no line \(step.scenarioLine)")
            }
            let code = lines[step.scenarioLine - 1].prefix { $0 != "#" }
            guard !code.allSatisfy(\.isWhitespace) else {
                throw LessonError(line: step.lessonLine, "scenario line \(step.scenarioLine) is blank or a comment: a step names a command line")
            }
        }
    }

    /// Lines joined, blank lines at either end dropped.
    private static func paragraphs(_ lines: [Substring]) -> String {
        let kept = lines.drop { $0.allSatisfy(\.isWhitespace) }.reversed().drop { $0.allSatisfy(\.isWhitespace) }.reversed()
        return kept.joined(separator: "\n")
    }

    /// The 1-based line of the first byte sequence that is not UTF-8.
    private static func firstInvalidLine(_ bytes: [UInt8]) -> Int {
        var line = 1, start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0a {
            if String(validating: bytes[start..<index], as: UTF8.self) == nil { return line }
            line += 1
            start = index + 1
        }
        return line
    }
}

extension Substring {
    fileprivate var trimmingBlanks: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
