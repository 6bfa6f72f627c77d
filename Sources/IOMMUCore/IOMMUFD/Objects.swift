/// The base of every object in an iommufd file's object table (`struct iommufd_object`).
///
/// References between objects are the objects' own pointers (an HWPT's `ioas`, a device's
/// attachments); the file mirrors each one as an edge of its `ObjectGraph` when the pointer
/// is set (`IOMMUFD.link`), so the kernel's `users` count follows them, never kept by hand.
public class IOMMUFDObject {
    public let id: ObjectID
    public let type: ObjectType

    init(id: ObjectID, type: ObjectType) {
        self.id = id
        self.type = type
    }
}

/// One IOVA area: the pages of one MAP (or one piece of a COPY) at an IOVA range.
public struct IOASArea: Sendable, Equatable {
    /// The user VA of the area's first byte.
    public var userVA: UInt64
    /// `IOMMU_READ`/`IOMMU_WRITE` (and `IOMMU_CACHE`, which iommufd always sets).
    public var prot: IOMMUProt
}

/// Who put a reserved range into an IOAS.
public enum ReservationOwner: Hashable, Sendable {
    /// A device's reserved region (`owner = idev->dev`).
    case device(ObjectID, ReservedRegionType)
    /// The out-of-aperture parts of an attached domain (`owner = domain`).
    case domain(ObjectID)
    /// `IOMMU_TEST_OP_ADD_RESERVED` (owner NULL).
    case test
}

/// A reserved range of an IOAS (`iopt->reserved_itree` entry).
public struct Reservation: Sendable, Equatable {
    public var range: IOVARange
    public var owner: ReservationOwner
}

/// `IOMMUFD_OBJ_IOAS` and its `struct io_pagetable`.
public final class IOAS: IOMMUFDObject, KindedObject {
    /// `iopt->area_itree`.
    public internal(set) var areas = IntervalTree<IOASArea>()
    /// `iopt->reserved_itree`, ascending by start; entries may overlap each other.
    public internal(set) var reservations: [Reservation] = []
    /// `iopt->allowed_itree`: disjoint, ascending.
    public internal(set) var allowedRanges: [IOVARange] = []
    /// `iopt->iova_alignment`.
    public internal(set) var iovaAlignment: UInt64 = 1
    /// `iopt->disable_large_pages` (IOMMU_OPTION_HUGE_PAGES = 0).
    public internal(set) var largePagesDisabled = false
    /// `ioas->hwpt_list`: the paging HWPTs whose domains mirror this IOAS, oldest first.
    public internal(set) var hwpts: [HWPTPaging] = []
    /// `iopt->access_list`: the in-kernel accesses attached, oldest first.
    public internal(set) var accesses: [Access] = []
    /// `area->num_accesses`: access pins on each area, by the area's start.
    var accessPins: [UInt64: Int] = [:]

    init(id: ObjectID) { super.init(id: id, type: .ioas) }

    public var kind: ObjectKind { .ioas(self) }
}

/// Either kind of HWPT (`struct iommufd_hw_pagetable`).
public class HWPT: IOMMUFDObject {
    /// `hwpt->pasid_compat` (IOMMU_HWPT_ALLOC_PASID).
    public let pasidCompatible: Bool
    /// `hwpt->fault`: the FAULT object its domain's I/O page faults go to
    /// (IOMMU_HWPT_FAULT_ID_VALID), set once while the HWPT is allocated.
    public internal(set) var fault: FaultQueue?

    init(id: ObjectID, type: ObjectType, pasidCompatible: Bool) {
        self.pasidCompatible = pasidCompatible
        super.init(id: id, type: type)
    }
}

/// `IOMMUFD_OBJ_HWPT_PAGING`: a paging domain mirroring an IOAS.
public final class HWPTPaging: HWPT, KindedObject {
    /// Unowned: the IOAS holds its HWPTs (`hwpts`), and outlives them, as the kernel's users
    /// count makes it (an IOAS with a HWPT cannot be destroyed).
    public unowned let ioas: IOAS
    public let domain: PagingDomain
    /// Created by attaching a device to an IOAS, and freed when its last device leaves.
    public let isAutomatic: Bool
    public let flags: HWPTAllocFlags
    /// `present_sw_msi`: the doorbell maps already mapped into this HWPT's domain.
    public internal(set) var presentSWMSI: Set<Int> = []

    init(id: ObjectID, ioas: IOAS, domain: PagingDomain, isAutomatic: Bool, flags: HWPTAllocFlags) {
        self.ioas = ioas
        self.domain = domain
        self.isAutomatic = isAutomatic
        self.flags = flags
        super.init(id: id, type: .hwptPaging, pasidCompatible: flags.contains(.pasid))
    }

