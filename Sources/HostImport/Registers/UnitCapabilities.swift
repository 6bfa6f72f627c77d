import IOMMUCore

/// What a unit's ID registers say it can do: the platform options they select and the
/// decoded fields a person reads. Owned by the register-decode work.
public struct UnitCapabilities: Sendable, Equatable {
    public var configuration: UnitConfiguration
    /// Decoded fields in register order: name, bits, value and meaning ("SAGAW", "cap 12:8", 0x4, "4-level tables").
    public var fields: [CapabilityField]

    public init(configuration: UnitConfiguration, fields: [CapabilityField]) {
        self.configuration = configuration
        self.fields = fields
    }

    public static func decode(_ registers: UnitRegisters) -> UnitCapabilities {
        switch registers {
        case .armSMMUv3: UnitCapabilities(configuration: .armSMMUv3(ArmSMMUv3.Configuration()), fields: [])
        case .intelVTd: UnitCapabilities(configuration: .intelVTd(IntelVTd.Configuration()), fields: [])
        case .amdVi: UnitCapabilities(configuration: .amdVi(AMDVi.Configuration()), fields: [])
        }
    }
}

/// One decoded register field.
public struct CapabilityField: Sendable, Equatable {
    public var name: String
    public var bits: String
    public var value: UInt64
    public var meaning: String

    public init(name: String, bits: String, value: UInt64, meaning: String) {
        self.name = name
        self.bits = bits
        self.value = value
        self.meaning = meaning
    }
}

extension AMDFeaturesForm {
    /// Reads `amd-iommu/features` in any of its three forms. Owned by the register-decode work.
    public static func parse(_ text: String) -> (efr: UInt64, efr2: UInt64, form: AMDFeaturesForm)? { nil }
}
