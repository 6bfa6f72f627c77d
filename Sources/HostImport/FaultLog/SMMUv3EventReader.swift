import IOMMUCore

/// Arm SMMUv3 event-queue records (host-inputs §5.1, `drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c`):
/// the raw block every version prints (`arm_smmu_dump_raw_event()`, `dev_info` before about
/// v6.14: `"event 0x%02x received:\n"` and four `"\t0x%016llx\n"`), decoded from the words,
/// with the v6.14+ `event:` and flags lines (`arm_smmu_dump_event()`) as a cross-check, and
/// the Xen port's `(XEN) SMMUv3: <node>: ` lines.
struct SMMUv3EventReader: FaultLogFormat {
    /// An event whose raw block is still being read, per SMMU (lines are grouped by the unit
    /// they name, never by adjacency).
    private struct OpenEvent {
        var index: Int
        var headerID: UInt8
        var words: [UInt64] = []
    }

    private var open: [String: OpenEvent] = [:]

    /// Event names are the core's (`SMMUv3Event.ID`, every spec id: raw-only logs carry ids
    /// the kernel's `event_str[]` lacks). The ids `event_str[]` names; others print `UNKNOWN`
    /// in the decoded line.
    static let kernelNamed: Set<UInt8> = [0x02, 0x03, 0x04, 0x06, 0x08, 0x09, 0x0a, 0x10, 0x11, 0x12, 0x13, 0x25]
    /// `event_class_str[]`, indexed by w1 CLASS.
    static let classNames = ["CD fetch", "Stage 1 translation table fetch", "Input address caused fault", "Reserved"]
    /// Events whose record carries an input address and the access in w1 (SMMUv3 spec §7.3).
    static let addressed: Set<UInt8> = [0x01, 0x05, 0x07, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x20, 0x24]
    /// Events the decoded line prints `iova:`/`ipa:` for, and `fetch_addr:` for.
    static let printsAddress: Set<UInt8> = [0x10, 0x11, 0x12, 0x13]
    static let printsFetch: Set<UInt8> = [0x03, 0x09, 0x25]
    static let ipaMask: UInt64 = 0x000f_ffff_ffff_f000
    static let fetchMask: UInt64 = 0x000f_ffff_ffff_fff8

    /// The unit and the rest of a line with this driver's prefix (`arm-smmu-v3 <dev>: `, or
    /// the Xen port's `SMMUv3: <dev>: `).
    private func unitPrefix(_ text: Substring) -> (unit: Substring, rest: Substring)? {
        if let prefix = printkDevicePrefix(text, driver: "arm-smmu-v3") { return (prefix.device, prefix.rest) }
        if text.hasPrefix("SMMUv3: ") {
            let after = text.dropFirst(8)
            guard let separator = after.firstRange(of: ": ") else { return nil }
            let unit = after[..<separator.lowerBound]
            guard !unit.isEmpty, !unit.contains(" ") else { return nil }
            return (unit, after[separator.upperBound...])
        }
        return nil
    }

    func opensLine(_ text: Substring) -> Bool { unitPrefix(text) != nil }

    /// A decoded line cut before its last field: `event:` without the fields its event prints,
    /// a flags line without `stag: 0x`.
    func isIncomplete(_ text: Substring) -> Bool {
        guard let (_, rest) = unitPrefix(text) else { return false }
        if rest.hasPrefix("event: ") {
            let words = rest.split(separator: " ")
            guard let last = words.last, parseHexWord(last) != nil, words.count >= 2 else { return true }
            let id = SMMUv3Event.ID.allCases.first { $0.name == words[1] }?.rawValue
            let lastKey = id.map { Self.printsAddress.contains($0) ? "ipa:" : Self.printsFetch.contains($0) ? "fetch_addr:" : "ssid:" } ?? "ssid:"
            return words[words.count - 2] != lastKey
        }
        if rest.hasPrefix("priv ") || rest.hasPrefix("unpriv ") {
            return !(rest.split(separator: " ").suffix(2).first == "stag:" && parseHexWord(rest.split(separator: " ").last ?? "") != nil)
        }
        return false
    }

