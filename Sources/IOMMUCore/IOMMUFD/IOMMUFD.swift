/// One open `/dev/iommu` file: its object table and every ioctl, with the kernel's rules.
///
/// Like NIOEmbedded, it is deterministic and stepped only by its callers: each method is one
/// ioctl, returns what the kernel writes back, or throws the errno the kernel returns.
public final class IOMMUFD {
    /// A slot of the object xarray (`ictx->objects`).
    enum Slot {
        /// Reserved by an ioctl that has not finished (`XA_ZERO_ENTRY` before finalize).
        case reserved
        /// A finalized object, with the allocation count it was finalized at.
        case object(ObjectKind, serial: UInt64)
        /// A destroyed vDEVICE's id, never reused while the file is open.
        case tombstone
    }

    /// The platform this file was opened on.
    public let machine: Machine
    /// Every id's slot. Each ioctl and each transaction looks its objects up here, so the
    /// accesses (one lookup or one store each, never overlapping) skip the dynamic
    /// exclusivity check.
    @exclusivity(unchecked) var slots = WordTable<UInt32, Slot>()
    /// Where each bound device's last transaction went, for the next one's IOTLB hit
    /// (`TranslationRoute`), by device id; gone with the id. A copy starts without any, as
    /// its IOMMUs' caches are its own.
    @exclusivity(unchecked) var routes = WordTable<UInt32, TranslationRoute>()
    private var freeIDs = FreeIDs()
    /// Objects finalized so far: the next one's serial.
    private var finalized: UInt64 = 0
    /// The references between objects, kept in step by `link` and `unlink`.
    private var links = ObjectLinks()
    /// The device each platform device is bound as (`df->iommufd` of its VFIO file).
    private var boundDevices: [ObjectIdentifier: Device] = [:]
    /// Bumped by every mutating ioctl, so a graph picture knows when it is stale.
    public private(set) var generation: UInt64 = 0
    private var picture: ObjectGraph?
    /// `ictx->sw_msi_list`: every doorbell page mapped in a SW_MSI window, in creation order.
    public internal(set) var swMSIMaps: [SWMSIMap] = []
    /// IOMMU_OPTION_RLIMIT_MODE: pinned pages are charged to the mm (1) rather than the user (0).
    var accountsToMM = false
    /// The open files of FAULT and VEVENTQ objects.
    var eventFiles = EventFiles()

    public init(machine: Machine) {
        self.machine = machine
    }

    /// Called first by every ioctl that may change anything.
    func beginMutation() { generation &+= 1 }

    // MARK: Object table

    /// The object graph at the current generation, built at most once per generation.
    public var graph: ObjectGraph {
        if let picture, picture.generation == generation { return picture }
        var objects: [(kind: ObjectKind, serial: UInt64)] = []
        var tombstones: [ObjectID] = []
        for (key, slot) in slots.entries {
            switch slot {
            case .object(let kind, let serial): objects.append((kind, serial))
            case .tombstone: tombstones.append(ObjectID(key))
            case .reserved: break
            }
        }
        objects.sort { $0.kind.id < $1.kind.id }
        let fresh = ObjectGraph(generation: generation, objects: objects, tombstones: tombstones.sorted(), links: links)
        picture = fresh
        return fresh
    }

    /// Every live object, by id.
    public var objects: [IOMMUFDObject] { graph.nodes.map(\.kind.object) }

    /// Ids left as tombstones.
    public var tombstones: [ObjectID] { graph.tombstones }

    /// `_iommufd_object_alloc`: the lowest free id in `[1, 2^31-1]`, held until finalized or aborted.
    func reserveID() throws(Refusal) -> ObjectID {
        guard let id = freeIDs.take() else {
            throw Refusal(.ENOSPC, .objectTableFull, values: [InvolvedValue("id", UInt64(ObjectID.maximum.rawValue), .limit)])
        }
        slots[id] = .reserved
        return ObjectID(id)
    }

    /// `iommufd_object_finalize`: publishes the object under its reserved id and takes the
    /// references it holds for its life.
    func finalize(_ object: some KindedObject) {
        slots[object.id.rawValue] = .object(object.kind, serial: finalized)
        finalized += 1
        link(object.kind)
    }

