/// One line of `dmar_fault_dump_ptes()` (`drivers/iommu/intel/iommu.c`, CONFIG_DMAR_DEBUG),
/// which follows a VT-d fault line: the entries the walk of the faulting request read.
public enum DMARDumpEntry: Sendable, Equatable {
    /// `root table is not present` (before a 2024 fix: `root table entry is not present`).
    case rootTableNotPresent
    /// `root entry: 0x%016llx` (legacy mode).
    case rootEntry(UInt64)
    /// `scalable mode root entry: hi 0x%016llx, low 0x%016llx`.
    case scalableRootEntry(high: UInt64, low: UInt64)
    /// `context entry: hi 0x%016llx, low 0x%016llx`.
    case contextEntry(high: UInt64, low: UInt64)
    /// `pasid dir entry: 0x%016llx`.
    case pasidDirectoryEntry(UInt64)
    /// `pasid table entry[%d]: 0x%016llx`.
    case pasidTableEntry(index: Int, value: UInt64)
    /// `pte level: %d, pte value: 0x%016llx`, top level first.
    case pte(level: Int, value: UInt64)
    /// `PTE not present at level %d`: where the walk stopped.
    case pteNotPresent(level: Int)

    /// The entry as the kernel printed it.
    public var description: String {
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
        }
        switch self {
        case .rootTableNotPresent: return "root table is not present"
        case .rootEntry(let value): return "root entry: \(hex(value))"
        case .scalableRootEntry(let high, let low): return "scalable mode root entry: hi \(hex(high)), low \(hex(low))"
        case .contextEntry(let high, let low): return "context entry: hi \(hex(high)), low \(hex(low))"
        case .pasidDirectoryEntry(let value): return "pasid dir entry: \(hex(value))"
        case .pasidTableEntry(let index, let value): return "pasid table entry[\(index)]: \(hex(value))"
        case .pte(let level, let value): return "pte level: \(level), pte value: \(hex(value))"
        case .pteNotPresent(let level): return "PTE not present at level \(level)"
        }
    }
}

/// Intel VT-d fault records (host-inputs §5.2): `dmar_fault_do_one()` in
/// `drivers/iommu/intel/dmar.c`, in every version of its line:
/// * v4.x–v5.0 `[%s] Request device [%02x:%02x.%d] fault addr %llx [fault reason %02d] %s`
/// * v5.1–v5.13 the same with `PASID %x` before `fault addr` (`ffffffff` for none)
/// * v5.14 `[%s NO_PASID]`/`[%s PASID 0x%x] Request device [0x%02x:0x%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s`
/// * v5.15 on, the same without the `0x` inside the brackets;
/// and `[INTR-REMAP] ... fault index`. The `DRHD: handling fault status reg %x` line of
/// `dmar_fault()` is context; a `dmar_fault_dump_ptes()` dump joins the fault with its IOVA.
struct DMARFaultReader: FaultLogFormat {
    /// The fault a dump is being read into.
    private var dumping: Int?

    /// `DMAR: ` (`pr_fmt`), also in the lowercase of kernels before v4.
    private func body(_ text: Substring) -> Substring? {
        for prefix in ["DMAR: ", "dmar: ", "DMAR:"] where text.hasPrefix(prefix) {
            var rest = text.dropFirst(prefix.count)
            if rest.hasPrefix("DMAR:") { rest = rest.dropFirst(5).drop { $0 == " " } }
            return rest
        }
        return nil
    }

    func opensLine(_ text: Substring) -> Bool { body(text) != nil || text.hasPrefix("DMAR-IR: ") }

    /// A fault line cut before its `[fault reason %x]`, or inside the reason text after it
    /// (empty, or a proper prefix of the text the kernel prints for that code).
    func isIncomplete(_ text: Substring) -> Bool {
        guard let rest = body(text) else { return false }
        if Self.dumpPrefixes.contains(where: { rest.hasPrefix($0) }) { return Self.dumpEntry(rest) == nil }
        guard rest.hasPrefix("[") else { return false }
        guard let reason = rest.firstRange(of: "[fault reason "), let close = rest[reason.upperBound...].firstIndex(of: "]") else { return true }
        let after = rest[rest.index(after: close)...].drop { $0 == " " }
        guard let code = DMARFaultReasons.code(rest[reason.upperBound..<close]) else { return false }
        let known = DMARFaultReasons.text(for: code)
        return after.isEmpty || (after.count < known.count && known.hasPrefix(after))
    }

