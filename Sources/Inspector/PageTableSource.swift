import Foundation
import HostImport
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

// MARK: - Page tables as the views read them

/// A page table a view can read: its format, a read-only peek at the memory its descriptors
/// live in, and its root. A host domain's table is read where the core keeps it; a guest's
/// stage-1 table through the nest parent's IOAS, addresses being GPAs.
struct PageTableSource {
    /// "HWPT 3", "HWPT 6 guest-S1".
    var title: String
    /// Identity of the table, to reset the navigation when another table is shown.
    var key: String
    var format: any PageTableFormat
    /// One descriptor at an address of the table's memory; nil where nothing backs it.
    var read: (UInt64) -> UInt64?
    var root: UInt64
    /// The stage its walk steps are labelled with.
    var stage: TranslationStage
    /// What the table's addresses are: "PA" (host), "GPA" (guest RAM).
    var space: String
    /// For a guest table: the IOAS whose guest RAM holds it.
    var guestIOAS: IOAS?
    /// For a guest table: the stage-2 translation of its IPAs/GPAs to host physical addresses.
    var stage2: ((UInt64) -> UInt64?)? = nil
    /// A remark shown with the table (e.g. TTB0 walks disabled).
    var note: String?
    /// Input ranges whose entries are unknown (a host table the dumps did not cover): an
    /// empty entry there is not known to be empty.
    var unknown: [IOVARange] = []
    /// The HWPT whose table this is (a nested HWPT for its guest table); nil for a host's
    /// kernel table. The devices attached to it are those whose IOTLB entries it may contradict.
    var hwpt: ObjectID? = nil

    /// Whether any of `range` is unknown.
    func isUnknown(_ range: IOVARange) -> Bool { unknown.contains { $0.intersects(range) } }

    /// Entries of a table: the root's (all concatenated tables) or a lower one's.
    func entries(root isRoot: Bool) -> Int { Int((isRoot ? format.rootTableSize : format.tableSize) / 8) }

    /// x86 first-stage addresses are shown sign-extended (canonical).
    func display(_ address: UInt64) -> UInt64 {
        (format as? X86FirstStage)?.canonical(address) ?? address
    }

    /// The host physical address of `address`: itself on the host, its stage-2 translation
    /// for a guest table (the table's own addresses and its leaves' outputs alike).
    func hostAddress(_ address: UInt64) -> UInt64? {
        guard let stage2 else { return address }
        return stage2(address)
    }

    /// The descriptors from the root to the leaf (or first invalid entry) for `iova`, read
    /// through the table's memory (guest RAM for a guest table).
    func path(to iova: UInt64) -> [WalkStep] {
        TableCursor(format: format, root: root, stage: stage, read: read).steps(to: iova)
    }

    /// The IOVA of the first leaf, depth first, reading at most `budget` descriptors.
    func firstLeaf(budget: Int = 4096) -> UInt64? {
        var remaining = budget
        func visit(_ table: UInt64, _ level: Int, _ base: UInt64, _ count: Int) -> UInt64? {
            let span = format.entrySpan(level: level)
            for index in 0..<count {
                guard remaining > 0 else { return nil }
                remaining -= 1
                guard let descriptor = read(table &+ UInt64(index) * 8), descriptor != 0 else { continue }
                let start = base &+ UInt64(index) &* span
                switch format.kind(of: descriptor, level: level) {
                case .block, .page: return display(start)
                case .table where level != format.leafLevel:
                    if let found = visit(format.outputAddress(of: descriptor, level: level),
                                         format.nextLevel(after: level, descriptor: descriptor), start, entries(root: false)) {
                        return found
                    }
                default: continue
                }
            }
            return nil
        }
        return visit(root, format.rootLevel, 0, entries(root: true))
    }
}

/// Finds the page table behind an object of the tree.
enum PageTableSources {
    enum Resolved {
        case table(PageTableSource)
        /// No table to show, and why.
        case none(String)
    }

    /// The table of what is selected: on a host, a kernel domain (or a device's, or a
    /// logged fault's device's) when no iommufd object is selected; else the object's.
    static func resolve(_ context: RenderContext) -> Resolved {
        if let item = context.hostSelection, context.selection == nil {
            let faults = context.model.faults
            guard let host = context.model.host else {
                // A scenario's IOMMU row has no table of its own: say what has one.
                if case .unit = item { return resolve(nil, reader: context.reader) }
                return .none("Kernel domains are a host's (tui --host).")
            }
            switch item {
            case .kernelDomain(let device, let pasid): return kernel(host.domain(device: device, pasid: pasid), host)
            case .device(let device): return kernel(host.domain(device: device, pasid: nil), host)
            case .fault(let index):
                guard faults.indices.contains(index), let device = faults[index].device else {
                    return .none("The fault's device is not on the host: no table.")
                }
                return kernel(host.domain(device: device, pasid: faults[index].record.pasid), host)
            case .host, .unit, .group:
                return .none("Select a device's kernel domain in the tree (1).")
            }
        }
        return resolve(context.selection, reader: context.reader)
    }

