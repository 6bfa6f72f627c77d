/// A host platform as data: its IOMMU units, iommu groups and DMA devices.
///
/// The scenario language's `iommu` and `device` lines produce entries of it, and a host
/// importer produces the same value from sysfs and firmware tables; `Machine.add(_:)` builds
/// drivers and devices from it. It holds no driver objects, so it can be compared, stored
/// and sent across concurrency domains.
public struct PlatformDescription: Sendable, Equatable, Codable {
    public var units: [IOMMUUnit]
    public var groups: [IOMMUGroup]
    public var devices: [DeviceDescription]

    public init(units: [IOMMUUnit] = [], groups: [IOMMUGroup] = [], devices: [DeviceDescription] = []) {
        self.units = units
        self.groups = groups
        self.devices = devices
    }

    /// `/sys/kernel/iommu_groups/N/devices`.
    public func devices(in group: UInt32) -> [DeviceDescription] { devices.filter { $0.group == group } }

    /// Checks every entry and the references between them: unit options within what the
    /// architecture allows, unique names and group ids, each device behind a declared unit and
    /// in a declared group, and all devices of a group behind one unit (a group is the
    /// smallest set of devices one IOMMU can isolate).
    public func validate() throws(PlatformDescriptionError) {
        var index = PlatformIndex()
        try index.admit(self)
    }

    /// Appends `other`'s entries after this description's own.
    mutating func append(_ other: PlatformDescription) {
        units += other.units
        groups += other.groups
        devices += other.devices
    }
}

/// What validation needs to know of the entries admitted so far, so that a machine growing by
/// one line at a time checks each addition in time proportional to the addition.
struct PlatformIndex {
    private(set) var units: [String: IOMMUArchitecture] = [:]
    /// Each group, with the unit its first device sits behind.
    private(set) var groups: [UInt32: String?] = [:]
    private var deviceNames: Set<String> = []
    /// The largest group id admitted, nil before the first.
    private var highestGroupID: UInt32?
    /// Every id below it is taken (groups are never removed, so it only rises); 2^32 when
    /// every id is.
    private var lowestFreeGroupID: UInt64 = 0

    /// The id a new group of its own gets: one above the largest so far, so ids follow the
    /// order of declaration; once 4294967295 is taken (one above it would wrap onto a taken
    /// id), the lowest free id, as the kernel's `ida_alloc` picks; nil when no id is left.
    var nextGroupID: UInt32? {
        guard let highestGroupID else { return 0 }
        if highestGroupID < .max { return highestGroupID + 1 }
        return UInt32(exactly: lowestFreeGroupID)
    }

    /// Checks `description` against itself and what was admitted before; on success it is
    /// admitted, on an error the index is unchanged. The checks collect the additions apart
    /// and merge them at the end, so nothing admitted before is copied.
    mutating func admit(_ description: PlatformDescription) throws(PlatformDescriptionError) {
        var addedUnits: [String: IOMMUArchitecture] = [:]
        var addedGroups: [UInt32: String?] = [:]
        var addedDevices: Set<String> = []
        for unit in description.units {
            guard units[unit.name] == nil, addedUnits.updateValue(unit.architecture, forKey: unit.name) == nil else {
                throw PlatformDescriptionError(.unit(unit.name), nil, "an IOMMU named '\(unit.name)' is already declared")
            }
            try unit.validate()
        }
        for group in description.groups {
            guard groups[group.id] == nil, addedGroups.updateValue(nil, forKey: group.id) == nil else {
                throw PlatformDescriptionError(.group(group.id), nil, "iommu group \(group.id) is already declared")
            }
        }
        for device in description.devices {
            guard !deviceNames.contains(device.name), addedDevices.insert(device.name).inserted else {
                throw PlatformDescriptionError(.device(device.name), nil, "a device named '\(device.name)' is already declared")
            }
            guard let architecture = addedUnits[device.unit] ?? units[device.unit] else {
                let declared = Array(units.keys) + addedUnits.keys
                throw PlatformDescriptionError(.device(device.name), "iommu", "no IOMMU named '\(device.unit)' was declared "
                                               + Choices.suggestion(for: device.unit, in: declared, noun: "declared"))
            }
            guard let shared = addedGroups[device.group] ?? groups[device.group] else {
                throw PlatformDescriptionError(.device(device.name), "group", "iommu group \(device.group) is not declared")
            }
            if let shared, shared != device.unit {
                throw PlatformDescriptionError(.device(device.name), "group",
                                               "iommu group \(device.group) is behind \(shared): a group's devices share one IOMMU")
            }
            addedGroups[device.group] = device.unit
            if !device.mockFlags.isEmpty && architecture != .mock {
                throw PlatformDescriptionError(.device(device.name), "dev_flags", "dev_flags= applies to type=mock IOMMUs")
            }
            guard device.mockFlags.isSubset(of: .valid) else {
                throw PlatformDescriptionError(.device(device.name), "dev_flags", "dev_flags= are no_dirty, huge_iova and pasid")
            }
            // Stall is an SMMU's; PRI a PCIe function's, which the selftest's mock devices are not.
            if device.recoverableFaults.contains(.stall) && architecture != .armSMMUv3 {
                throw PlatformDescriptionError(.device(device.name), "stall", "stall= applies to type=arm-smmu-v3 IOMMUs")
            }
            if device.recoverableFaults.contains(.pri) && architecture == .mock {
                throw PlatformDescriptionError(.device(device.name), "pri", "pri= applies to PCI functions, not type=mock devices")
            }
        }
        units.merge(addedUnits) { $1 }
        groups.merge(addedGroups) { $1 }
        deviceNames.formUnion(addedDevices)
        for group in description.groups { highestGroupID = max(highestGroupID ?? group.id, group.id) }
        while let id = UInt32(exactly: lowestFreeGroupID), groups[id] != nil { lowestFreeGroupID += 1 }
    }
}

