/// Every kind of object the model has, with the object itself. Views and the core switch
/// over it exhaustively, so a new kind (FAULT, VEVENTQ, ACCESS) is a compile error wherever
/// it must be handled.
public enum ObjectKind {
    case ioas(IOAS)
    case hwptPaging(HWPTPaging)
    case hwptNested(HWPTNested)
    case device(Device)
    case viommu(VIOMMU)
    case vdevice(VDevice)
    case selftest(SelftestDevice)
    case fault(FaultQueue)
    case veventq(VEventQueue)
    case access(Access)

    public var object: IOMMUFDObject {
        switch self {
        case .ioas(let object): object
        case .hwptPaging(let object): object
        case .hwptNested(let object): object
        case .device(let object): object
        case .viommu(let object): object
        case .vdevice(let object): object
        case .selftest(let object): object
        case .fault(let object): object
        case .veventq(let object): object
        case .access(let object): object
        }
    }

    public var id: ObjectID { object.id }

    /// The references the object holds for its whole life: taken when it is finalized,
    /// dropped when it is destroyed (attachments come and go and are linked separately).
    var lifetimeReferences: [ObjectReference] {
        switch self {
        case .ioas, .device, .fault, .access:
            return []
        case .hwptPaging(let hwpt):
            return [ObjectReference(from: hwpt.id, to: hwpt.ioas.id, role: .ioas)] + Self.faultReference(of: hwpt)
        case .hwptNested(let nested):
            switch nested.parent {
            case .hwpt(let parent): return [ObjectReference(from: nested.id, to: parent.id, role: .nestParent)] + Self.faultReference(of: nested)
            case .viommu(let viommu): return [ObjectReference(from: nested.id, to: viommu.id, role: .viommu)] + Self.faultReference(of: nested)
            }
        case .viommu(let viommu):
            return [ObjectReference(from: viommu.id, to: viommu.parent.id, role: .nestParent)]
        case .vdevice(let vdevice):
            return [ObjectReference(from: vdevice.id, to: vdevice.viommu.id, role: .viommu),
                    ObjectReference(from: vdevice.id, to: vdevice.device.id, role: .device)]
        case .selftest(let stdev):
            return [ObjectReference(from: stdev.id, to: stdev.device.id, role: .device)]
        case .veventq(let veventq):
            return [ObjectReference(from: veventq.id, to: veventq.viommu.id, role: .viommu)]
        }
    }

    /// `refcount_inc(&fault->common.obj.users)` of an HWPT allocated with FAULT_ID_VALID.
    private static func faultReference(of hwpt: HWPT) -> [ObjectReference] {
        hwpt.fault.map { [ObjectReference(from: hwpt.id, to: $0.id, role: .fault)] } ?? []
    }
}

/// Implemented by every concrete object class: allocation needs it, so an object cannot
/// enter the table without a kind.
protocol KindedObject: IOMMUFDObject {
    var kind: ObjectKind { get }
}

/// One edge of the object graph: `from` holds a pointer to `to`.
public struct ObjectReference: Hashable, Comparable, Sendable {
    /// What the pointer is, named after the kernel's fields.
    public enum Role: Hashable, Comparable, Sendable {
        /// `hwpt_paging->ioas`, `access->ioas`.
        case ioas
        /// `hwpt_nested->parent`, `viommu->hwpt`: the nest-parent paging HWPT.
        case nestParent
        /// `hwpt_nested->viommu`, `vdev->viommu`.
        case viommu
        /// A device's attachment at a PASID (`noPASID` is the RID).
        case attachment(pasid: UInt32)
        /// `vdev->idev`, the selftest's `stdev->idev`.
        case device
        /// `hwpt->fault`.
        case fault
        /// An event queue's open file (`refcount_inc(&eventq->obj.users)` in
        /// `iommufd_eventq_init`, dropped when the fd is closed), and the driver's reference on
        /// its access ("the calling driver is a user until iommufd_access_destroy()"): an
        /// edge from the object to itself.
        case file
    }

    public var from: ObjectID
    public var to: ObjectID
    public var role: Role

