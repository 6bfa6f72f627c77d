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

/// One DMA transaction of a device, kept while it waits for the answer to its page request:
/// stalled in the SMMU, or held by a PRI function that retries it on a success response.
public struct DMATransaction: Sendable, Equatable {
    public var iova: UInt64
    public var pasid: UInt32?
    public var access: AccessRights

    public init(iova: UInt64, pasid: UInt32?, access: AccessRights) {
        self.iova = iova
        self.pasid = pasid
        self.access = access
    }
}

/// `struct iopf_group`: the requests of one page request group, and the attach handle they
/// came through (the device and the PASID of its attachment).
public struct IOPFGroup: Sendable, Equatable {
    public var requests: [PageRequest]
    public var deviceID: ObjectID
    /// The PASID of the attachment the group was routed to (`noPASID` for the RID).
    public var attachPASID: UInt32
    /// The DMA that faulted, when a device's translation made the request (not the selftest's).
    public var transaction: DMATransaction? = nil
}

/// Where a faulting DMA's page request went: the FAULT it was queued on, and the request.
public struct PageRequestDelivery {
    public let fault: FaultQueue
    public let request: PageRequest
}

/// What one DMA transaction of a bound device came to: the translation or fault, the vEVENTQ
/// its event went to, or the FAULT its page request went to.
public struct DMAOutcome {
    /// nil where the architecture's walk of this request is not modelled.
    public var result: Result<Translation, TranslationFault>?
    public var vevent: VEventQueue?
    public var iopf: PageRequestDelivery?
}

/// The command a driver's `page_response` writes to the IOMMU for one group.
public enum PageResponseCommand: Sendable, Equatable, CustomStringConvertible {
    /// SMMUv3 CMD_RESUME (`arm_smmu_page_response`): RESP = RETRY for SUCCESS, ABORT otherwise.
    case resume(streamID: UInt32, stag: UInt32, retry: Bool)
    /// VT-d page group response descriptor (`intel_iommu_page_response`, QI_PGRP_RESP).
    case pageGroupResponse(requesterID: UInt32, pasid: UInt32?, prgIndex: UInt32, code: PageResponseCode)
    /// AMD-Vi COMPLETE_PPR_REQUEST (`amd_iommu_complete_ppr`).
    case completePPRRequest(deviceID: UInt32, pasid: UInt32?, tag: UInt32, code: PageResponseCode)

    /// The command with its fields, as the specifications name them.
    public var description: String {
        func pasidField(_ pasid: UInt32?) -> String { pasid.map { " PASID=\(UInt64($0).hex)" } ?? "" }
        switch self {
        case .resume(let sid, let stag, let retry):
            return "CMD_RESUME SID=\(UInt64(sid).hex) STAG=\(UInt64(stag).hex) RESP=\(retry ? "RETRY" : "ABORT")"
        case .pageGroupResponse(let rid, let pasid, let prgi, let code):
            return "QI_PGRP_RESP RID=\(UInt64(rid).hex)\(pasidField(pasid)) PRGI=\(UInt64(prgi).hex) RESPONSE=\(code.name.uppercased())"
        case .completePPRRequest(let devid, let pasid, let tag, let code):
            return "COMPLETE_PPR_REQUEST DEVID=\(UInt64(devid).hex)\(pasidField(pasid)) TAG=\(UInt64(tag).hex) STATUS=\(code.name.uppercased())"
        }
    }
}

/// What a page response did in the hardware, and to the transaction that waited for it.
public struct PageResponseEffect {
    /// The command the driver's `page_response` issued (nil for the selftest's mock, whose
    /// `mock_domain_page_response` does nothing).
    public var command: PageResponseCommand?
    /// The transaction that waited for the response (nil for a selftest request).
    public var transaction: DMATransaction?
    /// What its retry came to after SUCCESS; nil when INVALID aborted it.
    public var retry: DMAOutcome?
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
    mutating func install(_ id: ObjectID) throws(Refusal) -> Int32 {
        var fd = Self.first
        while open[fd] != nil { fd += 1 }
        guard fd < Self.limit else {
            throw Refusal(.EMFILE, .descriptorLimit, values: [Refusal.InvolvedValue("RLIMIT_NOFILE", UInt64(Self.limit), .limit)])
        }
        open[fd] = id
        return fd
    }

    mutating func close(_ fd: Int32) -> ObjectID? { open.removeValue(forKey: fd) }

    func isOpen(_ fd: Int32) -> Bool { open[fd] != nil }
}

extension IOMMUFD {
    /// What refusals involve, by their short names.
    // MARK: IOMMU_FAULT_QUEUE_ALLOC

