/// Constants of `include/uapi/linux/iommufd.h` (v6.17) and the selftest's `iommufd_test.h`.

/// The size of a CPU page on the simulated host (`PAGE_SIZE`).
public let pageSize: UInt64 = 4096
/// A transparent huge page (`HPAGE_SIZE`), the largest alignment automatic IOVA allocation keeps.
public let hugePageSize: UInt64 = 2 << 20

/// `enum iommufd_object_type`.
public enum ObjectType: UInt32, Sendable, CustomStringConvertible {
    case device = 1, hwptPaging = 2, hwptNested = 3, ioas = 4, access = 5, fault = 6
    case viommu = 7, vdevice = 8, veventq = 9, hwQueue = 10, selftest = 11

    public var description: String {
        switch self {
        case .device: "DEVICE"
        case .hwptPaging: "HWPT_PAGING"
        case .hwptNested: "HWPT_NESTED"
        case .ioas: "IOAS"
        case .access: "ACCESS"
        case .fault: "FAULT"
        case .viommu: "VIOMMU"
        case .vdevice: "VDEVICE"
        case .veventq: "VEVENTQ"
        case .hwQueue: "HW_QUEUE"
        case .selftest: "SELFTEST"
        }
    }
}

/// `enum iommufd_ioas_map_flags` (also used by IOMMU_IOAS_COPY).
public struct IOASMapFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let fixedIOVA = IOASMapFlags(rawValue: 1 << 0)
    public static let writeable = IOASMapFlags(rawValue: 1 << 1)
    public static let readable = IOASMapFlags(rawValue: 1 << 2)
    public static let valid: IOASMapFlags = [.fixedIOVA, .writeable, .readable]
}

/// `enum iommufd_hwpt_alloc_flags`.
public struct HWPTAllocFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let nestParent = HWPTAllocFlags(rawValue: 1 << 0)
    public static let dirtyTracking = HWPTAllocFlags(rawValue: 1 << 1)
    public static let faultIDValid = HWPTAllocFlags(rawValue: 1 << 2)
    public static let pasid = HWPTAllocFlags(rawValue: 1 << 3)
}

/// A uAPI enum whose cases scenarios write by the uAPI's own name, lowercased and without the
/// enum's prefix (`IOMMU_HWPT_DATA_VTD_S1` is `vtd_s1`), so the names live with the values.
public protocol UAPINamedValue: CaseIterable, RawRepresentable, Sendable where RawValue == UInt32 {
    var name: String { get }
}

/// `enum iommu_hwpt_data_type`, plus the selftest's `IOMMU_HWPT_DATA_SELFTEST`.
public enum HWPTDataType: UInt32, UAPINamedValue {
    case none = 0, vtdS1 = 1, armSMMUv3 = 2
    case selftest = 0xdead

    public var name: String {
        switch self {
        case .none: "none"
        case .vtdS1: "vtd_s1"
        case .armSMMUv3: "arm_smmuv3"
        case .selftest: "selftest"
        }
    }
}

/// `enum iommu_hw_info_type`, plus `IOMMU_HW_INFO_TYPE_SELFTEST`.
public enum HWInfoType: UInt32, UAPINamedValue {
    case `default` = 0, intelVTd = 1, armSMMUv3 = 2, tegra241CMDQV = 3
    case selftest = 0xfeedbeef

    public var name: String {
        switch self {
        case .default: "default"
        case .intelVTd: "intel_vtd"
        case .armSMMUv3: "arm_smmuv3"
        case .tegra241CMDQV: "tegra241_cmdqv"
        case .selftest: "selftest"
        }
    }
}

/// `enum iommufd_hw_capabilities`.
public struct HWCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let dirtyTracking = HWCapabilities(rawValue: 1 << 0)
    public static let pciPASIDExec = HWCapabilities(rawValue: 1 << 1)
    public static let pciPASIDPriv = HWCapabilities(rawValue: 1 << 2)
}

