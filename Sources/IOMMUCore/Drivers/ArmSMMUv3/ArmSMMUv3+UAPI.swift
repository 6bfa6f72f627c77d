/// The SMMUv3 driver's uAPI structs (`include/uapi/linux/iommufd.h`).

/// `struct iommu_hwpt_arm_smmuv3 { __aligned_le64 ste[2]; }`: the guest's STE for a nested
/// HWPT on a vIOMMU (`arm_vsmmu_alloc_domain_nested`).
public struct IOMMUHWPTArmSMMUv3: UAPIPayload {
    public static let dataType = UAPIDataType.hwpt(.armSMMUv3)
    public static let cName = "struct iommu_hwpt_arm_smmuv3"
    public static let ste = UAPIField("ste", offset: 0, size: 8, count: 2)
    public static let fields = [ste]
    public static let minimumSize = ste.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    /// A vSTE as a VMM passes it.
    public init(ste: [UInt64]) { self.init([(Self.ste, ste)]) }

    public var ste: [UInt64] { (0..<Self.ste.count).map { raw[Self.ste, $0] } }
}

/// `struct iommu_viommu_arm_smmuv3_invalidate { __aligned_le64 cmd[2]; }`: one guest command
/// queue entry (`arm_vsmmu_cache_invalidate`).
public struct IOMMUVIOMMUArmSMMUv3Invalidate: UAPIPayload {
    public static let dataType = UAPIDataType.viommuInvalidate(.armSMMUv3)
    public static let cName = "struct iommu_viommu_arm_smmuv3_invalidate"
    public static let cmd = UAPIField("cmd", offset: 0, size: 8, count: 2)
    public static let fields = [cmd]
    public static let minimumSize = cmd.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var cmd: (UInt64, UInt64) { (raw[Self.cmd, 0], raw[Self.cmd, 1]) }
}