    /// A kernel domain's table as rebuilt in the machine's memory, its undumped ranges unknown.
    static func kernel(_ domain: KernelDomain?, _ host: HostView) -> Resolved {
        guard let domain else { return .none("No such kernel domain.") }
        guard let table = domain.table else {
            return .none("\(terminalSafe(domain.device)) \(domain.title): \(domain.summary).")
        }
        let stage: TranslationStage = switch table.format {
        case let arm as ArmLPAE: arm.stage == .stage2 ? .stage2 : .stage1
        case is X86FirstStage: .stage1
        default: .stage2
        }
        return .table(PageTableSource(title: terminalSafe(domain.device) + " " + domain.title,
                                      key: "kdom:\(domain.device):\(domain.pasid.map(String.init) ?? "-"):\(table.root)",
                                      format: table.format, read: host.read, root: table.root, stage: stage, space: "PA", guestIOAS: nil,
                                      note: KernelDomain.coverageWord(table.coverage), unknown: KernelDomain.unknownRanges(table)))
    }

    static func resolve(_ selection: ObjectID?, reader: ModelReader) -> Resolved {
        guard let selection, let object = reader.object(selection)?.object else {
            return .none("Select a HWPT_PAGING, HWPT_NESTED or DEVICE in the tree (1).")
        }
        switch object {
        case let hwpt as HWPT: return resolve(hwpt, reader: reader)
        case let device as Device:
            guard let hwpt = device.attachments[noPASID] else { return .none("DEVICE \(device.id) is blocked: no page table.") }
            return resolve(hwpt, reader: reader)
        case let vdevice as VDevice:
            guard let hwpt = vdevice.device.attachments[noPASID] else { return .none("DEVICE \(vdevice.device.id) is blocked.") }
            return resolve(hwpt, reader: reader)
        case let viommu as VIOMMU: return resolve(viommu.parent, reader: reader)
        case let ioas as IOAS:
            guard let hwpt = ioas.hwpts.first else { return .none("IOAS \(ioas.id) has no HWPT_PAGING yet.") }
            return resolve(hwpt, reader: reader)
        default:
            return .none("\(object.type) \(object.id) has no page table.")
        }
    }

    static func resolve(_ hwpt: HWPT, reader: ModelReader) -> Resolved {
        switch hwpt {
        case let paging as HWPTPaging:
            guard let table = paging.domain.table as? DescriptorPageTable else {
                return .none("HWPT \(paging.id) is the selftest mock's xarray: it keeps no descriptors.")
            }
            return .table(PageTableSource(title: "HWPT \(paging.id)", key: "hwpt:\(paging.id):\(table.root)", format: table.format,
                                          read: { reader.descriptor(of: table, at: $0) }, root: table.root,
                                          stage: paging.domain.stage.translationStage, space: "PA", guestIOAS: nil, note: nil,
                                          hwpt: paging.id))
        case let nested as HWPTNested:
            return guestStage1(of: nested, reader: reader)
        default:
            return .none("\(hwpt.type) \(hwpt.id) has no page table.")
        }
    }

    /// A nested HWPT's guest stage-1 table, where the core's query finds it.
    static func guestStage1(of nested: HWPTNested, reader: ModelReader) -> Resolved {
        let ioas = nested.stage2.ioas
        switch reader.guestStage1Table(of: nested) {
        case .success(let table):
            let note = table.walksDisabled ? "CD.EPD0 set: TTB0 walks are disabled"
                : table.contextDescriptor.map { "CD @ GPA \($0.address.hex) ASID \($0.asid)" }
            return .table(PageTableSource(title: "HWPT \(nested.id) guest-S1", key: "hwpt:\(nested.id):\(table.root)", format: table.format,
                                          read: { reader.guestWord(at: $0, in: ioas) }, root: table.root, stage: .stage1, space: "GPA",
                                          guestIOAS: ioas, stage2: { reader.stage2Output(of: $0, for: nested) }, note: note, hwpt: nested.id))
        case .failure(.selftest):
            return .none("HWPT \(nested.id) is a selftest nested domain: an IOTLB array, no table.")
        case .failure(.streamTableEntryInvalid):
            return .none("HWPT \(nested.id): the guest STE is not valid (V=0): DMA aborts.")
        case .failure(.notStage1(let config)):
            if config == SMMUv3.Config.bypass.rawValue {
                return .none("HWPT \(nested.id): the guest STE bypasses stage 1; stage 2 is HWPT \(nested.stage2.id).")
            }
            return .none("HWPT \(nested.id): the guest STE does not translate by stage 1 (Config \(config)).")
        case .failure(.contextDescriptorUnreadable(let address)):
            return .none("HWPT \(nested.id): the guest CD at GPA \(address.hex) is not in guest RAM.")
        case .failure(.contextDescriptorInvalid(let address)):
            return .none("HWPT \(nested.id): the guest CD at GPA \(address.hex) is not valid (V, AA64, TG0, T0SZ): C_BAD_CD.")
        }
    }
}
