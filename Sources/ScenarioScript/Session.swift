import IOMMUCore

/// The live state a scenario drives: the machine, one open iommufd, and the names lines bound.
public final class Session {
    public let machine: Machine
    public let iommufd: IOMMUFD
    /// Results bound with `NAME =`, with the command that produced them.
    var bindings: [String: (command: String, result: CommandResult)] = [:]
    private var implicitMock: MockIOMMU?
    /// Guest stage-1 tables built with `guest_pgtable`, by their root GPA.
    var guestTables: [UInt64: DescriptorPageTable] = [:]

    public init() {
        machine = Machine()
        iommufd = IOMMUFD(machine: machine)
    }

    /// A session on a given platform: the scenario's own `iommu` and `device` lines add to it.
    public init(platform: PlatformDescription, limits: MemoryLimits = MemoryLimits()) throws(PlatformDescriptionError) {
        machine = try Machine(platform: platform, limits: limits)
        iommufd = IOMMUFD(machine: machine)
    }

    private init(machine: Machine, iommufd: IOMMUFD) {
        self.machine = machine
        self.iommufd = iommufd
    }

    /// An independent copy of the session: copies of the machine (drivers with their tables,
    /// queues and caches, devices, memory, limits, pinned pages), of the iommufd with every
    /// object, of the guest tables and of the bindings, which the two then change apart. Host
    /// memory is shared frame by frame until either side writes a frame, so a fork costs the
    /// objects and one reference per touched frame, not the frames' contents.
    public func fork() -> Session {
        ModelCopy.copying { copier in
            let copy = Session(machine: copier.copy(machine), iommufd: copier.copy(iommufd))
            copy.bindings = bindings
            copy.implicitMock = implicitMock.map(copier.copy)
            copy.guestTables = guestTables.mapValues(copier.copy)
            return copy
        }
    }

    /// The mock IOMMU that `test_mock_domain` creates devices behind: the first declared one,
    /// or one made on first use, as the selftest's mock driver is always present.
    func mockIOMMU() -> MockIOMMU {
        if let declared = machine.iommus.compactMap({ $0 as? MockIOMMU }).first { return declared }
        if let implicitMock { return implicitMock }
        let mock = MockIOMMU(name: "mock")
        implicitMock = mock
        return mock
    }
}

/// A line's arguments, evaluated against the session as the command asks for them.
struct Arguments {
    let line: ScenarioLine
    let session: Session

    func has(_ name: String) -> Bool { line.checked[name] != nil }

    private var column: Int { line.commandColumn }

    private func failure(_ column: Int, _ reason: String) -> ScenarioError {
        ScenarioError(line: line.number, column: column, reason)
    }

    func argumentColumn(_ name: String) -> Int {
        line.arguments.first { $0.key == name }?.valueColumn ?? line.commandColumn
    }

    func evaluate(_ expression: Expression, bits: Int = 64) throws(ScenarioError) -> UInt64 {
        var sum: UInt64 = 0
        for term in expression.terms {
            let value: UInt64
            switch term {
            case .literal(let literal):
                value = literal
            case .name(let name, let field, let termColumn):
                guard let (command, result) = session.bindings[name] else {
                    throw failure(termColumn, "'\(name)' is not bound \(Choices.suggestion(for: name, in: session.bindings.keys, noun: "bound"))")
                }
                let fieldName = field ?? commandTable[command]?.outputs.first ?? ""
                guard let found = result.field(fieldName)?.scalar else {
                    throw failure(termColumn, "'\(name)' has no value for \(fieldName) (its line ended \(result.status))")
                }
                value = found
            }
            guard let next = sum.checkedAdd(value) else { throw failure(expression.column, "the sum does not fit in 64 bits") }
            sum = next
        }
        if bits < 64 && sum >> UInt64(bits) != 0 { throw failure(expression.column, "\(sum.hex) does not fit in \(bits) bits") }
        return sum
    }

    /// An integer argument, or `fallback` when it is absent. A value computed from bound
    /// names is held to the width the argument declares, as a literal is at parse time.
    func integer(_ name: String, _ fallback: UInt64 = 0, bits: Int = 64) throws(ScenarioError) -> UInt64 {
        var width = bits
        if case .integer(let declared)? = commandTable[line.command]?.argument(name)?.kind { width = min(width, declared) }
        switch line.checked[name] {
        case .integer(let expression)?: return try evaluate(expression, bits: width)
        case .flags(let value, _, _)?: return value
        default: return fallback
        }
    }

    func u32(_ name: String, _ fallback: UInt32 = 0) throws(ScenarioError) -> UInt32 {
        UInt32(try integer(name, UInt64(fallback), bits: 32))
    }