    mutating func read(_ line: LogLine, into log: inout FaultAssembly) -> LineUse? {
        guard let rest = body(Substring(line.text)) else {
            return line.text.hasPrefix("DMAR-IR: ") ? .context : nil
        }
        if rest.hasPrefix("[") { return faultLine(rest, line: line, into: &log) }
        if rest.hasPrefix("Dump ") { return dumpHeader(rest, line: line, into: &log) }
        if let entry = Self.dumpEntry(rest) {
            guard let index = dumping else { return .malformed("DMAR table dump entry with no dump header before it") }
            log.records[index].tableDump.append(entry)
            if case .pteNotPresent = entry { dumping = nil }
            if entry == .rootTableNotPresent { dumping = nil }
            return .event
        }
        if rest.hasPrefix("DRHD: handling fault status reg ") {
            let value = rest.dropFirst("DRHD: handling fault status reg ".count)
            return parseBareHex(value) == nil ? .malformed("DMAR fault status is not hex") : .context
        }
        return .context
    }

    mutating func finish(into log: inout FaultAssembly) { dumping = nil }

    private mutating func faultLine(_ rest: Substring, line: LogLine, into log: inout FaultAssembly) -> LineUse {
        dumping = nil
        guard let close = rest.firstIndex(of: "]") else { return .malformed("DMAR fault line without its closing ]") }
        let kind = rest[rest.index(after: rest.startIndex)..<close].split(separator: " ")
        var after = rest[rest.index(after: close)...].drop { $0 == " " }
        guard after.hasPrefix("Request device [") else { return .malformed("DMAR fault line without Request device") }
        after = after.dropFirst("Request device [".count)
        guard let bdfEnd = after.firstIndex(of: "]"), let device = PCIAddress(parsing: after[..<bdfEnd]) else {
            return .malformed("DMAR fault line without a device [bus:slot.func]")
        }
        var words = after[after.index(after: bdfEnd)...].split(separator: " ")[...]
        var record = FaultRecord(sourceLine: line.sourceLine, architecture: .intelVTd, reason: "")
        record.device = .pci(device)
        record.timestamp = line.timestamp
        let interrupt = kind.first == "INTR-REMAP"
        if !interrupt {
            guard kind.count >= 2, kind[0] == "DMA", kind[1] == "Read" || kind[1] == "Write" else {
                return .malformed("DMAR fault line with an unknown request type")
            }
            record.access = kind[1] == "Read" ? .read : .write
            // v5.14+: `NO_PASID` or `PASID 0x%x` inside the brackets.
            if kind.count == 4, kind[2] == "PASID" {
                guard let pasid = logHex(kind[3]), pasid <= UInt32.max else { return .malformed("DMAR PASID is not hex") }
                record.pasid = UInt32(pasid)
            }
            // v5.1–v5.13: `PASID %x` after the device, `ffffffff` for none.
            if words.first == "PASID" {
                guard words.count >= 2, let pasid = parseBareHex(words[words.startIndex + 1]), pasid <= UInt32.max else {
                    return .malformed("DMAR PASID is not hex")
                }
                if pasid != 0xffff_ffff { record.pasid = UInt32(pasid) }
                words = words.dropFirst(2)
            }
            guard words.count >= 3, words[words.startIndex] == "fault", words[words.startIndex + 1] == "addr",
                  let address = logHex(words[words.startIndex + 2]) else {
                return .malformed("DMAR fault line without a fault addr")
            }
            record.address = address
        } else {
            // The interrupt index (`addr >> 48`) is no address.
            guard words.count >= 3, words[words.startIndex] == "fault", words[words.startIndex + 1] == "index",
                  logHex(words[words.startIndex + 2]) != nil else {
                return .malformed("DMAR interrupt-remapping fault without a fault index")
            }
        }
        words = words.dropFirst(3)
        guard words.count >= 3, words[words.startIndex] == "[fault", words[words.startIndex + 1] == "reason" else {
            return .malformed("DMAR fault line without [fault reason")
        }
        var codeText = words[words.startIndex + 2]
        guard codeText.last == "]" else { return .malformed("DMAR fault reason without its ]") }
        codeText = codeText.dropLast()
        // `0x%02x` from v5.14, decimal `%02d` before.
        guard let code = DMARFaultReasons.code(codeText) else { return .malformed("DMAR fault reason is no number") }
        record.reason = "0x" + (code < 0x10 ? "0" : "") + String(code, radix: 16)
        let text = words.dropFirst(3).joined(separator: " ")
        if !text.isEmpty { record.reasonText = text }
        _ = log.open(record)
        return .event
    }

