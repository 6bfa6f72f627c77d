import IOMMUCore
import Presentation
import TerminalUI

/// The words of the walk pane: each fetch's effect and deciding bits, its row in the step
/// list, and the sentence step mode shows for it. Fault text comes from `FaultText`.
enum WalkNarration {
    // MARK: Describing steps

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
        let (high, low) = TableText.indexBits(format, level: step.level, root: root)
        let count = Int((root ? format.rootTableSize : format.tableSize) / 8)
        return "[\(high):\(low)]=\(TableText.index(step.index, count: count))"
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
            .filter { decidingFields.contains($0.name) && (step.kind == .invalid || $0.bits.count > 1 || $0.value != 0 || $0.name == "AF") }
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