    /// `iommufd_object_abort` and destroy: drops the object's references and frees the id.
    func release(_ id: ObjectID) {
        unlink(id)
        slots[id.rawValue] = nil
        routes[id.rawValue] = nil
        freeIDs.give(id.rawValue)
    }

    /// A force-destroyed vDEVICE: its references go, its id stays taken.
    func tombstone(_ id: ObjectID) {
        unlink(id)
        slots[id.rawValue] = .tombstone
    }

    /// Runs `body` with a freshly reserved id, releasing it again when `body` fails, as an
    /// ioctl's `ucmd->new_obj` is aborted.
    func allocate<T: KindedObject>(_ body: (ObjectID) throws(Refusal) -> T) throws(Refusal) -> T {
        let id = try reserveID()
        do {
            let object = try body(id)
            finalize(object)
            return object
        } catch {
            release(id)
            throw error
        }
    }

    /// `iommufd_get_object`: ENOENT for a free, reserved, tombstoned or wrong-typed id.
    public func object(_ id: UInt32) throws(Refusal) -> IOMMUFDObject { try kind(id).object }

    /// The object behind an id with its kind, for an ioctl that takes several kinds.
    public func kind(_ id: UInt32) throws(Refusal) -> ObjectKind {
        guard case .object(let kind, _)? = slots[id] else { throw .noSuchObject(id) }
        return kind
    }

    func object<T: IOMMUFDObject>(_ id: UInt32, as: T.Type) throws(Refusal) -> T {
        let found = try object(id)
        guard let typed = found as? T else { throw .noSuchObject(id, wrongType: found) }
        return typed
    }

    // MARK: References

    /// Takes the references a new object holds for its life, with the back pointers the
    /// kernel keeps for them (`idev->vdev`, `viommu->vdevs`, the VFIO file's binding).
    private func link(_ kind: ObjectKind) { setLifetimeLinks(of: kind, held: true) }

    /// Drops every reference an object holds, as its destroy does.
    private func unlink(_ id: ObjectID) {
        guard case .object(let kind, _)? = slots[id.rawValue] else { return }
        setLifetimeLinks(of: kind, held: false)
    }

    private func setLifetimeLinks(of kind: ObjectKind, held: Bool) {
        for reference in kind.lifetimeReferences {
            if held { links.insert(reference) } else { links.remove(reference) }
        }
        switch kind {
        case .vdevice(let vdevice):
            vdevice.device.vdevice = held ? vdevice : nil
            vdevice.viommu.vdevices[vdevice.virtualID] = held ? vdevice : nil
        case .device(let device):
            boundDevices[ObjectIdentifier(device.platform)] = held ? device : nil
        case .veventq(let veventq):
            if held { veventq.viommu.veventqs.append(veventq) } else { veventq.viommu.veventqs.removeAll { $0 === veventq } }
        case .ioas, .hwptPaging, .hwptNested, .viommu, .selftest, .fault, .access:
            break
        }
    }

    /// Opens the event file of a queue being allocated: the lowest free descriptor.
    func openEventFile(for id: ObjectID) throws(Refusal) -> Int32 { try eventFiles.install(id) }

    /// An event queue's open file holds a reference on it (`iommufd_eventq_init`); `close`
    /// drops it.
    func setFileReference(_ id: ObjectID, open: Bool) {
        setReference(ObjectReference(from: id, to: id, role: .file), held: open)
    }

    /// Takes or drops a reference that comes and goes during an object's life (an access's IOAS).
    func setReference(_ reference: ObjectReference, held: Bool) {
        if held { links.insert(reference) } else { links.remove(reference) }
    }

    /// Attaches `device` at `pasid` to `hwpt` (nil detaches); returns the HWPT attached before.
    /// Leaving an HWPT with a FAULT answers the faults that came through the attachment.
    @discardableResult
    func link(_ device: Device, to hwpt: HWPT?, pasid: UInt32) -> HWPT? {
        let old = device.setAttachment(hwpt, pasid: pasid, links: &links)
        if let old, old !== hwpt, let fault = old.fault { autoRespondFaults(fault, device: device, pasid: pasid) }
        return old
    }

