import Foundation
import HostImport

/// `bench faults`: how fast `iommuscope faults` reads a kernel log. A synthetic dmesg of
/// `lines` lines mixes the printers the reader knows (an arm-smmu-v3 event with its raw
/// words and decoded lines, DMAR faults with their status lines, AMD-Vi page faults, the
/// `io_page_fault` tracepoint) with other drivers' lines between them, as real logs
/// interleave, and is fed to the reader a megabyte at a time, as the command streams files.
public struct FaultLogBenchmark {
    public static let lineRange = 1_000...10_000_000

    public let lines: Int

    public init(lines: Int) throws(BenchmarkError) {
        self.lines = try Self.lineRange.check(lines, option: "--lines")
    }

    /// One period of the synthetic log: 16 lines holding 4 fault records.
    static func period(_ n: Int) -> [String] {
        let stamp = String(format: "[%6d.%06d] ", n / 1000, n % 1000 * 997 % 1_000_000)
        let page = String(n % 0x10000 << 12, radix: 16)
        return [
            "arm-smmu-v3 arm-smmu-v3.2.auto: event 0x10 received:",
            "arm-smmu-v3 arm-smmu-v3.2.auto: \t0x0000350100000010",
            "hns3 0000:35:00.0: link up",
            "arm-smmu-v3 arm-smmu-v3.2.auto: \t0x000002088000003f",
            "arm-smmu-v3 arm-smmu-v3.2.auto: \t0x00000000\(String(repeating: "0", count: max(0, 8 - page.count)))\(page)",
            "arm-smmu-v3 arm-smmu-v3.2.auto: \t0x0000000000000000",
            "DMAR: DRHD: handling fault status reg 3",
            "DMAR: [DMA Read NO_PASID] Request device [2f:00.1] fault addr 0x\(page) [fault reason 0x06] PTE Read access is not set",
            "e1000e 0000:00:1f.6 eth0: NIC Link is Up 1000 Mbps Full Duplex",
            "ath10k_pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000d address=0x\(page) flags=0x0070]",
            "usb 1-1: new high-speed USB device number 2 using xhci_hcd",
            "dmar_fault: 12 callbacks suppressed",
            "   irq/24-AMD-Vi-48      [002] .....    12.400000: io_page_fault: IOMMU:ath10k_pci 0000:01:00.0 iova=0x00000000\(page) flags=0x0001",
            "nvme nvme0: 8/0/0 default/read/poll queues",
            "EXT4-fs (nvme0n1p2): mounted filesystem with ordered data mode",
            "systemd[1]: Started Journal Service.",
        ].map { stamp + $0 }
    }

    public func run(_ output: BenchmarkOutput) {
        var text = ""
        var written = 0, period = 0
        while written < lines {
            for line in Self.period(period).prefix(lines - written) { text += line + "\n" }
            written = min(lines, written + 16)
            period += 1
        }
        let bytes = Array(text.utf8)
        let start = ContinuousClock.now
        var reader = FaultLogReader(file: "bench")
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + (1 << 20))
            reader.feed(bytes[offset..<end])
            offset = end
        }
        let result = reader.finish()
        let elapsed = max(seconds(ContinuousClock.now - start), 1e-9)
        output("faults.read.lines: \(lines) lines")
        output("faults.read.records: \(result.records.count) records")
        output("faults.read.ns_per_line: \(Int(elapsed * 1e9 / Double(lines))) ns")
        output("faults.read.mb_per_s: \(String(format: "%.1f", Double(bytes.count) / elapsed / 1e6)) MB/s")
    }
}
