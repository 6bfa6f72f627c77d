import IOMMUCore

/// The text of walk steps that every front end prints the same way.
public enum StepText {
    /// "S1" or "S2": the stage of a descriptor fetch.
    public static func stage(_ step: WalkStep) -> String { "S\(step.stage.number)" }

    /// `name=value` for a decoded descriptor field: values up to 9 in decimal, others in hex.
    public static func field(_ field: DescriptorField) -> String {
        "\(field.name)=\(field.value > 9 ? field.value.hex : String(field.value))"
    }
}