    /// `Dump %s table entries for IOVA 0x%llx`: the unit, and the fault it belongs to (the
    /// last one with that address).
    private mutating func dumpHeader(_ rest: Substring, line: LogLine, into log: inout FaultAssembly) -> LineUse {
        let words = rest.split(separator: " ")
        guard words.count == 7, words[2] == "table", words[3] == "entries", words[5] == "IOVA", let iova = logHex(words[6]) else {
            return .malformed("DMAR dump header not understood")
        }
        guard let index = log.lastRecent(where: { $0.architecture == .intelVTd && $0.address == iova && $0.tableDump.isEmpty }) else {
            dumping = nil
            return .malformed("DMAR table dump for IOVA 0x\(String(iova, radix: 16)) follows no fault at that address")
        }
        log.records[index].iommu = String(words[1])
        dumping = index
        return .event
    }

    /// The dump lines that a hard wrap can cut (their values come last).
    static let dumpPrefixes = ["scalable mode root entry:", "root entry:", "context entry:", "pasid dir entry:", "pasid table entry[", "pte level:"]

    static func dumpEntry(_ rest: Substring) -> DMARDumpEntry? {
        func pair(_ text: Substring) -> (UInt64, UInt64)? {
            let words = text.split(separator: " ")
            guard words.count == 4, words[0] == "hi", words[2] == "low", words[1].last == ",",
                  let high = logHex(words[1].dropLast()), let low = logHex(words[3]) else { return nil }
            return (high, low)
        }
        if rest == "root table is not present" || rest == "root table entry is not present" { return .rootTableNotPresent }
        if rest.hasPrefix("scalable mode root entry: "), let (high, low) = pair(rest.dropFirst(26)) { return .scalableRootEntry(high: high, low: low) }
        if rest.hasPrefix("root entry: "), let value = logHex(rest.dropFirst(12)) { return .rootEntry(value) }
        if rest.hasPrefix("context entry: "), let (high, low) = pair(rest.dropFirst(15)) { return .contextEntry(high: high, low: low) }
        if rest.hasPrefix("pasid dir entry: "), let value = logHex(rest.dropFirst(17)) { return .pasidDirectoryEntry(value) }
        if rest.hasPrefix("pasid table entry[") {
            let tail = rest.dropFirst(18)
            guard let close = tail.firstIndex(of: "]"), let index = Int(tail[..<close]), (0...7).contains(index),
                  tail[close...].hasPrefix("]: "), let value = logHex(tail[close...].dropFirst(3)) else { return nil }
            return .pasidTableEntry(index: index, value: value)
        }
        if rest.hasPrefix("pte level: ") {
            let words = rest.split(separator: " ")
            guard words.count == 6, words[2].last == ",", let level = Int(words[2].dropLast()), (1...6).contains(level),
                  words[3] == "pte", words[4] == "value:", let value = logHex(words[5]) else { return nil }
            return .pte(level: level, value: value)
        }
        if rest.hasPrefix("PTE not present at level "), let level = Int(rest.dropFirst(25)), (1...6).contains(level) {
            return .pteNotPresent(level: level)
        }
        return nil
    }
}
