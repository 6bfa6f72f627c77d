/// FAULT objects and I/O page faults (`drivers/iommu/iommufd/eventq.c`, `drivers/iommu/io-pgfault.c`):
/// a page request a device makes through a domain allocated with IOMMU_HWPT_FAULT_ID_VALID is
/// queued on the FAULT object, read back as `struct iommu_hwpt_pgfault` records and answered
/// with `struct iommu_hwpt_page_response`.

/// `IOMMU_PGFAULT_FLAGS_*` (equal to the kernel's `IOMMU_FAULT_PAGE_REQUEST_*`).
public struct PageFaultFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let pasidValid = PageFaultFlags(rawValue: 1 << 0)
    /// The request closes its group: the group is delivered only when it comes.
    public static let lastPage = PageFaultFlags(rawValue: 1 << 1)
}

/// `IOMMU_PGFAULT_PERM_*`.
public struct PageFaultPerm: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = PageFaultPerm(rawValue: 1 << 0)
    public static let write = PageFaultPerm(rawValue: 1 << 1)
    public static let exec = PageFaultPerm(rawValue: 1 << 2)
    public static let priv = PageFaultPerm(rawValue: 1 << 3)
}

/// One page request as the IOMMU reports it (`struct iommu_fault_page_request`).
public struct PageRequest: Sendable, Equatable {
    public var flags: PageFaultFlags
    public var pasid: UInt32
    public var grpid: UInt32
    public var perm: PageFaultPerm
    public var addr: UInt64

    public init(flags: PageFaultFlags, pasid: UInt32, grpid: UInt32, perm: PageFaultPerm, addr: UInt64) {
        self.flags = flags
        self.pasid = pasid
        self.grpid = grpid
        self.perm = perm
        self.addr = addr
    }
}

/// `struct iopf_group`: the requests of one page request group, and the attach handle they
/// came through (the device and the PASID of its attachment).
public struct IOPFGroup: Sendable, Equatable {
    public var requests: [PageRequest]
    public var deviceID: ObjectID
    /// The PASID of the attachment the group was routed to (`noPASID` for the RID).
    public var attachPASID: UInt32
}

/// `enum iommufd_page_response_code`, and the FAILURE the core answers itself with.
public enum PageResponseCode: UInt32, UAPINamedValue {
    case success = 0, invalid = 1
    /// `IOMMU_PAGE_RESP_FAILURE`: never written by user space.
    case failure = 2

    public var name: String {
        switch self {
        case .success: "success"
        case .invalid: "invalid"
        case .failure: "failure"
        }
    }
}

/// What a device got back for one page request group (`iopf_group_response`).
public struct PageResponse: Sendable, Equatable {
    public var group: IOPFGroup
    public var code: PageResponseCode
}

/// `struct iommu_hwpt_pgfault`: one record of a FAULT file's read.
public struct PageFaultRecord: Sendable, Equatable {
    public var flags: PageFaultFlags
    public var devID: ObjectID
    public var pasid: UInt32
    public var grpid: UInt32
    public var perm: PageFaultPerm
    public var addr: UInt64
    /// Always 0: `iommufd_compose_fault_message` leaves it so.
    public var length: UInt64
    public var cookie: UInt32

    /// `sizeof(struct iommu_hwpt_pgfault)`.
    public static let size: UInt64 = 40
}

/// The files the iommufd hands out for its event queues (anon inodes), numbered as
/// `get_unused_fd_flags` would in a process whose lowest free descriptor after the iommufd
/// itself (fd 3) is 4, up to the default RLIMIT_NOFILE soft limit of 1024 descriptors.
struct EventFiles {
    static let first: Int32 = 4
    static let limit: Int32 = 1024
    private(set) var open: [Int32: ObjectID] = [:]

    /// The lowest free descriptor; EMFILE when every one below the limit is taken.
    mutating func install(_ id: ObjectID) throws(Errno) -> Int32 {
        var fd = Self.first
        while open[fd] != nil { fd += 1 }
        guard fd < Self.limit else { throw .EMFILE }
        open[fd] = id
        return fd
    }

    mutating func close(_ fd: Int32) -> ObjectID? { open.removeValue(forKey: fd) }

    func isOpen(_ fd: Int32) -> Bool { open[fd] != nil }
}

