/// One descriptor fetch of a hardware walk.
public struct WalkStep: Sendable, Equatable {
    /// What a fetch is for, so a view can lay out a nested walk without inferring it.
    public enum Role: Sendable, Hashable {
        /// A descriptor of a stage-1 table (alone, or the guest's in a nested walk).
        case stage1
        /// A descriptor of a stage-2 table translating the request's own input (stage 2 alone).
        case stage2
        /// A stage-2 descriptor resolving the IPA/GPA of a configuration structure (the CD).
        case stage2OfConfiguration
        /// A stage-2 descriptor resolving the IPA/GPA of a stage-1 table entry.
        case stage2OfStage1Table
        /// A stage-2 descriptor resolving the IPA/GPA stage 1 produced: the final stage.
        case stage2OfOutput

        /// The role of a descriptor of a single-stage walk of `stage`.
        public static func alone(_ stage: TranslationStage) -> Role { stage == .stage2 ? .stage2 : .stage1 }
    }

    public var stage: TranslationStage
    public var role: Role
    /// The format of the table read, held by value.
    public var knownFormat: KnownFormat
    /// The format of the table read: how to decode the descriptor, and what its input
    /// addresses are called.
    public var format: any PageTableFormat { knownFormat.format }
    /// The address this stage's walk translates: the IOVA for stage 1 (and stage 2 alone), the
    /// IPA/GPA for stage 2 serving a nested walk.
    public var input: UInt64
    /// The architecture's own level number.
    public var level: Int
    /// The table's base as the stage addresses it (an IPA for a nested stage 1).
    public var table: UInt64
    public var index: Int
    /// The entry's address as the stage addresses it.
    public var entryAddress: UInt64
    public var descriptor: UInt64
    public var kind: DescriptorKind

    public init<Format: PageTableFormat>(stage: TranslationStage, role: Role? = nil, format: Format, input: UInt64, level: Int,
                                         table: UInt64, index: Int, entryAddress: UInt64, descriptor: UInt64, kind: DescriptorKind) {
        self.stage = stage
        self.role = role ?? .alone(stage)
        knownFormat = format.known
        self.input = input
        self.level = level
        self.table = table
        self.index = index
        self.entryAddress = entryAddress
        self.descriptor = descriptor
        self.kind = kind
    }

    public static func == (a: WalkStep, b: WalkStep) -> Bool {
        a.stage == b.stage && a.role == b.role && a.format.name == b.format.name && a.input == b.input && a.level == b.level
            && a.table == b.table && a.index == b.index && a.entryAddress == b.entryAddress && a.descriptor == b.descriptor
            && a.kind == b.kind
    }
}

/// A completed translation.
public struct Translation: Sendable, Equatable {
    public var iova: UInt64
    public var output: UInt64
    public var pageSize: UInt64
    public var rights: AccessRights
    public var steps: [WalkStep]
    /// The result came from the IOTLB without a walk.
    public var iotlbHit: Bool
    /// The configuration structures read before the walk (none from a cached configuration).
    public var configurationFetches: [ConfigurationFetch] = []
}

/// A translation's answer alone: the output, the page it lies in, the rights granted and
/// whether the IOTLB gave it, without the walk's record. Trivially copyable, so that a caller
/// replaying transactions by the million (a trace, a benchmark) drops each for nothing: a
/// `Translation` dropped in another module costs more than a warm hit itself.
public struct TranslationAnswer: Sendable, Equatable {
    public var iova: UInt64
    public var output: UInt64
    public var pageSize: UInt64
    public var rights: AccessRights
    /// The result came from the IOTLB without a walk.
    public var iotlbHit: Bool
}

extension TranslationAnswer {
    /// `iova` answered by an IOTLB hit; the offset into the hit's page is added as the
    /// hardware's adder does, wrapping.
    init(iova: UInt64, hit: IOTLB.Hit) {
        self.init(iova: iova, output: hit.output &+ (iova &- hit.input), pageSize: hit.size, rights: hit.rights, iotlbHit: true)
    }
}

extension Translation {
    /// The answer without the record.
    public var answer: TranslationAnswer {
        TranslationAnswer(iova: iova, output: output, pageSize: pageSize, rights: rights, iotlbHit: iotlbHit)
    }

    /// `iova` answered by an IOTLB hit, after the configuration reads that recorded `steps`
    /// (a nested CD's stage-2 walks); the offset into the hit's page is added as the
    /// hardware's adder does, wrapping.
    init(iova: UInt64, hit: IOTLB.Hit, steps: [WalkStep] = []) { self.init(TranslationAnswer(iova: iova, hit: hit), steps: steps) }

