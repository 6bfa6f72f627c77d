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

/// A rate as `name.ns_per_op` and `name.ops_per_s` (`operations` is at least 1).
func report(_ name: String, since start: ContinuousClock.Instant, operations: Int, to output: BenchmarkOutput) {
    let elapsed = max(seconds(ContinuousClock.now - start), 1e-9)
    output("\(name).ns_per_op: \(Int(elapsed * 1e9 / Double(operations))) ns")
    output("\(name).ops_per_s: \(Int(Double(operations) / elapsed)) ops/s")
}
