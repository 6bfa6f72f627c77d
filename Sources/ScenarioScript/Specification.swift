import IOMMUCore

/// What an argument's value may be.
indirect enum ArgumentKind: Sendable {
    /// An unsigned integer expression that fits in `bits`.
    case integer(bits: Int)
    /// Names or integers joined by `|`.
    case flags([String: UInt64], bits: Int)
    /// One name or integer.
    case choice([String: UInt64], bits: Int)
    /// `start-last,start-last` (`struct iommu_iova_range` list).
    case ranges
    /// `V,V,...` 64-bit words.
    case words
    /// `{field=V ...},{...}`: an array of structs with these fields.
    case entries([String: ArgumentKind])
    /// A platform device declared with `device NAME`.
    case device
    /// An IOMMU declared with `iommu NAME`.
    case iommu
    /// One of a fixed set of words (`yes`/`no`, IOMMU types).
    case word([String])
    /// `START+LENGTH:TYPE,...` reserved regions.
    case regions
    /// Any value `check` compares: words, or ranges when written `START-LAST`.
    case value
}

struct ArgumentSpec: Sendable {
    var name: String
    var kind: ArgumentKind
    var required = false
}

/// A command of the language: its arguments, its out fields (the main one first) and its action.
struct CommandSpec: Sendable {
    var name: String
    var arguments: [ArgumentSpec]
    var outputs: [String]
    /// Platform declarations take a positional NAME (`iommu smmu0 ...`).
    var declaresName = false
    /// Checks between arguments that their kinds alone cannot express (a struct field the
    /// chosen `data_type` does not have).
    var validate: (@Sendable (ScenarioLine) throws(ScenarioError) -> Void)? = nil
    var run: @Sendable (Session, Arguments) throws(ScenarioError) -> CommandResult

    func argument(_ name: String) -> ArgumentSpec? { arguments.first { $0.name == name } }
}

/// The commands, by name.
let commandTable: [String: CommandSpec] = Dictionary(uniqueKeysWithValues: allCommands.map { ($0.name, $0) })

let yesNo = ArgumentKind.word(["yes", "no"])

/// The error for a line whose command is not one: the closest commands, else as many as fit.
func unknownCommand(_ line: ScenarioLine) -> ScenarioError {
    ScenarioError(line: line.number, column: line.commandColumn,
                  "unknown command '\(line.command)' \(Choices.suggestion(for: line.command, in: commandTable.keys, noun: "commands"))")
}

/// Checks a parsed line against its command: known arguments, well-formed values, required
/// arguments present, and names that earlier lines bound (`bound` maps name to command).
func check(_ line: inout ScenarioLine, bound: [String: String], declared: Set<String>) throws(ScenarioError) {
    guard let spec = commandTable[line.command] else { throw unknownCommand(line) }
    if spec.declaresName {
        guard let name = line.declaredName else {
            throw ScenarioError(line: line.number, column: line.commandColumn, "'\(line.command)' needs a NAME, as in '\(line.command) NAME ...'")
        }
        if declared.contains(name) {
            throw ScenarioError(line: line.number, column: line.commandColumn, "'\(name)' is already declared")
        }
    } else if let name = line.declaredName {
        throw ScenarioError(line: line.number, column: line.declaredNameColumn, "expected KEY=VALUE, found '\(name)'")
    }
    for argument in line.arguments {
        guard let argumentSpec = spec.argument(argument.key) else {
            throw ScenarioError(line: line.number, column: argument.keyColumn, "'\(line.command)' has no argument '\(argument.key)' "
                                + Choices.suggestion(for: argument.key, in: spec.arguments.map(\.name), noun: "it takes"))
        }
        line.checked[argument.key] = try checkValue(Substring(argument.value), kind: argumentSpec.kind,
                                                    column: argument.valueColumn, line: line.number)
    }
    for argumentSpec in spec.arguments where argumentSpec.required && line.checked[argumentSpec.name] == nil {
        throw ScenarioError(line: line.number, column: line.commandColumn, "'\(line.command)' needs \(argumentSpec.name)=")
    }
    for value in line.checked.values { try checkNames(in: value, bound: bound, line: line.number) }
    try spec.validate?(line)
}