/// `enum iommu_hw_info_flags`.
public struct HWInfoFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let inputType = HWInfoFlags(rawValue: 1 << 0)
}

/// `enum iommu_viommu_type`, plus `IOMMU_VIOMMU_TYPE_SELFTEST`.
public enum VIOMMUType: UInt32, UAPINamedValue {
    case `default` = 0, armSMMUv3 = 1, tegra241CMDQV = 2
    case selftest = 0xdeadbeef

    public var name: String {
        switch self {
        case .default: "default"
        case .armSMMUv3: "arm_smmuv3"
        case .tegra241CMDQV: "tegra241_cmdqv"
        case .selftest: "selftest"
        }
    }
}

/// `enum iommu_hwpt_invalidate_data_type` (which also holds `IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3`),
/// plus the selftest's types, whose values HWPT and vIOMMU invalidation share.
public enum InvalidateDataType: UInt32, UAPINamedValue {
    case vtdS1 = 0, armSMMUv3 = 1
    case selftest = 0xdeadbeef, selftestInvalid = 0xdadbeef

    public var name: String {
        switch self {
        case .vtdS1: "vtd_s1"
        case .armSMMUv3: "arm_smmuv3"
        case .selftest: "selftest"
        case .selftestInvalid: "selftest_invalid"
        }
    }
}

/// `enum iommufd_option` and `enum iommufd_option_ops`.
public enum OptionID: UInt32, Sendable { case rlimitMode = 0, hugePages = 1 }
public enum OptionOp: UInt16, Sendable { case set = 0, get = 1 }

/// The PASID value that means "the device's RID" (`IOMMU_NO_PASID`).
public let noPASID: UInt32 = 0


// MARK: Driver payloads

/// One field of a uAPI struct as C lays it out: the name the header gives it, its byte offset,
/// the width of one element and how many elements it has (`__aligned_le64 ste[2]` is 8 × 2).
public struct UAPIField: Sendable, Equatable {
    public var name: String
    public var offset: Int
    public var size: Int
    public var count: Int
    /// The header's names for the bits of a flags field (`IOMMU_VTD_S1_SRE` is `sre`).
    public var flagNames: [String: UInt64]

    public init(_ name: String, offset: Int, size: Int, count: Int = 1, flagNames: [String: UInt64] = [:]) {
        self.name = name
        self.offset = offset
        self.size = size
        self.count = count
        self.flagNames = flagNames
    }

    /// `offsetofend`: the first byte after the field.
    public var end: Int { offset + size * count }
    /// `__reserved` fields: part of the layout, never written by name.
    public var isReserved: Bool { name.hasPrefix("__") }
}

/// Which command field selects a payload, and with which value of which uAPI enum.
public enum UAPIDataType: Sendable, Equatable {
    /// `IOMMU_HWPT_ALLOC`'s `data_type`.
    case hwpt(HWPTDataType)
    /// `IOMMU_HWPT_INVALIDATE`'s `data_type` on a nested HWPT (`cache_invalidate_user`).
    case hwptInvalidate(InvalidateDataType)
    /// `IOMMU_HWPT_INVALIDATE`'s `data_type` on a vIOMMU (`viommu->ops->cache_invalidate`).
    case viommuInvalidate(InvalidateDataType)
    /// `IOMMU_VIOMMU_ALLOC`'s `type`.
    case viommu(VIOMMUType)

    /// The value the user passes in the command's type field.
    public var rawValue: UInt32 {
        switch self {
        case .hwpt(let type): type.rawValue
        case .hwptInvalidate(let type), .viommuInvalidate(let type): type.rawValue
        case .viommu(let type): type.rawValue
        }
    }
}

/// A struct's bytes as the kernel holds them after copying: exactly `sizeof`, little-endian.
public struct UAPIStructBytes: Sendable, Equatable {
    public private(set) var bytes: [UInt8]