    /// `iommufd_fault_alloc`: a FAULT object and its file.
    public func faultQueueAlloc(flags: UInt32) throws(Refusal) -> FaultQueue {
        beginMutation()
        guard flags == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        let fault = try allocate { id throws(Refusal) -> FaultQueue in FaultQueue(id: id, fd: try openEventFile(for: id)) }
        setFileReference(fault.id, open: true)
        return fault
    }

    /// `close(2)` of an event queue's file: its reference on the object goes
    /// (`iommufd_eventq_fops_release`), so the object can then be destroyed. Closing a selftest
    /// access's file destroys the access (`iommufd_test_staccess_release`).
    public func close(fd: Int32) throws(Refusal) {
        beginMutation()
        guard let id = eventFiles.close(fd) else { throw .closedFile(fd) }
        // The selftest access's file: its release destroys the access.
        if case .access(let access)? = try? kind(id.rawValue) { destroyAccess(access) } else { setFileReference(id, open: false) }
    }

    /// Whether an event queue's file is still open (reads and writes need it: EBADF).
    public func isOpen(fd: Int32) -> Bool { eventFiles.isOpen(fd) }

    /// The FAULT object a `fault_id` names, for IOMMU_HWPT_FAULT_ID_VALID (`iommufd_get_fault`).
    func faultQueue(_ flags: HWPTAllocFlags, _ faultID: UInt32) throws(Refusal) -> FaultQueue? {
        guard flags.contains(.faultIDValid) else { return nil }
        return try object(faultID, as: FaultQueue.self)
    }

    /// The IOPF enablement a fault-capable domain's attach needs (`iopf_for_domain_set` and
    /// the drivers' enable_iopf). VT-d refuses a device whose PRI is not enabled with ENODEV
    /// (`intel_iommu_enable_iopf`; `iommu_enable_pci_pri` enabled it at probe for a function
    /// with PRI and ATS); SMMUv3 (`arm_smmu_enable_iopf`: "devices supporting PRI or stall
    /// require iopf, others ... don't need IOPF, so this is not a failure") and AMD-Vi
    /// (`amd_iommu_iopf_add_device` without `pri_enabled`) accept any device and deliver no
    /// page requests for one without stall or PRI; the selftest's mock devices take them.
    func checkIOPF(_ device: Device) throws(Refusal) {
        switch device.platform.iommu.architecture {
        case .intelVTd:
            if !device.platform.recoverableFaults.contains(.pri) {
                throw Refusal(.ENODEV, .iopfWithoutPRI, objects: [InvolvedObject(device, .requested)])
            }
        case .armSMMUv3, .amdVi, .mock: return
        }
    }

    // MARK: Page requests from DMA

    /// The page request a faulting DMA makes, if its device and fault make one:
    /// - SMMUv3: a stalled event (`arm_smmu_handle_evt`) of a `stall_enabled` master: LAST_PAGE,
    ///   PASID_VALID with SSV, grpid = STAG, perm from RnW, InD and PnU, addr = the input address;
    /// - VT-d and AMD-Vi: a PRI function whose translation failed sends a page request to the
    ///   PRQ (`intel_prq_report`) or the PPR log (`amd_iommu_handle_ppr_log`): LAST_PAGE (a group
    ///   of one page), PASID_VALID with a PASID, the function's next PRG index (9 bits), perm R or
    ///   W, the page address (the descriptors hold it from bit 12). A fault of the host's stage 2
    ///   under a nested HWPT is no page request (Linux pins stage 2), nor is a configuration fault.
    ///   Linux's SMMUv3 driver never enables PRI (it has no `pci_enable_pri` call), so a PRI
    ///   function behind an SMMU faults as any other.
    func pageRequest(for fault: TranslationFault, device: Device, transaction: DMATransaction) -> PageRequest? {
        var flags: PageFaultFlags = .lastPage
        switch fault.record {
        case .smmuv3(let event):
            guard let stag = event.stag, device.platform.recoverableFaults.contains(.stall) else { return nil }
            var perm: PageFaultPerm = event.read ? .read : .write
            if event.instruction { perm.insert(.exec) }
            if event.privileged { perm.insert(.priv) }
            if event.substreamID != nil { flags.insert(.pasidValid) }
            return PageRequest(flags: flags, pasid: event.substreamID ?? 0, grpid: UInt32(stag), perm: perm, addr: event.inputAddress)
        case .vtd, .amdVi:
            guard device.platform.recoverableFaults.contains(.pri), fault.stage != .configuration, fault.origin != .configuration else {
                return nil
            }
            if fault.stage == .stage2 && device.attachments[transaction.pasid ?? noPASID] is HWPTNested { return nil }
            if transaction.pasid != nil { flags.insert(.pasidValid) }
            let grpid = device.nextPageRequestGroup
            device.nextPageRequestGroup = (grpid + 1) & Self.pageRequestGroupMask
            return PageRequest(flags: flags, pasid: transaction.pasid ?? 0, grpid: grpid,
                               perm: transaction.access.contains(.write) ? .write : .read, addr: transaction.iova & ~0xfff)
        case .terminated:
            return nil
        }
    }

