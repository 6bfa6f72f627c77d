import Benchmarks
import Testing
@testable import iommuscope

/// `bench timeline --events` is checked before the rig builds its trace: outside the range it
/// is a usage error naming the range, and the smallest rig runs and prints its figures.
@Suite struct BenchTimelineArgumentTests {
    @Test(arguments: [
        ["bench", "timeline", "--events", "999"], ["bench", "timeline", "--events", "2000001"],
        ["bench", "timeline", "--events=-1"], ["bench", "timeline", "--events", "9223372036854775807"],
        ["bench", "timeline", "--events", "x"], ["bench", "timeline", "--moves", "0"], ["bench", "timeline", "--moves", "10001"],
    ])
    func outOfRangeIsAUsageError(_ arguments: [String]) throws {
        let message = try #require(parseFailure(arguments))
        #expect(!message.isEmpty)
    }

    @Test func messageNamesTheRange() {
        #expect(parseFailure(["bench", "timeline", "--events", "999"]) == "--events must be from 1000 to 2000000 (got 999)")
        #expect(parseFailure(["bench", "timeline"]) == nil)
        #expect(parseFailure(["bench", "timeline", "--events", "1000"]) == nil)
        #expect(parseFailure(["bench", "timeline", "--events", "2000000", "--moves", "10000"]) == nil)
        #expect(parseFailure(["bench", "timeline", "--moves", "0"]) == "--moves must be from 1 to 10000 (got 0)")
    }

    @Test func smallestRigRuns() throws {
        var lines: [String] = []
        try TimelineBenchmark(events: 1000, moves: 3).run { lines.append($0) }
        #expect(lines.contains("timeline.events: 1000 events"))
        // The prologue's six trace lines, the platform's source, and the events.
        #expect(lines.contains("timeline.source_lines: 1007 lines"))
        for figure in ["replay.ns_per_event", "jump_random.ms_median", "step_back.ms_median", "peak_rss_bytes_per_event"] {
            #expect(lines.contains { $0.hasPrefix("timeline.\(figure): ") })
        }
    }
}
