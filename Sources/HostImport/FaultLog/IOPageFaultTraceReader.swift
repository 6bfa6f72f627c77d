/// The generic `iommu:io_page_fault` tracepoint (host-inputs §5.4, `include/trace/events/iommu.h`,
/// emitted by `report_iommu_fault()` in `drivers/iommu/iommu.c`):
/// `TP_printk("IOMMU:%s %s iova=0x%016llx flags=0x%04x", driver, device, iova, flags)`, in
/// ftrace's framing `<comm>-<pid> [<cpu>] <irq-flags> <secs.usecs>: io_page_fault: ` (4 or
/// 5 irq-flag characters) or `trace-cmd report`'s (no irq flags). The other `iommu:` events
/// (map, unmap, group and attach events) are context.
struct IOPageFaultTraceReader: FaultLogFormat {
    static let contextEvents: Set<Substring> = [
        "map", "unmap", "add_device_to_group", "remove_device_from_group", "attach_device_to_domain", "detach_device_from_domain",
    ]

    /// The event name, the text after it and the timestamp, when the line is an ftrace line
    /// (`... <secs.usecs>: <event>: <text>`).
    private func framed(_ text: Substring) -> (event: Substring, rest: Substring, timestamp: Double?)? {
        guard let close = text.firstRange(of: "] ") else { return nil }
        let afterCPU = text[close.upperBound...]
        let words = afterCPU.split(separator: " ", maxSplits: 3)
        // `[cpu] [flags] secs.usecs: event: text`
        var index = 0
        if words.count > 0, !words[0].hasSuffix(":") { index = 1 }
        guard words.count > index + 1, words[index].hasSuffix(":"), let seconds = Double(words[index].dropLast()) else { return nil }
        var event = words[index + 1]
        guard event.hasSuffix(":") else { return nil }
        event = event.dropLast()
        if event.hasPrefix("iommu:") { event = event.dropFirst(6) }
        let rest = words.count > index + 2 ? words[(index + 2)...].restOfLine(in: afterCPU) : afterCPU[afterCPU.endIndex...]
        return (event, rest, seconds)
    }

    func opensLine(_ text: Substring) -> Bool { framed(text) != nil }

    func isIncomplete(_ text: Substring) -> Bool {
        guard let frame = framed(text), frame.event == "io_page_fault" else { return false }
        return !frame.rest.contains(" flags=0x")
    }

    mutating func read(_ line: LogLine, into log: inout FaultAssembly) -> LineUse? {
        let text = Substring(line.text)
        if text.hasPrefix("#"), text.contains("tracer:") || text.contains("TASK-PID") || text.contains("entries-in-buffer") || text == "#" || text.hasPrefix("# |") {
            return .context
        }
        guard let frame = framed(text) else { return nil }
        if Self.contextEvents.contains(frame.event) { return .context }
        guard frame.event == "io_page_fault" else { return nil }
        let words = frame.rest.split(separator: " ")
        guard words.count == 4, words[0].hasPrefix("IOMMU:"), words[2].hasPrefix("iova="), words[3].hasPrefix("flags="),
              let iova = logHex(words[2].dropFirst(5)), let flags = logHex(words[3].dropFirst(6)) else {
            return .malformed("io_page_fault event not understood")
        }
        var record = FaultRecord(sourceLine: line.sourceLine, architecture: .iommu, reason: "io_page_fault")
        record.device = logRequester(words[1])
        record.address = iova
        // IOMMU_FAULT_READ (0) / IOMMU_FAULT_WRITE (1), not the AMD-Vi flags.
        record.access = flags & 1 == 1 ? .write : .read
        record.timestamp = frame.timestamp ?? line.timestamp
        _ = log.open(record)
        return .event
    }

    mutating func finish(into log: inout FaultAssembly) {}
}
