/// A DMA-capable device the platform describes (a PCI function behind an IOMMU).
///
/// This is the hardware side: what firmware and the driver report about the device before
/// any iommufd object exists. `device_bind` turns it into an iommufd DEVICE.
public final class PlatformDevice {
    public let name: String
    public let iommu: any IOMMUDriver
    /// StreamID on Arm, requester ID (bus/devfn) on x86.
    public let streamID: UInt32
    /// Reserved regions that firmware adds beyond what the driver itself reports.
    public let firmwareRegions: [ReservedRegion]
    /// The selftest mock's `MOCK_FLAGS_DEVICE_*` bits.
    public let mockFlags: MockDeviceFlags
    /// `ilog2(dev->iommu->max_pasids)`: the device's PASID capability bounded by its
    /// unit's (`dev_iommu_get_max_pasids`); 0 when the device has no PASID capability.
    public let maxPASIDLog2: UInt8
    /// Arm: the device's memory accesses are coherent and can be forced write-back (IORT CANWBS).
    public let canWBS: Bool
    /// The id of the device's iommu group (`PlatformDescription.groups`).
    public let group: UInt32
    /// How the device waits for the OS to fix a faulting translation (I/O page faults).
    public let recoverableFaults: RecoverableFaults

    public init(name: String, iommu: any IOMMUDriver, streamID: UInt32, firmwareRegions: [ReservedRegion] = [],
                mockFlags: MockDeviceFlags = [], maxPASIDLog2: UInt8 = 0, canWBS: Bool = true, group: UInt32 = 0,
                recoverableFaults: RecoverableFaults = []) {
        self.name = name
        self.iommu = iommu
        self.streamID = streamID
        self.firmwareRegions = firmwareRegions
        self.mockFlags = mockFlags
        self.maxPASIDLog2 = min(maxPASIDLog2, iommu.maxPASIDLog2)
        self.canWBS = canWBS
        self.group = group
        self.recoverableFaults = recoverableFaults
    }

    /// Everything `iommu_get_resv_regions()` returns: the driver's windows, then firmware's.
    public var reservedRegions: [ReservedRegion] { iommu.reservedRegions(for: self) + firmwareRegions }

    /// A device with an `IOMMU_RESV_DIRECT` region sets `require_direct`, so the core refuses
    /// the blocking domain that claiming DMA ownership needs.
    public var requiresDirect: Bool { reservedRegions.contains { $0.type == .direct } }
}

/// `MOCK_FLAGS_DEVICE_*` from `iommufd_test.h`.
public struct MockDeviceFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let noDirty = MockDeviceFlags(rawValue: 1 << 0)
    public static let hugeIOVA = MockDeviceFlags(rawValue: 1 << 1)
    public static let pasid = MockDeviceFlags(rawValue: 1 << 2)
    public static let valid: MockDeviceFlags = [.noDirty, .hugeIOVA, .pasid]
}

/// What lets a device's DMA survive a translation fault until software maps the page.
public struct RecoverableFaults: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The PCIe Page Request Interface (with ATS, which PRI requires): after a failed
    /// translation the function sends a page request and retries on a success response
    /// (`pci_pri_supported`, enabled by `pci_enable_pri`).
    public static let pri = RecoverableFaults(rawValue: 1 << 0)
    /// Arm stall: the firmware says the device tolerates a stalled transaction
    /// (`dma-can-stall`, IORT's named-component flag), so the SMMU holds the faulting
    /// transaction until CMD_RESUME (`arm_smmu_master.stall_enabled`).
    public static let stall = RecoverableFaults(rawValue: 1 << 1)
}

extension PlatformDevice: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> PlatformDevice {
        PlatformDevice(name: name, iommu: copier.copy(iommu), streamID: streamID, firmwareRegions: firmwareRegions,
                       mockFlags: mockFlags, maxPASIDLog2: maxPASIDLog2, canWBS: canWBS, group: group,
                       recoverableFaults: recoverableFaults)
    }
}
