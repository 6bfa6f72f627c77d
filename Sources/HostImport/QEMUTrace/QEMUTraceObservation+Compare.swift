import IOMMUCore
import Presentation
import ScenarioScript

/// What the model says about an emulated vIOMMU's report (docs/host-import.md, "Emulated
/// vIOMMU events").
///
/// QEMU's vIOMMU walks the guest's own tables: IOVA → GPA. The model holds the host side of
/// the same device: for a device on a nested HWPT, the guest's stage 1 (read from guest RAM)
/// and the nest parent's stage 2, so the model computes the whole walk and the HPA behind the
/// observed GPA and compares the two; for a device on a paging HWPT of an IOAS (QEMU shadows
/// each guest mapping into the IOAS with map_dma), the IOAS must map the IOVA over the guest
/// page with at least the observed permission, and, where the trace lays out guest RAM, the
/// VMM memory its map_dma put there must hold the observed GPA (the model's user VAs are its
/// own, so that VMM VA is the trace's, `ShadowedMemory`).
extension QEMUTraceObservation: TimelineObservation {
    public var summary: String {
        switch self {
        case .translation(let t):
            let rights = t.rights.map { " " + $0.shortDescription } ?? ""
            let page = t.pageSize.map { " (\(Units.exactSize($0)))" } ?? ""
            let stage = t.stage.map { " stage \($0)" } ?? ""
            return "\(Self.unitName(t.unit)) \(t.requester) iova \(t.iova.hex) → gpa \(t.gpa.hex)\(rights)\(page)\(stage)"
        case .fault(let f):
            let who = f.requester.map { " \($0)" } ?? ""
            let address = f.address.map { " addr \($0.hex)" } ?? ""
            let access = f.isWrite.map { $0 ? " write" : " read" } ?? ""
            return "\(Self.unitName(f.unit)) fault\(who)\(address)\(access): \(Self.reasonText(f.reason))"
        case .invalidation(let i):
            return "guest invalidation: \(Self.invalidationText(i))"
        case .configuration(let c):
            switch c {
            case .vtdAddressSpace(let dev, let on):
                return "vtd \(EmulatedRequester.pci(dev)) DMA \(on ? "through the vIOMMU" : "straight to guest RAM")"
            case .vtdRootTable(let address, let mode): return "vtd root table \(address.hex) (\(mode.rawValue))"
            case .vtdTranslation(let enabled): return "vtd DMA remapping \(enabled ? "enabled" : "disabled")"
            }
        }
    }

    public func compare(with model: ModelReader) -> ObservationVerdict {
        switch self {
        case .translation(let t): return Self.compare(t, model)
        case .fault(let f): return Self.compare(f, model)
        case .invalidation:
            return .notComparable("the guest's invalidation of its emulated IOMMU's caches; the model sees its effect in the unmap, map or invalidate_cache lines the VMM issues for it")
        case .configuration:
            return .notComparable("the guest's configuration of its emulated IOMMU, which the host's iommufd does not see")
        }
    }

    // MARK: Translations

    private static func compare(_ t: EmulatedTranslation, _ model: ModelReader) -> ObservationVerdict {
        let guest = "guest: \(t.requester) iova \(t.iova.hex) → gpa \(t.gpa.hex)" + (t.rights.map { " " + $0.shortDescription } ?? "")
        let device: Device
        switch resolve(t.requester, t.unit, model) {
        case .failure(let why): return .notComparable(why.reason)
        case .success(let found): device = found
        }
        let name = "dev\(device.id.rawValue)"
        guard let hwpt = device.attachments[noPASID] else {
            return .disagrees("\(guest); model: \(name) is attached to nothing, so its DMA is blocked")
        }
        switch hwpt {
        case let nested as HWPTNested:
            return compareNested(t, guest, device, name, nested, model)
        case let paging as HWPTPaging:
            return compareShadow(t, guest, name, paging.ioas)
        default:
            return .notComparable("\(name) is attached to object \(hwpt.id.rawValue), which is no HWPT the model walks")
        }
    }

