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
