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

/// `enum iommu_hwpt_data_type`, plus the selftest's `IOMMU_HWPT_DATA_SELFTEST`.
public enum HWPTDataType: UInt32, Sendable {
    case none = 0, vtdS1 = 1, armSMMUv3 = 2
    case selftest = 0xdead
}

/// `enum iommu_hw_info_type`, plus `IOMMU_HW_INFO_TYPE_SELFTEST`.
public enum HWInfoType: UInt32, Sendable {
    case `default` = 0, intelVTd = 1, armSMMUv3 = 2, tegra241CMDQV = 3
    case selftest = 0xfeedbeef
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
public enum VIOMMUType: UInt32, Sendable {
    case `default` = 0, armSMMUv3 = 1, tegra241CMDQV = 2
    case selftest = 0xdeadbeef
}

/// `enum iommu_hwpt_invalidate_data_type`, plus the selftest's types.
public enum InvalidateDataType: UInt32, Sendable {
    case vtdS1 = 0, armSMMUv3 = 1
    case selftest = 0xdeadbeef, selftestInvalid = 0xdadbeef
}

/// `enum iommufd_option` and `enum iommufd_option_ops`.
public enum OptionID: UInt32, Sendable { case rlimitMode = 0, hugePages = 1 }
public enum OptionOp: UInt16, Sendable { case set = 0, get = 1 }

/// The PASID value that means "the device's RID" (`IOMMU_NO_PASID`).
public let noPASID: UInt32 = 0

/// A user's driver-specific payload (`data_type`, `data_len`, `data_uptr`) as named words.
///
/// The scenario language passes driver structs by field name; `length` is the `data_len` the
/// user declared, which the kernel checks against the struct's minimum and maximum sizes.
public struct UserData: Sendable, Equatable {
    public var type: UInt32
    public var length: UInt32
    public var fields: [String: [UInt64]]

    public init(type: UInt32, length: UInt32, fields: [String: [UInt64]] = [:]) {
        self.type = type
        self.length = length
        self.fields = fields
    }

    public func word(_ name: String, _ index: Int = 0) -> UInt64 {
        guard let words = fields[name], index < words.count else { return 0 }
        return words[index]
    }
}

/// One entry of an invalidation array (`data_uptr`, `entry_len`, `entry_num`), by field name.
public typealias InvalidationEntry = [String: [UInt64]]
