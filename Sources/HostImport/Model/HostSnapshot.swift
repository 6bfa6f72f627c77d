import IOMMUCore

/// What a Linux host says about its IOMMUs, read from sysfs, procfs and debugfs (or a capture
/// of them): the typed answer every host reader contributes to and every front end reads.
///
/// `iommuscope host --json` prints it as IMPORT.md §2's `iommuscope-host` object. Facts the
/// host did not show are nil or empty, never invented; `notes` say what could not be read.
public struct HostSnapshot: Sendable, Equatable {
    /// `/proc/sys/kernel/osrelease`, verbatim.
    public var kernel: String?
    /// `/proc/cmdline`, verbatim.
    public var cmdline: String?
    public var iommus: [HostIOMMU] = []
    public var groups: [HostGroup] = []
    public var devices: [HostDevice] = []
    /// What debugfs showed of VT-d units (`/sys/kernel/debug/iommu/intel/`).
    public var vtd = VTdDebugfs()
    /// What debugfs showed of AMD-Vi units (`/sys/kernel/debug/iommu/amd/`).
    public var amd = AMDDebugfs()
    /// Sentences on what could not be read and what that leaves unknown
    /// ("debugfs not mounted: no page tables").
    public var notes: [String] = []

    public init() {}

    public func group(_ id: UInt32) -> HostGroup? { groups.first { $0.id == id } }
    public func device(named name: String) -> HostDevice? { devices.first { $0.name == name } }
    public func iommu(named name: String) -> HostIOMMU? { iommus.first { $0.name == name } }
}

/// One `/sys/class/iommu/<unit>/`.
public struct HostIOMMU: Sendable, Equatable {
    /// `dmar0`, `ivhd0`, `smmu3.0x00000000fc900000`.
    public var name: String
    public var architecture: IOMMUArchitecture
    /// The ID registers sysfs showed (VT-d `cap`/`ecap`, AMD-Vi EFR/EFR2).
    public var registers: UnitRegisters?
    /// VT-d `intel-iommu/address`: the register base.
    public var registerBase: UInt64?
    /// VT-d `intel-iommu/version` as `major:minor`.
    public var version: String?
    /// AMD-Vi `amd-iommu/cap`: the PCI capability header.
    public var capabilityHeader: UInt32?
    /// How `amd-iommu/features` was read: which of its forms the text was taken to be.
    public var featuresForm: AMDFeaturesForm?
    /// `devices/`: the names of the devices translated by this unit.
    public var devices: [String] = []

    public init(name: String, architecture: IOMMUArchitecture) {
        self.name = name
        self.architecture = architecture
    }
}

/// The three forms of `amd-iommu/features` (host-inputs §2.4); the two colon forms look alike,
/// so the reader records the order it assumed.
public enum AMDFeaturesForm: String, Sendable, Equatable, Codable {
    /// `%llx`: EFR only (until about 2022).
    case efrOnly = "efr"
    /// `%llx:%llx` printing features2:features (briefly in 2022).
    case efr2ThenEFR = "efr2:efr"
    /// `%llx:%llx` printing efr:efr2 (from about 2023).
    case efrThenEFR2 = "efr:efr2"
}

/// One `/sys/kernel/iommu_groups/N/`.
public struct HostGroup: Sendable, Equatable {
    public var id: UInt32
    /// `type` as the file says it (`DMA`, `DMA-FQ`, `identity`, `blocked`, `unmanaged`,
    /// `unknown`): the **default** domain's type, not what is attached now. Nil when the
    /// file is missing (kernels before v5.11).
    public var type: String?
    /// `devices/`: the members' names.
    public var devices: [String] = []
    /// `reserved_regions`, in file order (regions of different types may overlap).
    public var reservedRegions: [HostReservedRegion] = []

    public init(id: UInt32) { self.id = id }

    /// The type as the core's enum, when it is one the core models.
    public var defaultDomain: DefaultDomainType? { type.flatMap(DefaultDomainType.init(rawValue:)) }
}

/// One line of `reserved_regions`: `0x%016llx 0x%016llx %s`, the end inclusive.
public struct HostReservedRegion: Sendable, Equatable {
    public var range: IOVARange
    /// The sysfs word: `direct`, `direct-relaxable`, `reserved`, `msi` (both MSI and SW_MSI).
    public var type: HostReservedRegionType

    public init(range: IOVARange, type: HostReservedRegionType) {
        self.range = range
        self.type = type
    }
}

/// `iommu_group_resv_type_string[]`: sysfs cannot tell a hardware MSI window from SW_MSI.
public enum HostReservedRegionType: String, Sendable, Equatable, Codable, CaseIterable {
    case direct
    case directRelaxable = "direct-relaxable"
    case reserved
    case msi
}

/// One device the host shows: a PCI function under `/sys/bus/pci/devices/` or a member of an
/// iommu group.
public struct HostDevice: Sendable, Equatable {
    /// The sysfs name (`0000:00:02.0`, or a platform device's name).
    public var name: String
    /// The name as a PCI address, when it is one.
    public var pci: PCIAddress? { PCIAddress(parsing: name) }
    /// The `iommu_group` link's target id.
    public var group: UInt32?
    /// The `iommu` link's unit name.
    public var iommu: String?
    /// The `driver` link's name.
    public var driver: String?
    public var vendor: UInt16?
    public var deviceID: UInt16?
    /// `class`: `0x%06x`.
    public var classCode: UInt32?

    public init(name: String) { self.name = name }
}
