import IOMMUCore

/// AMD-Vi event-log records (host-inputs §5.3, `drivers/iommu/amd/iommu.c`):
/// `amd_iommu_report_page_fault()` (the known-device `pci_err` form and the `device=` form)
/// and every event of `iommu_print_event()`, in each version: the old two-record split
/// (`Event logged [` then the body) up to about v4.13, the 4.19 backport without
/// `AMD-Vi: `, `device=` without a segment before about v5.19, `iommu ivhdN: ` prefixes,
/// and the `DTE[%d]`/`CMD[%d]` dumps that follow an event.
struct AMDViEventReader: FaultLogFormat {
    /// The event names `iommu_print_event()` and `amd_iommu_report_page_fault()` print.
    static let eventNames = Set(AMDViEvent.EventType.allCases.map { Substring($0.name) } + ["UNKNOWN"])
    /// Events whose flags have the IO_PAGE_FAULT layout (AMD IOMMU spec, event log):
    /// GN, NX, US, I, PR, RW, PE, RZ, TR.
    static let pageFlagEvents: Set<String> = ["IO_PAGE_FAULT", "ILLEGAL_DEV_TABLE_ENTRY", "DEV_TAB_HARDWARE_ERROR", "PAGE_TAB_HARDWARE_ERROR"]

    /// The first half of a split record (`Event logged [` alone), per prefix.
    private var pending: [String: (line: Int, timestamp: Double?, iommu: String?, device: FaultRecord.Requester?)] = [:]
    /// The last event that dumps DTE/CMD words.
    private var dumping: Int?

    /// A line's prefix split off: the unit (`iommu ivhdN: `), a known device (`<drv> <bdf>: `),
    /// an `AMD-Vi: ` seen, and the rest.
    private struct Parts {
        var key: String
        var iommu: String?
        var device: FaultRecord.Requester?
        var sawAMDVi: Bool
        var rest: Substring
    }

    private func parts(_ text: Substring) -> Parts {
        var rest = text
        var iommu: String?
        var device: FaultRecord.Requester?
        var key = ""
        if let prefix = printkDevicePrefix(rest, driver: "iommu"), prefix.device.hasPrefix("ivhd") {
            iommu = String(prefix.device)
            key = "iommu " + prefix.device
            rest = prefix.rest
        } else if let space = rest.firstIndex(of: " "), let prefix = printkDevicePrefix(rest, driver: String(rest[..<space])),
                  prefix.rest.hasPrefix("AMD-Vi: "), let address = PCIAddress(parsing: prefix.device) {
            // `pci_err(pdev, ...)` of a known device: `<driver> <bdf>: AMD-Vi: `.
            device = .pci(address)
            key = String(rest[..<prefix.rest.startIndex])
            rest = prefix.rest
        }
        let sawAMDVi = rest.hasPrefix("AMD-Vi: ") || rest == "AMD-Vi:"
        if sawAMDVi { rest = rest.dropFirst(7).drop { $0 == " " } }
        return Parts(key: key, iommu: iommu, device: device, sawAMDVi: sawAMDVi, rest: rest)
    }

    func opensLine(_ text: Substring) -> Bool {
        let split = parts(text)
        if split.sawAMDVi || split.iommu != nil { return true }
        return Self.eventNames.contains(split.rest.prefix { $0 != " " && $0 != "]" })
    }

    /// An event cut before its `]` (UNKNOWN prints none: complete at `event[3]=`): an
    /// `Event logged [...` or a split record's second half, or a line of this driver cut
    /// inside `Event logged [` itself.
    func isIncomplete(_ text: Substring) -> Bool {
        let split = parts(text)
        let body: Substring
        if let logged = split.rest.firstRange(of: "Event logged [") {
            body = split.rest[logged.upperBound...]
            if body.isEmpty { return false }  // the first half of a split record
        } else if split.rest == "Event" || split.rest == "Event logged" {
            return split.sawAMDVi || split.iommu != nil
        } else if Self.eventNames.contains(split.rest.prefix { $0 != " " && $0 != "]" }), split.rest.contains("=") {
            body = split.rest
        } else {
            return false
        }
        if body.hasPrefix("UNKNOWN ") { return !body.contains("event[3]=0x") }
        return !body.hasSuffix("]")
    }

