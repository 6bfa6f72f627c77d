/// One open `/dev/iommu` file: its object table and every ioctl, with the kernel's rules.
///
/// Like NIOEmbedded, it is deterministic and stepped only by its callers: each method is one
/// ioctl, returns what the kernel writes back, or throws the errno the kernel returns.
public final class IOMMUFD {
    /// A slot of the object xarray (`ictx->objects`).
    enum Slot {
        /// Reserved by an ioctl that has not finished (`XA_ZERO_ENTRY` before finalize).
        case reserved
        case object(IOMMUFDObject)
        /// A destroyed vDEVICE's id, never reused while the file is open.
        case tombstone
    }

    /// The platform this file was opened on.
    public let machine: Machine
    var slots: [UInt32: Slot] = [:]
    /// The smallest id that may be free: every id below it is occupied.
    private var lowestFreeHint: UInt32 = 1
    /// `ictx->sw_msi_list`: every doorbell page mapped in a SW_MSI window, in creation order.
    public internal(set) var swMSIMaps: [SWMSIMap] = []
    /// IOMMU_OPTION_RLIMIT_MODE: pinned pages are charged to the mm (1) rather than the user (0).
    var accountsToMM = false

    public init(machine: Machine) {
        self.machine = machine
    }

    // MARK: Object table

    /// Every live object, by id.
    public var objects: [IOMMUFDObject] {
        slots.keys.sorted().compactMap { key in
            if case .object(let object)? = slots[key] { return object }
            return nil
        }
    }

    /// Ids left as tombstones.
    public var tombstones: [ObjectID] {
        slots.keys.sorted().filter { key in
            if case .tombstone? = slots[key] { return true }
            return false
        }.map { ObjectID($0) }
    }

    /// `_iommufd_object_alloc`: the lowest free id in `[1, 2^31-1]`, held until finalized or aborted.
    func reserveID() throws(Errno) -> ObjectID {
        var candidate = lowestFreeHint
        while slots[candidate] != nil { candidate += 1 }
        guard candidate <= ObjectID.maximum.rawValue else { throw .ENOSPC }
        slots[candidate] = .reserved
        lowestFreeHint = candidate + 1
        return ObjectID(candidate)
    }

    /// `iommufd_object_finalize`: publishes the object under its reserved id.
    func finalize(_ object: IOMMUFDObject) {
        slots[object.id.rawValue] = .object(object)
    }

    /// `iommufd_object_abort` and destroy: frees the id for reuse.
    func release(_ id: ObjectID) {
        slots[id.rawValue] = nil
        lowestFreeHint = min(lowestFreeHint, id.rawValue)
    }

    func tombstone(_ id: ObjectID) {
        slots[id.rawValue] = .tombstone
    }

    /// Runs `body` with a freshly reserved id, releasing it again when `body` fails, as an
    /// ioctl's `ucmd->new_obj` is aborted.
    func allocate<T: IOMMUFDObject>(_ body: (ObjectID) throws(Errno) -> T) throws(Errno) -> T {
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
    public func object(_ id: UInt32) throws(Errno) -> IOMMUFDObject {
        guard case .object(let object)? = slots[id] else { throw .ENOENT }
        return object
    }

    func object<T: IOMMUFDObject>(_ id: UInt32, as: T.Type) throws(Errno) -> T {
        guard let typed = try object(id) as? T else { throw .ENOENT }
        return typed
    }

    // MARK: References

    /// Every bound device.
    public var devices: [Device] { objects.compactMap { $0 as? Device } }

    /// The devices (with PASID) attached to an HWPT.
    public func attachments(of hwpt: HWPT) -> [(device: Device, pasid: UInt32)] {
        devices.flatMap { device in
            device.attachments.filter { $0.value === hwpt }.map { (device, $0.key) }.sorted { $0.1 < $1.1 }
        }
    }

    /// The kernel's `obj->users`: 1 for the table itself plus one per holder.
    public func users(of object: IOMMUFDObject) -> Int {
        let all = objects
        switch object {
        case let ioas as IOAS:
            return 1 + all.filter { ($0 as? HWPTPaging)?.ioas === ioas }.count
        case let hwpt as HWPTPaging:
            let nested = all.filter { if case .hwpt(let parent)? = ($0 as? HWPTNested)?.parent { return parent === hwpt }; return false }
            let viommus = all.filter { ($0 as? VIOMMU)?.parent === hwpt }
            return 1 + attachments(of: hwpt).count + nested.count + viommus.count
        case let hwpt as HWPTNested:
            return 1 + attachments(of: hwpt).count
        case let viommu as VIOMMU:
            let vdevices = all.filter { ($0 as? VDevice)?.viommu === viommu }
            let nested = all.filter { if case .viommu(let parent)? = ($0 as? HWPTNested)?.parent { return parent === viommu }; return false }
            return 1 + vdevices.count + nested.count
        case let device as Device:
            // The binding driver holds one reference for as long as the device is bound.
            return 2 + device.attachments.count
        default:
            return 1
        }
    }

    // MARK: IOMMU_DESTROY

    /// `IOMMU_DESTROY`: removes an object nothing else holds.
    public func destroy(id: UInt32) throws(Errno) {
        let target = try object(id)
        guard users(of: target) == 1 else { throw .EBUSY }
        switch target {
        case let ioas as IOAS:
            removeAllAreas(of: ioas)
        case let hwpt as HWPTPaging:
            removeDomain(hwpt)
        case let vdevice as VDevice:
            vdevice.device.vdevice = nil
        case let stdev as SelftestDevice:
            // Destroying the selftest handle unbinds the mock device behind it.
            try unbind(stdev.device)
        default:
            break
        }
        release(target.id)
    }
}
