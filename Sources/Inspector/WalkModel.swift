import HostImport
import IOMMUCore
import Presentation
import ScenarioScript

/// What the walk pane shows of one DMA transaction: the probe walk the core made and what
/// the views need to explain it (the nested grid, the input address of each fetch). Made
/// once per request and model generation, never per frame; everything comes from the walk's
/// own steps (their role, format and input), nothing from the architecture's name.
struct WalkModel {
    /// What a walk depends on: when it changes, the walk is made again.
    struct Request: Equatable {
        var generation: Int
        var device: UInt32
        var iova: UInt64
        var pasid: UInt32?
        var write: Bool
        var cold: Bool
        /// A walk not probed on an iommufd device: a kernel table's key, or `fault:N`.
        var subject: String? = nil
    }

    enum Outcome {
        case translation(Translation)
        case fault(TranslationFault)
        /// `translate` returned nil: the architecture's walk for this request is not modelled.
        case unsupported
        case failed(Refusal)
        /// A host's kernel table walked in software: the output address when a leaf maps
        /// the IOVA; whether the range was one the dumps did not cover (unknown, not empty).
        case kernelTable(output: UInt64?, unknown: Bool)
        /// A logged fault the explainer could not walk, and why.
        case notWalked(String)
    }

    /// A row of the nested grid: the stage-2 walk that serves one stage-1 fetch (or the CD
    /// pointer, or the stage-1 output), and that stage-1 fetch.
    struct GridRow {
        enum Role: Equatable { case configuration, stage1(level: Int), stage2Only, output }
        var role: Role
        /// Stage-2 fetches: level and step number.
        var cells: [(level: Int, step: Int)]
        var stage1Step: Int?
        /// The IPA (GPA) stage 2 resolves in this row.
        var input: UInt64?

        /// The row's label: `CD ptr`, `S1 L0`, `S2`, `output`.
        var name: String {
            switch role {
            case .configuration: "CD ptr"
            case .stage1(let level): "S1 L\(level)"
            case .stage2Only: "S2"
            case .output: "output"
            }
        }
    }

    var request: Request
    var deviceName: String
    /// Where a walk not probed on a device came from ("kernel table", "logged at line 12").
    var origin: String?
    var outcome: Outcome
    /// The fetches `translate` reported, up to the faulting one for a fault.
    var steps: [WalkStep]
    /// The format of each stage walked, from its steps.
    var formats: [TranslationStage: any PageTableFormat]
    /// What stage 2 calls the addresses it translates for stage 1 ("IPA", "GPA").
    var intermediate: String
    var grid: [GridRow]
    var stage2Levels: [Int]
    /// The input address each step indexes with, where known.
    var inputs: [UInt64?]
    /// The input address name of each step ("IOVA", "IPA").
    var inputNames: [String]
    /// The grid row of each step.
    var rowOfStep: [Int?]

    /// Probes the request's walk: cold bypasses the IOMMU's caches, warm consults them;
    /// neither fills nor flushes one, so drawing the pane changes nothing in the model.
    init(_ request: Request, device: Device, reader: ModelReader) {
        let access: AccessRights = request.write ? .write : .read
        let outcome: Outcome
        do {
            switch try reader.probe(deviceID: device.id, iova: request.iova, pasid: request.pasid, access: access,
                                    caches: request.cold ? .bypass : .lookupOnly) {
            case nil: outcome = .unsupported
            case .success(let translation)?: outcome = .translation(translation)
            case .failure(let fault)?: outcome = .fault(fault)
            }
        } catch {
            outcome = .failed(error)
        }
        let nested = device.attachments[request.pasid ?? noPASID] is HWPTNested
        self.init(request, name: "DEVICE \(device.id) \(device.platform.name)", origin: nil, outcome: outcome, nested: nested)
    }

    /// A logged fault's walk as the explainer made it on the model (no probe: the steps are
    /// the explanation's own).
    init(_ request: Request, explanation: FaultExplanation) {
        let outcome: Outcome = switch explanation.outcome {
        case .faulted(let fault): .fault(fault)
        case .translated(let translation): .translation(translation)
        case .notWalked(let reason): .notWalked(reason)
        }
        // A nested walk's steps carry the stage-2 roles that serve stage 1.
        let nested = outcome.steps.contains { $0.role == .stage2OfStage1Table || $0.role == .stage2OfOutput }
        self.init(request, name: explanation.device.map { "host " + terminalSafe($0) } ?? "no device",
                  origin: "logged at line \(explanation.record.sourceLine)", outcome: outcome, nested: nested)
    }

