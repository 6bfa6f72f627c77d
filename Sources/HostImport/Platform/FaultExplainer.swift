import IOMMUCore
import Presentation

/// Replays logged faults on a machine: for each record, the model device that issued it,
/// the same DMA walked with `.bypass` caches (a probe: no cache is filled, no Access or
/// Dirty bit is written), and the likely cause.
///
/// On a host the machine holds only what the dumps showed (`tables`): a walk into a range
/// the dumps did not cover says "unknown", never "unmapped". On a scenario's machine every
/// table is the model's own, and `unmapped` (what the scenario's `ioas_unmap` lines took
/// away) tells a DMA after unmap from one that was never mapped.
public struct FaultExplainer {
    public var machine: Machine
    public var tables: TableRebuildReport
    /// IOVA ranges a scenario mapped and then unmapped, in the order of the unmaps.
    public var unmapped: [UnmappedRange] = []
    /// True on a scenario's machine, whose tables are all known; false on a host's, whose
    /// tables are known only where `tables` covers them.
    public var tablesAreComplete = false
    /// `iommu_groups/N/type` of each group: what the device's domain is called.
    private let groupTypes: [UInt32: DefaultDomainType]

    /// A host's machine and its rebuilt tables.
    public init(machine: Machine, tables: TableRebuildReport) {
        self.machine = machine
        self.tables = tables
        groupTypes = Dictionary(machine.platform.groups.map { ($0.id, $0.defaultDomain) }, uniquingKeysWith: { first, _ in first })
    }

    /// A scenario's machine (after its run) and what its unmaps removed.
    public init(scenarioMachine machine: Machine, unmapped: [UnmappedRange]) {
        self.init(machine: machine, tables: TableRebuildReport())
        self.unmapped = unmapped
        tablesAreComplete = true
    }

    public func explain(_ record: FaultRecord) -> FaultExplanation {
        let logged = terminalSafe(record.reason)
        guard let device = modelDevice(for: record) else {
            let text = FaultExplanationText.noDevice(record)
            return FaultExplanation(record: record, device: nil, outcome: .notWalked(text), cause: .noDevice, sentence: text)
        }
        let context = FaultExplanationText.Context(record: record, device: device.name, domain: domainName(device))
        guard let address = record.address else {
            return notModelled(record, device, context, "the record has no address")
        }
        let access: AccessRights = record.access == .write ? .write : .read
        guard let result = device.iommu.translate(device, iova: address, pasid: record.pasid, access: access, caches: .bypass,
                                                  memory: machine.physical) else {
            return notModelled(record, device, context, "the model's \(device.iommu.architecture.rawValue) walk of this request is not modelled")
        }
        let region = device.reservedRegions.first { $0.range.contains(address) }
        switch result {
        case .success(let translation):
            var explanation = FaultExplanation(record: record, device: device.name, outcome: .translated(translation),
                                               cause: .translatesNow, sentence: FaultExplanationText.translatesNow(context, translation))
            explanation.reasons = ReasonComparison(logged: logged, model: nil, agree: nil)
            explanation.sentence += FaultExplanationText.reasons(explanation.reasons)
            return explanation
        case .failure(let fault):
            let cause = self.cause(of: fault, record: record, address: address, device: device, region: region)
            let loggedKind = FaultReasonKind(architecture: record.architecture, reason: record.reason, amdFlags: record.flags)
            // Where the host's structures were not dumped, the model's fault is about what it
            // does not know: it is not set against the logged reason.
            let reasons = cause == .unknownTables ? ReasonComparison(logged: logged, model: nil, agree: nil)
                : ReasonComparison(logged: logged, model: FaultText.reason(fault), agree: loggedKind.agrees(with: FaultReasonKind(fault)))
            let sentence = FaultExplanationText.sentence(cause, context, fault: fault, address: address, region: region,
                                                         unmap: staleUnmap(address), table: tables.table(device: device.name, pasid: record.pasid))
                + FaultExplanationText.reasons(reasons)
            var explanation = FaultExplanation(record: record, device: device.name, outcome: .faulted(fault), cause: cause,
                                               sentence: sentence)
            explanation.reasons = reasons
            return explanation
        }
    }

    private func notModelled(_ record: FaultRecord, _ device: PlatformDevice, _ context: FaultExplanationText.Context,
                             _ why: String) -> FaultExplanation {
        FaultExplanation(record: record, device: device.name, outcome: .notWalked(why), cause: .notModelled,
                         sentence: FaultExplanationText.notModelled(context, why))
    }

    // MARK: The device

    /// The device the record names: by sysfs name (a BDF or a platform device's name), then
    /// by the number the IOMMU saw (an SMMUv3 StreamID, a VT-d source-id or AMD-Vi devid,
    /// `bus << 8 | devfn`), preferring the unit the log names.
    func modelDevice(for record: FaultRecord) -> PlatformDevice? {
        var number: UInt32?
        switch record.device {
        case .pci(let address)?:
            if let device = machine.device(named: address.description) { return device }
            number = UInt32(address.requesterID)
        case .named(let name)?:
            if let device = machine.device(named: name) { return device }
        case nil:
            break
        }
        if let sid = record.sid { number = sid }
        guard let number else { return nil }
        let candidates = machine.devices.filter { $0.streamID == number && Self.matches($0.iommu.architecture, record.architecture) }
        return candidates.first { $0.iommu.name == record.iommu } ?? candidates.first
    }

    private static func matches(_ architecture: IOMMUArchitecture, _ logged: FaultRecord.Architecture) -> Bool {
        logged == .iommu || architecture.rawValue == logged.rawValue || architecture == .mock
    }

    /// "DMA domain", "identity domain": the group's default domain on a host; a scenario's
    /// devices are in whatever their lines attached.
    private func domainName(_ device: PlatformDevice) -> String {
        guard !tablesAreComplete, let type = groupTypes[device.group] else { return "domain" }
        switch type {
        case .dma, .dmaFQ: return "DMA domain"
        case .identity: return "identity domain"
        case .blocked: return "blocked domain"
        case .unmanaged: return "unmanaged domain"
        }
    }

    // MARK: The cause

    private func cause(of fault: TranslationFault, record: FaultRecord, address: UInt64, device: PlatformDevice,
                       region: ReservedRegion?) -> FaultCause {
        let kind = FaultReasonKind(fault)
        if region != nil { return .reservedRegion }
        let table = tables.table(device: device.name, pasid: record.pasid)
        if kind == .addressRange || table.map({ !$0.format.translates(address) }) == true { return .outsideAperture }
        if !tablesAreComplete && !tables.knows(address, device: device.name, pasid: record.pasid) { return .unknownTables }
        if fault.stage == .configuration || kind == .configuration { return .configuration }
        switch fault.steps.last?.kind {
        case .block?, .page?:
            return kind == .accessFlag ? .configuration : .readOnly
        case .invalid?:
            return staleUnmap(address) != nil ? .staleAfterUnmap : .unmapped
        case .table?, nil:
            // A fetch that hit no memory: on a host, a table the dumps did not hold.
            return tablesAreComplete ? .configuration : .unknownTables
        }
    }

    /// The last unmap that took `address` away.
    private func staleUnmap(_ address: UInt64) -> UnmappedRange? {
        unmapped.last { $0.range.contains(address) }
    }
}

/// What one scenario unmap removed: the IOAS, the range of one area, and the line.
public struct UnmappedRange: Sendable, Equatable {
    public var ioas: UInt32
    public var range: IOVARange
    public var line: Int

    public init(ioas: UInt32, range: IOVARange, line: Int) {
        self.ioas = ioas
        self.range = range
        self.line = line
    }
}
