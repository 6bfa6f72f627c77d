import Testing
import TestSupport
@testable import HostImport

/// Copies of the samples damaged as people paste them (host-inputs §1): each must read to
/// the same records as the sample itself.
@Suite struct FaultLogMangledTests {
    static let withFaults = FaultLogSamples.names.filter { !$0.hasPrefix("dmesg-") }

    /// What must survive any damage: every field but the source line.
    static func fields(_ records: [FaultRecord], timestamps: Bool = true) -> [String] {
        records.map { record in
            var copy = record
            copy.sourceLine = 0
            if !timestamps { copy.timestamp = nil }
            return "\(copy)"
        }
    }

    static func check(_ name: String, _ mangled: String, timestamps: Bool = true, sameLines: Bool = true) {
        let original = FaultLogSamples.read(name)
        let result = FaultLogReader.read(mangled, file: name)
        #expect(Self.fields(result.records, timestamps: timestamps) == Self.fields(original.records, timestamps: timestamps), "\(name)")
        #expect(result.warnings.count == original.warnings.count, "\(name): \(result.warnings)")
        if sameLines { #expect(result.records.map(\.sourceLine) == original.records.map(\.sourceLine), "\(name)") }
    }

    /// The hand-made breaks of the ipu3 and commit-message samples: indented continuations,
    /// which a logger never prefixes and no other line comes between.
    static func isContinuation(_ line: String) -> Bool { line.hasPrefix("      ") }

    @Test(arguments: ["> ", ">> ", "> > ", ">"], withFaults)
    func mailQuoting(_ quote: String, _ name: String) {
        Self.check(name, FaultLogSamples.lines(name).map { quote + $0 }.joined(separator: "\n"))
    }

    @Test(arguments: withFaults)
    func crlf(_ name: String) {
        Self.check(name, FaultLogSamples.lines(name).joined(separator: "\r\n") + "\r\n")
    }

    /// Tabs expanded to the next 8-column stop, as docs and mail do.
    @Test(arguments: withFaults)
    func tabsExpanded(_ name: String) {
        let expanded = FaultLogSamples.lines(name).map { line -> String in
            var out = ""
            for character in line {
                if character == "\t" { out += String(repeating: " ", count: 8 - out.count % 8) } else { out.append(character) }
            }
            return out
        }
        Self.check(name, expanded.joined(separator: "\n"))
    }

    /// Hard wraps at 72 columns at word breaks, with and without format=flowed's trailing
    /// space and an indent on the continuation.
    @Test(arguments: [("", ""), (" ", ""), ("", "    ")], withFaults)
    func wrappedAt72(_ style: (trailing: String, indent: String), _ name: String) {
        var out: [String] = []
        for line in FaultLogSamples.lines(name) {
            var rest = Substring(line)
            while rest.count > 72 {
                let window = rest.prefix(72)
                guard let space = window.lastIndex(of: " "), space > rest.startIndex else { break }
                out.append(String(rest[..<space]) + style.trailing)
                rest = rest[rest.index(after: space)...]
                if !rest.isEmpty { rest = Substring(style.indent) + rest }
            }
            out.append(String(rest))
        }
        Self.check(name, out.joined(separator: "\n"), sameLines: false)
    }

    /// Syslog, journal and serial-console prefixes before the printk time (or instead of it).
    @Test(arguments: ["Dec  1 10:00:00 host kernel: ", "Dec 01 10:00:00 host kernel: ", "2024-12-01T10:00:00+0100 host kernel: ",
                      "host kernel: ", "kernel: ", "<3>", "[2024-12-01 10:00:00.123] ", "(XEN) "], withFaults)
    func prefixes(_ prefix: String, _ name: String) {
        Self.check(name, FaultLogSamples.lines(name).map { Self.isContinuation($0) ? $0 : prefix + $0 }.joined(separator: "\n"))
    }

    /// A different prefix (or none) on each line, drawn from a seeded generator, with quoting.
    @Test(arguments: withFaults)
    func prefixMix(_ name: String) {
        var random = SplitMix64(seed: UInt64(name.utf8.count))
        let prefixes = ["", "kernel: ", "Dec  1 10:00:00 host kernel: ", "<4>", "> ", "> kernel: ", "host kernel: "]
        let lines = FaultLogSamples.lines(name).map { Self.isContinuation($0) ? $0 : random.pick(prefixes) + $0 }
        Self.check(name, lines.joined(separator: "\n"))
    }

    /// Timestamps dropped (commit-message copies keep one leading space).
    @Test(arguments: withFaults)
    func timestampsDropped(_ name: String) {
        let lines = FaultLogSamples.lines(name).map { line -> String in
            var text = Substring(line)
            if text.hasPrefix("kernel: ") { text = text.dropFirst(8) }
            guard text.first == "[", let close = text.firstIndex(of: "]") else { return line }
            return " " + text[text.index(after: close)...].drop { $0 == " " }
        }
        Self.check(name, lines.joined(separator: "\n"), timestamps: false)
    }

    /// Lines of other drivers between every line of the samples change nothing.
    @Test(arguments: withFaults)
    func interleavedWithOtherDrivers(_ name: String) {
        var out: [String] = []
        for line in FaultLogSamples.lines(name) {
            if !Self.isContinuation(line) { out.append("[    9.999999] r8169 0000:03:00.0 eth0: Link is Up - 1Gbps/Full - flow control rx/tx") }
            out.append(line)
        }
        let original = FaultLogSamples.read(name)
        let result = FaultLogReader.read(out.joined(separator: "\n"), file: name)
        #expect(Self.fields(result.records) == Self.fields(original.records), "\(name)")
        #expect(result.notUnderstood.isEmpty)
    }

    /// Quoted-printable mail: `=3D` for `=`, soft breaks at 76 columns.
    @Test(arguments: withFaults)
    func quotedPrintable(_ name: String) {
        var out: [String] = []
        for line in FaultLogSamples.lines(name) {
            var encoded = line.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: "\t", with: "=09")
            while encoded.count > 75 {
                var cut = encoded.index(encoded.startIndex, offsetBy: 75)
                // Never inside an escape.
                while encoded[encoded.index(cut, offsetBy: -1)] == "=" || encoded[encoded.index(cut, offsetBy: -2)] == "=" { cut = encoded.index(before: cut) }
                out.append(String(encoded[..<cut]) + "=")
                encoded = String(encoded[cut...])
            }
            out.append(encoded)
        }
        Self.check(name, out.joined(separator: "\n"), sameLines: false)
    }

