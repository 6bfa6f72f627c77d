import IOMMUCore

/// The text of walk steps that every front end prints the same way.
public enum StepText {
    /// "S1" or "S2": the stage of a descriptor fetch.
    public static func stage(_ step: WalkStep) -> String { "S\(step.stage.number)" }

    /// `name=value` for a decoded descriptor field: values up to 9 in decimal, others in hex.
    public static func field(_ field: DescriptorField) -> String {
        "\(field.name)=" + FieldTable.value(field.value)
    }

    /// "STE @ 0x104000800: 0x000000010400100b 0x0 ...": a configuration structure read.
    public static func configurationFetch(_ fetch: ConfigurationFetch) -> String {
        "\(fetch.structure.rawValue) @ \(fetch.address.hex):" + fetch.words.map { " " + Units.word($0) }.joined()
    }
}