    /// Whether the pointer holds a reference on `to` (`refcount_inc(&obj->users)`). A vDEVICE
    /// only holds its device's `wait_cnt`, and a selftest handle owns its device's binding.
    var holdsTarget: Bool { role != .device }

    /// Whether it also holds one on `from`: `iommufd_device_attach` takes a reference on the
    /// device for as long as it is attached, so a device with attachments cannot be destroyed.
    var holdsSource: Bool { if case .attachment = role { return true }; return false }

    /// Sorted by holder, then role, then target: the order views list edges in.
    public static func < (a: ObjectReference, b: ObjectReference) -> Bool {
        (a.from, a.role, a.to) < (b.from, b.role, b.to)
    }
}

/// The live references between the objects of one file, updated by `IOMMUFD.link`/`unlink`
/// only, so that users and reverse edges can never drift from the objects' own pointers.
/// Every question is O(1) (hashing), whatever the number of objects.
struct ObjectLinks {
    /// References held by each object.
    private(set) var outgoing: [ObjectID: Set<ObjectReference>] = [:]
    /// References held on each object.
    private(set) var incoming: [ObjectID: Set<ObjectReference>] = [:]
    /// The references counted in each object's `users`, beyond the table's own.
    private(set) var counted: [ObjectID: Int] = [:]

    mutating func insert(_ reference: ObjectReference) {
        guard outgoing[reference.from, default: []].insert(reference).inserted else { return }
        incoming[reference.to, default: []].insert(reference)
        if reference.holdsTarget { counted[reference.to, default: 0] += 1 }
        if reference.holdsSource { counted[reference.from, default: 0] += 1 }
    }

    mutating func remove(_ reference: ObjectReference) {
        guard outgoing[reference.from]?.remove(reference) != nil else { return }
        incoming[reference.to]?.remove(reference)
        if reference.holdsTarget { counted[reference.to, default: 0] -= 1 }
        if reference.holdsSource { counted[reference.from, default: 0] -= 1 }
        if outgoing[reference.from]?.isEmpty == true { outgoing[reference.from] = nil }
        if incoming[reference.to]?.isEmpty == true { incoming[reference.to] = nil }
        if counted[reference.to] == 0 { counted[reference.to] = nil }
        if counted[reference.from] == 0 { counted[reference.from] = nil }
    }

    /// The kernel's `obj->users`: 1 for the table itself, one per reference held on the
    /// object, and for a device one more for its binding.
    func users(of id: ObjectID, type: ObjectType) -> Int {
        1 + (type == .device ? 1 : 0) + counted[id, default: 0]
    }
}

/// The free ids below the table's high-water mark, smallest first (a binary min-heap), so
/// the lowest free id is found in O(log n) as `xa_alloc` finds it.
struct FreeIDs {
    private var heap: [UInt32] = []
    /// Every id at or above it is free.
    private(set) var highWater: UInt32 = 1

    /// Takes the lowest free id, or nil when the 31-bit space is full.
    mutating func take() -> UInt32? {
        guard let lowest = heap.first else {
            guard highWater <= ObjectID.maximum.rawValue else { return nil }
            highWater += 1
            return highWater - 1
        }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var index = 0
            while true {
                let left = 2 * index + 1, right = left + 1
                var smallest = index
                if left < heap.count && heap[left] < heap[smallest] { smallest = left }
                if right < heap.count && heap[right] < heap[smallest] { smallest = right }
                if smallest == index { break }
                heap.swapAt(index, smallest)
                index = smallest
            }
        }
        return lowest
    }

    /// Returns an id taken before.
    mutating func give(_ id: UInt32) {
        heap.append(id)
        var index = heap.count - 1
        while index > 0, heap[(index - 1) / 2] > heap[index] {
            heap.swapAt(index, (index - 1) / 2)
            index = (index - 1) / 2
        }
    }
}

