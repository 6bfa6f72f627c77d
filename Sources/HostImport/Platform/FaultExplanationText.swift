import IOMMUCore
import Presentation

/// The sentence of a fault explanation, in the words the other front ends use for the core's
/// answers (`FaultText` reasons, `0x`-hex addresses, levels in the architecture's numbers).
/// Everything that came from the log is escaped (`terminalSafe`).
enum FaultExplanationText {
    /// Who faulted and in what, as the sentences name them.
    struct Context {
        var record: FaultRecord
        var device: String
        var domain: String

        var owner: String { "\(terminalSafe(device))'s \(domain)" }
    }

    static func sentence(_ cause: FaultCause, _ context: Context, fault: TranslationFault, address: UInt64,
                         region: ReservedRegion?, unmap: UnmappedRange?, table: HostDomainTable?) -> String {
        let stop = fault.steps.last
        switch cause {
        case .unmapped:
            return "\(address.hex) is not mapped in \(context.owner): the walk stops at an empty level-\(fault.level) entry"
                + (stop.map { " (\($0.entryAddress.hex) holds \($0.descriptor.hex))" } ?? "")
        case .readOnly:
            let leaf = stop.map { "the level-\($0.level) leaf at \($0.entryAddress.hex) (\($0.descriptor.hex))" } ?? "its leaf"
            return context.record.access == .write
                ? "\(address.hex) is mapped read-only in \(context.owner): \(leaf) grants no write"
                : "\(address.hex) is mapped without read permission in \(context.owner): \(leaf) grants no read"
        case .outsideAperture:
            let width = table.map { " \($0.format.inputBits)-bit" } ?? ""
            return "\(address.hex) is outside the\(width) input range of \(context.owner): no table entry can map it"
        case .reservedRegion:
            let range = region.map { " \($0.range) (\($0.type.rawValue))" } ?? ""
            return "\(address.hex) is in \(terminalSafe(context.device))'s reserved region\(range), which is never mapped for DMA"
        case .staleAfterUnmap:
            let what = unmap.map { "line \($0.line) unmapped \($0.range) from IOAS \($0.ioas)" } ?? "an unmap removed it"
            return "\(address.hex) was mapped until \(what): a DMA after the unmap"
        case .configuration:
            return "\(terminalSafe(context.device))'s configuration stops the DMA before any page table: "
                + FaultText.reason(fault) + (FaultText.gloss(fault).map { " (\($0))" } ?? vtdString(fault))
        case .unknownTables:
            return "the tables on \(terminalSafe(context.device))'s path to \(address.hex) were not dumped: what maps it is unknown, not empty"
        case .translatesNow, .noDevice, .notModelled:
            // Said by the functions of their own below.
            return ""
        }
    }

    private static func vtdString(_ fault: TranslationFault) -> String {
        fault.vtdRecord.map { " (\($0.reason.linuxString))" } ?? ""
    }

    static func translatesNow(_ context: Context, _ translation: Translation) -> String {
        "the model translates \(translation.iova.hex) in \(context.owner) now (to \(translation.output.hex), "
            + "\(translation.rights.shortDescription)): the fault came from another state of the machine"
    }

    static func noDevice(_ record: FaultRecord) -> String {
        var names: [String] = []
        if let device = record.device { names.append(terminalSafe(device.description)) }
        if let sid = record.sid { names.append("StreamID \(UInt64(sid).hex)") }
        return names.isEmpty ? "the record names no device" : "no device of the model is \(names.joined(separator: " or "))"
    }

    static func notModelled(_ context: Context, _ why: String) -> String {
        "the model cannot replay \(terminalSafe(context.device))'s DMA: \(why)"
    }

    /// `; the log says X, the model Y, which agree` (or `...: they disagree`).
    static func reasons(_ comparison: ReasonComparison?) -> String {
        guard let comparison else { return "" }
        guard let model = comparison.model, let agree = comparison.agree else {
            return "; the log says \(comparison.logged)"
        }
        return "; the log says \(comparison.logged), the model \(model)" + (agree ? "" : ": they disagree")
    }
}
