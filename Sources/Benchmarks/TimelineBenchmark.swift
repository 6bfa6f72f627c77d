import Foundation
import HostImport
import ScenarioScript

/// `bench timeline`: a QEMU trace of a guest driver doing dynamic DMA behind an emulated VT-d
/// (QEMU shadows the guest's IOMMU tables into an iommufd IOAS, so every guest map and unmap
/// becomes one), read, written as a scenario and replayed as a timeline, as `tui --qemu-trace`
/// does; then moves to positions spread over the whole timeline, and steps back from them.
///
/// The trace is the `log` backend's text: a prologue (cdev getfd, connect, connect_and_bind of
/// a PCI device, alloc_ioas, attach), then per I/O an `iommufd_backend_map_dma` of a 64K
/// buffer at the next IOVA of the guest's allocator, a `vtd_dmar_translate` inside it, and an
/// `iommufd_backend_unmap_dma` of the I/O `window` I/Os before, so the IOAS and the domain
/// hold `window` buffers (1024 pages) at any time while IOVAs and buffers keep changing.
public struct TimelineBenchmark {
    public static let eventRange = 1_000...2_000_000
    public static let moveRange = 1...10_000
    /// I/Os in flight: mapped and not yet unmapped.
    static let window = 64
    /// IOVA slots the guest's allocator cycles through, and guest buffers the driver reuses.
    static let slots = 1024, buffers = 256
    static let bufferSize: UInt64 = 0x10000

    public let events: Int
    /// Moves measured per figure.
    public let moves: Int

    public init(events: Int, moves: Int = 50) throws(BenchmarkError) {
        self.events = try Self.eventRange.check(events, option: "--events")
        self.moves = try Self.moveRange.check(moves, option: "--moves")
    }

    /// The trace: the prologue, then `events` map, translate and unmap events.
    static func trace(events: Int) -> String {
        var text = """
            iommufd_cdev_getfd  /dev/vfio/devices/vfio0 (fd=24)
            iommufd_backend_connect fd=22 owned=1 users=1
            iommufd_cdev_connect_and_bind  [iommufd=22] Successfully bound device 0000:00:03.0 (fd=24): output devid=1
            iommufd_backend_alloc_ioas  iommufd=22 ioas=2
            iommufd_cdev_alloc_ioas  [iommufd=22] new IOMMUFD container with ioasid=2
            iommufd_cdev_attach_ioas_hwpt  [iommufd=22] Successfully attached device 0000:00:03.0 (24) to id=2

            """
        text.reserveCapacity(events * 110)
        // The guest's IOVA allocator hands out 64K top-down below 4G; its buffers sit from
        // 1G of guest RAM, which QEMU holds at `ram` in its own address space.
        func iova(_ io: Int) -> UInt64 { 0xfff0_0000 - UInt64(io % slots) * bufferSize }
        func gpa(_ io: Int) -> UInt64 { 0x4000_0000 + UInt64(io % buffers) * bufferSize }
        let ram: UInt64 = 0x7f4a_c000_0000
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        var written = 0, io = 0
        func emit(_ line: String) {
            guard written < events else { return }
            text += line
            text += "\n"
            written += 1
        }
        while written < events {
            emit("iommufd_backend_map_dma  iommufd=22 ioas=2 iova=\(hex(iova(io))) size=\(hex(bufferSize)) addr=\(hex(ram + gpa(io))) readonly=0 (0)")
            let offset = UInt64(io % 16) << 12
            emit("vtd_dmar_translate dev 00:03.00 iova \(hex(iova(io) + offset)) -> gpa \(hex(gpa(io) + offset)) mask 0xfff")
            if io >= window {
                emit("iommufd_backend_unmap_dma  iommufd=22 ioas=2 iova=\(hex(iova(io - window))) size=\(hex(bufferSize)) (0)")
            }
            io += 1
        }
        return text
    }

    public func run(_ output: BenchmarkOutput) throws {
        let text = Self.trace(events: events)
        let start = ContinuousClock.now
        let reader = QEMUTraceReader.read(text.utf8, file: "bench")
        let timeline = try Timeline(sources: QEMUTraceScenario.replay(reader.records, file: "bench").sources, start: Session.init)
        let replay = seconds(ContinuousClock.now - start)
        output("timeline.events: \(events) events")
        output("timeline.source_lines: \(timeline.count) lines")
        output("timeline.checkpoints: \(timeline.checkpointCount) checkpoints every \(timeline.interval) lines")
        output("timeline.replay.ns_per_event: \(Int(replay * 1e9 / Double(events))) ns")
        // Positions spread evenly over the timeline (a Weyl sequence of the golden ratio).
        func spread(_ sample: Int, shift: Double) -> Int {
            let fraction = (Double(sample) * 0.618_033_988_749_895 + shift).truncatingRemainder(dividingBy: 1)
            return 1 + Int(fraction * Double(timeline.count - 1))
        }
        var jumps: [Duration] = [], steps: [Duration] = []
        for sample in 0..<moves {
            let clock = ContinuousClock.now
            timeline.move(to: spread(sample, shift: 0))
            jumps.append(ContinuousClock.now - clock)
        }
        for sample in 0..<moves {
            let target = spread(sample, shift: 0.5)
            timeline.move(to: target)
            let clock = ContinuousClock.now
            timeline.move(to: target - 1)
            steps.append(ContinuousClock.now - clock)
        }
        output("timeline.jump_random.ms_median: \(Self.median(jumps)) ms")
        output("timeline.step_back.ms_median: \(Self.median(steps)) ms")
        output("timeline.peak_rss_bytes_per_event: \(Self.peakResidentBytes() / events) bytes")
    }

    /// The median of `times` in milliseconds, with three decimals.
    private static func median(_ times: [Duration]) -> String {
        String(format: "%.3f", seconds(times.sorted()[times.count / 2]) * 1e3)
    }

    /// The process's peak resident set (`getrusage`'s `ru_maxrss`: kilobytes on Linux, bytes on Darwin).
    private static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return usage.ru_maxrss * 1024
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return usage.ru_maxrss
        #endif
    }
}