    mutating func read(_ line: LogLine, into log: inout FaultAssembly) -> LineUse? {
        guard let (unitName, rest) = unitPrefix(Substring(line.text)) else { return nil }
        let unit = String(unitName)
        let words = rest.split(separator: " ")
        if words.count == 3, words[0] == "event", words[2] == "received:" {
            guard let id = parseHexWord(words[1]), id <= 0xff else { return .malformed("SMMUv3 event header without an id") }
            close(unit, into: &log)
            var record = FaultRecord(sourceLine: line.sourceLine, architecture: .armSMMUv3,
                                     reason: SMMUv3Event.ID(rawValue: UInt8(id))?.name ?? "UNKNOWN")
            record.iommu = unit
            record.timestamp = line.timestamp
            open[unit] = OpenEvent(index: log.open(record), headerID: UInt8(id))
            return .event
        }
        if words.count == 1, let word = parseHexWord(words[0]) {
            guard var event = open[unit], event.words.count < 4 else {
                return .malformed("SMMUv3 event word with no event open on \(unit)")
            }
            event.words.append(word)
            open[unit] = event
            if event.words.count == 4 { decode(event, into: &log, line: line.sourceLine) }
            return .event
        }
        if rest.hasPrefix("event: ") { return decodedEvent(rest, unit: unit, line: line, into: &log) }
        if words.first == "priv" || words.first == "unpriv" { return decodedFlags(rest, unit: unit, line: line, into: &log) }
        if rest.hasPrefix("EVTQ overflow detected") {
            log.warn(line: line.sourceLine, "\(unit): event queue overflow, events were lost")
            return .context
        }
        return .context
    }

    mutating func finish(into log: inout FaultAssembly) {
        for unit in open.keys.sorted() { close(unit, into: &log) }
    }

    /// Closes the unit's open event; fewer than four words is a truncated record.
    private mutating func close(_ unit: String, into log: inout FaultAssembly) {
        guard let event = open.removeValue(forKey: unit) else { return }
        if event.words.count < 4 {
            let line = log.records[event.index].sourceLine
            log.warn(line: line, "SMMUv3 event truncated: \(event.words.count) of 4 words")
            decode(event, into: &log, line: line)
        }
    }

    /// Fills the record from the raw words it has (w0 ID/SSV/SSID/SID, w1 STAG/Stall/PnU/InD/RnW/S2/CLASS, w2 address, w3 IPA).
    private func decode(_ event: OpenEvent, into log: inout FaultAssembly, line: Int) {
        var record = log.records[event.index]
        record.raw = event.words
        if event.words.count > 0 {
            let w0 = event.words[0]
            let id = UInt8(w0 & 0xff)
            if id != event.headerID {
                log.warn(line: line, "SMMUv3 event id 0x\(String(id, radix: 16)) in w0 disagrees with the header's 0x\(String(event.headerID, radix: 16))")
            }
            record.sid = UInt32(truncatingIfNeeded: w0 >> 32)
            record.pasid = (w0 >> 11) & 1 == 1 ? UInt32((w0 >> 12) & 0xfffff) : nil
        }
        let id = event.headerID
        if event.words.count > 1, Self.addressed.contains(id) {
            let w1 = event.words[1]
            record.access = (w1 >> 35) & 1 == 1 ? .read : .write
            if SMMUv3Event.ID(rawValue: id)?.isTranslationFault == true {
                record.stage = (w1 >> 39) & 1 == 1 ? 2 : 1
                record.reasonText = Self.classNames[Int((w1 >> 40) & 3)]
            }
        }
        if event.words.count > 2, Self.addressed.contains(id) { record.address = event.words[2] }
        if event.words.count > 3, record.stage == 2 { record.ipa = event.words[3] & Self.ipaMask }
        log.records[event.index] = record
    }

    /// The record a decoded line belongs to: the unit's last event (its raw block is read
    /// first), or a new one from the decoded line alone.
    private func target(_ unit: String, line: LogLine, reason: String, into log: inout FaultAssembly) -> Int {
        if let event = open[unit] { return event.index }
        var record = FaultRecord(sourceLine: line.sourceLine, architecture: .armSMMUv3, reason: reason)
        record.iommu = unit
        record.timestamp = line.timestamp
        return log.open(record)
    }