    /// A device attached to a paging HWPT: the IOAS must hold the guest page at its IOVA.
    private static func compareShadow(_ t: EmulatedTranslation, _ guest: String, _ name: String, _ ioas: IOAS) -> ObservationVerdict {
        let size = max(t.pageSize ?? 1, 1)
        let first = t.iova & ~(size - 1)
        let page = IOVARange(start: first, last: first | (size - 1))
        let holder = "IOAS \(ioas.id.rawValue)"
        var covered: UInt64 = 0
        var rights = AccessRights.readWrite
        var userVA: UInt64?
        ioas.areas.forEach(intersecting: page) { range, area in
            let start = max(range.start, page.start), last = min(range.last, page.last)
            covered = covered &+ (last - start) &+ 1
            rights.formIntersection(Self.rights(area.prot))
            if range.contains(t.iova) { userVA = area.userVA &+ (t.iova - range.start) }
            return true
        }
        guard let userVA else {
            return .disagrees("\(guest); model: \(holder) maps nothing at \(t.iova.hex) (\(name)'s DMA there faults: the shadow mapping is missing or stale)")
        }
        let pageText = t.pageSize.map { Units.exactSize($0) + " page " } ?? ""
        if let length = page.length, covered < length {
            return .disagrees("\(guest); model: \(holder) maps only part of the \(pageText)\(page.start.hex)-\(page.last.hex)")
        }
        let needed = t.rights ?? []
        if !rights.isSuperset(of: needed) {
            return .disagrees("\(guest); model: \(holder) maps \(t.iova.hex) \(rights.shortDescription) only")
        }
        let mapping = "model: \(holder) maps \(t.iova.hex) \(rights.shortDescription) at user VA \(userVA.hex)"
        guard let shadow = t.shadow, shadow.layoutKnown, let traced = shadow.mapping(in: ioas.id.rawValue) else {
            return .agrees("\(mapping) (the GPA is not compared: the trace shows no guest RAM layout, vfio_listener_region_add_ram, for the VMM memory mapped there)")
        }
        let vmmVA = traced.vmmVA
        guard let held = traced.gpa else {
            return .disagrees("\(guest); \(mapping), VMM VA \(vmmVA.hex) in the trace, which holds no guest RAM the trace lays out")
        }
        guard held == t.gpa else {
            return .disagrees("\(guest); \(mapping), VMM VA \(vmmVA.hex) in the trace, which holds gpa \(held.hex): a stale shadow mapping")
        }
        return .agrees("\(mapping), VMM VA \(vmmVA.hex) in the trace, which holds gpa \(held.hex)")
    }

    /// A device on a nested HWPT: the model walks the guest's stage 1 and the parent's stage 2;
    /// the HPA it reaches must be the one behind the observed GPA.
    private static func compareNested(_ t: EmulatedTranslation, _ guest: String, _ device: Device, _ name: String,
                                      _ nested: HWPTNested, _ model: ModelReader) -> ObservationVerdict {
        let access = t.rights.flatMap { $0.isEmpty ? nil : $0 } ?? .read
        let probed: Result<Translation, TranslationFault>?
        do { probed = try model.probe(deviceID: device.id, iova: t.iova, pasid: nil, access: access, caches: .bypass) }
        catch { return .notComparable("the model cannot probe \(name): \(error)") }
        guard let probed else { return .notComparable("the model does not walk \(name)'s nested tables") }
        let ioas = nested.stage2.ioas
        let expected = model.hostPhysicalAddress(of: t.gpa, in: ioas)
        switch probed {
        case .failure(let fault):
            return .disagrees("\(guest); model: the walk faults at stage \(fault.stage.number) level \(fault.level)")
        case .success(let walk):
            guard let expected else {
                return .disagrees("\(guest); model: walks to HPA \(walk.output.hex), but IOAS \(ioas.id.rawValue) backs no memory at gpa \(t.gpa.hex)")
            }
            if walk.output != expected {
                return .disagrees("\(guest) (HPA \(expected.hex)); model: walks to HPA \(walk.output.hex)")
            }
            return .agrees("model: \(name)'s nested walk reaches HPA \(walk.output.hex), the memory behind gpa \(t.gpa.hex)")
        }
    }

