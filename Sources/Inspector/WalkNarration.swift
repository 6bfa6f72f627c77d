import IOMMUCore
import Presentation
import TerminalUI

/// The words of the walk pane: each fetch's effect and deciding bits, its row in the step
/// list, and the sentence step mode shows for it. Fault text comes from `FaultText`.
enum WalkNarration {
    // MARK: Describing steps

    /// What was walked: the device, `IOVA 0x…` (or `iova`, the pane's IOVA being edited), the
    /// access, the PASID, and the caches or the walk's origin.
    static func requestParts(_ walk: WalkModel, iova: String? = nil) -> [String] {
        let request = walk.request
        return [walk.deviceName, iova ?? "IOVA \(request.iova.hex)", request.write ? "write" : "read",
                request.pasid.map { "PASID \($0)" } ?? "no PASID", walk.origin ?? (request.cold ? "cold" : "warm")]
    }

    /// The lines under the request that say how the walk ended (a PA, a fault and where, why
    /// it was not walked), each with its theme role; the walk pane shows them and the
    /// exported walk starts with them.
    static func outcomeLines(_ walk: WalkModel, symbols: Symbols) -> [(text: String, role: String)] {
        var lines: [(text: String, role: String)] = []
        func add(_ text: String, _ role: String) { lines.append((text, role)) }
        let request = walk.request
        let cache = walk.origin != nil ? "model walk" : request.cold ? "IOTLB bypassed (probe)" : "IOTLB consulted (warm)"
        switch walk.outcome {
        case .translation(let translation):
            let fetched = translation.iotlbHit && translation.steps.isEmpty ? "IOTLB hit, no descriptor fetched"
                : (translation.iotlbHit ? "IOTLB hit after \(translation.steps.count) configuration fetches" : "\(translation.steps.count) fetches")
            add("\(cache): \(fetched) \(symbols.arrow) PA \(translation.output.hex) (\(Units.exactSize(translation.pageSize)), "
                 + "\(translation.rights.shortDescription))", "mapped")
        case .fault(let fault):
            let reason = FaultText.reason(fault), details = FaultText.details(fault)
            add("\(cache): FAULT at stage \(fault.stage.number) level \(fault.level): \(reason)", "fault")
            add("why: \(reason)" + (FaultText.gloss(fault).map { " (\($0))" } ?? "") + (details.isEmpty ? "" : "  \(details)"), "fault")
            if fault.stage == .configuration {
                add("where: reading the configuration (STE / CD, context / PASID entry), before any table walk", "fault")
            } else if let last = walk.steps.last, last.stage == fault.stage {
                add("where: step \(walk.steps.count) below, stage \(last.stage.number) L\(last.level)[\(TableText.index(last.index, count: 512))] @ \(last.entryAddress.hex)"
                     + " = \(Units.word(last.descriptor)) (\(last.kind.rawValue))", "fault")
                add("below: the descriptors the IOMMU fetched, in order; the last one faulted", "dim")
            } else {
                add("where: stage \(fault.stage.number) level \(fault.level) (no table to show the entry)", "fault")
            }
        case .unsupported:
            add("translate: this IOMMU's walk for this request (PASID, or a nested AMD-Vi DTE) is not modelled yet", "warning")
        case .failed(let refusal):
            add("translate: " + terminalSafe(refusal.description), "warning")
        case .kernelTable(let output?, _):
            add("kernel table: \(walk.steps.count) fetches \(symbols.arrow) PA \(output.hex)", "mapped")
        case .kernelTable(nil, true):
            add("kernel table: the dumps did not cover \(request.iova.hex): unknown, not known to be unmapped", "warning")
        case .kernelTable(nil, false):
            let stop = walk.steps.last.map { " at L\($0.level) (\($0.kind.rawValue))" } ?? ""
            add("kernel table: \(request.iova.hex) is not mapped: the walk stops\(stop)", "fault")
        case .notWalked(let reason):
            add("not walked: " + terminalSafe(reason), "warning")
        }
        return lines
    }

    /// "L1[0x001] → table at 0x40012000".
    static func effect(_ step: WalkStep, _ walk: WalkModel, symbols: Symbols) -> String {
        let arrow = symbols.arrow
        let entry = "L\(step.level)[\(TableText.index(step.index, count: 512))]"
        guard let format = walk.formats[step.stage] else { return "\(entry) = \(Units.word(step.descriptor)) (\(step.kind.rawValue))" }
        switch step.kind {
        case .table: return "\(entry) \(arrow) table at \(format.outputAddress(of: step.descriptor, level: step.level).hex)"
        case .block, .page:
            return "\(entry) \(arrow) \(step.kind.rawValue) \(format.outputAddress(of: step.descriptor, level: step.level).hex)"
                + " (\(Units.exactSize(format.leafSize(of: step.descriptor, level: step.level))))"
        case .invalid: return "\(entry) is invalid (\(Units.word(step.descriptor)))"
        }
    }

