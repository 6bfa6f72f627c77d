/// A line of a sysfs or debugfs file as people paste it (host-inputs §1): CRLF, mail quoting
/// (`> `, `> > `) and `[ 12.345678] ` prefixes dropped, fields split on runs of whitespace
/// (the kernel prints real tabs; copies expand them). Every host file reader reads its text
/// through it.
struct PastedLine {
    /// 1-based.
    var number: Int
    var tokens: [Substring]

    /// Not more lines than a debugfs file of 256 units of 256 buses could print.
    static let maximumLines = 1 << 20
    /// No printed row has more fields; a longer line is not one of them.
    static let maximumTokens = 64

    static func split(_ text: String) -> [PastedLine] {
        var lines: [PastedLine] = []
        // "\r\n" is one Character in Swift: split on it too.
        let raw = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in raw.prefix(maximumLines).enumerated() {
            let line = mailUnquoted(raw[...])
            var tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
            // `[ 1234.567890] ` (the seconds may be space-padded into their own field).
            if let first = tokens.first, first.hasPrefix("[") {
                var stamp = ""
                var taken = 0
                for token in tokens.prefix(2) {
                    stamp += token
                    taken += 1
                    if token.hasSuffix("]") { break }
                }
                let inner = stamp.dropFirst().dropLast()
                if stamp.hasSuffix("]"), inner.contains("."), inner.contains(where: \.isNumber), inner.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
                    tokens.removeFirst(taken)
                }
            }
            if tokens.count > maximumTokens { tokens = Array(tokens.prefix(maximumTokens)) }
            lines.append(PastedLine(number: index + 1, tokens: tokens))
        }
        return lines
    }

    var isBlank: Bool { tokens.isEmpty }

    /// `[...]`, `...`, `.......`: rows left out by whoever pasted the text.
    var isElision: Bool {
        guard tokens.count == 1, let token = tokens.first else { return false }
        let inner = token.hasPrefix("[") && token.hasSuffix("]") ? token.dropFirst().dropLast() : token
        return inner.count >= 3 && inner.allSatisfy { $0 == "." || $0 == "\u{2026}" }
    }

    /// Whether the tokens are exactly `words` (case-sensitive, as printed).
    func starts(with words: [String]) -> Bool {
        tokens.count >= words.count && zip(tokens, words).allSatisfy { $0 == $1 }
    }

    /// The line rebuilt (fields joined by one space).
    var text: String { tokens.joined(separator: " ") }
    /// The line for a message, bounded (and escaped where it is printed).
    var excerpt: String { String(text.prefix(120)) }

    /// A shell prompt pasted with the output (`$ cat ...`, `root@host:~# ...`).
    var isPrompt: Bool { tokens.first.map { $0.hasSuffix("$") || $0.hasSuffix("#") } ?? false }

    /// The file's rows, as a person may have pasted them: blank lines, prompts and elisions
    /// left out, and a row `joiningWhile` calls short takes the next line's tokens (a row
    /// wrapped by a mail client or by hand), unless that line starts a row of its own.
    static func rows(_ text: String, joiningWhile isShort: ([Substring]) -> Bool = { _ in false },
                     rowStart: ([Substring]) -> Bool = { _ in false }) -> [PastedLine] {
        var result: [PastedLine] = []
        for line in split(text) where !line.isBlank && !line.isPrompt && !line.isElision {
            if let last = result.last, isShort(last.tokens), !rowStart(line.tokens) {
                result[result.count - 1].tokens += line.tokens
                continue
            }
            result.append(line)
        }
        return result
    }
}

/// The text without mail quoting: any run of `>` marks, each optionally followed by a space
/// (`> `, `>> `, `> > `); indentation after the marks is kept.
func mailUnquoted(_ text: Substring) -> Substring {
    var rest = text
    while true {
        let trimmed = rest.drop { $0 == " " || $0 == "\t" }
        guard trimmed.first == ">" else { return rest }
        rest = trimmed.dropFirst()
        if rest.first == " " { rest = rest.dropFirst() }
    }
}
