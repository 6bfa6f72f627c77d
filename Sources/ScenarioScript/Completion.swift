import IOMMUCore

/// What may stand at the cursor of a line being typed (the inspector's `:` line): the
/// characters a candidate replaces, the word typed so far, and the candidates, sorted.
public struct Completion: Equatable, Sendable {
    /// The characters of the line (0-based offsets) a candidate replaces: the word up to the cursor.
    public var replacing: Range<Int>
    /// The whole words that may stand there, sorted; an argument name ends in `=`.
    public var candidates: [String]

    public init(replacing: Range<Int>, candidates: [String]) {
        self.replacing = replacing
        self.candidates = candidates
    }

    /// The longest prefix every candidate shares; empty when there are none.
    public var commonPrefix: String {
        guard var prefix = candidates.first.map(Array.init) else { return "" }
        for candidate in candidates.dropFirst() {
            let shared = zip(prefix, candidate).prefix { $0 == $1 }.count
            prefix.removeSubrange(shared...)
        }
        return String(prefix)
    }
}

/// The names a line being completed may use: those bound by earlier lines (with the command
/// that bound each) and the declared devices and IOMMUs.
struct CompletionNames {
    var bound: [String: String]
    var devices: [String]
    var iommus: [String]
}

/// The completion at `cursor` of `line`, from the grammar (`commandTable`) and `names`:
/// a command name first, then the command's argument names not yet given (with their `=`),
/// and after `KEY=` the argument's value names, or the bound names whose field fits the
/// argument. Costs the line, the grammar and the names, never the model.
func complete(_ line: [Character], cursor: Int, names: CompletionNames) -> Completion {
    let cursor = min(max(0, cursor), line.count)
    let (words, comment) = completionWords(line)
    // The word the cursor is in or at the end of; a new, empty one between words.
    let index = words.firstIndex { $0.lowerBound <= cursor && cursor <= $0.upperBound } ?? words.filter { $0.upperBound < cursor }.count
    let start = index < words.count && words[index].lowerBound <= cursor ? words[index].lowerBound : cursor
    let none = Completion(replacing: start..<cursor, candidates: [])
    if let comment, cursor > comment { return none }
    let text = { (range: Range<Int>) in String(line[range]) }
    let commandIndex = words.count >= 2 && text(words[1]) == "=" ? 2 : 0
    guard index >= commandIndex else { return none }
    let typed = line[start..<cursor]
    if index == commandIndex {
        return Completion(replacing: start..<cursor, candidates: matching(commandTable.keys, typed))
    }
    guard let spec = commandTable[text(words[commandIndex])] else { return none }
    guard let equals = typed.firstIndex(of: "=") else {
        // The NAME an `iommu` or `device` line declares is new: nothing to offer.
        if spec.declaresName && index == commandIndex + 1 { return none }
        let given = Set(words.indices.filter { $0 > commandIndex && $0 != index }.map { text(words[$0]).prefix { $0 != "=" } }.map(String.init))
        let keys = (spec.arguments.map(\.name) + ["expect"]).filter { !given.contains($0) }.map { $0 + "=" }
        return Completion(replacing: start..<cursor, candidates: matching(keys, typed))
    }
    let key = String(line[start..<equals])
    if key == "expect" {
        return Completion(replacing: equals + 1..<cursor, candidates: matching(["ok", "fault"] + Errno.allCases.map(\.name), line[equals + 1..<cursor]))
    }
    guard let argument = spec.argument(key) else { return none }
    return completeValue(line, from: equals + 1, to: cursor, kind: argument.kind, key: key, names: names)
}

/// The words of a line as `tokenize` splits it (blanks between, braces grouping), as ranges,
/// and where a comment starts.
private func completionWords(_ line: [Character]) -> (words: [Range<Int>], comment: Int?) {
    var words: [Range<Int>] = []
    var index = 0
    while index < line.count {
        if line[index] == "#" { return (words, index) }
        if line[index] == " " || line[index] == "\t" { index += 1; continue }
        let start = index
        var depth = 0
        while index < line.count {
            let c = line[index]
            if depth == 0 && (c == " " || c == "\t" || c == "#") { break }
            if c == "{" { depth += 1 }
            if c == "}" { depth = max(0, depth - 1) }
            index += 1
        }
        words.append(start..<index)
    }
    return (words, nil)
}

