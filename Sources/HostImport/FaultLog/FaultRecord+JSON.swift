/// A fault record as one JSON object (IMPORT.md §1): exactly the contract's fields in its
/// order, hex strings with `0x` for addresses and words, integers for ids, absent facts
/// omitted.
extension FaultRecord {
    /// The record's fields, in the contract's order, as JSON texts.
    public var jsonFields: [(name: String, json: String)] {
        func hex(_ value: UInt64) -> String { JSONText.string("0x" + String(value, radix: 16)) }
        var fields: [(String, String)] = [("source_line", String(sourceLine)), ("arch", JSONText.string(architecture.rawValue))]
        if let iommu { fields.append(("iommu", JSONText.string(iommu))) }
        if let device { fields.append(("device", JSONText.string(device.description))) }
        if let sid { fields.append(("sid", String(sid))) }
        if let pasid { fields.append(("pasid", String(pasid))) }
        if let address { fields.append(("address", hex(address))) }
        if let ipa { fields.append(("ipa", hex(ipa))) }
        if let access { fields.append(("access", JSONText.string(access.rawValue))) }
        fields.append(("reason", JSONText.string(reason)))
        if let reasonText { fields.append(("reason_text", JSONText.string(reasonText))) }
        if let flags { fields.append(("flags", hex(flags))) }
        if let stage { fields.append(("stage", String(stage))) }
        if !raw.isEmpty { fields.append(("raw", "[" + raw.map(hex).joined(separator: ",") + "]")) }
        return fields
    }

    /// The record as one line of JSON.
    public var jsonLine: String { JSONText.object(jsonFields) }
}

/// JSON text written in a fixed field order (JSONEncoder's order is not the contract's).
public enum JSONText {
    /// A JSON string: quotes, backslashes and every control character escaped.
    public static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f || (0x2028...0x2029).contains(scalar.value):
                let digits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `{"name":value,...}` from already-written values.
    public static func object(_ fields: [(name: String, json: String)]) -> String {
        "{" + fields.map { string($0.name) + ":" + $0.json }.joined(separator: ",") + "}"
    }
}