    public var isNestParent: Bool { flags.contains(.nestParent) }

    public var kind: ObjectKind { .hwptPaging(self) }
}

/// `IOMMUFD_OBJ_HWPT_NESTED`: a guest stage-1 on a nest parent, or on a vIOMMU.
public final class HWPTNested: HWPT, KindedObject {
    public enum Parent {
        case hwpt(HWPTPaging)
        case viommu(VIOMMU)
    }

    public let parent: Parent
    public let domain: NestedDomain

    init(id: ObjectID, parent: Parent, domain: NestedDomain, pasidCompatible: Bool) {
        self.parent = parent
        self.domain = domain
        super.init(id: id, type: .hwptNested, pasidCompatible: pasidCompatible)
    }

    /// The paging HWPT that provides stage 2 (`find_hwpt_paging` of a nested HWPT).
    public var stage2: HWPTPaging {
        switch parent {
        case .hwpt(let paging): paging
        case .viommu(let viommu): viommu.parent
        }
    }

    public var kind: ObjectKind { .hwptNested(self) }
}

/// `IOMMUFD_OBJ_DEVICE`: a bound device.
public final class Device: IOMMUFDObject, KindedObject {
    public let platform: PlatformDevice
    /// The HWPT attached per PASID (`noPASID` is the RID).
    public fileprivate(set) var attachments: [UInt32: HWPT] = [:]
    /// The device's vDEVICE, if any (`idev->vdev`); set and cleared with the vDEVICE's edges.
    public internal(set) weak var vdevice: VDevice?
    /// `igroup->required_sw_msi`: the doorbell maps the device's MSIs need.
    public internal(set) var requiredSWMSI: Set<Int> = []
    /// `iopf_param->partial`: page requests of groups whose last request has not come yet.
    var partialPageRequests: [PageRequest] = []
    /// The PRG index the device's PRI gives its next page request group.
    var nextPageRequestGroup: UInt32 = 0

    init(id: ObjectID, platform: PlatformDevice) {
        self.platform = platform
        super.init(id: id, type: .device)
    }

    public var kind: ObjectKind { .device(self) }

    /// Attaches the device at `pasid` to `hwpt` (nil detaches), moving the graph's edge with
    /// the pointer: the only writer of `attachments`, so users cannot drift from them.
    /// Returns the HWPT attached before.
    func setAttachment(_ hwpt: HWPT?, pasid: UInt32, links: inout ObjectLinks) -> HWPT? {
        let old = attachments[pasid]
        if let old { links.remove(ObjectReference(from: id, to: old.id, role: .attachment(pasid: pasid))) }
        attachments[pasid] = hwpt
        if let hwpt { links.insert(ObjectReference(from: id, to: hwpt.id, role: .attachment(pasid: pasid))) }
        return old
    }
}

/// `IOMMUFD_OBJ_VIOMMU`: a virtual IOMMU instance for a guest, on a nest-parent HWPT.
public final class VIOMMU: IOMMUFDObject, KindedObject {
    public let viommuType: UInt32
    public let parent: HWPTPaging
    /// The physical IOMMU instance behind it (`viommu->iommu_dev`).
    public let driver: any IOMMUDriver
    /// Driver data echoed back to the user (the selftest's `out_data`).
    public let outData: UInt32
    /// `viommu->vdevs`: the vDEVICEs by virtual id, as the drivers look them up.
    public internal(set) var vdevices: [UInt64: VDevice] = [:]
    /// `viommu->veventqs`, oldest first; at most one per type.
    public internal(set) var veventqs: [VEventQueue] = []

    init(id: ObjectID, type: UInt32, parent: HWPTPaging, driver: any IOMMUDriver, outData: UInt32) {
        self.viommuType = type
        self.parent = parent
        self.driver = driver
        self.outData = outData
        super.init(id: id, type: .viommu)
    }

    public var kind: ObjectKind { .viommu(self) }
}

/// `IOMMUFD_OBJ_VDEVICE`: a device as the guest names it on a vIOMMU (its virtual SID/RID).
public final class VDevice: IOMMUFDObject, KindedObject {
    /// Unowned: the vIOMMU holds its vDEVICEs and outlives them (users count).
    public unowned let viommu: VIOMMU
    /// Unowned: the device outlives its vDEVICE (which holds a users count on it), and its
    /// attachment to a HWPT nested on the vIOMMU would otherwise make a cycle.
    public unowned let device: Device
    public let virtualID: UInt64