    // MARK: Faults

    private static func compare(_ f: EmulatedFault, _ model: ModelReader) -> ObservationVerdict {
        guard let requester = f.requester else { return .notComparable("the event names no device") }
        guard let address = f.address else { return .notComparable("the event names no address") }
        let device: Device
        switch resolve(requester, f.unit, model) {
        case .failure(let why): return .notComparable(why.reason)
        case .success(let found): device = found
        }
        let name = "dev\(device.id.rawValue)"
        let guest = "guest: \(requester) faults at \(address.hex)"
        guard let hwpt = device.attachments[noPASID] else {
            return .agrees("model: \(name) is attached to nothing, so its DMA faults too")
        }
        let access: AccessRights = f.isWrite == true ? .write : .read
        switch hwpt {
        case let paging as HWPTPaging:
            let ioas = paging.ioas
            guard let (range, area) = ioas.areas.entry(containing: address) else {
                return .agrees("model: IOAS \(ioas.id.rawValue) maps nothing at \(address.hex) either")
            }
            let rights = Self.rights(area.prot)
            guard rights.isSuperset(of: access) else {
                return .agrees("model: IOAS \(ioas.id.rawValue) maps \(address.hex) \(rights.shortDescription), without the \(access.shortDescription) access either")
            }
            return .disagrees("\(guest); model: IOAS \(ioas.id.rawValue) still maps \(range.start.hex)-\(range.last.hex) \(rights.shortDescription) (a mapping the guest's tables no longer hold)")
        case is HWPTNested:
            let probed: Result<Translation, TranslationFault>?
            do { probed = try model.probe(deviceID: device.id, iova: address, pasid: nil, access: access, caches: .bypass) }
            catch { return .notComparable("the model cannot probe \(name): \(error)") }
            switch probed {
            case nil: return .notComparable("the model does not walk \(name)'s nested tables")
            case .failure(let fault)?: return .agrees("model: \(name)'s nested walk faults at stage \(fault.stage.number) too")
            case .success(let walk)?: return .disagrees("\(guest); model: \(name)'s nested walk reaches HPA \(walk.output.hex)")
            }
        default:
            return .notComparable("\(name) is attached to object \(hwpt.id.rawValue), which is no HWPT the model walks")
        }
    }

    /// The read and write rights of an IOAS area's `IOMMU_READ`/`IOMMU_WRITE`.
    static func rights(_ prot: IOMMUProt) -> AccessRights {
        var rights: AccessRights = []
        if prot.contains(.read) { rights.insert(.read) }
        if prot.contains(.write) { rights.insert(.write) }
        return rights
    }

    // MARK: Requesters

    /// Why a requester is no one bound device of the model.
    struct Unresolved: Error { var reason: String }