    /// `event: %s client: %s sid: %#x ssid: %#x[ iova: %#llx ipa: %#llx| fetch_addr: %#llx]`.
    private mutating func decodedEvent(_ rest: Substring, unit: String, line: LogLine, into log: inout FaultAssembly) -> LineUse {
        let words = rest.split(separator: " ")
        guard words.count >= 2 else { return .malformed("SMMUv3 event line without a name") }
        let name = String(words[1])
        var fields: [Substring: Substring] = [:]
        var client: Substring?
        var index = 2
        while index + 1 < words.count {
            let key = words[index]
            if key == "client:" {
                // `(unassigned sid)` is two words.
                if words[index + 1] == "(unassigned", index + 2 < words.count {
                    client = "(unassigned sid)"
                    index += 3
                    continue
                }
                client = words[index + 1]
            } else if key.hasSuffix(":") {
                fields[key.dropLast()] = words[index + 1]
            }
            index += 2
        }
        let recordIndex = target(unit, line: line, reason: name, into: &log)
        var record = log.records[recordIndex]
        if let client, client != "(unassigned sid)" { record.device = logRequester(client) }
        let haveWords = record.raw.count == 4
        func check(_ field: Substring, _ expected: UInt64?) {
            guard let text = fields[field] else { return }
            guard let value = parseHexWord(text) else {
                log.warn(line: line.sourceLine, "SMMUv3 event line: \(field) is not hex")
                return
            }
            if let expected, haveWords, expected != value {
                log.warn(line: line.sourceLine, "SMMUv3 event line: \(field) 0x\(String(value, radix: 16)) disagrees with the raw words (0x\(String(expected, radix: 16)))")
            }
        }
        if haveWords {
            let w0 = record.raw[0]
            let id = UInt8(w0 & 0xff)
            let expectedName = Self.kernelNamed.contains(id) ? (SMMUv3Event.ID(rawValue: id)?.name ?? "UNKNOWN") : "UNKNOWN"
            if name != expectedName {
                log.warn(line: line.sourceLine, "SMMUv3 event line names \(name), the raw words \(expectedName)")
            }
            check("sid", w0 >> 32)
            check("ssid", (w0 >> 11) & 1 == 1 ? (w0 >> 12) & 0xfffff : 0)
            check("iova", record.raw[2])
            check("ipa", record.raw[3] & Self.ipaMask)
            check("fetch_addr", record.raw[3] & Self.fetchMask)
        } else {
            // No raw block: the decoded line is all there is.
            record.reason = name
            if let sid = fields["sid"].flatMap(parseHexWord) { record.sid = UInt32(truncatingIfNeeded: sid) }
            if let ssid = fields["ssid"].flatMap(parseHexWord), ssid != 0 { record.pasid = UInt32(truncatingIfNeeded: ssid) }
            if let iova = fields["iova"].flatMap(parseHexWord) { record.address = iova }
            if let ipa = fields["ipa"].flatMap(parseHexWord), ipa != 0 { record.ipa = ipa }
        }
        log.records[recordIndex] = record
        return .event
    }

    /// `%s %s %s %s "%s"%s%s stag: %#x`: priv/unpriv, inst/data, read/write, s1/s2, the
    /// class string, ` ttd_read`/` ttd_write`, ` stall`.
    private mutating func decodedFlags(_ rest: Substring, unit: String, line: LogLine, into log: inout FaultAssembly) -> LineUse {
        guard let open = rest.firstIndex(of: "\""), let close = rest[rest.index(after: open)...].firstIndex(of: "\"") else {
            return .malformed("SMMUv3 flags line without its class string")
        }
        let head = rest[..<open].split(separator: " ")
        let className = String(rest[rest.index(after: open)..<close])
        let tail = rest[rest.index(after: close)...].split(separator: " ")
        guard head.count == 4 else { return .malformed("SMMUv3 flags line without four flags") }
        guard let recordIndex = log.lastRecent(where: { $0.architecture == .armSMMUv3 && $0.iommu == unit }) else {
            return .malformed("SMMUv3 flags line with no event on \(unit)")
        }
        var record = log.records[recordIndex]
        let read = head[2] == "read"
        let stage = head[3] == "s2" ? 2 : 1
        if record.raw.count >= 2 {
            let w1 = record.raw[1]
            var mismatches: [String] = []
            if (head[0] == "priv") != ((w1 >> 33) & 1 == 1) { mismatches.append("PnU") }
            if (head[1] == "inst") != ((w1 >> 34) & 1 == 1) { mismatches.append("InD") }
            if read != ((w1 >> 35) & 1 == 1) { mismatches.append("RnW") }
            if (stage == 2) != ((w1 >> 39) & 1 == 1) { mismatches.append("S2") }
            if className != Self.classNames[Int((w1 >> 40) & 3)] { mismatches.append("CLASS") }
            if tail.contains("stall") != ((w1 >> 31) & 1 == 1) { mismatches.append("Stall") }
            if tail.contains("ttd_read") && (w1 >> 44) & 1 == 0 || tail.contains("ttd_write") && (w1 >> 44) & 1 == 1 {
                mismatches.append("TT_READ")
            }
            if let stag = tail.last.flatMap(parseHexWord), stag != w1 & 0xffff { mismatches.append("STAG") }
            if !mismatches.isEmpty {
                log.warn(line: line.sourceLine, "SMMUv3 flags line disagrees with w1 in \(mismatches.joined(separator: ", "))")
            }
        } else {
            record.access = read ? .read : .write
            record.stage = stage
            record.reasonText = className
        }
        log.records[recordIndex] = record
        return .event
    }
}