    /// A flags argument split by the table its names come from: the value of the names in
    /// `table`, and the rest (other names and plain numbers).
    func flags(_ name: String, splitBy table: [String: UInt64]) -> (named: UInt64, rest: UInt64) {
        guard case .flags(_, let names, let literal)? = line.checked[name] else { return (0, 0) }
        var named: UInt64 = 0
        for name in names { if let value = table[name] { named |= value } }
        return (named, literal)
    }

    func word(_ name: String) -> String? {
        if case .name(let word)? = line.checked[name] { return word }
        return nil
    }

    func yes(_ name: String, _ fallback: Bool) -> Bool {
        word(name).map { $0 == "yes" } ?? fallback
    }

    func ranges(_ name: String) throws(ScenarioError) -> [(start: UInt64, last: UInt64)]? {
        guard case .ranges(let ranges)? = line.checked[name] else { return nil }
        var result: [(start: UInt64, last: UInt64)] = []
        for range in ranges { result.append((try evaluate(range.start), try evaluate(range.last))) }
        return result
    }

    func words(_ name: String) throws(ScenarioError) -> [UInt64]? {
        switch line.checked[name] {
        case .words(let words)?:
            var result: [UInt64] = []
            for word in words { result.append(try evaluate(word)) }
            return result
        case .integer(let expression)?:
            return [try evaluate(expression)]
        default:
            return nil
        }
    }

    /// A value to compare: a lone bound field keeps its own type (a range list stays one).
    func value(_ name: String) throws(ScenarioError) -> FieldValue {
        switch line.checked[name] {
        case .words(let words)? where words.count == 1:
            if words[0].terms.count == 1, case .name(let bound, let field, _) = words[0].terms[0],
               let (command, result) = session.bindings[bound],
               let found = result.field(field ?? commandTable[command]?.outputs.first ?? "") {
                switch found {
                case .ranges, .words: return found
                default: break
                }
            }
            return .words([try evaluate(words[0])])
        case .ranges?:
            return .ranges((try ranges(name) ?? []).map { IOVARange(start: min($0.start, $0.last), last: max($0.start, $0.last)) })
        default:
            return .words(try words(name) ?? [])
        }
    }

    func regions(_ name: String) -> [ReservedRegion] {
        if case .regions(let regions)? = line.checked[name] { return regions }
        return []
    }

    /// The entries of an entry array as written; nil when the argument is absent (a NULL `data_uptr`).
    func entries(_ name: String) -> [[EntryField]]? {
        guard case .entries(let entries)? = line.checked[name] else { return nil }
        return entries
    }

    /// The elements a value writes into a struct field, each held to the field's width.
    func elements(_ value: CheckedValue, of field: UAPIField, column: Int) throws(ScenarioError) -> [UInt64] {
        let elements: [UInt64]
        switch value {
        case .integer(let expression): elements = [try evaluate(expression, bits: field.size * 8)]
        case .flags(let flags, _, _): elements = [flags]
        case .words(let words):
            var values: [UInt64] = []
            for word in words { values.append(try evaluate(word, bits: field.size * 8)) }
            elements = values
        default: elements = []
        }
        guard elements.count <= field.count else {
            throw failure(column, "\(field.name)= holds \(field.count) value\(field.count == 1 ? "" : "s"), not \(elements.count)")
        }
        return elements
    }

    /// The bytes of `payload` with the fields `values` writes, the rest zero. A field the
    /// struct does not have is an error at the field (the target decided the struct).
    func encode(_ values: [EntryField], as payload: any UAPIPayload.Type, type: String) throws(ScenarioError) -> [UInt8] {
        var written: [(field: UAPIField, elements: [UInt64])] = []
        for value in values {
            guard let field = payload.field(named: value.key) else {
                throw missingField(value.key, line: line.number, column: value.column, type: type, payloads: [payload])
            }
            try checkFlagNames(value.value, of: [field], line: line.number, column: value.column, type: type)
            written.append((field, try elements(value.value, of: field, column: value.column)))
        }
        return payload.init(written).raw.bytes
    }

    func platformDevice(_ name: String) throws(ScenarioError) -> PlatformDevice {
        guard let deviceName = word(name), let device = session.machine.device(named: deviceName) else {
            let declared = session.machine.devices.map(\.name)
            throw failure(argumentColumn(name), "no device named '\(word(name) ?? "")' was declared \(Choices.suggestion(for: word(name) ?? "", in: declared, noun: "declared"))")
        }
        return device
    }

    /// A scenario-level error at an argument (a platform option that does not make sense).
    func invalid(_ name: String, _ reason: String) -> ScenarioError {
        failure(argumentColumn(name), reason)
    }
}
