import ArgumentParser
import Benchmarks
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print one figure per line as 'name: value unit'.",
        subcommands: [BenchIOAS.self, BenchTranslate.self, BenchMap.self, BenchTUI.self, BenchFaults.self, BenchTimeline.self])
}

/// A rig's parameters, checked by the rig: its message becomes the usage error.
private func validated<Rig>(_ make: () throws(BenchmarkError) -> Rig) throws -> Rig {
    do {
        return try make()
    } catch {
        throw ValidationError(error.description)
    }
}

struct BenchIOAS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ioas", abstract: "IOAS map/unmap/auto-IOVA throughput.")

    @Option(help: "Area counts to measure (comma-separated, each \(IOASBenchmark.areaRange)).") var areas: String = "100000,200000"

    func validate() throws { _ = try rig() }
    func rig() throws -> IOASBenchmark { try validated { () throws(BenchmarkError) in try IOASBenchmark(areas: areas) } }
    func run() throws { try rig().run { print($0) } }
}

struct BenchTranslate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "translate", abstract: "Translations per second, cold and warm IOTLB.")

    @Option(help: "Distinct 4K pages translated (\(TranslationBenchmark.pageRange)).") var pages: Int = 4096

    func validate() throws { _ = try rig() }
    func rig() throws -> TranslationBenchmark { try validated { () throws(BenchmarkError) in try TranslationBenchmark(pages: pages) } }
    func run() throws { try rig().run { print($0) } }
}

struct BenchMap: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "map", abstract: "Page mappings per second and memory per page.")

    @Option(help: "4K pages to map (\(MapBenchmark.pageRange); 1048576 = 4 GiB); blocks map 16 times as much.")
    var pages: Int = 1 << 20

    func validate() throws { _ = try rig() }
    func rig() throws -> MapBenchmark { try validated { () throws(BenchmarkError) in try MapBenchmark(pages: pages) } }
    func run() throws { try rig().run { print($0) } }
}

struct BenchTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui", abstract: "Inspector frame and key-to-frame times, headless, at a million areas and pages.")

    @Option(help: "IOAS areas, each a 4K page with a 4K gap after it, each mapped in the domain (\(TUIBenchmark.areaRange)).")
    var areas: Int = 1_000_000
    @Option(help: "Frames rendered per view (\(TUIBenchmark.sampleRange)).") var frames: Int = 50
    @Option(help: "Key presses measured per view (\(TUIBenchmark.sampleRange)).") var keys: Int = 20
    @Option(help: "Frame width (\(TUIBenchmark.widthRange)).") var width: Int = 120
    @Option(help: "Frame height (\(TUIBenchmark.heightRange)).") var height: Int = 40

    func validate() throws { _ = try rig() }
    func rig() throws -> TUIBenchmark {
        try validated { () throws(BenchmarkError) in
            try TUIBenchmark(areas: areas, frames: frames, keys: keys, width: width, height: height)
        }
    }
    func run() throws {
        let source = try ScenarioSource.builtInDefault.text()
        try rig().run(defaultScenario: source) { print($0) }
    }
}

struct BenchFaults: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "faults", abstract: "Kernel-log lines read per second by the fault-log reader.")

    @Option(help: "Lines of synthetic dmesg, a quarter of them fault records (\(FaultLogBenchmark.lineRange)).") var lines: Int = 1_000_000

    func validate() throws { _ = try rig() }
    func rig() throws -> FaultLogBenchmark { try validated { () throws(BenchmarkError) in try FaultLogBenchmark(lines: lines) } }
    func run() throws { try rig().run { print($0) } }
}

struct BenchTimeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline", abstract: "A QEMU trace's replay as a timeline: replay, jump and step-back times, peak memory.")

    @Option(help: "Map, translate and unmap events in the synthetic trace (\(TimelineBenchmark.eventRange)).") var events: Int = 100_000
    @Option(help: "Random jumps, and steps back, measured (\(TimelineBenchmark.moveRange)).") var moves: Int = 50

    func validate() throws { _ = try rig() }
    func rig() throws -> TimelineBenchmark {
        try validated { () throws(BenchmarkError) in try TimelineBenchmark(events: events, moves: moves) }
    }
    func run() throws { try rig().run { print($0) } }
}
