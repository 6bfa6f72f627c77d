/// vEVENT queues (`drivers/iommu/iommufd/eventq.c`, `driver.c`'s `iommufd_viommu_report_event`,
/// `iommufd_private.h`'s `iommufd_vevent_handler`): events a vIOMMU's physical IOMMU raised for
/// a guest's device, forwarded to user space in order with sequence numbers and lost-event
/// accounting.

/// `enum iommu_veventq_type`, plus `IOMMU_VEVENTQ_TYPE_SELFTEST`.
public enum VEventQueueType: UInt32, UAPINamedValue {
    case `default` = 0, armSMMUv3 = 1, tegra241CMDQV = 2
    case selftest = 0xbeefbeef

    public var name: String {
        switch self {
        case .default: "default"
        case .armSMMUv3: "arm_smmuv3"
        case .tegra241CMDQV: "tegra241_cmdqv"
        case .selftest: "selftest"
        }
    }

    /// The size of one event's data: `struct iommu_vevent_arm_smmuv3` (4 dwords),
    /// `struct iommu_vevent_tegra241_cmdqv` (2), `struct iommu_viommu_event_selftest` (a u32).
    public var dataSize: UInt64 {
        switch self {
        case .default: 0
        case .armSMMUv3: 32
        case .tegra241CMDQV: 16
        case .selftest: 4
        }
    }
}

/// One entry of a vEVENTQ: an event with its data, or the lost-events header the queue puts
/// at its tail when an event came while it was full.
public struct VEvent: Sendable, Equatable {
    /// `struct iommufd_vevent_header.sequence`, in `[0, INT_MAX]`.
    public var sequence: UInt32
    /// The event's data; nil for the lost-events header (IOMMU_VEVENTQ_FLAG_LOST_EVENTS).
    public var data: [UInt8]?

    /// `IOMMU_VEVENTQ_FLAG_LOST_EVENTS`.
    public static let lostEventsFlag: UInt32 = 1

    /// `struct iommufd_vevent_header.flags`.
    public var flags: UInt32 { data == nil ? Self.lostEventsFlag : 0 }

    /// `sizeof(struct iommufd_vevent_header)`.
    public static let headerSize: UInt64 = 8
}

extension IOMMUFD {
    /// What refusals involve, by their short names.
    // MARK: IOMMU_VEVENTQ_ALLOC

    /// `iommufd_veventq_alloc`: one queue per type on a vIOMMU, holding `depth` events.
    public func veventqAlloc(flags: UInt32, viommuID: UInt32, type: UInt32, depth: UInt32) throws(Refusal) -> VEventQueue {
        beginMutation()
        guard flags == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        guard type != VEventQueueType.default.rawValue else {
            throw Refusal(.EOPNOTSUPP, .defaultVEventQueueType, values: [InvolvedValue("type", UInt64(type), .requested)])
        }
        guard depth > 0 else { throw Refusal(.EINVAL, .zeroVEventQueueDepth, values: [InvolvedValue("veventq_depth", 0, .requested)]) }
        let viommu = try object(viommuID, as: VIOMMU.self)
        if let existing = viommu.veventqs.first(where: { $0.eventType == type }) {
            throw Refusal(.EEXIST, .vEventQueueTypeTaken, objects: [InvolvedObject(viommu, .parent), InvolvedObject(existing, .existing)],
                          values: [InvolvedValue("type", UInt64(type), .requested)])
        }
        let veventq = try allocate { id throws(Refusal) -> VEventQueue in
            VEventQueue(id: id, viommu: viommu, type: type, depth: depth, fd: try openEventFile(for: id))
        }
        setFileReference(veventq.id, open: true)
        return veventq
    }

    // MARK: Reporting

    /// `iommufd_viommu_report_event` and `iommufd_vevent_handler`: EOPNOTSUPP without a queue
    /// of the type. A full queue (`num_events == depth`) drops the event and queues the
    /// lost-events header instead; whatever is queued takes the next sequence number, which
    /// wraps from INT_MAX to 0, and a lost-events header at the tail moves behind it.
    @discardableResult
    func reportVEvent(_ viommu: VIOMMU, type: VEventQueueType, data: [UInt8]) throws(Refusal) -> VEventQueue {
        guard let veventq = viommu.veventqs.first(where: { $0.eventType == type.rawValue }) else {
            throw Refusal(.EOPNOTSUPP, .noVEventQueue, objects: [InvolvedObject(viommu, .requested)],
                          values: [InvolvedValue("type", UInt64(type.rawValue), .requested)])
        }
        beginMutation()
        var entry = VEvent(sequence: 0, data: nil)
        if veventq.eventCount < veventq.depth {
            entry.data = data
            veventq.eventCount += 1
        }
        if let last = veventq.deliver.last, last.data == nil { veventq.deliver.removeLast() }
        entry.sequence = veventq.sequence
        veventq.deliver.append(entry)
        veventq.sequence = (veventq.sequence &+ 1) & UInt32(Int32.max)
        return veventq
    }

