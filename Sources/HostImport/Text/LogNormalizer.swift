/// Turns pasted or captured log text into logical lines (host-inputs §1, in its order):
/// line ends and mail quoting, quoted-printable when the text clearly is, logger and console
/// prefixes, hard wraps joined to records known to be incomplete, whitespace runs as one
/// space. Elisions, notes and ratelimit notices pass through as lines for the reader to skip;
/// concatenated boots keep input order.
///
/// Input is streamed: `feed` takes chunks of any size, and only one line (and one held,
/// incomplete record) is kept at a time, so a multi-gigabyte log is never read whole.
public struct LogNormalizer<Continuation: LineContinuation> {
    /// A source line longer than this is cut there (with a located warning); the rest of it
    /// up to the next line end is dropped.
    public static var lineLimit: Int { 64 * 1024 }
    /// Hard wraps joined into one record at most; more is not a wrap.
    static var joinLimit: Int { 16 }

    public let file: String
    public let continuation: Continuation
    /// Located complaints: cut lines, joins that never completed.
    public private(set) var warnings: [ImportWarning] = []

    private var pending: [UInt8] = []
    private var cutting = false
    private var lineNumber = 0
    private var sawCarriageReturn = false
    /// A record known to be incomplete, waiting for the next line.
    private var held: LogLine?
    private var joins = 0
    /// Quoted-printable was recognised (a line with `=3D` and only valid escapes).
    private var quotedPrintable = false
    /// A quoted-printable soft break (`=` at the end) joins the next source line.
    private var softBreak: (text: String, line: Int)?

    public init(file: String, continuation: Continuation) {
        self.file = file
        self.continuation = continuation
    }

    /// Splits a chunk into source lines (LF, CRLF or CR-only ends) and emits every logical
    /// line it completes.
    public mutating func feed<C: Collection<UInt8>>(_ chunk: C, emit: (LogLine) -> Void) {
        for byte in chunk {
            if byte == 0x0a {
                if sawCarriageReturn { sawCarriageReturn = false; continue }
                endLine(emit: emit)
            } else if byte == 0x0d {
                endLine(emit: emit)
                sawCarriageReturn = true
            } else {
                sawCarriageReturn = false
                if cutting { continue }
                if pending.count >= Self.lineLimit {
                    warnings.append(ImportWarning(file: file, line: lineNumber + 1,
                                                  reason: "line longer than \(Self.lineLimit) bytes: cut there"))
                    cutting = true
                    continue
                }
                pending.append(byte)
            }
        }
    }

    /// Ends the input: a last line without a line end, and a held record, are emitted.
    public mutating func finish(emit: (LogLine) -> Void) {
        if !pending.isEmpty || cutting { endLine(emit: emit) }
        if let soft = softBreak {
            softBreak = nil
            logical(soft.text, sourceLine: soft.line, emit: emit)
        }
        if let line = held {
            held = nil
            emit(line)
        }
    }

    private mutating func endLine(emit: (LogLine) -> Void) {
        lineNumber += 1
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll(keepingCapacity: true)
        cutting = false
        source(text, emit: emit)
    }

    /// Step 1: quoting and quoted-printable; a soft break holds the line for the next one.
    private mutating func source(_ raw: String, emit: (LogLine) -> Void) {
        var text = mailUnquoted(Substring(raw))
        if text.lowercased().hasPrefix("content-transfer-encoding: quoted-printable") { quotedPrintable = true }
        let decoded = decodeQuotedPrintable(text)
        if let decoded { text = decoded.text }
        if let soft = softBreak {
            // The line a soft break continues joins it, whatever it holds.
            softBreak = nil
            text = Substring(soft.text + text)
            if decoded?.softBreak == true, text.utf8.count < Self.lineLimit {
                softBreak = (String(text), soft.line)
                return
            }
            logical(String(text), sourceLine: soft.line, emit: emit)
            return
        }
        if decoded?.softBreak == true {
            softBreak = (String(text), lineNumber)
            return
        }
        logical(String(text), sourceLine: lineNumber, emit: emit)
    }

    /// Steps 2–4: prefixes, whitespace runs, and the join of a hard wrap.
    private mutating func logical(_ text: String, sourceLine: Int, emit: (LogLine) -> Void) {
        let stripped = LogPrefix.strip(Substring(text))
        let body = Self.collapsedWhitespace(stripped.rest)
        if body.isEmpty {
            if let line = held { held = nil; emit(line) }
            return
        }
        if var line = held {
            let joinable = !stripped.hadLogPrefix && !continuation.opensLine(Substring(body))
                && joins < Self.joinLimit && line.text.utf8.count + body.utf8.count < Self.lineLimit
            if joinable {
                line.text += " " + body
                line.lastSourceLine = sourceLine
                joins += 1
                if continuation.isIncomplete(Substring(line.text)) {
                    held = line
                } else {
                    held = nil
                    emit(line)
                }
                return
            }
            held = nil
            emit(line)
        }
        let line = LogLine(text: body, sourceLine: sourceLine, timestamp: stripped.timestamp, hadLogPrefix: stripped.hadLogPrefix)
        if continuation.isIncomplete(Substring(body)) {
            held = line
            joins = 0
        } else {
            emit(line)
        }
    }

    /// Quoted-printable only when the text clearly is: a mail header says so, or a line whose
    /// every `=` starts a valid escape (or is the soft break at its end) has an encoded `=`,
    /// tab or space or a soft break at the column limit; after that, every line whose `=`
    /// are all valid escapes. `=` is ordinary in these formats
    /// (`domain=0x000d`), so nothing else is decoded.
    private mutating func decodeQuotedPrintable(_ text: Substring) -> (text: Substring, softBreak: Bool)? {
        guard text.contains("=") else { return nil }
        let bytes = Array(text.utf8)
        func qpDigit(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var index = 0
        var valid = true
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "=") {
                if index == bytes.count - 1 { break }
                guard index + 2 < bytes.count, qpDigit(bytes[index + 1]) != nil, qpDigit(bytes[index + 2]) != nil else {
                    valid = false
                    break
                }
                index += 3
            } else {
                index += 1
            }
        }
        guard valid else { return nil }
        // Evidence: an encoded `=`, tab or space, or a soft break at the 76-column limit of
        // RFC 2045 §6.7 (encoders break between 70 and 76 columns).
        let evidence = text.contains("=3D") || text.contains("=09") || text.contains("=20")
            || (text.last == "=" && (70...76).contains(bytes.count))
        guard quotedPrintable || evidence else { return nil }
        quotedPrintable = true
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var softBreak = false
        index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 2 < bytes.count,
               let high = qpDigit(bytes[index + 1]), let low = qpDigit(bytes[index + 2]) {
                decoded.append(high << 4 | low)
                index += 3
            } else if bytes[index] == UInt8(ascii: "="), index == bytes.count - 1 {
                softBreak = true
                index += 1
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return (Substring(String(decoding: decoded, as: UTF8.self)), softBreak)
    }

    /// Runs of spaces and tabs (and stray control whitespace) as one space, trimmed.
    static func collapsedWhitespace(_ text: Substring) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var space = false
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\u{0b}" || scalar == "\u{0c}" || scalar == "\u{a0}" {
                space = !result.isEmpty
            } else {
                if space { result.unicodeScalars.append(" ") }
                space = false
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
