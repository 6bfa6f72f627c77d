import IOMMUCore

/// What a unit's ID registers say it can do: the platform options they select and the
/// decoded fields a person reads.
///
/// The options are what the Linux driver would pick from these registers (the probe code
/// cited by each decoder), not merely what the hardware offers; where the core's options
/// cannot say what the registers say, `approximations` says what was kept instead.
public struct UnitCapabilities: Sendable, Equatable {
    public var configuration: UnitConfiguration
    /// Decoded fields in register order: name, bits, value and meaning ("SAGAW", "cap 12:8", 0x4, "4-level tables").
    public var fields: [CapabilityField]
    /// Sentences on facts the configuration could not express and the nearest one kept
    /// ("aw: SAGAW offers only 3-level tables (39-bit); kept aw=48").
    public var approximations: [String]

    public init(configuration: UnitConfiguration, fields: [CapabilityField], approximations: [String] = []) {
        self.configuration = configuration
        self.fields = fields
        self.approximations = approximations
    }

    /// Decodes `registers`; `commandLine` (`/proc/cmdline`) supplies the boot options the
    /// drivers weigh with them (`intel_iommu=sm_off`, `amd_iommu=pgtbl_v2`).
    public static func decode(_ registers: UnitRegisters, commandLine: String? = nil) -> UnitCapabilities {
        let options = BootOptions(commandLine: commandLine)
        switch registers {
        case .armSMMUv3(let idr, let iidr, let aidr): return SMMUv3IDRegisters(idr: idr, iidr: iidr, aidr: aidr).capabilities
        case .intelVTd(let cap, let ecap): return VTdCapabilityRegisters(cap: cap, ecap: ecap).capabilities(options)
        case .amdVi(let efr, let efr2): return AMDExtendedFeatures(efr: efr, efr2: efr2).capabilities(options)
        }
    }

    /// The field named `name`, if decoded.
    public func field(_ name: String) -> CapabilityField? { fields.first { $0.name == name } }
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

/// One field of an ID register as a specification names it, and how its value reads.
struct RegisterFieldSpec: Sendable {
    var name: String
    var bits: ClosedRange<Int>
    /// What the field is about ("queued invalidation"); a one-bit field reads "<about>: yes/no".
    var about: String
    /// The meaning of a multi-bit value; nil prints `<about>: 0x<value>`.
    var reading: (@Sendable (UInt64) -> String)?

    init(_ name: String, _ bits: ClosedRange<Int>, _ about: String, _ reading: (@Sendable (UInt64) -> String)? = nil) {
        self.name = name
        self.bits = bits
        self.about = about
        self.reading = reading
    }

    init(_ name: String, _ bit: Int, _ about: String) { self.init(name, bit...bit, about) }

    /// The field of `word` (the register `register`, e.g. `cap`), with `bits` printed as
    /// `cap 12:8` or `cap 7`.
    func decode(_ word: UInt64, register: String) -> CapabilityField {
        let value = DescriptorField(name, bits, of: word).value
        let span = bits.count == 1 ? "\(bits.lowerBound)" : "\(bits.upperBound):\(bits.lowerBound)"
        let meaning: String
        if let reading { meaning = reading(value) } else if bits.count == 1 { meaning = "\(about): \(value == 1 ? "yes" : "no")" } else {
            meaning = "\(about): 0x\(String(value, radix: 16))"
        }
        return CapabilityField(name: name, bits: "\(register) \(span)", value: value, meaning: meaning)
    }
}

extension Array where Element == RegisterFieldSpec {
    func decode(_ word: UInt64, register: String) -> [CapabilityField] { map { $0.decode(word, register: register) } }
}

/// The boot options of `/proc/cmdline` that change what a driver makes of its registers.
struct BootOptions {
    /// `intel_iommu=sm_off` (`intel_iommu_setup`): scalable mode off even where ECAP.SMTS offers it.
    var scalableModeOff = false
    /// `amd_iommu=pgtbl_v2` (`parse_amd_iommu_options`): DMA domains use v2 tables.
    var amdPageTableV2 = false

    /// Reads the comma-separated option lists of every `intel_iommu=` and `amd_iommu=` word;
    /// a later word wins, as the kernel parses them in order.
    init(commandLine: String?) {
        for word in (commandLine ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            for option in parts[1].split(separator: ",") {
                switch (parts[0], option) {
                case ("intel_iommu", "sm_off"): scalableModeOff = true
                case ("intel_iommu", "sm_on"): scalableModeOff = false
                case ("amd_iommu", "pgtbl_v2"): amdPageTableV2 = true
                case ("amd_iommu", "pgtbl_v1"): amdPageTableV2 = false
                default: break
                }
            }
        }
    }
}

/// How the register decoders print values in meaning texts.
enum RegisterText {
    /// `yes`/`no` for a flag.
    static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
    /// `0x`-prefixed lowercase hex, as offsets and addresses read.
    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