    /// `bytes` cut or zero-extended to `size`, as `copy_struct_from_user` leaves the kernel copy.
    public init(_ bytes: [UInt8], size: Int) {
        self.bytes = Array(bytes.prefix(size)) + Array(repeating: 0, count: max(0, size - bytes.count))
    }

    /// Element `index` of `field`, read little-endian.
    public subscript(field: UAPIField, index: Int = 0) -> UInt64 {
        get {
            let start = field.offset + field.size * index
            guard index >= 0, index < field.count, start + field.size <= bytes.count else { return 0 }
            return bytes[start..<start + field.size].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        set {
            let start = field.offset + field.size * index
            guard index >= 0, index < field.count, start + field.size <= bytes.count else { return }
            for byte in 0..<field.size { bytes[start + byte] = UInt8(truncatingIfNeeded: newValue >> UInt64(8 * byte)) }
        }
    }
}

/// A driver-specific uAPI struct (`iommu_hwpt_vtd_s1`, `iommu_viommu_arm_smmuv3_invalidate`, …),
/// declared next to the driver that consumes it. The layout is data, so the copy rules of
/// `iommu_copy_struct_from_user` and its array forms are written once, here, and a scenario can
/// write the struct by field name and be told when a name is not one of its fields.
public protocol UAPIPayload: Sendable {
    /// The `data_type` value that names this struct.
    static var dataType: UAPIDataType { get }
    /// The C name, for messages.
    static var cName: String { get }
    /// Every field, in declaration order.
    static var fields: [UAPIField] { get }
    /// `offsetofend(struct, min_last)`: the length of the struct's first version; a shorter
    /// `data_len` or `entry_len` is EINVAL.
    static var minimumSize: Int { get }
    /// The struct as copied in.
    var raw: UAPIStructBytes { get }
    init(raw: UAPIStructBytes)
}

extension UAPIPayload {
    /// `sizeof`: every payload is packed to its last field.
    public static var size: Int { fields.map(\.end).max() ?? 0 }

    /// The field called `name`, if the struct has one.
    public static func field(named name: String) -> UAPIField? { fields.first { $0.name == name } }

    /// A struct with the given field elements set and everything else zero.
    public init(_ values: [(field: UAPIField, elements: [UInt64])]) {
        var raw = UAPIStructBytes([], size: Self.size)
        for (field, elements) in values {
            for (index, element) in elements.enumerated() { raw[field, index] = element }
        }
        self.init(raw: raw)
    }
}

/// Every driver payload, in one list, so a front end can map a `data_type` and a field name to
/// a layout without tables of its own.
public let uapiPayloads: [any UAPIPayload.Type] = [
    IOMMUHWPTSelftest.self, IOMMUHWPTArmSMMUv3.self, IOMMUHWPTVTdS1.self,
    IOMMUHWPTInvalidateSelftest.self, IOMMUHWPTVTdS1Invalidate.self,
    IOMMUVIOMMUInvalidateSelftest.self, IOMMUVIOMMUArmSMMUv3Invalidate.self,
    IOMMUVIOMMUSelftest.self,
]

/// The payload a data type names, if any.
public func uapiPayload(for dataType: UAPIDataType) -> (any UAPIPayload.Type)? {
    uapiPayloads.first { $0.dataType == dataType }
}

/// A user buffer an ioctl points at: `length` bytes, of which those past `bytes` are zero.
/// Keeping only the written prefix lets a user declare any length (up to `u32max`) for free.
public struct UserBuffer: Sendable, Equatable {
    public var length: UInt32
    public private(set) var bytes: [UInt8]

    public init(length: UInt32, bytes: [UInt8] = []) {
        self.length = length
        self.bytes = Array(bytes.prefix(Int(length)))
    }

