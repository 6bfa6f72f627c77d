/// The selftest driver's uAPI structs (`drivers/iommu/iommufd/iommufd_test.h`).

/// `IOMMU_TEST_INVALIDATE_FLAG_ALL`, the one flag of both selftest invalidation structs.
private let selftestInvalidateFlags = ["all": UInt64(1) << 0]

/// `struct iommu_hwpt_selftest { __u32 iotlb; }`: the initial value of a mock nested domain's IOTLB.
public struct IOMMUHWPTSelftest: UAPIPayload {
    public static let dataType = UAPIDataType.hwpt(.selftest)
    public static let cName = "struct iommu_hwpt_selftest"
    public static let iotlb = UAPIField("iotlb", offset: 0, size: 4)
    public static let fields = [iotlb]
    public static let minimumSize = iotlb.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var iotlb: UInt32 { UInt32(truncatingIfNeeded: raw[Self.iotlb]) }
}

/// `struct iommu_hwpt_invalidate_selftest { __u32 flags; __u32 iotlb_id; }`
/// (`mock_domain_cache_invalidate_user`).
public struct IOMMUHWPTInvalidateSelftest: UAPIPayload {
    public static let dataType = UAPIDataType.hwptInvalidate(.selftest)
    public static let cName = "struct iommu_hwpt_invalidate_selftest"
    public static let flags = UAPIField("flags", offset: 0, size: 4, flagNames: selftestInvalidateFlags)
    public static let iotlbID = UAPIField("iotlb_id", offset: 4, size: 4)
    public static let fields = [flags, iotlbID]
    public static let minimumSize = iotlbID.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var flags: UInt64 { raw[Self.flags] }
    public var iotlbID: UInt64 { raw[Self.iotlbID] }
}

/// `struct iommu_viommu_invalidate_selftest { __u32 flags; __u32 vdev_id; __u32 cache_id; }`
/// (`mock_viommu_cache_invalidate`).
public struct IOMMUVIOMMUInvalidateSelftest: UAPIPayload {
    public static let dataType = UAPIDataType.viommuInvalidate(.selftest)
    public static let cName = "struct iommu_viommu_invalidate_selftest"
    public static let flags = UAPIField("flags", offset: 0, size: 4, flagNames: selftestInvalidateFlags)
    public static let vdevID = UAPIField("vdev_id", offset: 4, size: 4)
    public static let cacheID = UAPIField("cache_id", offset: 8, size: 4)
    public static let fields = [flags, vdevID, cacheID]
    public static let minimumSize = cacheID.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var flags: UInt64 { raw[Self.flags] }
    public var vdevID: UInt64 { raw[Self.vdevID] }
    public var cacheID: UInt64 { raw[Self.cacheID] }
}

/// `struct iommu_viommu_selftest { __u32 in_data; __u32 out_data; __aligned_u64 out_mmap_offset;
/// __aligned_u64 out_mmap_length; }` (`mock_viommu_init`).
public struct IOMMUVIOMMUSelftest: UAPIPayload {
    public static let dataType = UAPIDataType.viommu(.selftest)
    public static let cName = "struct iommu_viommu_selftest"
    public static let inData = UAPIField("in_data", offset: 0, size: 4)
    public static let outData = UAPIField("out_data", offset: 4, size: 4)
    public static let outMmapOffset = UAPIField("out_mmap_offset", offset: 8, size: 8)
    public static let outMmapLength = UAPIField("out_mmap_length", offset: 16, size: 8)
    public static let fields = [inData, outData, outMmapOffset, outMmapLength]
    /// `iommu_copy_struct_from_user(..., out_data)`.
    public static let minimumSize = outData.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var inData: UInt32 { UInt32(truncatingIfNeeded: raw[Self.inData]) }
}
