/// The prefixes that loggers, consoles and people put before a printk's own text
/// (host-inputs §1 step 2), and the printk timestamp some of them carry.
enum LogPrefix {
    /// What stripping found before the printk's text.
    struct Stripped {
        var rest: Substring
        var timestamp: Double?
        /// A kernel-log prefix (timestamp, syslog/journal header, `kernel:`) was present.
        var hadLogPrefix: Bool
    }

    /// Strips any mix of prefixes, outermost first, until none is left: a printk level
    /// `<3>`, the syslog header `Dec  1 10:00:00 host ` (and the ISO one journalctl's
    /// `-o short-iso` prints), `host kernel: `, `kernel: `, the printk time `[ 1234.567890] `
    /// (seconds space-padded by `print_time()` in kernel/printk/printk.c), the caller id
    /// `[T123] `/`[C1] ` (CONFIG_PRINTK_CALLER), `(XEN) `, a serial logger's wall clock
    /// `[2024-12-01 10:00:00.123] `, and a shell prompt glued before a printk time.
    static func strip(_ line: Substring) -> Stripped {
        var rest = trimmedFront(line)
        var timestamp: Double?
        var hadLogPrefix = false
        rest = droppingGluedPrompt(rest)
        for _ in 0..<12 {
            if let after = printkLevel(rest) {
                rest = after
            } else if let (seconds, after) = printkTime(rest) {
                timestamp = seconds
                hadLogPrefix = true
                rest = after
            } else if let after = callerID(rest) {
                rest = after
            } else if let after = syslogHeader(rest) {
                hadLogPrefix = true
                rest = after
            } else if let after = kernelTag(rest) {
                hadLogPrefix = true
                rest = after
            } else if rest.hasPrefix("(XEN) ") || rest == "(XEN)" {
                hadLogPrefix = true
                rest = rest.dropFirst(5)
            } else if let after = wallClock(rest) {
                hadLogPrefix = true
                rest = after
            } else {
                break
            }
            rest = trimmedFront(rest)
        }
        return Stripped(rest: rest, timestamp: timestamp, hadLogPrefix: hadLogPrefix)
    }

    static func trimmedFront(_ text: Substring) -> Substring {
        text.drop { $0 == " " || $0 == "\t" }
    }

    /// `[root@bdy-g98 ~]# [   35.467110] ...`: a prompt ending in `# `, `$ ` or `% ` glued
    /// before the first printk time.
    static func droppingGluedPrompt(_ text: Substring) -> Substring {
        var search = text.dropFirst()
        while let open = search.firstIndex(of: "[") {
            let before = text[..<open].reversed().drop { $0 == " " }
            if let mark = before.first, mark == "#" || mark == "$" || mark == "%", printkTime(text[open...]) != nil {
                return text[open...]
            }
            search = text[text.index(after: open)...]
        }
        return text
    }

    /// `<N>` with N 0..7 (and the facility-encoded values `/dev/kmsg` readers print).
    static func printkLevel(_ text: Substring) -> Substring? {
        guard text.first == "<", let close = text.firstIndex(of: ">") else { return nil }
        let digits = text[text.index(after: text.startIndex)..<close]
        guard (1...3).contains(digits.count), digits.allSatisfy(\.isLogDecimalDigit) else { return nil }
        return text[text.index(after: close)...]
    }

    /// `[ 1234.567890]`: `[`, spaces, seconds, `.`, microseconds (or nanoseconds), `]`.
    static func printkTime(_ text: Substring) -> (Double, Substring)? {
        guard text.first == "[", let close = text.firstIndex(of: "]") else { return nil }
        let inside = text[text.index(after: text.startIndex)..<close].drop { $0 == " " }
        let parts = inside.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...12).contains(parts[0].count), (1...9).contains(parts[1].count),
              parts[0].allSatisfy(\.isLogDecimalDigit), parts[1].allSatisfy(\.isLogDecimalDigit),
              let seconds = Double(inside) else { return nil }
        return (seconds, text[text.index(after: close)...])
    }

    /// `[T123]` or `[C1]` (printk caller id).
    static func callerID(_ text: Substring) -> Substring? {
        guard text.first == "[", let close = text.firstIndex(of: "]") else { return nil }
        let inside = text[text.index(after: text.startIndex)..<close].drop { $0 == " " }
        guard let kind = inside.first, kind == "T" || kind == "C", (2...8).contains(inside.count),
              inside.dropFirst().allSatisfy(\.isLogDecimalDigit) else { return nil }
        return text[text.index(after: close)...]
    }

    /// `[2024-12-01 10:00:00.123]` or `[10:00:00]`: a serial console logger's clock
    /// (digits, `-`, `:`, `.`, `,`, `T` and spaces, with at least one `:`).
    static func wallClock(_ text: Substring) -> Substring? {
        guard text.first == "[", let close = text.firstIndex(of: "]") else { return nil }
        let inside = text[text.index(after: text.startIndex)..<close]
        guard inside.contains(":"), (5...40).contains(inside.count),
              inside.allSatisfy({ $0.isLogDecimalDigit || "-:.,T +".contains($0) }) else { return nil }
        return text[text.index(after: close)...]
    }

    private static let months: Set<Substring> = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Dec  1 10:00:00 host ` (RFC 3164 syslog, `journalctl` short) or
    /// `2024-12-01T10:00:00+0100 host ` (`journalctl -o short-iso`), followed by a tag
    /// that `kernelTag` strips.
    static func syslogHeader(_ text: Substring) -> Substring? {
        let words = text.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
        if words.count >= 4, months.contains(words[0]), (1...2).contains(words[1].count), words[1].allSatisfy(\.isLogDecimalDigit),
           isClock(words[2]), kernelTag(words[3...].restOfLine(in: text)) != nil {
            return words[3...].restOfLine(in: text)
        }
        if words.count >= 2, let first = words.first, first.count >= 19, first.contains("T"),
           first.prefix(4).allSatisfy(\.isLogDecimalDigit), isClock(first.split(separator: "T").dropFirst().first?.prefix(8) ?? ""),
           kernelTag(words[1...].restOfLine(in: text)) != nil {
            return words[1...].restOfLine(in: text)
        }
        return nil
    }

    private static func isClock(_ word: Substring) -> Bool {
        let parts = word.prefix(8).split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isLogDecimalDigit) }
    }

    /// `kernel: `, `kernel[0]: ` or `host kernel: ` (a syslog tag with the host before it).
    static func kernelTag(_ text: Substring) -> Substring? {
        func tag(_ word: Substring) -> Bool {
            word == "kernel:" || (word.hasPrefix("kernel[") && word.hasSuffix("]:"))
        }
        let words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        if let first = words.first, tag(first) { return words.count > 1 ? words[1...].restOfLine(in: text) : "" }
        if words.count >= 2, tag(words[1]), !words[0].hasSuffix(":") {
            return words.count > 2 ? words[2...].restOfLine(in: text) : ""
        }
        return nil
    }
}

extension ArraySlice where Element == Substring {
    /// The text from this slice's first word to the end of `whole` (the words are slices of it).
    func restOfLine(in whole: Substring) -> Substring {
        guard let first else { return whole[whole.endIndex...] }
        return whole[first.startIndex...]
    }
}

extension Character {
    var isLogDecimalDigit: Bool { isASCII && isNumber }
}
