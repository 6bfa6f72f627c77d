import ArgumentParser
import Benchmarks
import Testing
@testable import iommuscope

/// Every `bench` option is checked before a rig runs: out-of-range values are usage errors
/// that name the allowed range, never a trap inside the rig.
@Suite struct BenchArgumentTests {
    @Test(arguments: [
        ["bench", "ioas", "--areas", "0"], ["bench", "ioas", "--areas=-5"], ["bench", "ioas", "--areas", "9223372036854775807"],
        ["bench", "ioas", "--areas", "100,x"], ["bench", "ioas", "--areas", ""], ["bench", "ioas", "--areas", "250001"],
        ["bench", "translate", "--pages", "0"], ["bench", "translate", "--pages", "4194305"],
        ["bench", "translate", "--pages=-1"], ["bench", "translate", "--pages", "9223372036854775807"],
        ["bench", "map", "--pages", "0"], ["bench", "map", "--pages", "1"], ["bench", "map", "--pages", "31"],
        ["bench", "map", "--pages=-1"], ["bench", "map", "--pages", "9223372036854775807"],
        ["bench", "tui", "--areas", "0"], ["bench", "tui", "--areas", "9223372036854775807"], ["bench", "tui", "--frames", "0"],
        ["bench", "tui", "--keys", "0"], ["bench", "tui", "--keys=-3"], ["bench", "tui", "--frames", "9223372036854775807"],
        ["bench", "tui", "--width", "0"], ["bench", "tui", "--height", "-1"],
        ["bench", "faults", "--lines", "999"], ["bench", "faults", "--lines", "10000001"], ["bench", "faults", "--lines=-1"],
    ])
    func outOfRangeIsAUsageError(_ arguments: [String]) throws {
        let message = try #require(parseFailure(arguments))
        #expect(!message.isEmpty)
    }

    @Test func messagesNameTheRange() throws {
        #expect(parseFailure(["bench", "translate", "--pages", "4194305"]) == "--pages must be from 1 to 4194304 (got 4194305)")
        #expect(parseFailure(["bench", "map", "--pages", "31"]) == "--pages must be from 32 to 4194304 (got 31)")
        #expect(parseFailure(["bench", "tui", "--keys", "0"]) == "--keys must be from 1 to 100000 (got 0)")
        #expect(parseFailure(["bench", "ioas", "--areas", "100,x"])
                == "--areas lists area counts separated by commas ('x' is not one)")
    }

    @Test(arguments: [
        ["bench", "ioas"], ["bench", "ioas", "--areas", "1,250000"], ["bench", "translate", "--pages", "1"],
        ["bench", "translate", "--pages", "1048576"], ["bench", "map", "--pages", "32"], ["bench", "map"],
        ["bench", "tui", "--areas", "1", "--frames", "1", "--keys", "1", "--width", "40", "--height", "12"],
    ])
    func boundsParse(_ arguments: [String]) {
        #expect(parseFailure(arguments) == nil)
    }

    /// The smallest rigs run to completion (the boundary values that used to trap).
    @Test func smallestRigsRun() throws {
        var lines: [String] = []
        try TranslationBenchmark(pages: 1).run { lines.append($0) }
        try MapBenchmark(pages: 32).run { lines.append($0) }
        try IOASBenchmark(areaCounts: [1, 2]).run { lines.append($0) }
        try FaultLogBenchmark(lines: 1000).run { lines.append($0) }
        // 1000 lines: 62 whole periods of 16 lines with 4 records each, and 8 lines of the next
        // (its SMMU event and its DMAR fault).
        #expect(lines.contains("faults.read.records: 250 records"))
        #expect(lines.contains { $0.hasPrefix("translate.nested_4x4.cold.fetches_per_translation:") })
        #expect(lines.contains { $0.hasPrefix("map.2m_blocks.gib_mapped:") })
        #expect(lines.contains { $0.hasPrefix("ioas+domain.unmap[1].ns_per_op:") })
        // Every figure with a C reference prints its ratio; IOAS prints its growth.
        for name in ["translate.stage2_4level.cold", "translate.stage2_4level.warm", "translate.nested_4x4.cold",
                     "translate.nested_4x4.warm", "map.4k_pages"] {
            #expect(lines.contains { $0.hasPrefix("\(name).c_ns_per_op:") })
            #expect(lines.contains { $0.hasPrefix("\(name).ratio_to_c:") })
        }
        #expect(lines.contains { $0.hasPrefix("map.4k_pages.resident_ratio_to_c:") })
        #expect(lines.contains { $0.hasPrefix("ioas+domain.map_auto.ratio_2_to_1:") })
    }

    /// Every translate figure with a C reference also prints the serial C time and the ratio to it.
    @Test func translateFiguresPrintTheirSerialReference() throws {
        var lines: [String] = []
        try TranslationBenchmark(pages: 2).run { lines.append($0) }
        for name in ["translate.stage2_4level.cold", "translate.stage2_4level.cold_steps", "translate.stage2_4level.warm",
                     "translate.nested_4x4.cold", "translate.nested_4x4.cold_steps", "translate.nested_4x4.warm",
                     "translate.iotlb_lookup"] {
            #expect(lines.contains { $0.hasPrefix("\(name).c_serial_ns_per_op:") && $0.hasSuffix(" ns") })
            #expect(lines.contains { $0.hasPrefix("\(name).ratio_to_c_serial:") && $0.hasSuffix(" x") })
        }
    }
}
