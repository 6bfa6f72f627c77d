import IOMMUCore
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
    }

    enum Outcome {
        case translation(Translation)
        case fault(TranslationFault)
        /// `translate` returned nil: the architecture's walk for this request is not modelled.
        case unsupported
        case failed(Errno)
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
    }

    var request: Request
    var deviceName: String
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
        var steps: [WalkStep] = []
        switch outcome {
        case .translation(let translation): steps = translation.steps
        // The fetches the hardware made before the fault; the last one faulted.
        case .fault(let fault): steps = fault.steps
        default: break
        }
        var formats: [TranslationStage: any PageTableFormat] = [:]
        for step in steps where formats[step.stage] == nil { formats[step.stage] = step.format }
        let nested = device.attachments[request.pasid ?? noPASID] is HWPTNested
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
        deviceName = "DEVICE \(device.id) \(device.platform.name)"
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
