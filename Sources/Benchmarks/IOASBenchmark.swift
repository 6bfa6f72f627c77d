import Foundation
import IOMMUCore

/// Maps and unmaps many areas in one IOAS (fixed and automatic IOVA) to show that IOAS
/// operations stay O(log n) in areas.
public struct IOASBenchmark {
    /// Areas sit every 8K from the bottom of the selftest mock's aperture, which holds
    /// about 260 000 of them; the automatic maps need room above.
    public static let areaRange = 1...250_000

    public let areaCounts: [Int]

    public init(areaCounts: [Int]) throws(BenchmarkError) {
        guard !areaCounts.isEmpty else { throw BenchmarkError("--areas lists at least one area count") }
        for count in areaCounts { _ = try Self.areaRange.check(count, option: "--areas") }
        self.areaCounts = areaCounts
    }

    /// `--areas 100000,200000`: comma-separated counts.
    public init(areas list: String) throws(BenchmarkError) {
        var counts: [Int] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let count = Int(item.trimmingCharacters(in: .whitespaces)) else {
                throw BenchmarkError("--areas lists area counts separated by commas ('\(item)' is not one)")
            }
            counts.append(count)
        }
        try self.init(areaCounts: counts)
    }

    /// Rounds of every figure, the area counts interleaved; the medians are printed. Five:
    /// the machine's noisy phases last seconds, and with three a phase that meets one area
    /// count's measures in two rounds moved the growth ratio by a quarter.
    static let rounds = 5
    /// Automatic 8K maps per measure: 5000, so that a measure lasts tens of milliseconds
    /// (1000 took 4-5 ms, short enough for one burst of the machine's noise to move the
    /// growth ratio by half), and the most areas (250 000) and these fit the aperture.
    static let probes = 5000

    public func run(_ output: BenchmarkOutput) throws {
        for withDomain in [false, true] {
            let label = withDomain ? "ioas+domain" : "ioas"
            var times: [Int: [Operation: [Double]]] = [:]
            for _ in 0..<Self.rounds {
                for count in areaCounts {
                    for (operation, elapsed) in try measure(areas: count, withDomain: withDomain) {
                        times[count, default: [:]][operation, default: []].append(elapsed)
                    }
                }
            }
            for count in areaCounts {
                for operation in Operation.allCases {
                    report("\(label).\(operation)[\(count)]", elapsed: median(times[count]?[operation] ?? []),
                           operations: operation.count(areas: count), to: output)
                }
            }
            // The growth per operation from the fewest areas to the most (issue 13's bar is 1.25x).
            guard let fewest = areaCounts.min(), let most = areaCounts.max(), fewest != most else { continue }
            for operation in Operation.allCases {
                func perOperation(_ count: Int) -> Double {
                    median(times[count]?[operation] ?? []) / Double(operation.count(areas: count))
                }
                reportRatio("\(label).\(operation).ratio_\(most)_to_\(fewest)", perOperation(most), to: perOperation(fewest), digits: 2, output)
            }
        }
    }

    /// What a measure times.
    enum Operation: String, CaseIterable, CustomStringConvertible {
        case mapFixed = "map_fixed", mapAuto = "map_auto", unmap
        var description: String { rawValue }

        /// Operations of this kind in a measure of `areas` areas.
        func count(areas: Int) -> Int {
            switch self {
            case .mapFixed: areas
            case .mapAuto: IOASBenchmark.probes
            case .unmap: areas + IOASBenchmark.probes
            }
        }
    }

    /// The seconds of each operation's loop on an IOAS of `count` areas.
    private func measure(areas count: Int, withDomain: Bool) throws -> [(Operation, Double)] {
        let machine = Machine(limits: .unlimited)
        let fd = IOMMUFD(machine: machine)
        let ioas = try fd.ioasAlloc().rawValue
        let buffer = try machine.mmap(length: 8192, alignment: 8192)
        if withDomain {
            // A selftest mock domain mirrors every area, as an attached device's domain would.
            _ = try fd.testMockDomain(ptID: ioas, deviceFlags: 0, iommu: MockIOMMU(name: "mock"))
        }
        let base = withDomain ? MockIOMMU.aperture.start : pageSize
        let readWrite = IOASMapFlags([.readable, .writeable]).rawValue
        let fixed = IOASMapFlags([.readable, .writeable, .fixedIOVA]).rawValue
        // Every other page from the bottom: 4K holes everywhere, none large enough for 8K.
        let mapFixed = try timed {
            for index in 0..<count {
                _ = try fd.ioasMap(flags: fixed, ioasID: ioas, userVA: buffer, length: 4096, iova: UInt64(index) * 8192 + base)
            }
        }
        // Automatic allocation of 8K must pass every area to reach the first hole that fits.
        var automatic: [UInt64] = []
        let mapAuto = try timed {
            for _ in 0..<Self.probes {
                automatic.append(try fd.ioasMap(flags: readWrite, ioasID: ioas, userVA: buffer, length: 8192, iova: 0))
            }
        }
        let unmap = try timed {
            for iova in automatic { _ = try fd.ioasUnmap(ioasID: ioas, iova: iova, length: 8192) }
            for index in 0..<count {
                _ = try fd.ioasUnmap(ioasID: ioas, iova: UInt64(index) * 8192 + base, length: 4096)
            }
        }
        return [(.mapFixed, mapFixed), (.mapAuto, mapAuto), (.unmap, unmap)]
    }
}