    init(id: ObjectID, viommu: VIOMMU, device: Device, virtualID: UInt64) {
        self.viommu = viommu
        self.device = device
        self.virtualID = virtualID
        super.init(id: id, type: .vdevice)
    }

    public var kind: ObjectKind { .vdevice(self) }
}

/// The selftest's `IOMMUFD_OBJ_SELFTEST` mock device handle (`stdev`).
public final class SelftestDevice: IOMMUFDObject, KindedObject {
    public let device: Device

    init(id: ObjectID, device: Device) {
        self.device = device
        super.init(id: id, type: .selftest)
    }

    public var kind: ObjectKind { .selftest(self) }
}

/// `IOMMUFD_OBJ_FAULT` (`struct iommufd_fault`): where the I/O page faults of the HWPTs
/// allocated with its id are queued for user space, read back and answered through its file.
public final class FaultQueue: IOMMUFDObject, KindedObject {
    /// `out_fault_fd`.
    public let fd: Int32
    /// `fault->common.deliver`: the fault groups not read yet, oldest first.
    public internal(set) var pending: [IOPFGroup] = []
    /// `fault->response`: the groups read and not answered yet, by cookie.
    public internal(set) var awaitingResponse: [UInt32: IOPFGroup] = [:]
    /// The answers the devices got, oldest first (`iopf_group_response`), including the
    /// INVALID ones iommufd gives itself on detach and destroy; the last `answerLimit` only.
    public internal(set) var answers: [PageResponse] = []
    static let answerLimit = 64

    init(id: ObjectID, fd: Int32) {
        self.fd = fd
        super.init(id: id, type: .fault)
    }

    public var kind: ObjectKind { .fault(self) }
}

/// `IOMMUFD_OBJ_VEVENTQ` (`struct iommufd_veventq`): the queue of one type of events a
/// vIOMMU forwards to user space (an SMMUv3's event records with the guest's StreamIDs).
public final class VEventQueue: IOMMUFDObject, KindedObject {
    /// Unowned: the vIOMMU holds its vEVENTQs and outlives them (users count).
    public unowned let viommu: VIOMMU
    /// `enum iommu_veventq_type`.
    public let eventType: UInt32
    /// `veventq_depth`: events queued before new ones are lost.
    public let depth: UInt32
    /// `out_veventq_fd`.
    public let fd: Int32
    /// `eventq->deliver`, oldest first; the lost-events header, when queued, is last.
    public internal(set) var deliver: [VEvent] = []
    /// `veventq->num_events`: queued events, not counting the lost-events header.
    public internal(set) var eventCount: UInt32 = 0
    /// `veventq->sequence`: the next event's sequence number, in `[0, INT_MAX]`.
    public internal(set) var sequence: UInt32 = 0

    init(id: ObjectID, viommu: VIOMMU, type: UInt32, depth: UInt32, fd: Int32) {
        self.viommu = viommu
        self.eventType = type
        self.depth = depth
        self.fd = fd
        super.init(id: id, type: .veventq)
    }

    public var kind: ObjectKind { .veventq(self) }
}

/// `IOMMUFD_OBJ_ACCESS` (`struct iommufd_access`): how an in-kernel driver without DMA of its
/// own (an mdev, a VFIO emulated device) reads, writes and pins the memory an IOAS maps; here
/// with the selftest's driver around it (`struct selftest_access`), whose file stands for it.
public final class Access: IOMMUFDObject, KindedObject {
    /// One range the driver pinned (`struct selftest_access_item`).
    public struct Pin: Sendable, Equatable {
        /// `out_access_pages_id`.
        public var id: UInt32
        public var iova: UInt64
        public var length: UInt64
    }

    /// `ops->needs_pin_pages` (MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES): the access may pin
    /// pages, and holds its IOAS to PAGE_SIZE alignment.
    public let needsPinPages: Bool
    /// The selftest driver's file (`out_access_fd`): closing it destroys the access.
    public let fd: Int32
    /// `access->ioas`; set and cleared with its edge. Weak: the IOAS holds its accesses.
    public internal(set) weak var ioas: IOAS?
    /// `staccess->items`, oldest first.
    public internal(set) var pins: [Pin] = []
    /// `staccess->next_id`.
    var nextPinID: UInt32 = 0

    init(id: ObjectID, needsPinPages: Bool, fd: Int32) {
        self.needsPinPages = needsPinPages
        self.fd = fd
        super.init(id: id, type: .access)
    }

    public var kind: ObjectKind { .access(self) }
}