extension IOMMUFD {
    // MARK: IOMMU_FAULT_QUEUE_ALLOC

    /// `iommufd_fault_alloc`: a FAULT object and its file.
    public func faultQueueAlloc(flags: UInt32) throws(Errno) -> FaultQueue {
        beginMutation()
        guard flags == 0 else { throw .EOPNOTSUPP }
        let fault = try allocate { id throws(Errno) -> FaultQueue in FaultQueue(id: id, fd: try openEventFile(for: id)) }
        setFileReference(fault.id, open: true)
        return fault
    }

    /// `close(2)` of an event queue's file: its reference on the object goes
    /// (`iommufd_eventq_fops_release`), so the object can then be destroyed. Closing a selftest
    /// access's file destroys the access (`iommufd_test_staccess_release`).
    public func close(fd: Int32) throws(Errno) {
        beginMutation()
        guard let id = eventFiles.close(fd) else { throw .EBADF }
        // The selftest access's file: its release destroys the access.
        if case .access(let access)? = try? kind(id.rawValue) { destroyAccess(access) } else { setFileReference(id, open: false) }
    }

    /// Whether an event queue's file is still open (reads and writes need it: EBADF).
    public func isOpen(fd: Int32) -> Bool { eventFiles.isOpen(fd) }

    /// The FAULT object a `fault_id` names, for IOMMU_HWPT_FAULT_ID_VALID (`iommufd_get_fault`).
    func faultQueue(_ flags: HWPTAllocFlags, _ faultID: UInt32) throws(Errno) -> FaultQueue? {
        guard flags.contains(.faultIDValid) else { return nil }
        return try object(faultID, as: FaultQueue.self)
    }

    /// The IOPF enablement a fault-capable domain's attach needs (`iopf_for_domain_set` and
    /// the drivers' enable_iopf). VT-d refuses a device without PRI with ENODEV
    /// (`intel_iommu_enable_iopf`); SMMUv3 (`arm_smmu_enable_iopf`) and AMD-Vi
    /// (`amd_iommu_iopf_add_device`) accept a device without stall or PRI and simply deliver no
    /// page requests for it; the selftest's mock devices take page requests. The model's
    /// devices have neither PRI nor stall.
    func checkIOPF(_ device: Device) throws(Errno) {
        switch device.platform.iommu.architecture {
        case .intelVTd: throw .ENODEV
        case .armSMMUv3, .amdVi, .mock: return
        }
    }

    // MARK: Reporting (iommu_report_device_fault)

    /// `iommu_report_device_fault` for a page request: routed to the device's attachment at
    /// the request's PASID, or at the RID when the PASID has none and the driver keeps the
    /// PASID table in the guest (`find_fault_handler`); queued on that HWPT's FAULT object.
    /// A request that is not its group's last is kept until the last comes. Returns the FAULT
    /// the group went to; nil when no handler took it (the device gets an error response).
    @discardableResult
    func reportPageRequest(_ request: PageRequest, device: Device) -> FaultQueue? {
        beginMutation()
        let pasid = request.flags.contains(.pasidValid) ? request.pasid : noPASID
        var attachPASID = pasid
        var hwpt = device.attachments[pasid]
        if hwpt == nil, pasid != noPASID, Self.usesGuestPASIDTable(device.platform.iommu.architecture),
           device.attachments[noPASID] is HWPTNested {
            hwpt = device.attachments[noPASID]
            attachPASID = noPASID
        }
        guard let fault = hwpt?.fault else { return nil }
        guard request.flags.contains(.lastPage) else {
            device.partialPageRequests.append(request)
            return fault
        }
        // iopf_group_alloc: the partial requests of the same group join it, in order.
        let partials = device.partialPageRequests.filter { $0.grpid == request.grpid }
        device.partialPageRequests.removeAll { $0.grpid == request.grpid }
        fault.pending.append(IOPFGroup(requests: partials + [request], deviceID: device.id, attachPASID: attachPASID))
        return fault
    }

    /// `ops->user_pasid_table`: the guest owns the PASID table (SMMUv3's CD table, and the
    /// selftest's mock), so a PASID's faults come through the nested domain at the RID.
    static func usesGuestPASIDTable(_ architecture: IOMMUArchitecture) -> Bool {
        switch architecture {
        case .armSMMUv3, .mock: true
        case .intelVTd, .amdVi: false
        }
    }

