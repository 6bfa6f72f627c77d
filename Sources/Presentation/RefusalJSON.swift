import IOMMUCore

extension Refusal {
    /// The `reason` object of a refused line's JSON: the rule, its sentence, and what it involved —
    /// `{"rule":"iopt_reserve_iova.overlap","text":"…","objects":[{"id":3,"type":"DEVICE","role":"owner"}],
    /// "ranges":[{"start":"0x…","last":"0x…","role":"reserved","note":"sw_msi"}],"values":[{"name":"flags","value":"0x8","role":"flag"}]}`.
    /// Ids are integers and addresses hex strings, as everywhere in the results.
    public var json: String {
        JSONText.object([
            ("rule", JSONText.string(rule.name)),
            ("text", JSONText.string(rule.text)),
            ("objects", "[" + objects.map { object in
                JSONText.object([("id", String(object.id.rawValue))]
                                + (object.type.map { [("type", JSONText.string($0.description))] } ?? [])
                                + [("role", JSONText.string(object.role.rawValue))])
            }.joined(separator: ",") + "]"),
            ("ranges", "[" + ranges.map { range in
                JSONText.object([("start", JSONText.string(range.range.start.hex)), ("last", JSONText.string(range.range.last.hex)),
                                 ("role", JSONText.string(range.role.rawValue))]
                                + (range.note.map { [("note", JSONText.string($0))] } ?? []))
            }.joined(separator: ",") + "]"),
            ("values", "[" + values.map { value in
                JSONText.object([("name", JSONText.string(value.name))]
                                + (value.value.map { [("value", JSONText.string($0.hex))] } ?? [])
                                + [("role", JSONText.string(value.role.rawValue))])
            }.joined(separator: ",") + "]"),
        ])
    }
}