    mutating func read(_ line: LogLine, into log: inout FaultAssembly) -> LineUse? {
        let split = parts(Substring(line.text))
        if let logged = split.rest.firstRange(of: "Event logged [") , logged.lowerBound == split.rest.startIndex {
            let body = split.rest[logged.upperBound...]
            if body.isEmpty {
                if let open = pending[split.key] { log.warn(line: open.line, "AMD-Vi split event without its second half") }
                pending[split.key] = (line.sourceLine, line.timestamp, split.iommu, split.device)
                return .event
            }
            return event(body, line: line.sourceLine, timestamp: line.timestamp, iommu: split.iommu, device: split.device, into: &log)
        }
        let first = split.rest.prefix { $0 != " " && $0 != "]" }
        if Self.eventNames.contains(first), split.rest.contains("=") || split.rest.hasSuffix("]") {
            // The second half of a split record: the half with the same prefix, else any.
            let key = pending[split.key] != nil ? split.key : pending.keys.sorted().first
            if let key, let open = pending.removeValue(forKey: key) {
                return event(split.rest, line: open.line, timestamp: open.timestamp, iommu: open.iommu ?? split.iommu,
                             device: open.device ?? split.device, into: &log)
            }
            return event(split.rest, line: line.sourceLine, timestamp: line.timestamp, iommu: split.iommu, device: split.device, into: &log)
        }
        guard split.sawAMDVi || split.iommu != nil else { return nil }
        if let word = Self.dumpWord(split.rest, name: "DTE") ?? Self.dumpWord(split.rest, name: "CMD") {
            guard let index = dumping else { return .malformed("AMD-Vi \(word.name)[\(word.index)] with no event that dumps it") }
            guard word.index == log.records[index].raw.count else {
                return .malformed("AMD-Vi \(word.name)[\(word.index)] out of order (expected [\(log.records[index].raw.count)])")
            }
            log.records[index].raw.append(word.value)
            if word.index == 3 { dumping = nil }
            return .event
        }
        if split.rest.hasPrefix("device=") {
            // The second line of `Device not attached to domain properly`.
            if let index = log.records.indices.last, log.records[index].architecture == .amdVi,
               log.records[index].reasonText == "Device not attached to domain properly" {
                if log.records[index].device == nil, let device = logKeyedValues(split.rest)["device"] {
                    log.records[index].device = logRequester(device)
                }
                return .event
            }
            return .malformed("AMD-Vi device= line with no event before it")
        }
        return .context
    }

    mutating func finish(into log: inout FaultAssembly) {
        for key in pending.keys.sorted() {
            if let open = pending[key] { log.warn(line: open.line, "AMD-Vi split event without its second half") }
        }
        pending = [:]
        dumping = nil
    }

    /// `DTE[%d]: %016llx` (`dump_dte_entry()`) or `CMD[%d]: %08x` (`dump_command()`).
    static func dumpWord(_ text: Substring, name: String) -> (name: String, index: Int, value: UInt64)? {
        guard text.hasPrefix(name + "["), let close = text.firstIndex(of: "]") else { return nil }
        let digits = text[text.index(text.startIndex, offsetBy: name.count + 1)..<close]
        guard digits.count <= 2, let index = Int(digits), (0...3).contains(index) else { return nil }
        let after = text[close...].dropFirst()
        guard after.hasPrefix(": "), let value = logHex(after.dropFirst(2)) else { return nil }
        return (name, index, value)
    }

    /// One event's body: `NAME key=value ...]`.
    private mutating func event(_ body: Substring, line: Int, timestamp: Double?, iommu: String?,
                                device: FaultRecord.Requester?, into log: inout FaultAssembly) -> LineUse {
        dumping = nil
        let name = body.prefix { $0 != " " && $0 != "]" }
        var record = FaultRecord(sourceLine: line, architecture: .amdVi, reason: String(name))
        record.iommu = iommu
        record.device = device
        record.timestamp = timestamp
        if body.hasPrefix("Device not attached to domain properly") {
            record.reason = "IO_PAGE_FAULT"
            record.reasonText = "Device not attached to domain properly"
            _ = log.open(record)
            return .event
        }
        guard Self.eventNames.contains(name) else { return .malformed("AMD-Vi event \(name) not known") }
        let values = logKeyedValues(body)
        if let text = values["device"] {
            guard let address = PCIAddress(parsing: text) else { return .malformed("AMD-Vi device= is not a PCI address") }
            record.device = .pci(address)
        }
        let address = values["address"] ?? values["gpa"] ?? values["spa"]
        if let address {
            guard let value = logHex(address) else { return .malformed("AMD-Vi address is not hex") }
            record.address = value
        }
        if let text = values["flags"] {
            guard let flags = logHex(text) else { return .malformed("AMD-Vi flags are not hex") }
            record.flags = flags
            let decoded = AMDViEvent.Flags(rawValue: UInt16(truncatingIfNeeded: flags & 0xfff))
            if Self.pageFlagEvents.contains(record.reason) {
                record.access = decoded.loggedAccess
                if decoded.contains(.GN), let field = values["pasid"] ?? values["domain"], let pasid = logHex(field), pasid <= 0xfffff {
                    record.pasid = UInt32(pasid)
                }
            }
        }
        if name == "UNKNOWN" {
            record.raw = (0...3).compactMap { values["event[\($0)]"].flatMap(logHex) }
        }
        let index = log.open(record)
        if name == "ILLEGAL_DEV_TABLE_ENTRY" || name == "ILLEGAL_COMMAND_ERROR" { dumping = index }
        if !body.hasSuffix("]") && name != "UNKNOWN" { log.warn(line: line, "AMD-Vi event truncated before its ]") }
        return .event
    }
}

extension AMDViEvent.Flags {
    /// The spec's names of the set bits, low bit first (GN NX US I PR RW PE RZ TR).
    public var names: [String] {
        let all: [(AMDViEvent.Flags, String)] = [(.GN, "GN"), (.NX, "NX"), (.US, "US"), (.I, "I"), (.PR, "PR"),
                                                  (.RW, "RW"), (.PE, "PE"), (.RZ, "RZ"), (.TR, "TR")]
        return all.filter { contains($0.0) }.map(\.1)
    }

    /// Read or write from RW, only when PR = 1 and TR = 0: RW is valid only then (the
    /// kernel maps RW without checking).
    public var loggedAccess: FaultRecord.Access? {
        guard contains(.PR), !contains(.TR) else { return nil }
        return contains(.RW) ? .write : .read
    }
}