    /// PCIe's Page Request Group Index has 9 bits.
    static let pageRequestGroupMask: UInt32 = 0x1ff

    /// The command a driver's `page_response` issues for a group: `arm_smmu_page_response`
    /// (CMD_RESUME with the StreamID and STAG, RESP = RETRY for SUCCESS, ABORT otherwise),
    /// `intel_iommu_page_response` (a page group response descriptor with the PRG index and
    /// the response code) and `amd_iommu_page_response` (COMPLETE_PPR_REQUEST with the tag
    /// and the status); nil for the mock.
    func pageResponseCommand(_ group: IOPFGroup, _ code: PageResponseCode, device: PlatformDevice) -> PageResponseCommand? {
        guard let request = group.requests.last else { return nil }
        let pasid = request.flags.contains(.pasidValid) ? request.pasid : nil
        switch device.iommu.architecture {
        case .armSMMUv3: return .resume(streamID: device.streamID, stag: request.grpid, retry: code == .success)
        case .intelVTd: return .pageGroupResponse(requesterID: device.streamID, pasid: pasid, prgIndex: request.grpid, code: code)
        case .amdVi: return .completePPRRequest(deviceID: device.streamID, pasid: pasid, tag: request.grpid, code: code)
        case .mock: return nil
        }
    }

    // MARK: Reporting (iommu_report_device_fault)

    /// `iommu_report_device_fault` for a page request: routed to the device's attachment at
    /// the request's PASID, or at the RID when the PASID has none and the driver keeps the
    /// PASID table in the guest (`find_fault_handler`); queued on that HWPT's FAULT object.
    /// A request that is not its group's last is kept until the last comes. Returns the FAULT
    /// the group went to; nil when no handler took it (the device gets an error response).
    @discardableResult
    func reportPageRequest(_ request: PageRequest, device: Device, transaction: DMATransaction? = nil) -> FaultQueue? {
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
        fault.pending.append(IOPFGroup(requests: partials + [request], deviceID: device.id, attachPASID: attachPASID,
                                       transaction: transaction))
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
    public func faultRead(faultID: UInt32, count: UInt64) throws(Refusal) -> [PageFaultRecord] {
        beginMutation()
        let fault = try object(faultID, as: FaultQueue.self)
        guard eventFiles.isOpen(fault.fd) else { throw .closedFile(fault.fd, of: fault) }
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
    /// other than SUCCESS or INVALID and for a cookie no read handed out. The driver's
    /// `page_response` then resumes the waiting transaction: on SUCCESS it is retried (the
    /// SMMU re-translates the stalled transaction, a PRI function re-issues its request), and
    /// may fault again into a new page request; on INVALID it is aborted.
    @discardableResult
    public func faultRespond(faultID: UInt32, cookie: UInt32, code: UInt32) throws(Refusal) -> PageResponseEffect {
        beginMutation()
        let fault = try object(faultID, as: FaultQueue.self)
        guard eventFiles.isOpen(fault.fd) else { throw .closedFile(fault.fd, of: fault) }
        guard let response = PageResponseCode(rawValue: code), response != .failure else {
            throw Refusal(.EINVAL, .pageResponseCode, objects: [InvolvedObject(fault, .requested)],
                          values: [InvolvedValue("code", UInt64(code), .requested)])
        }
        guard let group = fault.awaitingResponse.removeValue(forKey: cookie) else {
            throw Refusal(.EINVAL, .unknownCookie, objects: [InvolvedObject(fault, .requested)],
                          values: [InvolvedValue("cookie", UInt64(cookie), .requested)])
        }
        answer(fault, group, response)
        let device = try? object(group.deviceID.rawValue, as: Device.self)
        var effect = PageResponseEffect(command: device.flatMap { pageResponseCommand(group, response, device: $0.platform) },
                                        transaction: group.transaction)
        if response == .success, let transaction = group.transaction {
            effect.retry = try? dma(deviceID: group.deviceID.rawValue, iova: transaction.iova, pasid: transaction.pasid,
                                    access: transaction.access)
        }
        return effect
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
    public func testTriggerIOPF(deviceID: UInt32, pasid: UInt32, grpid: UInt32, perm: UInt32, addr: UInt64) throws(Refusal) {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        var flags: PageFaultFlags = .lastPage
        if pasid != noPASID { flags.insert(.pasidValid) }
        reportPageRequest(PageRequest(flags: flags, pasid: pasid, grpid: grpid, perm: PageFaultPerm(rawValue: perm), addr: addr),
                          device: device)
    }
}