    /// `answer`, with the steps that recorded it.
    init(_ answer: TranslationAnswer, steps: [WalkStep] = []) {
        self.init(iova: answer.iova, output: answer.output, pageSize: answer.pageSize, rights: answer.rights, steps: steps,
                  iotlbHit: answer.iotlbHit)
    }
}

/// What can stop a walk, before the architecture names it.
public enum WalkFaultKind: Sendable, Equatable {
    /// The input address is beyond what the table translates.
    case inputRange
    /// A descriptor fetch hit no memory.
    case externalAbort(address: UInt64)
    case translation
    case accessFlag
    case permission
    case addressSize
}

/// The architecture's part of a walk: which bits grant rights and what names faults get.
public protocol WalkRules {
    /// Rights a table descriptor leaves for the levels below (APTable, VT-d R/W, AMD IR/IW).
    func tableRights(_ descriptor: UInt64, level: Int) -> AccessRights
    /// Rights a leaf grants.
    func leafRights(_ descriptor: UInt64, level: Int) -> AccessRights
    /// A leaf's own fault before permissions (the Access flag).
    func leafFault(_ descriptor: UInt64, level: Int) -> WalkFaultKind?
    /// Output address bits; a larger output is an address-size fault.
    var outputBits: Int { get }
    /// The fault as the architecture reports it.
    func fault(_ kind: WalkFaultKind, stage: TranslationStage, level: Int, access: AccessRights) -> TranslationFault
}

/// The Access and Dirty state the hardware keeps in the descriptors a walk uses, as the
/// configuration enables it (Arm CD.HA/HD with IDR0.HTTU, VT-d PASID-entry SSADE, AMD-Vi
/// DTE.HAD). The format says which bits change (`PageTableFormat.updated`).
public struct HardwareUpdates: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Set the Access flag of the entries used (Arm AF instead of an Access flag fault, VT-d
    /// and AMD-Vi A).
    public static let access = HardwareUpdates(rawValue: 1 << 0)
    /// Record a write in the leaf (Arm: clear AP[2] of a DBM leaf instead of a permission
    /// fault; VT-d and AMD-Vi: set D).
    public static let dirty = HardwareUpdates(rawValue: 1 << 1)
}

/// How one walk treats hardware Access/Dirty updates: which the configuration enables, and
/// whether they reach memory. A probe (`CachePolicy.lookupOnly` or `.bypass`) answers as the
/// hardware would, without writing a descriptor: a side-effect-free query stays one.
public struct HardwareUpdatePolicy: Sendable, Hashable {
    public var updates: HardwareUpdates
    public var writesDescriptors: Bool

    public init(_ updates: HardwareUpdates, caches: CachePolicy) {
        self.updates = updates
        writesDescriptors = caches.fills
    }

    /// No updates: what every walk did before HTTU/SSADE/HAD.
    public static let none = HardwareUpdatePolicy([], caches: .bypass)

    /// A write under dirty tracking walks even when the IOTLB covers it: the model does not
    /// cache a leaf's dirty state, so only a walk can record the write (hardware may hit an
    /// entry it cached as dirty; the translation and the bits in memory are the same).
    public func mayUseIOTLB(for access: AccessRights) -> Bool { !(updates.contains(.dirty) && access.contains(.write)) }
}

/// Where one stage's walk ended: the output address for the input, the page it lies in, the
/// rights the walk granted, and the leaf descriptor that mapped it (what an IOTLB entry
/// remembers of it), whether or not the walk recorded its steps.
public struct StageOutput: Sendable, Equatable {
    public var output: UInt64
    public var size: UInt64
    public var rights: AccessRights
    /// The leaf's level and descriptor, as the walk read it.
    public var leafLevel: Int
    public var leafDescriptor: UInt64

    /// `combine_tlb`: a nested translation through this stage 1 and then `stage2`: stage 2's
    /// output, the smaller page, both stages' rights, and stage 1's leaf (the stage the
    /// by-address invalidations name).
    public func combined(withStage2 stage2: StageOutput) -> StageOutput {
        StageOutput(output: stage2.output, size: min(size, stage2.size), rights: rights.intersection(stage2.rights),
                    leafLevel: leafLevel, leafDescriptor: leafDescriptor)
    }
}

