import Presentation

/// A fault record as one JSON object (IMPORT.md §1): exactly the contract's fields in its
/// order, hex strings with `0x` for addresses, raw words and AMD-Vi's event flags (the
/// contract's "flags (hex)"), integers for ids, absent facts omitted.
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
        if let flags { fields.append(("flags", hex(UInt64(flags)))) }
        if let stage { fields.append(("stage", String(stage))) }
        if !raw.isEmpty { fields.append(("raw", "[" + raw.map(hex).joined(separator: ",") + "]")) }
        return fields
    }

    /// The record as one line of JSON.
    public var jsonLine: String { JSONText.object(jsonFields) }
}