    /// A host's kernel table walked in software through its rebuilt descriptors.
    init(_ request: Request, kernelTable source: PageTableSource) {
        let steps = source.path(to: request.iova)
        var output: UInt64?
        if let last = steps.last, last.kind == .block || last.kind == .page {
            let size = last.format.leafSize(of: last.descriptor, level: last.level)
            output = last.format.outputAddress(of: last.descriptor, level: last.level) | (request.iova & (size &- 1))
        }
        let unknown = output == nil && source.isUnknown(IOVARange(start: request.iova, last: request.iova))
        self.init(request, name: source.title, origin: "kernel table", outcome: .kernelTable(output: output, unknown: unknown), steps: steps,
                  nested: false)
    }

    private init(_ request: Request, name: String, origin: String?, outcome: Outcome, steps: [WalkStep]? = nil, nested: Bool) {
        let steps = steps ?? outcome.steps
        var formats: [TranslationStage: any PageTableFormat] = [:]
        for step in steps where formats[step.stage] == nil { formats[step.stage] = step.format }
        let intermediate = formats[.stage2]?.intermediateAddressName ?? "GPA"
        // The grid rows: each stage-2 walk in a row with the stage-1 fetch it serves (or the
        // CD pointer it resolves, or the output of stage 1), by the steps' roles.
        var grid: [GridRow] = []
        var rowOfStep = [Int?](repeating: nil, count: steps.count)
        var inputs = steps.map { Optional($0.stage == .stage2 ? $0.input : request.iova) }
        var inputNames = [String](repeating: "IOVA", count: steps.count)
        if nested && !steps.isEmpty {
            var pending: [(level: Int, step: Int)] = []
            func close(_ role: GridRow.Role) {
                guard let first = pending.first else { return }
                grid.append(GridRow(role: role, cells: pending, stage1Step: nil, input: steps[first.step].input))
                pending = []
            }
            for (index, step) in steps.enumerated() {
                if let first = pending.first, steps[first.step].role != step.role || steps[first.step].input != step.input,
                   step.role != .stage1 {
                    // A stage-2 walk that no stage-1 fetch followed.
                    close(steps[first.step].role == .stage2OfConfiguration ? .configuration : .stage2Only)
                }
                switch step.role {
                case .stage1:
                    grid.append(GridRow(role: .stage1(level: step.level), cells: pending, stage1Step: index, input: step.entryAddress))
                    pending = []
                default:
                    pending.append((step.level, index))
                }
            }
            if let first = pending.first {
                switch steps[first.step].role {
                case .stage2OfConfiguration: close(.configuration)
                case .stage2OfOutput: close(.output)
                default: close(.stage2Only)
                }
            }
            for (row, entry) in grid.enumerated() {
                for cell in entry.cells {
                    rowOfStep[cell.step] = row
                    inputs[cell.step] = entry.input
                    inputNames[cell.step] = intermediate
                }
                if let step = entry.stage1Step {
                    rowOfStep[step] = row
                    inputs[step] = request.iova
                }
            }
        }
        var levels = formats[.stage2]?.levels ?? []
        for step in steps where step.stage == .stage2 && !levels.contains(step.level) { levels.append(step.level) }
        self.request = request
        deviceName = name
        self.origin = origin
        self.outcome = outcome
        self.steps = steps
        self.formats = formats
        self.intermediate = intermediate
        self.grid = grid
        stage2Levels = levels
        self.inputs = inputs
        self.inputNames = inputNames
        self.rowOfStep = rowOfStep
    }
}

extension WalkModel.Outcome {
    /// The fetches a translation or a fault reported (the last one faulted); none otherwise.
    var steps: [WalkStep] {
        switch self {
        case .translation(let translation): translation.steps
        case .fault(let fault): fault.steps
        case .unsupported, .failed, .kernelTable, .notWalked: []
        }
    }
}