/// The one hardware walker: any format, any stage, specialised per format and rules (the
/// drivers name concrete types, so the walk's descriptor decoding is static calls, not
/// existential ones). `fetchAddress` turns the address of an entry into the host physical
/// address to read; for a nested stage 1 it is a stage-2 walk of the descriptor's own address
/// (the architecture's rule; QEMU translates only the table base), whose steps land in
/// `steps` before the fetch they serve.
public struct StageWalker<Format: PageTableFormat, Rules: WalkRules> {
    public var format: Format
    public var rules: Rules
    /// Not retained: a walker lives for one walk inside a call that holds the memory, and
    /// a retain and release per walk cost a cold stage-2 walk more than one of its reads.
    public unowned(unsafe) var memory: PhysicalMemory
    public var stage: TranslationStage
    /// The role every step of this walk plays.
    public var role: WalkStep.Role

    public init(format: Format, rules: Rules, memory: PhysicalMemory, stage: TranslationStage, role: WalkStep.Role? = nil) {
        self.format = format
        self.rules = rules
        self.memory = memory
        self.stage = stage
        self.role = role ?? .alone(stage)
    }

    /// Walks `input` for `access`, reading each entry where it lies. With `updates`, the
    /// descriptors are evaluated as the hardware leaves them (`PageTableFormat.updated`) and,
    /// when the walk succeeds and the policy writes, written back where they were read.
    /// Without `recording`, no step is built: the walk allocates nothing.
    public func walk(root: UInt64, input: UInt64, access: AccessRights, steps: inout [WalkStep], recording: Bool = true,
                     updates: HardwareUpdatePolicy = .none) throws(TranslationFault) -> StageOutput {
        try walk(root: root, input: input, access: access, steps: &steps, recording: recording, updates: updates,
                 fetch: DirectFetch.self, fetchAddress: { address, _ in address }, permitsUpdate: { _ in })
    }

    /// `walk`, with `fetchAddress` turning the address of each entry into the host physical
    /// address to read (for a nested stage 1, a stage-2 walk of the entry's own address, whose
    /// steps land in `steps` before the fetch they serve), and `permitsUpdate` checking first
    /// that an entry may be written (a guest table's entry: a stage-2 write of its address).
    public func walk(root: UInt64, input: UInt64, access: AccessRights, steps: inout [WalkStep], recording: Bool = true,
                     updates: HardwareUpdatePolicy = .none,
                     fetchAddress: (UInt64, inout [WalkStep]) throws(TranslationFault) -> UInt64,
                     permitsUpdate: (UInt64) throws(TranslationFault) -> Void = { _ in }) throws(TranslationFault) -> StageOutput {
        try walk(root: root, input: input, access: access, steps: &steps, recording: recording, updates: updates,
                 fetch: TranslatedFetch.self, fetchAddress: fetchAddress, permitsUpdate: permitsUpdate)
    }

    /// `walk` with its entries read as `fetch` says.
    @inline(__always)
    private func walk<Fetch: EntryFetch>(root: UInt64, input: UInt64, access: AccessRights, steps: inout [WalkStep], recording: Bool,
                                         updates: HardwareUpdatePolicy, fetch: Fetch.Type,
                                         fetchAddress: (UInt64, inout [WalkStep]) throws(TranslationFault) -> UInt64,
                                         permitsUpdate: (UInt64) throws(TranslationFault) -> Void) throws(TranslationFault) -> StageOutput {
        // Masking shifts, where the widths are below 64: no check of the amount.
        guard format.inputBits >= 64 || input &>> UInt64(truncatingIfNeeded: format.inputBits) == 0 else {
            throw fault(.inputRange, level: format.rootLevel, access: access)
        }
        // Only a walk with updates enabled evaluates them.
        if updates.updates.isEmpty {
            return try walk(root: root, input: input, access: access, steps: &steps, recording: recording, updates: updates,
                            fetch: fetch, mode: WithoutUpdates.self, fetchAddress: fetchAddress, permitsUpdate: permitsUpdate)
        }
        return try walk(root: root, input: input, access: access, steps: &steps, recording: recording, updates: updates,
                        fetch: fetch, mode: WithUpdates.self, fetchAddress: fetchAddress, permitsUpdate: permitsUpdate)
    }

