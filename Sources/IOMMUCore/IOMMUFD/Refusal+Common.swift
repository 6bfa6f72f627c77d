/// The checks nearly every ioctl makes in the same way: the object lookup, the flags and
/// reserved fields, the u64 overflow checks.
extension Refusal.Rule {
    /// `iommufd_get_object`: the id is free, still being created, destroyed, or another type.
    public static let noSuchObject = Refusal.Rule("iommufd_get_object", "no live object of the required type has this id")
    /// A flags field with a bit the ioctl does not define (`if (cmd->flags & ~VALID) return -EOPNOTSUPP`).
    public static let unsupportedFlags = Refusal.Rule("flags.unsupported", "the flags hold a bit this call does not support")
    /// A `__reserved` field (or padding) that is not zero.
    public static let reservedField = Refusal.Rule("reserved.nonzero", "a reserved field is not zero")
    /// An address plus a length that wraps past 2^64 (`check_add_overflow`).
    public static let addressOverflow = Refusal.Rule("check_add_overflow", "the address and length run past the top of the 64-bit address space")
}

extension Refusal {
    /// ENOENT for an id that names no live object of the type the call needs; `wrongType`
    /// is the object of another type the id does name.
    public static func noSuchObject(_ id: UInt32, wrongType: IOMMUFDObject? = nil) -> Refusal {
        Refusal(.ENOENT, .noSuchObject, objects: [wrongType.map { InvolvedObject($0, .existing) }
                                                  ?? InvolvedObject(ObjectID(rawValue: id), nil, .requested)])
    }

    /// The ioctl's errno (usually EOPNOTSUPP) for a flags field with unsupported bits.
    public static func unsupportedFlags(_ errno: Errno = .EOPNOTSUPP, _ field: String = "flags", _ value: UInt64) -> Refusal {
        Refusal(errno, .unsupportedFlags, values: [InvolvedValue(field, value, .flag)])
    }

    /// The ioctl's errno (EOPNOTSUPP or EINVAL, as each ioctl has it) for a non-zero reserved field.
    public static func reservedField(_ errno: Errno, _ field: String = "__reserved", _ value: UInt64) -> Refusal {
        Refusal(errno, .reservedField, values: [InvolvedValue(field, value, .flag)])
    }

    /// EOVERFLOW for an address plus a length past 2^64.
    public static func addressOverflow(_ address: UInt64, length: UInt64) -> Refusal {
        Refusal(.EOVERFLOW, .addressOverflow, values: [InvolvedValue("address", address, .requested), InvolvedValue("length", length, .requested)])
    }
}
