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

    public func run(_ output: BenchmarkOutput) throws {
        for withDomain in [false, true] {
            for count in areaCounts { try measure(areas: count, withDomain: withDomain, output) }
        }
    }

    private func measure(areas count: Int, withDomain: Bool, _ output: BenchmarkOutput) throws {
        let machine = Machine(limits: .unlimited)
        let fd = IOMMUFD(machine: machine)
        let ioas = try fd.ioasAlloc().rawValue
        let buffer = try machine.mmap(length: 8192, alignment: 8192)
        var label = "ioas"
        if withDomain {
            // A selftest mock domain mirrors every area, as an attached device's domain would.
            _ = try fd.testMockDomain(ptID: ioas, deviceFlags: 0, iommu: MockIOMMU(name: "mock"))
            label = "ioas+domain"
        }
        let base = withDomain ? MockIOMMU.aperture.start : pageSize
        let readWrite = IOASMapFlags([.readable, .writeable]).rawValue
        let fixed = IOASMapFlags([.readable, .writeable, .fixedIOVA]).rawValue
        // Every other page from the bottom: 4K holes everywhere, none large enough for 8K.
        var clock = ContinuousClock.now
        for index in 0..<count {
            _ = try fd.ioasMap(flags: fixed, ioasID: ioas, userVA: buffer, length: 4096, iova: UInt64(index) * 8192 + base)
        }
        report("\(label).map_fixed[\(count)]", since: clock, operations: count, to: output)
        // Automatic allocation of 8K must pass every area to reach the first hole that fits.
        clock = ContinuousClock.now
        let probes = 1000
        var automatic: [UInt64] = []
        for _ in 0..<probes {
            automatic.append(try fd.ioasMap(flags: readWrite, ioasID: ioas, userVA: buffer, length: 8192, iova: 0))
        }
        report("\(label).map_auto[\(count)]", since: clock, operations: probes, to: output)
        clock = ContinuousClock.now
        for iova in automatic { _ = try fd.ioasUnmap(ioasID: ioas, iova: iova, length: 8192) }
        for index in 0..<count {
            _ = try fd.ioasUnmap(ioasID: ioas, iova: UInt64(index) * 8192 + base, length: 4096)
        }
        report("\(label).unmap[\(count)]", since: clock, operations: count + probes, to: output)
    }
}