/// Why a platform description cannot be built, naming the entry and, where one is at fault,
/// its option as the scenario language spells it (`oas`, `group`), so a scenario can point
/// at the argument.
public struct PlatformDescriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Entry: Sendable, Equatable {
        case unit(String)
        case device(String)
        case group(UInt32)
    }

    public var entry: Entry
    public var option: String?
    public var reason: String

    public init(_ entry: Entry, _ option: String?, _ reason: String) {
        self.entry = entry
        self.option = option
        self.reason = reason
    }

    public var description: String {
        switch entry {
        case .unit(let name), .device(let name): "\(name): \(reason)"
        case .group(let id): "group \(id): \(reason)"
        }
    }
}

/// One IOMMU instance (an SMMU, a DMAR unit, an IVHD).
public struct IOMMUUnit: Sendable, Equatable, Codable {
    public var name: String
    public var configuration: UnitConfiguration
    /// The unit's ID registers as a host reported them, when known. The drivers derive what
    /// `GET_HW_INFO` returns from `configuration`; these are kept for views and importers.
    public var registers: UnitRegisters?

    public init(name: String, configuration: UnitConfiguration, registers: UnitRegisters? = nil) {
        self.name = name
        self.configuration = configuration
        self.registers = registers
    }

    public var architecture: IOMMUArchitecture { configuration.architecture }

    /// The architecture's limits on its options (what the probe code accepts or the ID
    /// registers can encode), and registers of the unit's own architecture.
    func validate() throws(PlatformDescriptionError) {
        func invalid(_ option: String, _ reason: String) -> PlatformDescriptionError {
            PlatformDescriptionError(.unit(name), option, reason)
        }
        switch configuration {
        case .armSMMUv3(let c):
            guard ArmSMMUv3.Configuration.outputSizes.contains(c.oas) else {
                throw invalid("oas", "oas= is one of \(ArmSMMUv3.Configuration.outputSizes.map(String.init).joined(separator: ", "))")
            }
            guard (32...52).contains(c.ias) else { throw invalid("ias", "ias= is from 32 to 52 bits") }
            guard !c.granules.isEmpty, c.granules.allSatisfy({ [4096, 16384, 65536].contains($0) }) else {
                throw invalid("granules", "granules= lists 4K, 16K and 64K")
            }
            guard c.stage1 || c.stage2 else { throw invalid("stages", "stages= lists 1 and 2") }
        case .intelVTd(let c):
            guard c.addressWidth == 48 || c.addressWidth == 57 else { throw invalid("aw", "aw= is 48 or 57") }
            // PCIe PASIDs have 20 bits: PSS + 1 of them.
            guard (0...19).contains(c.pasidSizeSupported) else { throw invalid("pss", "pss= is from 0 to 19") }
        case .amdVi(let c):
            guard (4...6).contains(c.levels) else { throw invalid("levels", "levels= is 4, 5 or 6") }
        case .mock:
            break
        }
        if let registers, registers.architecture != architecture {
            throw invalid("registers", "registers of \(registers.architecture.rawValue) on a type=\(architecture.rawValue) unit")
        }
    }

    /// The driver instance, through the architecture's own initialiser.
    func makeDriver() -> any IOMMUDriver {
        switch configuration {
        case .armSMMUv3(let c): ArmSMMUv3(name: name, configuration: c)
        case .intelVTd(let c): IntelVTd(name: name, configuration: c)
        case .amdVi(let c): AMDVi(name: name, configuration: c)
        case .mock: MockIOMMU(name: name)
        }
    }
}