    /// The objects holding `role` references on `id`, in no particular order.
    func referrers(of id: ObjectID, role: ObjectReference.Role) -> [IOMMUFDObject] {
        (links.incoming[id] ?? []).compactMap { reference in
            guard reference.role == role, case .object(let kind, _)? = slots[reference.from.rawValue] else { return nil }
            return kind.object
        }
    }

    /// The device a platform device is bound as, if it is.
    public func device(boundTo platform: PlatformDevice) -> Device? { boundDevices[ObjectIdentifier(platform)] }

    /// Every bound device.
    public var devices: [Device] { graph.devices }

    /// The devices (with PASID) attached to an HWPT, ascending by device then PASID.
    public func attachments(of hwpt: HWPT) -> [(device: Device, pasid: UInt32)] { graph.attachments(of: hwpt.id) }

    /// The kernel's `obj->users`: 1 for the table itself, one per reference held on the
    /// object, and for a device one for its binding and one per attachment. O(1).
    public func users(of object: IOMMUFDObject) -> Int { links.users(of: object.id, type: object.type) }

    // MARK: IOMMU_DESTROY

    /// `IOMMU_DESTROY`: removes an object nothing else holds.
    public func destroy(id: UInt32) throws(Refusal) {
        beginMutation()
        let kind = try kind(id)
        guard users(of: kind.object) == 1 else { throw busy(kind) }
        switch kind {
        case .ioas(let ioas):
            removeAllAreas(of: ioas)
        case .hwptPaging(let hwpt):
            removeDomain(hwpt)
        case .selftest(let stdev):
            // Destroying the selftest handle unbinds the mock device behind it.
            try unbind(stdev.device)
        case .fault(let fault):
            destroyFault(fault)
        case .hwptNested, .device, .viommu, .vdevice, .veventq, .access:
            break
        }
        release(kind.id)
    }

    /// EBUSY for an object something besides the table holds: every object with a reference
    /// on it (for a device, the HWPTs its attachments hold it for), its open file, a device's
    /// VFIO binding, and the users count they make.
    private func busy(_ kind: ObjectKind) -> Refusal {
        let object = kind.object, id = kind.id
        let holders = (links.incoming[id] ?? []).filter { $0.holdsTarget && $0.from != id }.map(\.from)
            + (links.outgoing[id] ?? []).filter(\.holdsSource).map(\.to)
        var users: [InvolvedObject] = Set(holders).sorted().compactMap { holder in
            guard case .object(let user, _)? = slots[holder.rawValue] else { return nil }
            return InvolvedObject(user.object, .user)
        }
        var values = [InvolvedValue("users", UInt64(self.users(of: object)), .existing)]
        // The file's own reference, counted while the descriptor is open.
        for (fd, owner) in eventFiles.open where owner == id { values.append(InvolvedValue("fd", UInt64(fd), .user)) }
        if case .device = kind {
            // The binding: a selftest handle's, or else the VFIO device file's.
            let handles = referrers(of: id, role: .device).filter { $0.type == .selftest }
            if handles.isEmpty { values.append(InvolvedValue("VFIO binding", nil, .user)) }
            users += handles.map { InvolvedObject($0, .user) }
        }
        return Refusal(.EBUSY, .destroyBusy, objects: [InvolvedObject(object, .requested)] + users, values: values)
    }
}

extension IOMMUFD: ModelCopyable {
    /// The same object table (ids, serials, tombstones, references, generation) over copies
    /// of the objects and of the machine.
    public func makeCopy(in copier: ModelCopy) -> IOMMUFD {
        let copy = IOMMUFD(machine: copier.copy(machine))
        copy.freeIDs = freeIDs
        copy.finalized = finalized
        copy.links = links
        copy.generation = generation
        copy.swMSIMaps = swMSIMaps
        copy.accountsToMM = accountsToMM
        copy.eventFiles = eventFiles
        copier.later { [self] in
            copy.slots = slots.mapValues { slot in
                guard case .object(let kind, let serial) = slot else { return slot }
                return .object(kind.copied(in: copier), serial: serial)
            }
            for device in boundDevices.values {
                let copied = copier.copy(device)
                copy.boundDevices[ObjectIdentifier(copied.platform)] = copied
            }
        }
        return copy
    }
}
