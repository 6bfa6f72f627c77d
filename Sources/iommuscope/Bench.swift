import ArgumentParser
import Foundation
import IOMMUCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print one figure per line as 'name: value unit'.",
        subcommands: [BenchIOAS.self, BenchTranslate.self, BenchMap.self, BenchTUI.self])
}

/// Maps and unmaps many areas in one IOAS (fixed and automatic IOVA) to show that IOAS
/// operations stay O(log n) in areas.
struct BenchIOAS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ioas", abstract: "IOAS map/unmap/auto-IOVA throughput.")

    @Option(help: "Area counts to measure (comma-separated).") var areas: String = "100000,200000"

    func run() throws {
        for withDomain in [false, true] {
            for count in areas.split(separator: ",").compactMap({ Int($0) }) {
                try measure(areas: count, withDomain: withDomain)
            }
        }
    }

    private func measure(areas count: Int, withDomain: Bool) throws {
        let machine = Machine()
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
        report("\(label).map_fixed[\(count)]", since: clock, operations: count)
        // Automatic allocation of 8K must pass every area to reach the first hole that fits.
        clock = ContinuousClock.now
        let probes = 1000
        var automatic: [UInt64] = []
        for _ in 0..<probes {
            automatic.append(try fd.ioasMap(flags: readWrite, ioasID: ioas, userVA: buffer, length: 8192, iova: 0))
        }
        report("\(label).map_auto[\(count)]", since: clock, operations: probes)
        clock = ContinuousClock.now
        for iova in automatic { _ = try fd.ioasUnmap(ioasID: ioas, iova: iova, length: 8192) }
        for index in 0..<count {
            _ = try fd.ioasUnmap(ioasID: ioas, iova: UInt64(index) * 8192 + base, length: 4096)
        }
        report("\(label).unmap[\(count)]", since: clock, operations: count + probes)
    }

}

/// Prints a rate as `name.ns_per_op` and `name.ops_per_s`.
func report(_ name: String, since start: ContinuousClock.Instant, operations: Int) {
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    print("\(name).ns_per_op: \(Int(seconds * 1e9 / Double(operations))) ns")
    print("\(name).ops_per_s: \(Int(Double(operations) / seconds)) ops/s")
}