/// An immutable picture of one file's objects at one `generation`: every object in id order
/// with its users and its edges in both directions, and the questions views ask of them
/// (children, attachments, the IOAS behind an object, reservations with their owners).
/// Built once per generation; copying it is copying a few array references.
public struct ObjectGraph {
    /// One object as the graph saw it.
    public struct Node {
        public let kind: ObjectKind
        /// The file's allocation count when the object was finalized: with the id, it tells
        /// one object from another that later got the same id, in any replay of a scenario.
        public let serial: UInt64
        /// The kernel's `obj->users`: 1 for the table itself plus one per reference held.
        public let users: Int
        /// The references the object holds, ascending.
        public let references: [ObjectReference]
        /// The references held on the object, ascending by holder.
        public let referrers: [ObjectReference]
        /// The object's own values a view shows, compared by the diff.
        let fields: Fields

        public var id: ObjectID { kind.id }
    }

    /// What distinguishes two states of one object besides its edges. Area contents are
    /// compared by count: one ioctl that changes them always changes the count.
    enum Fields: Equatable {
        case ioas(areas: Int, alignment: UInt64, largePagesDisabled: Bool, reservations: [Reservation], allowed: [IOVARange])
        case hwptPaging(mappings: Int, swMSI: Set<Int>, coherent: Bool)
        case hwptNested(NestedConfiguration)
        case device(swMSI: Set<Int>)
        case viommu, vdevice, selftest
        case fault(pending: Int, awaiting: Set<UInt32>, answers: Int)
        case veventq(queued: Int, sequence: UInt32)
        case access(ioas: ObjectID?, pins: [Access.Pin])

        init(_ kind: ObjectKind) {
            switch kind {
            case .ioas(let ioas):
                self = .ioas(areas: ioas.areas.count, alignment: ioas.iovaAlignment, largePagesDisabled: ioas.largePagesDisabled,
                             reservations: ioas.reservations, allowed: ioas.allowedRanges)
            case .hwptPaging(let hwpt):
                self = .hwptPaging(mappings: hwpt.domain.table.mappingCount, swMSI: hwpt.presentSWMSI,
                                   coherent: hwpt.domain.enforcesCacheCoherency)
            case .hwptNested(let nested): self = .hwptNested(nested.domain.configuration)
            case .device(let device): self = .device(swMSI: device.requiredSWMSI)
            case .viommu: self = .viommu
            case .vdevice: self = .vdevice
            case .selftest: self = .selftest
            case .fault(let fault): self = .fault(pending: fault.pending.count, awaiting: Set(fault.awaitingResponse.keys),
                                                  answers: fault.answers.count)
            case .veventq(let veventq): self = .veventq(queued: veventq.deliver.count, sequence: veventq.sequence)
            case .access(let access): self = .access(ioas: access.ioas?.id, pins: access.pins)
            }
        }
    }

    /// The file's `generation` this picture is of.
    public let generation: UInt64
    /// Every live object, ascending by id.
    public let nodes: [Node]
    /// Ids left as tombstones by force-destroyed vDEVICEs, ascending.
    public let tombstones: [ObjectID]
    private let positions: [ObjectID: Int]

    init(generation: UInt64, objects: [(kind: ObjectKind, serial: UInt64)], tombstones: [ObjectID], links: ObjectLinks) {
        self.generation = generation
        self.tombstones = tombstones
        nodes = objects.map { entry in
            let id = entry.kind.id
            return Node(kind: entry.kind, serial: entry.serial, users: links.users(of: id, type: entry.kind.object.type),
                        references: links.outgoing[id, default: []].sorted(), referrers: links.incoming[id, default: []].sorted(),
                        fields: Fields(entry.kind))
        }
        let built = nodes
        positions = Dictionary(uniqueKeysWithValues: built.indices.map { (built[$0].id, $0) })
    }

    public func node(_ id: ObjectID) -> Node? { positions[id].map { nodes[$0] } }

    public func users(of id: ObjectID) -> Int? { node(id)?.users }

    // MARK: Typed lists

    public var ioases: [IOAS] { nodes.compactMap { if case .ioas(let ioas) = $0.kind { ioas } else { nil } } }
    public var devices: [Device] { nodes.compactMap { if case .device(let device) = $0.kind { device } else { nil } } }
    public var pagingHWPTs: [HWPTPaging] { nodes.compactMap { if case .hwptPaging(let hwpt) = $0.kind { hwpt } else { nil } } }
    public var faultQueues: [FaultQueue] { nodes.compactMap { if case .fault(let fault) = $0.kind { fault } else { nil } } }