    /// `walk` with its entries read as `fetch` says and updates evaluated as `mode` says.
    @inline(__always)
    private func walk<Fetch: EntryFetch, Mode: UpdateMode>(root: UInt64, input: UInt64, access: AccessRights, steps: inout [WalkStep],
                                                           recording: Bool, updates: HardwareUpdatePolicy, fetch: Fetch.Type, mode: Mode.Type,
                                                           fetchAddress: (UInt64, inout [WalkStep]) throws(TranslationFault) -> UInt64,
                                                           permitsUpdate: (UInt64) throws(TranslationFault) -> Void) throws(TranslationFault) -> StageOutput {
        // Only a walk that records builds steps.
        if recording {
            return try walk(root: root, input: input, access: access, steps: &steps, recorder: StepList(), updates: updates,
                            fetch: fetch, mode: mode, fetchAddress: fetchAddress, permitsUpdate: permitsUpdate)
        }
        return try walk(root: root, input: input, access: access, steps: &steps, recorder: NoSteps(), updates: updates, fetch: fetch,
                        mode: mode, fetchAddress: fetchAddress, permitsUpdate: permitsUpdate)
    }

    /// The fault `kind` at `level` as the architecture reports it. Out of line, so that a
    /// walk passes itself by reference when it stops instead of carrying the rules' fields to
    /// every exit.
    @inline(never)
    private func fault(_ kind: WalkFaultKind, level: Int, access: AccessRights) -> TranslationFault {
        rules.fault(kind, stage: stage, level: level, access: access)
    }

    /// `walk` with its steps going to `recorder`.
    private func walk<Recorder: StepRecorder, Fetch: EntryFetch, Mode: UpdateMode>(
        root: UInt64, input: UInt64, access: AccessRights, steps: inout [WalkStep], recorder: Recorder, updates: HardwareUpdatePolicy,
        fetch: Fetch.Type, mode: Mode.Type, fetchAddress: (UInt64, inout [WalkStep]) throws(TranslationFault) -> UInt64,
        permitsUpdate: (UInt64) throws(TranslationFault) -> Void
    ) throws(TranslationFault) -> StageOutput {
        // The frame map as the walk reads it, remade whenever a fetch wrote memory (a nested
        // walk's stage 2 setting Access flags): this walk's own writes come last.
        var reader = memory.reader, writes = memory.writeCount
        var table = root
        var level = format.rootLevel
        let leafLevel = format.leafLevel
        var rights = AccessRights.readWrite
        // Descriptors the hardware changes, written once the translation succeeds.
        var changed: [(entry: UInt64, physical: UInt64, descriptor: UInt64)] = []
        while true {
            let index = format.index(of: input, level: level)
            let entry = table &+ UInt64(index) &* 8
            let physical = Fetch.translates ? try fetchAddress(entry, &steps) : entry
            if Fetch.translates, memory.writeCount != writes { (reader, writes) = (memory.reader, memory.writeCount) }
            let descriptor: UInt64
            do {
                descriptor = try reader.read64(physical)
            } catch {
                throw fault(.externalAbort(address: physical), level: level, access: access)
            }
            let kind = format.kind(of: descriptor, level: level)
            // The step holds the concrete format by value: plain data, stored and dropped as such.
            recorder.record(into: &steps) {
                WalkStep(stage: stage, role: role, format: format, input: input, level: level, table: table, index: index,
                         entryAddress: entry, descriptor: descriptor, kind: kind)
            }
            let used = !Mode.evaluates || kind == .invalid
                ? descriptor : format.updated(descriptor, level: level, kind: kind, access: access, updates: updates.updates)
            if Mode.evaluates, used != descriptor { changed.append((entry, physical, used)) }
            switch kind {
            case .invalid:
                throw fault(.translation, level: level, access: access)
            case .table:
                guard level != leafLevel else { throw fault(.translation, level: level, access: access) }
                rights.formIntersection(rules.tableRights(used, level: level))
                table = format.outputAddress(of: descriptor, level: level, kind: kind)
                level = format.nextLevel(after: level, descriptor: descriptor)
            case .block, .page:
                let size = format.leafSize(of: descriptor, level: level)
                let base = format.outputAddress(of: descriptor, level: level, kind: kind)
                // Architecturally an output address-size fault outranks Access flag and permission.
                if rules.outputBits < 64 && base &>> UInt64(truncatingIfNeeded: rules.outputBits) != 0 {
                    throw fault(.addressSize, level: level, access: access)
                }
                if let leafFault = rules.leafFault(used, level: level) {
                    throw fault(leafFault, level: level, access: access)
                }
                rights.formIntersection(rules.leafRights(used, level: level))
                guard rights.isSuperset(of: access) else {
                    throw fault(.permission, level: level, access: access)
                }
                if Mode.evaluates, updates.writesDescriptors {
                    for update in changed {
                        if Fetch.translates { try permitsUpdate(update.entry) }
                        do { try memory.write64(update.physical, update.descriptor) } catch {
                            throw fault(.externalAbort(address: update.physical), level: level, access: access)
                        }
                    }
                }
                // A leaf maps a power of two from an address below 2^64 - size: no overflow.
                return StageOutput(output: base &+ (input & (size &- 1)), size: size, rights: rights, leafLevel: level,
                                   leafDescriptor: descriptor)
            }
        }
    }
}

