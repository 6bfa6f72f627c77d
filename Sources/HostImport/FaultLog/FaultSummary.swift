import IOMMUCore
import Presentation

/// The human summary of `iommuscope faults`: one line per group of repeated faults (the
/// same unit, device, page and reason), in the order each group first appears, with the
/// count, the source lines and the time span. Every logged string is escaped for a terminal.
public struct FaultSummary {
    public struct Group {
        public var first: FaultRecord
        public var count: Int
        public var lastLine: Int
        public var firstTime: Double?
        public var lastTime: Double?
    }

    public private(set) var groups: [Group] = []

    public init(_ records: [FaultRecord]) {
        var index: [Key: Int] = [:]
        for record in records {
            let key = Key(record)
            if let at = index[key] {
                groups[at].count += 1
                groups[at].lastLine = record.sourceLine
                if let time = record.timestamp {
                    groups[at].firstTime = min(groups[at].firstTime ?? time, time)
                    groups[at].lastTime = max(groups[at].lastTime ?? time, time)
                }
            } else {
                index[key] = groups.count
                groups.append(Group(first: record, count: 1, lastLine: record.sourceLine, firstTime: record.timestamp, lastTime: record.timestamp))
            }
        }
    }

    /// What makes faults "the same": unit, device, 4 KiB page, reason, access.
    private struct Key: Hashable {
        var architecture: FaultRecord.Architecture
        var iommu: String?
        var device: FaultRecord.Requester?
        var sid: UInt32?
        var page: UInt64?
        var reason: String
        var access: FaultRecord.Access?
        init(_ record: FaultRecord) {
            architecture = record.architecture
            iommu = record.iommu
            device = record.device
            sid = record.sid
            page = record.address.map { $0 >> 12 }
            reason = record.reason
            access = record.access
        }
    }

    /// The summary's lines, one per group (with the first record's VT-d table dump), and a total.
    public var lines: [String] {
        // A group's first table dump follows its line: the walk the kernel printed.
        var lines = groups.flatMap { [Self.line($0)] + $0.first.tableDump.map { "        " + $0.description } }
        let total = groups.reduce(0) { $0 + $1.count }
        lines.append("\(total) \(total == 1 ? "fault" : "faults") in \(groups.count) \(groups.count == 1 ? "group" : "groups")")
        return lines
    }

    static func line(_ group: Group) -> String {
        var text = group.count == 1 ? "      " : "\(group.count)x".leftPadded(5) + " "
        text += Self.describe(group.first, page: group.count > 1)
        text += group.count == 1 ? "  (line \(group.first.sourceLine)" : "  (lines \(group.first.sourceLine)-\(group.lastLine)"
        if let first = group.firstTime, let last = group.lastTime {
            text += first == last ? ", at \(Self.seconds(first))" : ", \(Self.seconds(first)) to \(Self.seconds(last))"
        }
        return text + ")"
    }

    /// One record in words: `amd-vi ivhd0 0000:01:00.0 IO_PAGE_FAULT write 0xcff49550 flags 0x70 (PR RW PE)`.
    public static func describe(_ record: FaultRecord, page: Bool = false) -> String {
        var words = [record.architecture.rawValue]
        if let iommu = record.iommu { words.append(terminalSafe(iommu)) }
        if let device = record.device { words.append(terminalSafe(device.description)) }
        if let sid = record.sid { words.append("sid 0x" + String(sid, radix: 16)) }
        if let pasid = record.pasid { words.append("pasid \(pasid)") }
        words.append(terminalSafe(record.reason))
        if let access = record.access { words.append(access.rawValue) }
        if let address = record.address {
            words.append(page ? "page 0x" + String(address & ~0xfff, radix: 16) : "0x" + String(address, radix: 16))
        }
        if let ipa = record.ipa { words.append("ipa 0x" + String(ipa, radix: 16)) }
        if let stage = record.stage { words.append("stage \(stage)") }
        if let flags = record.flags {
            var flagText = "flags 0x" + String(flags, radix: 16)
            let names = AMDViEvent.Flags(rawValue: UInt16(truncatingIfNeeded: flags & 0xfff)).names
            if record.architecture == .amdVi, !names.isEmpty { flagText += " (" + names.joined(separator: " ") + ")" }
            words.append(flagText)
        }
        if let text = record.reasonText { words.append("\"" + terminalSafe(text) + "\"") }
        return words.joined(separator: " ")
    }

    /// A record's own line, with its table dump (for `--host` explanations, one per record).
    public static func recordLines(_ record: FaultRecord) -> [String] {
        ["line \(record.sourceLine): " + describe(record)] + record.tableDump.map { "    " + $0.description }
    }

    static func seconds(_ value: Double) -> String {
        let micros = (value * 1_000_000).rounded()
        guard micros.isFinite, abs(micros) < 1e17 else { return "\(value) s" }
        let whole = Int64(micros) / 1_000_000
        let fraction = String(abs(Int64(micros) % 1_000_000))
        return "\(whole)." + String(repeating: "0", count: 6 - fraction.count) + fraction + " s"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