    /// `copy_struct_from_user(dst, sizeof, src, length)`: a shorter buffer is zero-extended, a
    /// longer one must be zero past the struct (E2BIG otherwise).
    func copyStruct(size: Int) throws(Refusal) -> UAPIStructBytes {
        if Int(length) > size && bytes.dropFirst(size).contains(where: { $0 != 0 }) {
            throw Refusal(.E2BIG, .copyStructNonzeroTail,
                          values: [Refusal.InvolvedValue("length", UInt64(length), .requested), Refusal.InvolvedValue("size", UInt64(size), .limit)])
        }
        return UAPIStructBytes(bytes, size: size)
    }
}

/// A user's driver-specific payload (`struct iommu_user_data`: `type`, `len`, `uptr`).
public struct UserData: Sendable, Equatable {
    public var type: UInt32
    public var buffer: UserBuffer
    /// `data_len` as the user declared it.
    public var length: UInt32 { buffer.length }

    public init(type: UInt32, buffer: UserBuffer) {
        self.type = type
        self.buffer = buffer
    }

    /// A payload passed whole, with its own type and size.
    public init<P: UAPIPayload>(_ payload: P) {
        self.init(type: P.dataType.rawValue, buffer: UserBuffer(length: UInt32(P.size), bytes: payload.raw.bytes))
    }

    /// `iommu_copy_struct_from_user`: another type, a length short of the struct's first
    /// version or longer than the struct is EINVAL (`__iommu_copy_struct_from_user`).
    public func copy<P: UAPIPayload>(_: P.Type) throws(Refusal) -> P {
        guard type == P.dataType.rawValue else { throw .userDataType(type, expected: P.dataType.rawValue) }
        guard length >= P.minimumSize, length <= P.size else {
            throw Refusal(.EINVAL, .userDataLength, values: [Refusal.InvolvedValue("len", UInt64(length), .requested),
                                                             Refusal.InvolvedValue("min_len", UInt64(P.minimumSize), .limit),
                                                             Refusal.InvolvedValue("data_len", UInt64(P.size), .limit)])
        }
        return P(raw: try buffer.copyStruct(size: P.size))
    }
}

/// One entry of an invalidation array: `entry_len` bytes of the user's array.
public typealias InvalidationEntry = UserBuffer

extension InvalidationArray {
    /// The loop of a driver that copies entries one at a time with
    /// `iommu_copy_struct_from_user_array` (each under the rules of `UserData.copy(_:)`):
    /// `handle` runs per entry until a copy or the entry itself fails, and `entry_num` becomes
    /// the count handled before that.
    public func handleEach<P: UAPIPayload>(as _: P.Type, _ handle: (P) -> Refusal?) -> InvalidationOutcome {
        for (index, entry) in entries.enumerated() {
            do throws(Refusal) {
                if let error = handle(try UserData(type: type, buffer: entry).copy(P.self)) {
                    return InvalidationOutcome(handled: index, error: error)
                }
            } catch {
                return InvalidationOutcome(handled: index, error: error)
            }
        }
        return InvalidationOutcome(handled: entries.count)
    }

    /// The loop of a driver that copies the whole array first with
    /// `iommu_copy_struct_from_full_user_array`: another type or no entries is EINVAL, a short
    /// entry is zero-extended and a long one must be zero past the struct (E2BIG); then
    /// `handle` runs per entry as in `handleEach`.
    public func handleAll<P: UAPIPayload>(as _: P.Type, _ handle: (P) -> Refusal?) -> InvalidationOutcome {
        guard type == P.dataType.rawValue else { return InvalidationOutcome(handled: 0, error: .userDataType(type, expected: P.dataType.rawValue)) }
        guard !entries.isEmpty else { return InvalidationOutcome(handled: 0, error: Refusal(.EINVAL, .userArrayEmpty)) }
        var copied: [P] = []
        do throws(Refusal) {
            for entry in entries { copied.append(P(raw: try entry.copyStruct(size: P.size))) }
        } catch {
            return InvalidationOutcome(handled: 0, error: error)
        }
        for (index, entry) in copied.enumerated() {
            if let error = handle(entry) { return InvalidationOutcome(handled: index, error: error) }
        }
        return InvalidationOutcome(handled: copied.count)
    }
}