    /// Fields that decide a walk step: validity, the kind, permissions and the Access flag.
    private static let decidingFields: Set<String> = [
        "valid", "P", "PR", "PS", "NextLevel", "R", "W", "R/W", "AP", "S2AP", "APTable", "AF", "IR", "IW",
    ]

    /// The input bits that indexed a step: "IPA[38:30]=0x001".
    static func indexBits(_ step: WalkStep, _ index: Int, _ walk: WalkModel) -> String {
        guard let format = walk.formats[step.stage] else { return "[\(TableText.index(step.index, count: 512))]" }
        let root = step.level == format.rootLevel
        let bits = format.indexBits(level: step.level)
        let count = Int((root ? format.rootTableSize : format.tableSize) / 8)
        return "[\(bits.upperBound):\(bits.lowerBound)]=\(TableText.index(step.index, count: count))"
    }

    /// What the descriptor's bits decided: where it leads, and the bits that allowed it.
    static func decidingBits(_ step: WalkStep, _ walk: WalkModel, symbols: Symbols) -> String {
        guard let format = walk.formats[step.stage] else { return "(no format: raw descriptor)" }
        var parts: [String] = []
        switch step.kind {
        case .table: parts.append("\(symbols.arrow) \(format.outputAddress(of: step.descriptor, level: step.level).hex)")
        case .block, .page:
            parts.append("\(symbols.arrow) \(format.outputAddress(of: step.descriptor, level: step.level).hex)"
                         + " \(Units.exactSize(format.leafSize(of: step.descriptor, level: step.level)))")
        case .invalid: parts.append("invalid:")
        }
        let fields = format.fields(of: step.descriptor, level: step.level)
            .filter { decidingFields.contains($0.name) && (step.kind == .invalid || ($0.name != "valid" && ($0.bits.count > 1 || $0.value != 0 || $0.name == "AF"))) }
            .map(StepText.field)
        return (parts + fields).joined(separator: " ")
    }

    /// The sentence step mode shows for a memory access.
    static func sentence(_ index: Int, _ walk: WalkModel, symbols: Symbols) -> String {
        let step = walk.steps[index]
        let effect = effect(step, walk, symbols: symbols)
        let input = walk.inputs[index].map { " \($0.hex)" } ?? ""
        var text: String
        if let row = walk.rowOfStep[index] {
            let entry = walk.grid[row]
            if step.stage == .stage1 {
                text = "stage 1 reads its level-\(step.level) entry at \(walk.intermediate) \(step.entryAddress.hex): \(effect)"
            } else {
                switch entry.role {
                case .stage1(let level):
                    text = "stage 2 resolves the \(walk.intermediate)\(input) of the stage-1 level-\(level) table entry: \(effect)"
                case .configuration:
                    text = "stage 2 resolves the \(walk.intermediate)\(input) of the guest's context descriptor"
                        + (walk.intermediate == "IPA" ? " (STE.S1ContextPtr)" : "") + ": \(effect)"
                case .output:
                    text = "stage 2 resolves the output \(walk.intermediate)\(input) of stage 1: \(effect)"
                case .stage2Only:
                    text = "stage 2 resolves the \(walk.intermediate)\(input): \(effect)"
                }
            }
        } else {
            text = "stage \(step.stage.number) reads the level-\(step.level) entry at \(step.entryAddress.hex) for \(walk.inputNames[index])\(input): \(effect)"
        }
        if index == walk.steps.count - 1 {
            switch walk.outcome {
            case .translation(let translation):
                text += "; so IOVA \(walk.request.iova.hex) \(symbols.arrow) PA \(translation.output.hex)"
                    + " (\(Units.exactSize(translation.pageSize)), \(translation.rights.shortDescription))"
            case .fault(let fault):
                text += "; the walk faults here: \(FaultText.reason(fault))"
            default:
                break
            }
        }
        return text
    }

    static let stepHeader = "#".cellPadded(to: 3) + "step".cellPadded(to: 6) + "index bits".cellPadded(to: 14) + "entry addr".cellPadded(to: 12) + "descriptor".cellPadded(to: 17)
        + "kind".cellPadded(to: 6) + "decided by"

    static func stepText(_ index: Int, _ walk: WalkModel, symbols: Symbols) -> String {
        let step = walk.steps[index]
        return String(index + 1).cellPadded(to: 3) + "\(StepText.stage(step)) L\(step.level)".cellPadded(to: 6) + indexBits(step, index, walk).cellPadded(to: 14)
            + step.entryAddress.hex.cellPadded(to: 12) + String(Units.word(step.descriptor).dropFirst(2)).cellPadded(to: 17)
            + step.kind.rawValue.cellPadded(to: 6) + decidingBits(step, walk, symbols: symbols)
    }
}
