/// The VT-d driver's uAPI structs (`include/uapi/linux/iommufd.h`).

/// `struct iommu_hwpt_vtd_s1 { __aligned_u64 flags; __aligned_u64 pgtbl_addr; __u32 addr_width;
/// __u32 __reserved; }`: the guest's first-stage table for a nested HWPT.
public struct IOMMUHWPTVTdS1: UAPIPayload {
    public static let dataType = UAPIDataType.hwpt(.vtdS1)
    public static let cName = "struct iommu_hwpt_vtd_s1"
    /// `IOMMU_VTD_S1_SRE`, `IOMMU_VTD_S1_EAFE`, `IOMMU_VTD_S1_WPE`.
    public static let flags = UAPIField("flags", offset: 0, size: 8, flagNames: ["sre": 1 << 0, "eafe": 1 << 1, "wpe": 1 << 2])
    public static let pgtblAddr = UAPIField("pgtbl_addr", offset: 8, size: 8)
    public static let addrWidth = UAPIField("addr_width", offset: 16, size: 4)
    public static let reserved = UAPIField("__reserved", offset: 20, size: 4)
    public static let fields = [flags, pgtblAddr, addrWidth, reserved]
    /// `iommu_copy_struct_from_user(..., __reserved)`.
    public static let minimumSize = reserved.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var flags: UInt64 { raw[Self.flags] }
    public var pageTableAddress: UInt64 { raw[Self.pgtblAddr] }
    public var addressWidth: UInt32 { UInt32(truncatingIfNeeded: raw[Self.addrWidth]) }
}

/// `struct iommu_hwpt_vtd_s1_invalidate { __aligned_u64 addr; __aligned_u64 npages; __u32 flags;
/// __u32 __reserved; }` (`intel_nested_cache_invalidate_user`).
public struct IOMMUHWPTVTdS1Invalidate: UAPIPayload {
    public static let dataType = UAPIDataType.hwptInvalidate(.vtdS1)
    public static let cName = "struct iommu_hwpt_vtd_s1_invalidate"
    public static let addr = UAPIField("addr", offset: 0, size: 8)
    public static let npages = UAPIField("npages", offset: 8, size: 8)
    /// `IOMMU_VTD_INV_FLAGS_LEAF`.
    public static let flags = UAPIField("flags", offset: 16, size: 4, flagNames: ["leaf": 1 << 0])
    public static let reserved = UAPIField("__reserved", offset: 20, size: 4)
    public static let fields = [addr, npages, flags, reserved]
    public static let minimumSize = reserved.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var address: UInt64 { raw[Self.addr] }
    public var pages: UInt64 { raw[Self.npages] }
    public var flags: UInt64 { raw[Self.flags] }
    public var reserved: UInt64 { raw[Self.reserved] }
}