private func checkValue(_ text: Substring, kind: ArgumentKind, column: Int, line: Int) throws(ScenarioError) -> CheckedValue {
    switch kind {
    case .integer(let bits):
        return .integer(try parseExpression(text, column: column, line: line, bits: bits))
    case .flags(let names, let bits):
        return try parseFlags(text, names: names, column: column, line: line, bits: bits)
    case .choice(let names, let bits):
        return try parseFlags(text, names: names, column: column, line: line, bits: bits, single: true)
    case .ranges:
        var ranges: [(start: Expression, last: Expression)] = []
        if text.isEmpty { return .ranges([]) }
        for (piece, pieceColumn) in pieces(text, separator: ",", column: column) {
            let ends = pieces(piece, separator: "-", column: pieceColumn)
            guard ends.count == 2 else {
                throw ScenarioError(line: line, column: pieceColumn, "a range is START-LAST (inclusive), not '\(piece)'")
            }
            ranges.append((try parseExpression(ends[0].text, column: ends[0].column, line: line),
                           try parseExpression(ends[1].text, column: ends[1].column, line: line)))
        }
        return .ranges(ranges)
    case .words:
        if text.isEmpty { return .words([]) }
        var words: [Expression] = []
        for (piece, pieceColumn) in pieces(text, separator: ",", column: column) {
            words.append(try parseExpression(piece, column: pieceColumn, line: line))
        }
        return .words(words)
    case .entries(let fields):
        if text.isEmpty { return .entries([]) }
        var entries: [[EntryField]] = []
        var rest = text, restColumn = column
        while !rest.isEmpty {
            guard rest.first == "{", let close = rest.firstIndex(of: "}") else {
                throw ScenarioError(line: line, column: restColumn, "an entry is written {field=value ...}")
            }
            let body = rest[rest.index(after: rest.startIndex)..<close]
            var entry: [EntryField] = []
            let tokens: [Token]
            do throws(ScenarioError) {
                tokens = try tokenize(body, line: line)
            } catch {
                throw ScenarioError(line: line, column: restColumn + error.column, error.reason)
            }
            for token in tokens {
                let tokenColumn = restColumn + 1 + token.column - 1
                guard let equals = token.text.firstIndex(of: "="), let fieldKind = fields[String(token.text[..<equals])] else {
                    let typed = String(token.text.prefix { $0 != "=" })
                    throw ScenarioError(line: line, column: tokenColumn,
                                        "unknown entry field in '\(token.text)' \(Choices.suggestion(for: typed, in: fields.keys))")
                }
                let key = String(token.text[..<equals])
                if entry.contains(where: { $0.key == key }) {
                    throw ScenarioError(line: line, column: tokenColumn, "entry field '\(key)' given twice")
                }
                entry.append(EntryField(key: key, column: tokenColumn,
                                        value: try checkValue(token.text[token.text.index(after: equals)...], kind: fieldKind,
                                                              column: tokenColumn + key.count + 1, line: line)))
            }
            entries.append(entry)
            let consumed = rest.distance(from: rest.startIndex, to: close) + 1
            restColumn += consumed
            rest = rest[rest.index(after: close)...]
            if rest.first == "," {
                rest = rest.dropFirst()
                restColumn += 1
                if rest.isEmpty { throw ScenarioError(line: line, column: restColumn, "missing entry after ','") }
            } else if !rest.isEmpty {
                throw ScenarioError(line: line, column: restColumn, "expected ',' between entries")
            }
        }
        return .entries(entries)
    case .device, .iommu:
        // A host's devices and units keep their sysfs names (`dev=0000:03:00.0`).
        guard isIdentifier(text) || isSysfsName(text) else { throw ScenarioError(line: line, column: column, "'\(text)' is not a name") }
        return .name(String(text))
    case .word(let words):
        guard words.contains(String(text)) else {
            throw ScenarioError(line: line, column: column, "expected one of \(Choices.listed(words)), not '\(text)'")
        }
        return .name(String(text))
    case .value:
        return try checkValue(text, kind: text.contains("-") ? .ranges : .words, column: column, line: line)
    case .regions:
        var regions: [ReservedRegion] = []
        if text.isEmpty { return .regions([]) }
        for (piece, pieceColumn) in pieces(text, separator: ",", column: column) {
            let parts = pieces(piece, separator: ":", column: pieceColumn)
            guard parts.count == 2, let type = ReservedRegionType(rawValue: String(parts[1].text)) else {
                let types = ReservedRegionType.allCases.map(\.rawValue).joined(separator: ", ")
                throw ScenarioError(line: line, column: pieceColumn, "a region is START+LENGTH:TYPE with TYPE one of \(types)")
            }
            let bounds = pieces(parts[0].text, separator: "+", column: parts[0].column)
            guard bounds.count == 2 else { throw ScenarioError(line: line, column: pieceColumn, "a region is START+LENGTH:TYPE") }
            let start = try parseExpression(bounds[0].text, column: bounds[0].column, line: line)
            let length = try parseExpression(bounds[1].text, column: bounds[1].column, line: line)
            guard let startValue = start.constant, let lengthValue = length.constant else {
                throw ScenarioError(line: line, column: pieceColumn, "region bounds must be numbers")
            }
            guard let range = IOVARange(start: startValue, length: lengthValue) else {
                throw ScenarioError(line: line, column: pieceColumn, "region is empty or passes u64max")
            }
            regions.append(ReservedRegion(range: range, type: type))
        }
        return .regions(regions)
    }
}

private func checkNames(in value: CheckedValue, bound: [String: String], line: Int) throws(ScenarioError) {
    func checkExpression(_ expression: Expression) throws(ScenarioError) {
        for case let .name(name, field, column) in expression.terms {
            guard let command = bound[name] else {
                throw ScenarioError(line: line, column: column,
                                    "'\(name)' is not bound by an earlier line \(Choices.suggestion(for: name, in: bound.keys, noun: "bound"))")
            }
            if let field, let spec = commandTable[command], !spec.outputs.contains(field) {
                throw ScenarioError(line: line, column: column,
                                    "'\(command)' has no out field '\(field)' \(Choices.suggestion(for: field, in: spec.outputs, noun: "it has"))")
            }
        }
    }
    switch value {
    case .integer(let expression): try checkExpression(expression)
    case .words(let words): for word in words { try checkExpression(word) }
    case .ranges(let ranges): for range in ranges { try checkExpression(range.start); try checkExpression(range.last) }
    case .entries(let entries): for entry in entries { for field in entry { try checkNames(in: field.value, bound: bound, line: line) } }
    case .flags, .name, .regions: break
    }
}
