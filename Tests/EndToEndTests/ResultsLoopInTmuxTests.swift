import Foundation
import Glibc
import TestSupport
import Testing

/// The debugging loop at 80x24 on the real binary, as a new user walks it with only `?`: open
/// a failing scenario, find the results pane in the help, see what failed, jump to the fault's
/// walk and see why, copy, save the session's commands (and over that file, once asked).
@Suite(.serialized)
struct ResultsLoopInTmuxTests {
    typealias Tmux = InspectorInTmuxTests


    @Test func aFailingScenarioAt80x24() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-results-loop-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scenario = directory.appendingPathComponent("failing.iommu").path, saved = directory.appendingPathComponent("s.iommu").path
        try Data(Scenarios.failingResults.utf8).write(to: URL(fileURLWithPath: scenario))
        let terminal = Tmux.start("results-loop", width: 80, height: 24, arguments: "tui '\(scenario)'")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        // The title bar says something failed; the help says where to look.
        #expect(terminal.screen().split(separator: "\n").first?.contains("1 failed, 1 fault") == true)
        terminal.keys("?")
        guard terminal.waitFor("8 then Enter") else { return }
        terminal.keys("Escape 8")
        guard terminal.waitFor("line 10  ↯ translation fault") else { return }
        #expect(terminal.screen().contains("line 11  ✗ failed: returned ok"))
        // Enter on the fault: its own DMA walked, and why it faulted, whole once maximised.
        terminal.keys("Enter")
        guard terminal.waitFor("IOVA 0x900000") else { return }
        terminal.keys("z")
        guard terminal.waitFor("why: F_TRANSLATION (no valid descriptor for the address)") else { return }
        terminal.keys("y")
        guard terminal.waitFor("copied \"") else { return }
        // Enter on the failed line: the timeline, on that line.
        terminal.keys("z 8 j Enter")
        guard terminal.waitFor("[7 Timeline]") else { return }
        #expect(terminal.screen().contains("line 11 (11/12)"))
        // A command typed, then saved; saved again over the file only once y answers.
        terminal.keys(": 'ioas_iova_ranges ioas_id=ioas' Enter")
        guard terminal.waitFor("ioas_iova_ranges: ok") else { return }
        terminal.keys("W C-u '\(saved)' Enter")
        guard terminal.waitFor("saved \(saved)") else { return }
        terminal.keys("W C-u '\(saved)' Enter")
        guard terminal.waitFor("overwrite \(saved)? y/n") else { return }
        terminal.keys("y")
        guard terminal.waitFor("saved \(saved)") else { return }
        #expect(try String(contentsOfFile: saved, encoding: .utf8).contains("ioas_iova_ranges ioas_id=ioas"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }
}