    /// One DMA transaction of a bound device, as `translate` walks it, whose fault then goes
    /// where the driver's event handler sends it: a recoverable fault (a stall, a PRI page
    /// request) to `iommu_report_device_fault` and the FAULT of the HWPT it is routed to; an
    /// SMMUv3 event of a device on a vIOMMU to a vEVENT. The IOMMU's caches are used and filled.
    public func dma(deviceID: UInt32, iova: UInt64, pasid: UInt32?, access: AccessRights) throws(Refusal) -> DMAOutcome {
        let device = try object(deviceID, as: Device.self)
        let result = try translate(deviceID: deviceID, iova: iova, pasid: pasid, access: access)
        guard case .failure(let fault)? = result else { return DMAOutcome(result: result) }
        let transaction = DMATransaction(iova: iova, pasid: pasid, access: access)
        if let request = pageRequest(for: fault, device: device, transaction: transaction) {
            // No handler: the core answers INVALID itself (iopf_error_response), which aborts it.
            let queue = reportPageRequest(request, device: device, transaction: transaction)
            return DMAOutcome(result: result, iopf: queue.map { PageRequestDelivery(fault: $0, request: request) })
        }
        guard let event = fault.smmuv3Event else { return DMAOutcome(result: result) }
        return DMAOutcome(result: result, vevent: forwardSMMUv3Event(event, device: device))
    }

    /// `arm_smmu_handle_event` for a device whose STE is a vIOMMU's nested one: the events
    /// Linux forwards (configuration and translation faults that did not stall, and not of
    /// stage 2, which the host owns) go to the vIOMMU's arm_smmuv3 queue as
    /// `arm_vmaster_report_event` writes them, with the physical StreamID replaced by the
    /// vDEVICE's virtual one.
    func forwardSMMUv3Event(_ event: SMMUv3Event, device: Device) -> VEventQueue? {
        guard let nested = device.attachments[noPASID] as? HWPTNested, case .viommu(let viommu) = nested.parent,
              let vdevice = device.vdevice, vdevice.viommu === viommu else { return nil }
        switch event.id {
        case .C_BAD_STE, .F_STREAM_DISABLED, .C_BAD_SUBSTREAMID, .C_BAD_CD,
             .F_TRANSLATION, .F_ADDR_SIZE, .F_ACCESS, .F_PERMISSION:
            break
        default:
            return nil
        }
        guard event.stag == nil, !event.stage2 else { return nil }
        // FIELD_PREP(EVTQ_0_SID, vsid): the StreamID field holds the low 32 bits of the vSID.
        var guest = event
        guest.streamID = UInt32(truncatingIfNeeded: vdevice.virtualID)
        return try? reportVEvent(viommu, type: .armSMMUv3, data: guest.bytes)
    }

    // MARK: read(2) of the VEVENTQ file

    /// `iommufd_veventq_fops_read` with a buffer of `count` records of the queue's type
    /// (what the selftest's `test_cmd_read_vevents` passes): entries in order while they fit,
    /// a header alone for the lost-events one. An empty queue reads nothing.
    public func veventqRead(veventqID: UInt32, count: UInt64) throws(Refusal) -> [VEvent] {
        beginMutation()
        let veventq = try object(veventqID, as: VEventQueue.self)
        guard eventFiles.isOpen(veventq.fd) else { throw .closedFile(veventq.fd, of: veventq) }
        let recordSize = VEvent.headerSize + (VEventQueueType(rawValue: veventq.eventType)?.dataSize ?? 0)
        let budget = count.multipliedReportingOverflow(by: recordSize)
        var room = budget.overflow ? UInt64.max : budget.partialValue
        var read: [VEvent] = []
        while let entry = veventq.deliver.first {
            let size = VEvent.headerSize + UInt64(entry.data?.count ?? 0)
            guard size <= room else { break }
            veventq.deliver.removeFirst()
            if entry.data != nil { veventq.eventCount -= 1 }
            room -= size
            read.append(entry)
        }
        return read
    }

    // MARK: IOMMU_TEST_OP_TRIGGER_VEVENT

    /// `iommufd_test_trigger_vevent`: the mock device attached to a nested domain of a vIOMMU
    /// (`mdev->viommu`, set at attach with its vDEVICE's id) reports a selftest event holding
    /// its virtual id; ENOENT without one, EOPNOTSUPP without a selftest queue.
    public func testTriggerVEvent(deviceID: UInt32) throws(Refusal) {
        let device = try object(deviceID, as: Device.self)
        guard let nested = device.attachments[noPASID] as? HWPTNested, case .viommu(let viommu) = nested.parent,
              let vdevice = device.vdevice, vdevice.viommu === viommu, vdevice.virtualID != 0 else {
            throw Refusal(.ENOENT, .mockWithoutVDevice, objects: [InvolvedObject(device, .requested)])
        }
        try reportVEvent(viommu, type: .selftest, data: UInt32(truncatingIfNeeded: vdevice.virtualID).littleEndianBytes)
    }
}

extension FixedWidthInteger {
    /// The value's bytes, least significant first, as a little-endian uAPI struct holds it.
    public var littleEndianBytes: [UInt8] { (0..<Self.bitWidth / 8).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) } }
}