    /// The bound device an emulated IOMMU's requester is: a vDEVICE whose virtual id is the
    /// SMMU's StreamID (the guest's vSID, accelerated nesting); else a bound device whose name
    /// is the requester's PCI address; else one with no PCI name whose StreamID / requester id
    /// is that number.
    static func resolve(_ requester: EmulatedRequester, _ unit: IOMMUArchitecture, _ model: ModelReader) -> Result<Device, Unresolved> {
        let devices = model.graph.devices
        let rid: UInt32
        switch requester {
        case .streamID(let sid):
            if let vdevice = devices.compactMap(\.vdevice).first(where: { $0.virtualID == UInt64(sid) }) { return .success(vdevice.device) }
            rid = sid
        case .pci(let address):
            rid = UInt32(address.requesterID)
        }
        let pci = rid <= UInt32(UInt16.max) ? PCIAddress(requesterID: UInt16(rid)) : nil
        let matches = devices.filter { device in
            if let named = PCIAddress(parsing: device.platform.name) { return named == pci }
            return device.platform.streamID == rid
        }
        guard let device = matches.first else {
            return .failure(Unresolved(reason: "\(requester) is an emulated device, not one the trace bound to iommufd"))
        }
        guard matches.count == 1 else {
            return .failure(Unresolved(reason: "\(requester) matches \(matches.count) bound devices (\(matches.map { "dev\($0.id.rawValue)" }.joined(separator: ", ")))"))
        }
        return .success(device)
    }

    // MARK: Text

    static func unitName(_ unit: IOMMUArchitecture) -> String {
        switch unit {
        case .armSMMUv3: "smmuv3"
        case .intelVTd: "vtd"
        case .amdVi: "amd-vi"
        case .mock: "mock"
        }
    }

    static func reasonText(_ reason: EmulatedFaultReason) -> String {
        switch reason {
        case .smmuv3(let id, let name): id.map { "\($0.name) (\(UInt64($0.rawValue).hex))" } ?? name
        case .smmuv3Abort: "abort"
        case .vtd(let reason?, let code): "\(reason.linuxString) (\(UInt64(code).hex))"
        case .vtd(nil, let code): "reason \(UInt64(code).hex) (not a DMA-remapping fault reason)"
        case .amdViPageFault: "IO_PAGE_FAULT"
        }
    }

    static func invalidationText(_ i: GuestInvalidation) -> String {
        func opt<T>(_ label: String, _ value: T?, _ text: (T) -> String) -> String { value.map { " \(label) \(text($0))" } ?? "" }
        switch i {
        case .smmuv3Command(let command): return "smmuv3 command \(command)"
        case .smmuv3STE(let sid): return "smmuv3 STE of SID \(UInt64(sid).hex)"
        case .smmuv3CD(let sid): return "smmuv3 CDs of SID \(UInt64(sid).hex)"
        case .smmuv3STERange(let first, let last): return "smmuv3 STEs of SIDs \(UInt64(first).hex)-\(UInt64(last).hex)"
        case .smmuv3Range(let vmid, let asid, let address, let tg, let pages, let ttl, let leaf, let stage):
            return "smmuv3 TLB range vmid \(vmid) asid \(asid) addr \(address.hex) pages \(pages.hex) tg \(tg) ttl \(ttl)\(leaf ? " leaf" : "")"
                + opt("stage", stage) { "\($0)" }
        case .smmuTLB(let asid, let vmid, let address):
            let scope = opt("asid", asid) { "\($0)" } + opt("vmid", vmid) { "\($0)" } + opt("addr", address) { $0.hex }
            return "smmu TLB" + (scope.isEmpty ? " all" : scope)
        case .vtdDescriptor(let type, let high, let low): return "vtd queue descriptor \(type) \(high.hex) \(low.hex)"
        case .vtdIOTLB(let domain, let address, let mask, let pasid):
            let scope = opt("domain", domain) { UInt64($0).hex } + opt("pasid", pasid) { UInt64($0).hex }
                + opt("addr", address) { $0.hex } + opt("mask", mask) { "\($0)" }
            return "vtd IOTLB" + (scope.isEmpty ? " global" : scope)
        case .vtdContextCache(let domain, let device, let fmask):
            let scope = opt("domain", domain) { UInt64($0).hex } + opt("", device) { "\(EmulatedRequester.pci($0))" }
                + opt("fmask", fmask) { UInt64($0).hex }
            return "vtd context cache" + (scope.isEmpty ? " global" : scope.replacingOccurrences(of: "  ", with: " "))
        case .vtdContextCacheReset: return "vtd context cache reset"
        }
    }
}