/// A unit's options, typed per architecture.
public enum UnitConfiguration: Sendable, Equatable, Codable {
    case armSMMUv3(ArmSMMUv3.Configuration)
    case intelVTd(IntelVTd.Configuration)
    case amdVi(AMDVi.Configuration)
    /// The selftest's mock IOMMU has no options.
    case mock

    public var architecture: IOMMUArchitecture {
        switch self {
        case .armSMMUv3: .armSMMUv3
        case .intelVTd: .intelVTd
        case .amdVi: .amdVi
        case .mock: .mock
        }
    }
}

/// ID registers as hardware reports them, per architecture.
public enum UnitRegisters: Sendable, Equatable, Codable {
    /// `SMMU_IDR0` ... `SMMU_IDR5`, `SMMU_IIDR`, `SMMU_AIDR`.
    case armSMMUv3(idr: [UInt32], iidr: UInt32, aidr: UInt32)
    /// `CAP_REG` and `ECAP_REG` (sysfs `intel-iommu/cap`, `ecap`).
    case intelVTd(cap: UInt64, ecap: UInt64)
    /// The IVHD's extended feature registers `EFR` and `EFR2` (sysfs `amd-iommu/features`).
    case amdVi(efr: UInt64, efr2: UInt64)

    public var architecture: IOMMUArchitecture {
        switch self {
        case .armSMMUv3: .armSMMUv3
        case .intelVTd: .intelVTd
        case .amdVi: .amdVi
        }
    }
}

/// `iommu_def_domain_type` as `/sys/kernel/iommu_groups/N/type` prints it.
public enum DefaultDomainType: String, Sendable, Equatable, Codable, CaseIterable {
    case identity
    case dma = "DMA"
    case dmaFQ = "DMA-FQ"
    case blocked
    case unmanaged
}

/// An iommu group: the devices the IOMMU cannot tell apart (behind one PCIe bridge without
/// ACS, or functions of one device), which VFIO assigns together.
public struct IOMMUGroup: Sendable, Equatable, Codable {
    public var id: UInt32
    public var defaultDomain: DefaultDomainType

    public init(id: UInt32, defaultDomain: DefaultDomainType = .dma) {
        self.id = id
        self.defaultDomain = defaultDomain
    }
}

/// How the IOMMU names a device's transactions.
public enum DeviceRequesterID: Sendable, Equatable, Codable {
    /// An Arm StreamID (from the IORT ID mapping).
    case streamID(UInt32)
    /// A PCI requester ID: bus << 8 | device << 3 | function (the BDF without its segment).
    case requesterID(UInt16)

    /// The number the driver indexes its tables with.
    public var value: UInt32 {
        switch self {
        case .streamID(let id): id
        case .requesterID(let rid): UInt32(rid)
        }
    }
}

/// One DMA-capable device as the platform describes it.
public struct DeviceDescription: Sendable, Equatable, Codable {
    public var name: String
    public var requesterID: DeviceRequesterID
    /// The unit's name.
    public var unit: String
    /// The id of the device's iommu group.
    public var group: UInt32
    /// `ilog2(max_pasids)`; 0 without a PASID capability.
    public var maxPASIDLog2: UInt8
    /// Arm IORT CANWBS: coherent and forcible to write-back.
    public var canWBS: Bool
    /// The selftest mock's `MOCK_FLAGS_DEVICE_*`.
    public var mockFlags: MockDeviceFlags
    /// PRI (a PCI function's capability) or stall (an Arm device's firmware property).
    public var recoverableFaults: RecoverableFaults
    /// Reserved regions as firmware reports them (RMRR, IVMD, IORT RMR): the driver adds its own.
    public var firmwareRegions: [ReservedRegion]
    /// The regions the driver adds on top (MSI windows, HyperTransport), as observed on a host
    /// or in a built machine (`Machine.platform`); nil when not known. A machine's driver
    /// always computes its own: this field is a record, not an input.
    public var driverRegions: [ReservedRegion]?

    public init(name: String, requesterID: DeviceRequesterID, unit: String, group: UInt32, maxPASIDLog2: UInt8 = 0,
                canWBS: Bool = true, mockFlags: MockDeviceFlags = [], recoverableFaults: RecoverableFaults = [],
                firmwareRegions: [ReservedRegion] = [], driverRegions: [ReservedRegion]? = nil) {
        self.name = name
        self.requesterID = requesterID
        self.unit = unit
        self.group = group
        self.maxPASIDLog2 = maxPASIDLog2
        self.canWBS = canWBS
        self.mockFlags = mockFlags
        self.recoverableFaults = recoverableFaults
        self.firmwareRegions = firmwareRegions
        self.driverRegions = driverRegions
    }
}

extension Machine {
    /// A machine built from `platform`, with `limits`.
    public convenience init(platform: PlatformDescription, limits: MemoryLimits = MemoryLimits()) throws(PlatformDescriptionError) {
        self.init(limits: limits)
        try add(platform)
    }
}