    /// Two SMMUv3 samples' events interleaved: grouped by unit, each decoded as alone.
    @Test func twoUnitsInterleaved() {
        let a = FaultLogSamples.lines("arm-smmu-v3-decoded-rk3588-r8125"), b = FaultLogSamples.lines("arm-smmu-v3-raw-hns3-hip08-2021")
        var mixed: [String] = []
        for index in 0..<max(a.count, b.count) {
            if index < a.count { mixed.append(a[index]) }
            if index < b.count { mixed.append(b[index]) }
        }
        let result = FaultLogReader.read(mixed.joined(separator: "\n"))
        let expected = FaultLogSamples.read("arm-smmu-v3-decoded-rk3588-r8125").records + FaultLogSamples.read("arm-smmu-v3-raw-hns3-hip08-2021").records
        #expect(Set(Self.fields(result.records)) == Set(Self.fields(expected)))
        #expect(result.records.count == 8)
        #expect(result.warnings.count == 1)
    }

    /// A record cut by the end of input gives a located warning (SMMUv3 mid-block, AMD-Vi split).
    @Test func truncatedRecords() {
        let smmu = FaultLogSamples.lines("arm-smmu-v3-decoded-rk3588-r8125").prefix(8).joined(separator: "\n")
        let cut = FaultLogReader.read(smmu)
        #expect(cut.records.count == 1)
        #expect(cut.warnings.map(\.line) == [6])
        let amd = FaultLogSamples.lines("amd-vi-old-split-line-format-apu2").prefix(3).joined(separator: "\n")
        let half = FaultLogReader.read(amd)
        #expect(half.records.count == 1)
        #expect(half.warnings.map(\.line) == [3])
        let dmar = "DMAR: [DMA Read NO_PASID] Request device [2f:00.1] fault addr 0x7ebb0000 [fault"
        let line = FaultLogReader.read(dmar)
        #expect(line.records.isEmpty)
        #expect(line.warnings.map(\.line) == [1])
    }
}