    // MARK: read(2) and write(2) of the FAULT file

    /// `iommufd_fault_fops_read` with a buffer of `count` records: whole groups while they fit,
    /// each given the lowest free cookie from 1 (`xa_alloc` in an ALLOC1 xarray) and kept
    /// until answered. No pending group reads nothing.
    public func faultRead(faultID: UInt32, count: UInt64) throws(Errno) -> [PageFaultRecord] {
        beginMutation()
        let fault = try object(faultID, as: FaultQueue.self)
        guard eventFiles.isOpen(fault.fd) else { throw .EBADF }
        var records: [PageFaultRecord] = []
        while let group = fault.pending.first, UInt64(group.requests.count) <= count - UInt64(records.count) {
            fault.pending.removeFirst()
            var cookie: UInt32 = 1
            while fault.awaitingResponse[cookie] != nil { cookie += 1 }
            fault.awaitingResponse[cookie] = group
            for request in group.requests {
                records.append(PageFaultRecord(flags: request.flags, devID: group.deviceID, pasid: request.pasid,
                                               grpid: request.grpid, perm: request.perm, addr: request.addr, length: 0,
                                               cookie: cookie))
            }
        }
        return records
    }

    /// `iommufd_fault_fops_write` of one `struct iommu_hwpt_page_response`: EINVAL for a code
    /// other than SUCCESS or INVALID and for a cookie no read handed out.
    public func faultRespond(faultID: UInt32, cookie: UInt32, code: UInt32) throws(Errno) {
        beginMutation()
        let fault = try object(faultID, as: FaultQueue.self)
        guard eventFiles.isOpen(fault.fd) else { throw .EBADF }
        guard let code = PageResponseCode(rawValue: code), code != .failure else { throw .EINVAL }
        guard let group = fault.awaitingResponse.removeValue(forKey: cookie) else { throw .EINVAL }
        answer(fault, group, code)
    }

    private func answer(_ fault: FaultQueue, _ group: IOPFGroup, _ code: PageResponseCode) {
        fault.answers.append(PageResponse(group: group, code: code))
        if fault.answers.count > FaultQueue.answerLimit { fault.answers.removeFirst() }
    }

    /// `iommufd_auto_response_faults`: when a device at `pasid` leaves an HWPT with a FAULT,
    /// every group that came through that attachment, read or not, is answered INVALID.
    func autoRespondFaults(_ fault: FaultQueue, device: Device, pasid: UInt32) {
        let matches = { (group: IOPFGroup) in group.deviceID == device.id && group.attachPASID == pasid }
        for group in fault.pending where matches(group) { answer(fault, group, .invalid) }
        fault.pending.removeAll(where: matches)
        for cookie in fault.awaitingResponse.keys.sorted() where matches(fault.awaitingResponse[cookie]!) {
            answer(fault, fault.awaitingResponse.removeValue(forKey: cookie)!, .invalid)
        }
        device.partialPageRequests.removeAll()
    }

    /// `iommufd_fault_destroy`: the groups still queued or awaiting a response get INVALID.
    func destroyFault(_ fault: FaultQueue) {
        for group in fault.pending { answer(fault, group, .invalid) }
        for cookie in fault.awaitingResponse.keys.sorted() { answer(fault, fault.awaitingResponse[cookie]!, .invalid) }
        fault.pending.removeAll()
        fault.awaitingResponse.removeAll()
    }

    // MARK: IOMMU_TEST_OP_TRIGGER_IOPF

    /// `iommufd_test_trigger_iopf`: the mock device makes one page request, the last of its
    /// group, with PASID_VALID unless `pasid` is IOMMU_NO_PASID. Succeeds whether or not a
    /// handler takes it.
    public func testTriggerIOPF(deviceID: UInt32, pasid: UInt32, grpid: UInt32, perm: UInt32, addr: UInt64) throws(Errno) {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        var flags: PageFaultFlags = .lastPage
        if pasid != noPASID { flags.insert(.pasidValid) }
        reportPageRequest(PageRequest(flags: flags, pasid: pasid, grpid: grpid, perm: PageFaultPerm(rawValue: perm), addr: addr),
                          device: device)
    }
}