// MARK: Copies (`ModelCopy`)

extension ObjectKind {
    /// The same kind of object, the copy of this one.
    func copied(in copier: ModelCopy) -> ObjectKind {
        switch self {
        case .ioas(let object): .ioas(copier.copy(object))
        case .hwptPaging(let object): .hwptPaging(copier.copy(object))
        case .hwptNested(let object): .hwptNested(copier.copy(object))
        case .device(let object): .device(copier.copy(object))
        case .viommu(let object): .viommu(copier.copy(object))
        case .vdevice(let object): .vdevice(copier.copy(object))
        case .selftest(let object): .selftest(copier.copy(object))
        case .fault(let object): .fault(copier.copy(object))
        case .veventq(let object): .veventq(copier.copy(object))
        case .access(let object): .access(copier.copy(object))
        }
    }
}

extension ModelCopy {
    /// The copy of an HWPT of either kind.
    func copyHWPT(_ hwpt: HWPT) -> HWPT {
        switch hwpt {
        case let paging as HWPTPaging: copy(paging)
        case let nested as HWPTNested: copy(nested)
        default: hwpt
        }
    }
}

extension HWPT {
    /// What every HWPT has beyond its initializer's arguments.
    fileprivate func copyState(to copy: HWPT, in copier: ModelCopy) {
        copier.later { [self] in copy.fault = fault.map(copier.copy) }
    }
}

extension IOAS: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> IOAS {
        let copy = IOAS(id: id)
        copy.areas = areas
        copy.reservations = reservations
        copy.allowedRanges = allowedRanges
        copy.iovaAlignment = iovaAlignment
        copy.largePagesDisabled = largePagesDisabled
        copy.accessPins = accessPins
        copier.later { [self] in
            copy.hwpts = hwpts.map(copier.copy)
            copy.accesses = accesses.map(copier.copy)
        }
        return copy
    }
}

extension HWPTPaging: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> HWPTPaging {
        let copy = HWPTPaging(id: id, ioas: copier.copy(ioas), domain: copier.copy(domain), isAutomatic: isAutomatic, flags: flags)
        copy.presentSWMSI = presentSWMSI
        copyState(to: copy, in: copier)
        return copy
    }
}

extension HWPTNested: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> HWPTNested {
        let parent: Parent = switch self.parent {
        case .hwpt(let paging): .hwpt(copier.copy(paging))
        case .viommu(let viommu): .viommu(copier.copy(viommu))
        }
        let copy = HWPTNested(id: id, parent: parent, domain: copier.copy(domain), pasidCompatible: pasidCompatible)
        copyState(to: copy, in: copier)
        return copy
    }
}

extension Device: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> Device {
        let copy = Device(id: id, platform: copier.copy(platform))
        copy.requiredSWMSI = requiredSWMSI
        copy.partialPageRequests = partialPageRequests
        copy.nextPageRequestGroup = nextPageRequestGroup
        copier.later { [self] in
            copy.attachments = attachments.mapValues(copier.copyHWPT)
            copy.vdevice = vdevice.map(copier.copy)
        }
        return copy
    }
}

extension VIOMMU: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> VIOMMU {
        let copy = VIOMMU(id: id, type: viommuType, parent: copier.copy(parent), driver: copier.copy(driver), outData: outData)
        copier.later { [self] in
            copy.vdevices = vdevices.mapValues(copier.copy)
            copy.veventqs = veventqs.map(copier.copy)
        }
        return copy
    }
}

extension VDevice: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> VDevice {
        VDevice(id: id, viommu: copier.copy(viommu), device: copier.copy(device), virtualID: virtualID)
    }
}

extension SelftestDevice: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> SelftestDevice {
        SelftestDevice(id: id, device: copier.copy(device))
    }
}

extension FaultQueue: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> FaultQueue {
        let copy = FaultQueue(id: id, fd: fd)
        copy.pending = pending
        copy.awaitingResponse = awaitingResponse
        copy.answers = answers
        return copy
    }
}

extension VEventQueue: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> VEventQueue {
        let copy = VEventQueue(id: id, viommu: copier.copy(viommu), type: eventType, depth: depth, fd: fd)
        copy.deliver = deliver
        copy.eventCount = eventCount
        copy.sequence = sequence
        return copy
    }
}

extension Access: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> Access {
        let copy = Access(id: id, needsPinPages: needsPinPages, fd: fd)
        copy.pins = pins
        copy.nextPinID = nextPinID
        copier.later { [self] in copy.ioas = ioas.map(copier.copy) }
        return copy
    }
}