    // MARK: Edges

    /// The objects holding `role` references on `id`, ascending by id.
    public func referrers(of id: ObjectID, role: ObjectReference.Role) -> [ObjectKind] {
        (node(id)?.referrers ?? []).filter { $0.role == role }.compactMap { node($0.from)?.kind }
    }

    /// The children of an object in the tree every view draws: IOAS → HWPT_PAGING →
    /// HWPT_NESTED / VIOMMU → VDEVICE / HWPT_NESTED. Devices hang off the root, not here.
    public func children(of id: ObjectID) -> [ObjectKind] {
        guard let node = node(id) else { return [] }
        switch node.kind {
        case .ioas: return referrers(of: id, role: .ioas)
        case .hwptPaging: return referrers(of: id, role: .nestParent)
        case .viommu: return referrers(of: id, role: .viommu)
        case .hwptNested, .device, .vdevice, .selftest, .fault, .veventq, .access: return []
        }
    }

    /// The devices attached to an HWPT, with their PASIDs, ascending by device then PASID.
    public func attachments(of id: ObjectID) -> [(device: Device, pasid: UInt32)] {
        (node(id)?.referrers ?? []).compactMap { reference in
            guard case .attachment(let pasid) = reference.role, case .device(let device)? = node(reference.from)?.kind else { return nil }
            return (device, pasid)
        }
    }

    /// The IOAS whose IOVA space an object works in: an HWPT's (a nested one's stage 2), a
    /// vIOMMU's or vDEVICE's nest parent's, a device's RID attachment's.
    public func ioas(behind id: ObjectID) -> IOAS? {
        guard let node = node(id) else { return nil }
        switch node.kind {
        case .ioas(let ioas): return ioas
        case .hwptPaging(let hwpt): return hwpt.ioas
        case .hwptNested(let nested): return nested.stage2.ioas
        case .viommu(let viommu): return viommu.parent.ioas
        case .vdevice(let vdevice): return vdevice.viommu.parent.ioas
        case .device(let device): return device.attachments[noPASID].flatMap { ioas(behind: $0.id) }
        case .selftest(let stdev): return ioas(behind: stdev.device.id)
        case .veventq(let veventq): return veventq.viommu.parent.ioas
        case .fault: return nil
        case .access(let access): return access.ioas
        }
    }

    /// An IOAS's reservations with the object that owns each (nil for the selftest's, which
    /// have no owner).
    public func reservations(of ioas: IOAS) -> [(reservation: Reservation, owner: ObjectKind?)] {
        ioas.reservations.map { reservation in
            switch reservation.owner {
            case .device(let id, _), .domain(let id): (reservation, node(id)?.kind)
            case .test: (reservation, nil)
            }
        }
    }

    // MARK: Diff

    /// What differs between two pictures, by object identity (id and serial).
    public struct Changes: Equatable, Sendable {
        public var appeared: Set<ObjectID> = []
        public var disappeared: Set<ObjectID> = []
        /// Objects in both whose users, edges or fields differ.
        public var changed: Set<ObjectID> = []

        public init() {}

        /// The objects of the newer picture a view marks: new or changed.
        public var marked: Set<ObjectID> { appeared.union(changed) }
        public var count: Int { appeared.count + disappeared.count + changed.count }
    }

    /// The changes from `before` to this picture. Works across replays of one scenario: a
    /// deterministic replay gives every object the same id and serial.
    public func changes(since before: ObjectGraph) -> Changes {
        var changes = Changes()
        for node in nodes {
            guard let old = before.node(node.id), old.serial == node.serial else {
                changes.appeared.insert(node.id)
                continue
            }
            if old.users != node.users || old.references != node.references || old.referrers != node.referrers
                || old.fields != node.fields {
                changes.changed.insert(node.id)
            }
        }
        for old in before.nodes where node(old.id)?.serial != old.serial { changes.disappeared.insert(old.id) }
        return changes
    }
}
