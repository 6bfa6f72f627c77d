import IOMMUCore

/// How every front end names iommufd objects and the owners of reserved ranges, so the
/// summary, the object tree, the details and the IOVA map say the same thing.
public enum ObjectText {
    /// `HWPT_PAGING 4`: the uAPI type name and the id.
    public static func label(_ object: IOMMUFDObject) -> String { "\(object.type) \(object.id)" }

    /// Who reserved a range: `sw_msi of DEVICE 1`, `outside the aperture of HWPT 4`.
    public static func owner(_ owner: ReservationOwner) -> String {
        switch owner {
        case .device(let id, let type): "\(type.rawValue) of DEVICE \(id)"
        case .domain(let id): "outside the aperture of HWPT \(id)"
        case .test: "test_add_reserved"
        }
    }

    /// The same, split for grouping in a short row: what the range is (`sw_msi`, `outside
    /// aperture`) and who owns it (`DEVICE 1`; nil for the selftest's ownerless ranges).
    public static func ownerParts(_ owner: ReservationOwner) -> (label: String, owner: String?) {
        switch owner {
        case .device(let id, let type): (type.rawValue, "DEVICE \(id)")
        case .domain(let id): ("outside aperture", "HWPT \(id)")
        case .test: ("reserved (test)", nil)
        }
    }

    /// A device's attachment at a PASID: `pasid 1 -> HWPT_NESTED 8`, or `-> HWPT_PAGING 4` at
    /// the RID, with `arrow` for the arrow.
    public static func attachment(_ hwpt: HWPT, pasid: UInt32, arrow: String) -> String {
        (pasid == noPASID ? "" : "pasid \(pasid) ") + arrow + " " + label(hwpt)
    }

    /// A FAULT object's state in a row: its file and how many groups wait to be read or answered.
    public static func queueState(_ fault: FaultQueue) -> String {
        "fd \(fault.fd)  pending \(fault.pending.count)  awaiting response \(fault.awaitingResponse.count)"
    }

    /// An access's state in a row: the selftest driver's file, whether it pins, what it holds.
    public static func accessState(_ access: Access) -> String {
        "fd \(access.fd)  \(access.needsPinPages ? "needs_pin_pages" : "rw only")  pinned ranges \(access.pins.count)"
    }

    /// A uAPI enum value by its name (`arm_smmuv3`), or in hex when the uAPI has no name for it.
    public static func uapiName<Value: UAPINamedValue>(_ type: Value.Type, _ raw: UInt32) -> String {
        Value(rawValue: raw)?.name ?? UInt64(raw).hex
    }

    /// A vEVENTQ's state in a row: type, fill against depth, the next sequence number, and
    /// whether events were lost.
    public static func queueState(_ veventq: VEventQueue) -> String {
        let type = uapiName(VEventQueueType.self, veventq.eventType)
        let lost = veventq.deliver.last.map { $0.data == nil } ?? false
        return "type \(type)  fd \(veventq.fd)  events \(veventq.eventCount)/\(veventq.depth)  next sequence \(veventq.sequence)"
            + (lost ? "  LOST_EVENTS" : "")
    }

    /// The requests of a page request group: `DEVICE 3 pasid 1 grpid 2 rw 0xdeadbeaf`.
    public static func pageRequests(_ group: IOPFGroup) -> String {
        group.requests.map { request in
            let perm = (request.perm.contains(.read) ? "r" : "") + (request.perm.contains(.write) ? "w" : "")
                + (request.perm.contains(.exec) ? "x" : "") + (request.perm.contains(.priv) ? "p" : "")
            return "DEVICE \(group.deviceID) pasid \(request.pasid) grpid \(request.grpid) \(perm.isEmpty ? "-" : perm) \(request.addr.hex)"
        }.joined(separator: "; ")
    }

    /// One queued vEVENT: its sequence number and data words, or the lost-events header.
    public static func vevent(_ entry: VEvent) -> String {
        guard let data = entry.data else { return "sequence \(entry.sequence)  LOST_EVENTS" }
        return "sequence \(entry.sequence)  " + words(data).map(\.hex).joined(separator: " ")
    }

    /// Little-endian bytes as the 64-bit words (a last shorter piece as its own value) a
    /// uAPI event struct is made of.
    public static func words(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count, by: 8).map { start in
            bytes[start..<min(bytes.count, start + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }
}