/// The candidates for the value of an argument (or an entry field) of `kind` typed in
/// `line[start..<cursor]`: the term the cursor is in (after the last `|`, `+`, `,` or `-`
/// the kind separates with) is the word replaced.
private func completeValue(_ line: [Character], from start: Int, to cursor: Int, kind: ArgumentKind, key: String,
                           names: CompletionNames) -> Completion {
    func term(after separators: Set<Character>) -> Int {
        (start..<cursor).last { separators.contains(line[$0]) }.map { $0 + 1 } ?? start
    }
    func offer(_ candidates: some Sequence<String>, from termStart: Int) -> Completion {
        Completion(replacing: termStart..<cursor, candidates: matching(candidates, line[termStart..<cursor]))
    }
    switch kind {
    case .choice(let values, _): return offer(values.keys, from: start)
    case .word(let words): return offer(words, from: start)
    case .device: return offer(names.devices, from: start)
    case .iommu: return offer(names.iommus, from: start)
    case .flags(let values, _):
        let termStart = term(after: ["|"])
        let written = Set(line[start..<termStart].split(separator: "|").map { String($0) })
        return offer(values.keys.filter { !written.contains($0) }, from: termStart)
    case .integer:
        let termStart = term(after: ["+"])
        return offer(references(fitting: key, typed: line[termStart..<cursor], bound: names.bound), from: termStart)
    case .words:
        let termStart = term(after: ["+", ","])
        return offer(references(fitting: nil, typed: line[termStart..<cursor], bound: names.bound), from: termStart)
    case .ranges, .value:
        let termStart = term(after: ["+", ",", "-"])
        return offer(references(fitting: nil, typed: line[termStart..<cursor], bound: names.bound), from: termStart)
    case .regions:
        let pieceStart = term(after: [","])
        guard let colon = (pieceStart..<cursor).first(where: { line[$0] == ":" }) else { return offer([], from: cursor) }
        return offer(ReservedRegionType.allCases.map(\.rawValue), from: colon + 1)
    case .entries(let fields):
        // Inside `{...}`: a field name, or after `field=` the field's value.
        guard let open = (start..<cursor).last(where: { line[$0] == "{" }),
              !line[open..<cursor].contains("}") else { return offer([], from: cursor) }
        let fieldStart = (open + 1..<cursor).last { line[$0] == " " }.map { $0 + 1 } ?? open + 1
        if let equals = (fieldStart..<cursor).first(where: { line[$0] == "=" }) {
            let field = String(line[fieldStart..<equals])
            guard let fieldKind = fields[field] else { return offer([], from: cursor) }
            return completeValue(line, from: equals + 1, to: cursor, kind: fieldKind, key: field, names: names)
        }
        let given = Set(line[open + 1..<fieldStart].split(separator: " ").map { String($0.prefix { $0 != "=" }) })
        return offer(fields.keys.filter { !given.contains($0) }.map { $0 + "=" }, from: fieldStart)
    }
}

/// The bound names a value may use where `argument` stands: `NAME` where the bound command's
/// main out field fits the argument and `NAME.FIELD` for its other fields that fit; once a `.`
/// is typed, `NAME.FIELD` for every field that fits. Where the fit is not known (no argument,
/// or one no out field fits) every name fits, and with a `.` every field.
private func references(fitting argument: String?, typed: ArraySlice<Character>, bound: [String: String]) -> [String] {
    let wanted = argument.flatMap(fittingFields)
    let dotted = typed.contains(".")
    var result: [String] = []
    for (name, command) in bound {
        guard let outputs = commandTable[command]?.outputs, !outputs.isEmpty else { continue }
        for (position, field) in outputs.enumerated() where wanted.map({ $0.contains(objectField(field)) }) ?? (position == 0 || dotted) {
            result.append(position == 0 && !dotted ? name : name + "." + field)
        }
    }
    return result
}

/// An out field by what it holds: `out_ioas_id` and `ioas_id` alike, a device's id as
/// `dev_id` (`out_devid`, `out_idev_id`), and `pt_id`, which the kernel writes back as the
/// HWPT attached (`VFIO_DEVICE_ATTACH_IOMMUFD_PT`, `IOMMU_TEST_OP_MOCK_DOMAIN`), as `hwpt_id`.
private func objectField(_ field: String) -> String {
    let name = field.hasPrefix("out_") ? String(field.dropFirst(4)) : field
    switch name {
    case "devid", "idev_id": return "dev_id"
    case "pt_id": return "hwpt_id"
    default: return name
    }
}

/// The out fields (as `objectField` names them) that fit an argument, nil when that is not
/// known: `pt_id` takes an IOAS, a HWPT or a vIOMMU (a nested HWPT's parent), `id` and
/// `object_id` any object, another argument (`dst_ioas_id` as `ioas_id`) the out fields of its
/// name (`dev_id` a device's, `user_va` `mmap`'s `out_user_va`); one no out field has (`iotlb_id`,
/// a cache tag) any.
private func fittingFields(_ argument: String) -> Set<String>? {
    var name = argument
    for prefix in ["dst_", "src_"] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
    let fields = Set(commandTable.values.flatMap { $0.outputs.map(objectField) })
    switch name {
    case "pt_id": return ["ioas_id", "hwpt_id", "viommu_id"]
    case "id", "object_id": return fields.filter { $0.hasSuffix("_id") }
    default: return fields.contains(name) ? [name] : nil
    }
}

/// The candidates that begin with `typed`, sorted, each once.
private func matching(_ candidates: some Sequence<String>, _ typed: ArraySlice<Character>) -> [String] {
    let prefix = String(typed)
    return Set(candidates.filter { $0.hasPrefix(prefix) }).sorted()
}

extension Timeline {
    /// The completion at `cursor` (a character offset) of a line typed after the current
    /// position: the grammar's names, the names the lines up to here bound and the devices and
    /// IOMMUs declared.
    public func completion(of text: String, cursor: Int) -> Completion {
        complete(Array(text), cursor: cursor, names: CompletionNames(
            bound: checker.bound, devices: session.machine.devices.map(\.name), iommus: session.machine.iommus.map(\.name)))
    }
}
