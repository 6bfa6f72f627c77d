import Foundation
import Testing

/// Every built-in lesson on the real binary at 100x30, start to end: `learn N`, `n` to the last
/// step, the last step's heading and narration on screen, quit; and autoplay to the end.
@Suite(.serialized)
struct LessonInTmuxTests {
    /// `Lessons/`'s files in the order `learn` numbers them.
    static let lessons: [URL] = {
        let folder = InspectorInTmuxTests.repository.appendingPathComponent("Lessons")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".md") }.sorted().map { folder.appendingPathComponent($0) }
    }()

    /// The lesson's step count, the last step's heading as the pane shows it and the first
    /// words of its narration.
    static func lastStep(_ url: URL) throws -> (steps: Int, heading: String, words: String) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let headings = lines.indices.filter { lines[$0].hasPrefix("## Step: line ") }
        let last = try #require(headings.last)
        let words = lines[last + 1].split(separator: " ").prefix(3).joined(separator: " ")
        return (headings.count, "Step \(headings.count) of \(headings.count), line \(lines[last].dropFirst("## Step: line ".count))", words)
    }

    @Test func theSevenLessonsAreThere() { #expect(Self.lessons.count == 7) }

    @Test(arguments: 1...7)
    func aLessonRunsStartToEnd(_ number: Int) throws {
        guard Self.lessons.indices.contains(number - 1) else { Issue.record("no lesson \(number)"); return }
        let last = try Self.lastStep(Self.lessons[number - 1])
        let terminal = InspectorInTmuxTests.start("lesson\(number)", width: 100, height: 30, arguments: "learn \(number)")
        defer { terminal.stop() }
        guard terminal.waitFor("0 Lesson"), terminal.waitFor("Introduction") else { return }
        for step in 1...last.steps {
            terminal.keys("n")
            guard terminal.waitFor("step \(step) of \(last.steps), line") else { return }
        }
        guard terminal.waitFor(last.heading), terminal.waitFor(last.words), terminal.waitFor("End of the lesson") else { return }
        // Past the end stays there; N goes back a step.
        terminal.keys("n N")
        guard terminal.waitFor("Step \(last.steps - 1) of \(last.steps)") else { return }
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    /// `--autoplay 0.2` reaches the end of lesson 3 (6 steps) alone, then a key is a key again.
    @Test func autoplayRunsALessonToItsEnd() throws {
        let last = try Self.lastStep(Self.lessons[2])
        let terminal = InspectorInTmuxTests.start("lessonplay", width: 100, height: 30, arguments: "learn 3 --autoplay 0.2")
        defer { terminal.stop() }
        guard terminal.waitFor("0 Lesson"), terminal.waitFor(last.heading), terminal.waitFor("(autoplay: the end)") else { return }
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    /// `tui --autoplay 0.3` steps a scenario's timeline from its start; any key pauses it.
    @Test func aKeyPausesAutoplay() {
        let example = InspectorInTmuxTests.repository.appendingPathComponent("Examples/quickstart.iommu").path
        let terminal = InspectorInTmuxTests.start("tuiplay", width: 100, height: 30, arguments: "tui '\(example)' --autoplay 0.3")
        defer { terminal.stop() }
        // It starts before the first line and steps a line at a time.
        guard terminal.waitFor("1 Objects"), terminal.waitFor("(2/") else { return }
        terminal.keys("'{'")
        guard terminal.waitFor("autoplay paused"), terminal.waitFor("(0/") else { return }
        Thread.sleep(forTimeInterval: 1)
        #expect(terminal.screen().contains("(0/"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    /// `learn 4 --projector` at 100x30: no tree, the lesson beside the walk, whose nested grid
    /// numbers the reads in large digits up to the 28th (`2` over `8`: their bottom rows).
    @Test func theProjectorDrawsLargeDigits() {
        let terminal = InspectorInTmuxTests.start("lessonprojector", width: 100, height: 30, arguments: "learn 4 --projector")
        defer { terminal.stop() }
        guard terminal.waitFor("0 Lesson") else { return }
        #expect(!terminal.screen().contains("1 Objects"))
        terminal.keys("n n n n n n")
        guard terminal.waitFor("Step 6 of 8, line 22"), terminal.waitFor("└─╴ └─┘") else { return }
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    /// Without a terminal: `learn` lists the lessons one numbered line each, `learn N` prints
    /// the lesson with its computed answers, a bad lesson is located and exits 2.
    @Test func learnOnAPipe() throws {
        let list = FaultsCommandLineTests.run("learn")
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 7 && lines.first == "1  IOAS, mapping and automatic IOVA")
        let lesson = FaultsCommandLineTests.run("learn 4")
        #expect(lesson.status == 0 && lesson.stdout.contains("Answer (fetches): 28") && lesson.stdout.contains("Answer (fetches): 22"))
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("lesson-\(UUID().uuidString).md")
        try Data("# T\nscenario: a.iommu\n## Step: line 2\n## Step: line 1\n".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        let failed = FaultsCommandLineTests.run("learn '\(bad.path)'")
        #expect(failed.status == 2 && failed.stderr.contains("\(bad.path):4: steps go forward"), "\(failed.stderr)")
    }
}
