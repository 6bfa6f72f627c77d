/// The simulated host: its IOMMU instances, the devices behind them, and the VMM process's memory.
public final class Machine {
    public private(set) var iommus: [any IOMMUDriver] = []
    public private(set) var devices: [PlatformDevice] = []
    public var memory = ProcessMemory()
    /// Host physical memory: VMM memory, page tables and device configuration structures.
    public let physical = PhysicalMemory()

    public init() {}

    public func add(_ iommu: any IOMMUDriver) { iommus.append(iommu) }
    public func add(_ device: PlatformDevice) { devices.append(device) }

    public func iommu(named name: String) -> (any IOMMUDriver)? { iommus.first { $0.name == name } }
    public func device(named name: String) -> PlatformDevice? { devices.first { $0.name == name } }

    /// `mmap` in the VMM process, backed by this machine's memory.
    public func mmap(length: UInt64, alignment: UInt64) throws(Errno) -> UInt64 {
        try memory.mmap(length: length, alignment: alignment, physical: physical)
    }
}
