import CReference
import Foundation

/// A benchmark parameter outside what its rig can build: the message names the option and
/// the allowed range, so the command line can show it as a usage error.
public struct BenchmarkError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Where a rig prints its figures, one `name: value unit` line each.
public typealias BenchmarkOutput = (String) -> Void

extension ClosedRange where Bound == Int {
    /// `value` if it lies in the range, else the error for `option`.
    func check(_ value: Int, option: String) throws(BenchmarkError) -> Int {
        guard contains(value) else {
            throw BenchmarkError("\(option) must be from \(lowerBound) to \(upperBound) (got \(value))")
        }
        return value
    }
}

/// Seconds of a duration, as a Double.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// The seconds `body` takes.
func timed(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock.now
    try body()
    return seconds(ContinuousClock.now - clock)
}

/// The middle of some timings (the upper middle of an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

/// A rate as `name.ns_per_op` and `name.ops_per_s` (`operations` is at least 1).
func report(_ name: String, elapsed: Double, operations: Int, to output: BenchmarkOutput) {
    let elapsed = max(elapsed, 1e-9)
    output("\(name).ns_per_op: \(Int(elapsed * 1e9 / Double(operations))) ns")
    output("\(name).ops_per_s: \(Int(Double(operations) / elapsed)) ops/s")
}

/// How many times `value` is `reference`, as `name: 2.4 x` (with `digits` decimals).
func reportRatio(_ name: String, _ value: Double, to reference: Double, digits: Int = 1, _ output: BenchmarkOutput) {
    output("\(name): \(String(format: "%.\(digits)f", value / max(reference, 1e-12))) x")
}

/// A figure timed against its plain C reference in the same run: `rounds` rounds, each
/// timing the Swift work and then the C work on the same operations, and the median of
/// each, as `name.ns_per_op`, `name.ops_per_s`, `name.c_ns_per_op` and `name.ratio_to_c`.
/// Each closure returns the seconds of its timed part (its setup is not counted). With
/// `cSerial`, each round also times the C work made serial (each operation waiting for the
/// output of the one before, so that no two overlap in the CPU), printed as
/// `name.c_serial_ns_per_op` and `name.ratio_to_c_serial`: the plain C loops let the CPU run
/// many independent operations at once, and this says how much of a ratio that overlap makes.
func compareToC(_ name: String, operations: Int, rounds: Int, swift: (_ round: Int) throws -> Double,
                c: (_ round: Int) throws -> Double, cSerial: ((_ round: Int) throws -> Double)? = nil,
                to output: BenchmarkOutput) throws {
    var swiftTimes: [Double] = [], cTimes: [Double] = [], serialTimes: [Double] = []
    for round in 0..<rounds {
        swiftTimes.append(try swift(round))
        cTimes.append(try c(round))
        if let cSerial { serialTimes.append(try cSerial(round)) }
    }
    let swiftTime = median(swiftTimes)
    report(name, elapsed: swiftTime, operations: operations, to: output)
    for (suffix, times) in [("", cTimes), ("_serial", serialTimes)] where !times.isEmpty {
        let cTime = max(median(times), 1e-12)
        output("\(name).c\(suffix)_ns_per_op: \(String(format: "%.1f", cTime * 1e9 / Double(operations))) ns")
        reportRatio("\(name).ratio_to_c\(suffix)", swiftTime, to: cTime, output)
    }
}

/// The heap allocations `body` makes on the calling thread (counted by CReference's malloc
/// family), and what it returned.
public func countingAllocations<Result>(_ body: () throws -> Result) rethrows -> (allocations: UInt64, result: Result) {
    cref_allocations_start()
    let result: Result
    do { result = try body() } catch {
        _ = cref_allocations_stop()
        throw error
    }
    return (cref_allocations_stop(), result)
}
