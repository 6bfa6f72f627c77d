import IOMMUCore

/// Descriptor fields and input addresses explained bit by bit, as the CLI's `--explain` and
/// the inspector's bits views print them.
public enum FieldTable {
    /// "47:12", or "10" for one bit.
    public static func bits(_ bits: ClosedRange<Int>) -> String {
        bits.count == 1 ? "\(bits.lowerBound)" : "\(bits.upperBound):\(bits.lowerBound)"
    }

    /// A field's value: up to 9 in decimal, others in hex.
    public static func value(_ value: UInt64) -> String { value > 9 ? value.hex : String(value) }

    /// The spec section every one of `fields` cites, when they share one (a heading prints it
    /// once and `table` leaves its column out).
    public static func sharedReference(_ fields: [DescriptorField]) -> SpecReference? {
        guard let first = fields.first?.reference, fields.allSatisfy({ $0.reference == first }) else { return nil }
        return first
    }

    /// One row per field, high bits first: bits, name, value, meaning, and the spec reference
    /// unless all the fields share one (`sharedReference`).
    public static func table(_ fields: [DescriptorField]) -> TextTable {
        let shared = sharedReference(fields) != nil
        var columns: [TextTable.Column] = [.init("bits", .right), .init("field"), .init("value", .right), .init("meaning")]
        if !shared { columns.append(.init("reference")) }
        var table = TextTable(columns: columns)
        for field in fields.sorted(by: { $0.bits.upperBound > $1.bits.upperBound }) {
            table.append([bits(field.bits), field.name, value(field.value), field.meaning ?? "", field.reference?.description ?? ""])
        }
        return table
    }

    /// "fields (Arm ARM D8.3):", the heading of `table`'s lines.
    public static func heading(_ fields: [DescriptorField]) -> String {
        "fields" + (sharedReference(fields).map { " (\($0))" } ?? "") + ":"
    }

    /// `address` as the format indexes it, root first:
    /// `[47:39] L0=0x0 | [38:30] L1=0x1 | [29:21] L2=0x0 | [20:12] L3=0x3 | [11:0] offset=0x0`.
    public static func indexStrip(_ format: any PageTableFormat, address: UInt64) -> String {
        format.indexFields(of: address).map { field in
            let name: String
            switch field.role {
            case .index(let level): name = "L\(level)"
            case .offset: name = "offset"
            }
            return "[\(bits(field.bits))] \(name)=\(field.value.hex)"
        }.joined(separator: " | ")
    }
}
