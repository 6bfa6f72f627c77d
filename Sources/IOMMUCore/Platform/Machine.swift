/// The simulated host: its IOMMU instances, the devices behind them, and the VMM process's memory.
///
/// It is built from a `PlatformDescription` (and extended by more of it, as a scenario's
/// `iommu` and `device` lines do); `platform` describes what it holds.
public final class Machine {
    public private(set) var iommus: [any IOMMUDriver] = []
    public private(set) var devices: [PlatformDevice] = []
    public var memory = ProcessMemory()
    /// Host physical memory: VMM memory, page tables and device configuration structures.
    public let physical: PhysicalMemory
    /// RLIMIT_MEMLOCK, CAP_IPC_LOCK and the host's memory size; setting it applies the host
    /// size to `physical` at once (memory already allocated stays).
    public var limits = MemoryLimits() {
        didSet { physical.capacity = limits.hostMemory }
    }
    /// The process's pinned-page counters (`user->locked_vm`, `mm->locked_vm`, `mm->pinned_vm`).
    public internal(set) var pinned = PinnedPageAccounting()
    /// Everything added so far, as given.
    private var described = PlatformDescription()
    /// Names, groups and their units of what `described` holds, to check additions.
    private var index = PlatformIndex()
    private var iommusByName: [String: any IOMMUDriver] = [:]
    private var devicesByName: [String: PlatformDevice] = [:]

    public init(limits: MemoryLimits = MemoryLimits()) {
        physical = PhysicalMemory()
        self.limits = limits
        physical.capacity = limits.hostMemory
    }

    /// A machine on given memory, for a copy (`makeCopy`) that fills in the rest.
    private init(physical: PhysicalMemory, limits: MemoryLimits) {
        self.physical = physical
        self.limits = limits
    }

    /// Adds the units, groups and devices of `description` after those already here. The
    /// whole platform is validated first; on an error nothing is added.
    public func add(_ description: PlatformDescription) throws(PlatformDescriptionError) {
        try index.admit(description)
        for unit in description.units {
            let driver = unit.makeDriver()
            iommusByName[unit.name] = driver
            iommus.append(driver)
        }
        for device in description.devices {
            // admit() found every device's unit.
            guard let iommu = iommusByName[device.unit] else { continue }
            let platformDevice = PlatformDevice(name: device.name, iommu: iommu, streamID: device.requesterID.value,
                                                firmwareRegions: device.firmwareRegions, mockFlags: device.mockFlags,
                                                maxPASIDLog2: device.maxPASIDLog2, canWBS: device.canWBS, group: device.group,
                                                recoverableFaults: device.recoverableFaults)
            devicesByName[device.name] = platformDevice
            devices.append(platformDevice)
        }
        described.append(description)
    }

    /// Whether an iommu group with this id was added.
    public func hasGroup(_ id: UInt32) -> Bool { index.groups[id] != nil }
    /// The id of a new group of its own for a device (`PlatformIndex.nextGroupID`); nil when
    /// every group id is taken.
    public var nextGroupID: UInt32? { index.nextGroupID }

    /// The description of this machine, with each device's driver-added regions filled in.
    public var platform: PlatformDescription {
        var description = described
        for (position, device) in devices.enumerated() {
            description.devices[position].driverRegions = device.iommu.reservedRegions(for: device)
        }
        return description
    }

    public func iommu(named name: String) -> (any IOMMUDriver)? { iommusByName[name] }
    public func device(named name: String) -> PlatformDevice? { devicesByName[name] }

    /// `mmap` in the VMM process, backed by this machine's memory.
    public func mmap(length: UInt64, alignment: UInt64) throws(Refusal) -> UInt64 {
        try memory.mmap(length: length, alignment: alignment, physical: physical)
    }
}

extension Machine: ModelCopyable {
    public func makeCopy(in copier: ModelCopy) -> Machine {
        let copy = Machine(physical: copier.copy(physical), limits: limits)
        copy.memory = memory
        copy.described = described
        copy.index = index
        copier.later { [self] in
            copy.iommus = iommus.map { copier.copy($0) }
            copy.devices = devices.map(copier.copy)
            copy.iommusByName = iommusByName.mapValues { copier.copy($0) }
            copy.devicesByName = devicesByName.mapValues(copier.copy)
        }
        copier.whenComplete { [self] in copy.pinned = pinned.rekeyed(by: copier.identifier) }
        return copy
    }
}
