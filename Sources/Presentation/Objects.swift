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
}
