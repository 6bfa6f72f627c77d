import Testing
import TestSupport
@testable import HostImport

/// Seeded random input over every reader: nothing traps, every warning is located inside
/// the input, and chunking never changes what is read.
@Suite struct FaultLogFuzzTests {
    static func lineCount(_ bytes: [UInt8]) -> Int { bytes.reduce(1) { $0 + ($1 == 0x0a || $1 == 0x0d ? 1 : 0) } }

    static func checkLocated(_ result: FaultLogReader.Result, lines: Int) {
        for warning in result.warnings + result.notUnderstood {
            if let line = warning.line { #expect((1...lines).contains(line), "\(warning)") }
        }
        for record in result.records { #expect((1...lines).contains(record.sourceLine)) }
    }

    static func read(_ bytes: [UInt8], chunk: Int) -> FaultLogReader.Result {
        var reader = FaultLogReader(file: "fuzz")
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            reader.feed(bytes[start..<end])
            start = end
        }
        return reader.finish()
    }

    @Test func randomBytes() {
        var random = SplitMix64(seed: 0x9_fa17)
        for _ in 0..<60 {
            let bytes = (0..<random.below(1500)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            Self.checkLocated(FaultLogReader.read(String(decoding: bytes, as: UTF8.self)), lines: Self.lineCount(bytes) + 1)
            _ = Self.read(bytes, chunk: 1 + random.below(64))
        }
    }

    /// Every sample cut at random bytes, and in random-size chunks: the same records as whole.
    @Test(arguments: FaultLogSamples.names)
    func truncatedAndChunked(_ name: String) {
        var random = SplitMix64(seed: UInt64(name.utf8.count) &* 7919)
        let bytes = Array(FaultLogSamples.text(name).utf8)
        let whole = FaultLogReader.read(FaultLogSamples.text(name), file: "fuzz")
        for _ in 0..<20 {
            let chunked = Self.read(bytes, chunk: 1 + random.below(40))
            #expect("\(chunked.records)" == "\(whole.records)")
            #expect(chunked.warnings == whole.warnings)
            let cut = Array(bytes.prefix(random.below(bytes.count + 1)))
            Self.checkLocated(Self.read(cut, chunk: 4096), lines: Self.lineCount(cut) + 1)
        }
    }

    /// Lines of the samples mutated: hex digits, numbers and brackets replaced, words
    /// dropped or doubled, control bytes and huge numbers put in.
    @Test func mutatedSampleLines() {
        var random = SplitMix64(seed: 0x5eed_f4)
        let pool = FaultLogSamples.names.flatMap(FaultLogSamples.lines)
        let inserts = ["0xffffffffffffffffff", "99999999999999999999", "]", "[", "=", "\u{1b}[2J", "\0", "-1", "0x", ":", "  ", "\t", "\u{202e}"]
        for _ in 0..<300 {
            var lines: [String] = []
            for _ in 0..<(1 + random.below(12)) {
                var words = random.pick(pool).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                for _ in 0..<random.below(4) where !words.isEmpty {
                    let at = random.below(words.count)
                    switch random.below(4) {
                    case 0: words[at] = random.pick(inserts)
                    case 1: words.remove(at: at)
                    case 2: words.insert(words[at], at: at)
                    default: words[at] = String(words[at].prefix(random.below(words[at].count + 1)))
                    }
                }
                lines.append(words.joined(separator: " "))
            }
            let result = FaultLogReader.read(lines.joined(separator: "\n"))
            Self.checkLocated(result, lines: lines.count + 1)
            for record in result.records {
                _ = record.jsonLine
                #expect(!FaultSummary.describe(record).unicodeScalars.contains { $0.value == 0x1b })
            }
        }
    }
}

/// The normaliser on its own: the damage of host-inputs §1, one form at a time.
@Suite struct LogNormalizerTests {
    static func lines(_ text: String, continuation: some LineContinuation = NoContinuation()) -> (lines: [LogLine], warnings: [ImportWarning]) {
        var normalizer = LogNormalizer(file: "n", continuation: continuation)
        var lines: [LogLine] = []
        normalizer.feed(Array(text.utf8)) { lines.append($0) }
        normalizer.finish { lines.append($0) }
        return (lines, normalizer.warnings)
    }

    @Test func prefixesAndTimestamps() {
        let cases: [(String, String, Double?)] = [
            ("[ 1234.567890] DMAR: x", "DMAR: x", 1234.56789),
            ("[    0.000000] [    T1] Linux version", "Linux version", 0),
            ("<6>[   12.5] a  b\tc", "a b c", 12.5),
            ("Dec  1 10:00:00 host kernel: [ 5.000001] AMD-Vi: y", "AMD-Vi: y", 5.000001),
            ("Dec 01 10:00:00 host kernel[0]: z", "z", nil),
            ("myhost kernel: z", "z", nil),
            ("(XEN) [ 77.1] SMMUv3: w", "SMMUv3: w", 77.1),
            ("[2024-12-01 10:00:00.123] [ 3.25] v", "v", 3.25),
            ("[root@bdy-g98 ~]# [   35.467110] vdd_gpu_s0: disabling", "vdd_gpu_s0: disabling", 35.46711),
            ("user@host:~$ [ 1.5] m", "m", 1.5),
            (" DMAR: commit copy", "DMAR: commit copy", nil),
            ("> > >> [ 2.0] quoted", "quoted", 2.0),
            ("[...]", "[...]", nil),
        ]
        for (input, text, timestamp) in cases {
            let line = Self.lines(input).lines.first
            #expect(line?.text == text, "\(input)")
            #expect(line?.timestamp == timestamp, "\(input)")
        }
        #expect(Self.lines("Dec  1 10:00:00 host systemd[1]: Started").lines.first?.text == "Dec 1 10:00:00 host systemd[1]: Started")
    }

    @Test func lineEndsAndNumbers() {
        let result = Self.lines("a\r\nb\rc\n\nd")
        #expect(result.lines.map(\.text) == ["a", "b", "c", "d"])
        #expect(result.lines.map(\.sourceLine) == [1, 2, 3, 5])
    }

    @Test func longLineIsCutWithAWarning() {
        let limit = LogNormalizer<NoContinuation>.lineLimit
        let result = Self.lines("first\n" + String(repeating: "x", count: limit + 10) + "\nlast")
        #expect(result.lines.map(\.text.count) == [5, limit, 4])
        #expect(result.warnings.map(\.line) == [2])
    }

    /// A record known incomplete takes the next unprefixed line; a prefixed one never.
    @Test func hardWrapJoin() {
        struct Open: LineContinuation {
            func isIncomplete(_ text: Substring) -> Bool { text.hasPrefix("open") && !text.hasSuffix("end") }
            func opensLine(_ text: Substring) -> Bool { text.hasPrefix("open") }
        }
        let result = Self.lines("[ 1.0] open a \n   b\n c end\n[ 2.0] open x\n[ 3.0] y\nopen p\nopen q end", continuation: Open())
        #expect(result.lines.map(\.text) == ["open a b c end", "open x", "y", "open p", "open q end"])
        #expect(result.lines.first?.lastSourceLine == 3)
        #expect(result.lines.first?.timestamp == 1.0)
    }

    @Test func quotedPrintableOnlyWhenClear() {
        #expect(Self.lines("AMD-Vi: Event logged [IO_PAGE_FAULT device=00:14.0 domain=0x0003]").lines.first?.text
            == "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:14.0 domain=0x0003]")
        #expect(Self.lines("Content-Transfer-Encoding: quoted-printable\nflags=3D0x0070 a=\nb").lines.map(\.text)
            == ["Content-Transfer-Encoding: quoted-printable", "flags=0x0070 ab"])
    }
}