/// Where a walk reads its entries, decided by type so that a single stage's walk calls no
/// closure per read: each entry at its own address, or at the address the walk's caller
/// translates it to (a nested stage 1's stage 2, which may also write memory as it walks and
/// must permit a descriptor's update).
private protocol EntryFetch {
    static var translates: Bool { get }
}

/// Each entry at its own address, every update permitted.
private enum DirectFetch: EntryFetch {
    static var translates: Bool { false }
}

/// Each entry's address translated by `fetchAddress`, each update checked by `permitsUpdate`.
private enum TranslatedFetch: EntryFetch {
    static var translates: Bool { true }
}

/// Whether a walk evaluates hardware Access/Dirty updates, decided by type: a walk without
/// them keeps no list of descriptors to write back.
private protocol UpdateMode {
    static var evaluates: Bool { get }
}

/// No updates enabled: every descriptor is used as read.
private enum WithoutUpdates: UpdateMode {
    static var evaluates: Bool { false }
}

/// Updates enabled: each descriptor is used as the hardware leaves it, and written back.
private enum WithUpdates: UpdateMode {
    static var evaluates: Bool { true }
}

/// What a walk does with the descriptors it reads, decided by type: a walk without steps
/// builds none.
private protocol StepRecorder {
    /// Records the step `make` builds, or nothing.
    func record(into steps: inout [WalkStep], _ make: () -> WalkStep)
}

/// A walk's steps as the views show them.
private struct StepList: StepRecorder {
    @inline(__always)
    func record(into steps: inout [WalkStep], _ make: () -> WalkStep) {
        // Room for a 4-level walk and its configuration in one allocation, made by the first
        // step (an IOTLB hit records none).
        if steps.capacity == 0 { steps.reserveCapacity(8) }
        steps.append(make())
    }
}

/// No steps: the walk builds none and allocates nothing.
private struct NoSteps: StepRecorder {
    @inline(__always)
    func record(into steps: inout [WalkStep], _ make: () -> WalkStep) {}
}

/// What a translation reports besides its answer.
public enum WalkDetail: Sendable, Hashable {
    /// Every descriptor fetch, as the walk views show them (`Translation.steps`, a fault's
    /// `steps`), and the configuration reads.
    case steps
    /// The answer (or the fault) and the configuration reads, without building a step: what
    /// a caller that only needs the output asks for (a trace replay, a benchmark). The Arm
    /// SMMUv3 walk then allocates nothing; VT-d and AMD-Vi record their steps anyway, since
    /// how they report a fault depends on the entries read before it.
    case answer
}

/// A walk's record as it goes: the descriptor fetches (when `detail` asks for them) and the
/// configuration reads, in order.
public struct WalkRecord {
    public var steps: [WalkStep] = []
    public var fetches: [ConfigurationFetch] = []
    public let detail: WalkDetail

    /// Whether the walk builds its steps.
    public var recordsSteps: Bool { detail == .steps }
}

extension WalkRecord {
    /// Runs one driver walk and hands its record to whichever way it ends: the translation,
    /// or the fault (whose `adjust` lets the driver add the request's identity). `nil` from
    /// the walk means the request is not modelled.
    static func run(detail: WalkDetail, _ walk: (inout WalkRecord) throws(TranslationFault) -> Translation?,
                    adjustingFault adjust: (inout TranslationFault) -> Void = { _ in }) -> Result<Translation, TranslationFault>? {
        var record = WalkRecord(detail: detail)
        do throws(TranslationFault) {
            guard var translation = try walk(&record) else { return nil }
            if !record.fetches.isEmpty { translation.configurationFetches = record.fetches }
            return .success(translation)
        } catch {
            var fault = error
            fault.steps = record.steps
            fault.configurationFetches = record.fetches
            adjust(&fault)
            return .failure(fault)
        }
    }
}
