import IOMMUCore
import Presentation
import ScenarioScript

/// Writes the iommufd calls of a syzkaller program as a scenario (docs/scenario-language.md),
/// in program order, each line ending `# syz N`. Resources (`<rN=>`) become bindings, literal
/// arguments become command arguments, `IOMMU_TEST_CMD` ops the `test_*` commands; a call
/// whose arguments are not literal, or that the model has no command for, is kept as a
/// comment saying why. A program says nothing of what the kernel returned, so there are no
/// `expect=` lines: running the scenario shows what the model answers at each call.
public struct SyzProgramScenario {
    /// The scenario's lines so far.
    private var lines: [Line] = []
    /// The source being written.
    private var current: Int?
    /// The errno the call being written is commented to end with.
    private var expectation: String?
    /// What each resource rN holds now.
    private var resources: [Int: Resource] = [:]
    /// Offsets of the data area taken by buffers at a literal address, and by `&AUTO` buffers
    /// placed so far: `[start, end)`.
    private var taken: [(start: UInt64, end: UInt64)] = []

    /// A scenario line, the index of the source it replays (nil: none), and for a command
    /// the command without its `# syz N` and N.
    private struct Line {
        var text: String
        var source: Int?
        var command: (text: String, line: Int)?
    }

    private enum Resource {
        /// The `/dev/iommu` file the scenario's context stands for.
        case iommufd
        /// A scenario value: `NAME` or `NAME.FIELD`.
        case value(String)
        /// Something the scenario cannot name, and why.
        case unavailable(String)
    }

    /// A reason a call is not replayed.
    private struct Skip: Error { var reason: String }

    /// The scenario's text for a program's lines.
    public static func make(_ program: [SyzProgramLine], file: String) -> String {
        replay(program, file: file).scenario
    }

    /// The scenario for a program's lines, grouped by program line. The data area the
    /// executor maps before the program runs is the first source, at line 0.
    public static func replay(_ program: [SyzProgramLine], file: String) -> ImportedReplay {
        var writer = SyzProgramScenario()
        writer.note("# Replay of the syzkaller program \(terminalSafe(file)) (iommuscope import syz).")
        writer.note("# A program does not say what the kernel returned: only a call commented with an errno (# EINVAL) gets an expect=.")
        writer.noteLiteralBuffers(program)
        var texts = ["(syzkaller's data area, mapped by its executor before the first call)"]
        var numbers = [0]
        writer.current = 0
        writer.note("# syzkaller's executor maps its 16M data area (0x7f0000000000 in the program's text) before the first call.")
        writer.lines.append(Line(text: "data = mmap length=16M", source: 0, command: ("data = mmap length=16M", 0)))
        for line in program {
            writer.current = texts.count
            switch line {
            case .call(let call):
                texts.append(terminalSafe(call.text))
                numbers.append(call.line)
                writer.write(call)
            case .malformed(let number, let text, let reason):
                texts.append(terminalSafe(text))
                numbers.append(number)
                writer.note(terminalSafe("# syz \(number): \(text) (not replayed: not a syzkaller call: \(reason))"))
            }
        }
        writer.dropLinesTheScenarioRejects()
        return writer.result(texts: texts, numbers: numbers)
    }

    // MARK: Output

    private mutating func note(_ text: String) { lines.append(Line(text: text, source: current)) }

    private mutating func emit(_ command: String, _ line: Int) {
        let command = expectation.map { "\(command) expect=\($0)" } ?? command
        lines.append(Line(text: "\(command) # syz \(line)", source: current, command: (command, line)))
    }

    /// `pkg/runtest`'s errno names that the scenario's `expect=` knows: a `sys/linux/test`
    /// call commented `# EINVAL` must end so. (A call without one must succeed in such a test,
    /// but nothing in the text tells a test from a reproducer, so that is not assumed.)
    private static let runtestErrnos: Set<String> = ["EPERM", "ENOENT", "E2BIG", "EBADF", "ENOMEM", "EFAULT", "EINVAL", "ENOTTY", "EOPNOTSUPP"]

    private mutating func skip(_ call: SyzCall, _ why: String) {
        note(terminalSafe("# syz \(call.line): \(call.text) (not replayed: \(why))"))
    }

    /// A command line the scenario language rejects (a name the replay bound from a call that
    /// was itself kept as a comment, a value out of an argument's range) would stop the whole
    /// run, so it becomes a comment with the language's reason; repeated until every line checks.
    private mutating func dropLinesTheScenarioRejects() {
        for _ in 0...lines.count {
            let text = lines.map(\.text).joined(separator: "\n")
            let errors = Scenario.check(ScenarioLines(chunks: [Array(text.utf8)])).errors
            guard !errors.isEmpty else { return }
            for error in errors where error.line >= 1 && error.line <= lines.count {
                let index = error.line - 1
                guard let command = lines[index].command else { continue }
                lines[index].text = terminalSafe("# syz \(command.line): \(command.text) (not replayed: the scenario language rejects it: \(error.reason))")
                lines[index].command = nil
            }
        }
    }

    private func result(texts: [String], numbers: [Int]) -> ImportedReplay {
        var commands = [[TimelineCommand]](repeating: [], count: texts.count)
        var notes = [String?](repeating: nil, count: texts.count)
        for (index, line) in lines.enumerated() {
            guard let source = line.source, source < texts.count else { continue }
            if line.command == nil { notes[source] = line.text }
            else { commands[source].append(TimelineCommand(number: index + 1, text: line.text)) }
        }
        let sources = texts.indices.map { index in
            TimelineSource(line: numbers[index], text: texts[index], commands: commands[index],
                           note: commands[index].isEmpty ? notes[index] : nil)
        }
        return ImportedReplay(scenario: lines.map(\.text).joined(separator: "\n") + "\n", sources: sources)
    }

    // MARK: Calls

    private mutating func write(_ call: SyzCall) {
        expectation = call.comment.flatMap { Self.runtestErrnos.contains($0) ? $0 : nil }
        defer { expectation = nil }
        do throws(Skip) {
            switch call.syscall {
            case "openat":
                try openat(call)
            case "close":
                try close(call)
            case "ioctl":
                try ioctl(call)
            default:
                throw Skip(reason: "not an iommufd call")
            }
        } catch {
            skip(call, error.reason)
            // A call not replayed defines none of its resources in the model.
            for number in Self.outputs(of: call.arguments) {
                resources[number] = .unavailable("r\(number) comes from syz \(call.line), which is not replayed")
            }
        }
    }

    private mutating func openat(_ call: SyzCall) throws(Skip) {
        guard call.variant == "iommufd" else { throw Skip(reason: "opens a file other than /dev/iommu") }
        guard let result = call.result else { throw Skip(reason: "opens /dev/iommu without keeping the fd") }
        if resources.values.contains(where: { if case .iommufd = $0 { true } else { false } }) {
            throw Skip(reason: "a second /dev/iommu context; the scenario models one")
        }
        resources[result] = .iommufd
        skip(call, "opens /dev/iommu, which the scenario's one context stands for")
    }

    private mutating func close(_ call: SyzCall) throws(Skip) {
        guard call.arguments.count == 1 else { throw Skip(reason: "close takes one fd") }
        if case .resource(let number, nil, nil) = call.arguments[0], case .iommufd? = resources[number] {
            throw Skip(reason: "closes the iommufd, which frees every object; the scenario's context stays open")
        }
        emit("close fd=\(try integer(call.arguments[0], bits: 32))", call.line)
    }

    private mutating func ioctl(_ call: SyzCall) throws(Skip) {
        guard call.arguments.count == 3 else { throw Skip(reason: "ioctl takes fd, cmd and arg") }
        guard case .resource(let fd, nil, nil) = call.arguments[0], case .iommufd? = resources[fd] else {
            throw Skip(reason: "not on the /dev/iommu fd the program opened")
        }
        guard case .integer(let number) = call.arguments[1] else { throw Skip(reason: "the command number is not literal") }
        guard let command = IOMMUFDIoctl(rawValue: number) else {
            throw Skip(reason: "command 0x\(String(number, radix: 16)) is not an iommufd ioctl the replay reads")
        }
        let fields = try structFields(call, command)
        switch command {
        case .destroy:
            emit("destroy id=\(try id(fields, 1))", call.line)
        case .ioasAlloc:
            let flags = try integer(fields[1], bits: 32)
            try bind(call, "ioas_alloc\(flags == "0x0" ? "" : " flags=\(flags)")", outputs: [(fields[2], "out_ioas_id")])
        case .ioasAllowIOVAs:
            try reserved(fields, 3)
            let ranges = try rangeList(fields[4], count: try literal(fields[2], bits: 32))
            emit("ioas_allow_iovas ioas_id=\(try id(fields, 1)) allowed_iovas=\(ranges)", call.line)
        case .ioasIOVARanges:
            try reserved(fields, 3)
            guard case .pointer = fields[4] else { throw Skip(reason: "allowed_iovas is not a buffer the kernel can write") }
            emit("ioas_iova_ranges ioas_id=\(try id(fields, 1)) num_iovas=\(try integer(fields[2], bits: 32))", call.line)
        case .ioasMap:
            try reserved(fields, 3)
            let flags = try literal(fields[1], bits: 32)
            guard let user = try userAddress(fields[4]) else { throw Skip(reason: "user_va is NULL") }
            let iova = flags & 1 != 0 ? " iova=\(try integer(fields[6], bits: 64))" : ""
            emit("ioas_map ioas_id=\(try id(fields, 2)) user_va=\(user) length=\(try integer(fields[5], bits: 64))\(iova) flags=\(flags.hex)", call.line)
        case .ioasCopy:
            let flags = try literal(fields[1], bits: 32)
            let source: String
            if call.variant.hasSuffix("$syz") {
                source = try syzIOVA(flags: flags, nthArea: fields[6], offset: fields[7])
            } else {
                source = try integer(fields[6], bits: 64)
            }
            let dst = flags & 1 != 0 ? " dst_iova=\(try integer(fields[5], bits: 64))" : ""
            emit("ioas_copy dst_ioas_id=\(try id(fields, 2)) src_ioas_id=\(try id(fields, 3)) src_iova=\(source) length=\(try integer(fields[4], bits: 64))\(dst) flags=\(flags.hex)", call.line)
        case .ioasUnmap:
            emit("ioas_unmap ioas_id=\(try id(fields, 1)) iova=\(try integer(fields[2], bits: 64)) length=\(try integer(fields[3], bits: 64))", call.line)
        case .option:
            try reserved(fields, 3)
            let option = try literal(fields[1], bits: 32), op = try literal(fields[2], bits: 16)
            // IOMMU_OPTION_RLIMIT_MODE 0, IOMMU_OPTION_HUGE_PAGES 1; IOMMU_OPTION_OP_SET 0, _GET 1.
            guard option <= 1 else { throw Skip(reason: "option_id \(option) is no IOMMU_OPTION (the kernel's EOPNOTSUPP)") }
            guard op <= 1 else { throw Skip(reason: "op \(op) is no IOMMU_OPTION_OP (the kernel's EOPNOTSUPP)") }
            emit("option option_id=\(option == 0 ? "rlimit_mode" : "huge_pages") op=\(op == 0 ? "set" : "get") object_id=\(try id(fields, 4)) val64=\(try integer(fields[5], bits: 64))", call.line)
        case .hwptAlloc:
            try reserved(fields, 5)
            let type = try literal(fields[6], bits: 32)
            var data = ""
            switch type {
            case 0: break
            case 0xdead: // IOMMU_HWPT_DATA_SELFTEST: struct iommu_hwpt_selftest { __u32 iotlb; }
                guard case .pointer(_, .group(let selftest)?) = fields[8], selftest.count == 1 else {
                    throw Skip(reason: "the selftest data is not a literal struct iommu_hwpt_selftest")
                }
                data = " data_type=selftest iotlb=\(try integer(selftest[0], bits: 32)) data_len=\(try integer(fields[7], bits: 32))"
            default:
                throw Skip(reason: "data_type \(type) is not one the replay reads")
            }
            try bind(call, "hwpt_alloc dev_id=\(try id(fields, 2)) pt_id=\(try id(fields, 3)) flags=\(try integer(fields[1], bits: 32))\(data)",
                     outputs: [(fields[4], "out_hwpt_id")])
        case .hwptSetDirtyTracking:
            try reserved(fields, 3)
            emit("hwpt_set_dirty_tracking hwpt_id=\(try id(fields, 2)) flags=\(try integer(fields[1], bits: 32))", call.line)
        case .hwptGetDirtyBitmap:
            guard case .pointer = fields[7] else { throw Skip(reason: "data is not a buffer the kernel can write") }
            emit("hwpt_get_dirty_bitmap hwpt_id=\(try id(fields, 1)) iova=\(try integer(fields[4], bits: 64)) length=\(try integer(fields[5], bits: 64)) page_size=\(try integer(fields[6], bits: 64)) flags=\(try integer(fields[2], bits: 32)) __reserved=\(try integer(fields[3], bits: 32))", call.line)
        case .testCommand:
            try testCommand(call, fields)
        case .getHWInfo:
            try reserved(fields, 6)
            guard try literal(fields[1], bits: 32) == 0 else { throw Skip(reason: "flags other than 0, which dev_iommu.txt fixes") }
            let length = try literal(fields[3], bits: 32)
            if length > 0, case .integer = fields[4] { throw Skip(reason: "data_uptr is not a buffer the kernel can write") }
            emit("get_hw_info dev_id=\(try id(fields, 2)) data_len=\(length.hex)", call.line)
        case .hwptInvalidate:
            try reserved(fields, 6)
            // IOMMU_HWPT_INVALIDATE_DATA_SELFTEST: struct iommu_hwpt_invalidate_selftest { flags, iotlb_id }.
            guard try literal(fields[3], bits: 32) == 0xdead_beef else { throw Skip(reason: "a data_type other than the selftest's, which dev_iommu.txt does not describe") }
            let count = try literal(fields[5], bits: 32)
            var entries = ""
            switch fields[2] {
            case .null, .integer(0): break
            case .pointer(_, .array(let items)?):
                guard UInt64(items.count) == count else {
                    throw Skip(reason: "entry_num \(count) with \(items.count) entries given: the kernel reads memory the program does not give")
                }
                entries = " entries=" + (try items.map { (item) throws(Skip) -> String in
                    guard case .group(let entry) = item, entry.count == 2 else { throw Skip(reason: "an entry is not {flags, iotlb_id}") }
                    return "{flags=\(try integer(entry[0], bits: 32)) iotlb_id=\(try integer(entry[1], bits: 32))}"
                }).joined(separator: ",")
            default:
                throw Skip(reason: "data_uptr is not a literal array of entries")
            }
            emit("hwpt_invalidate hwpt_id=\(try id(fields, 1)) data_type=selftest\(entries) entry_len=\(try integer(fields[4], bits: 32)) entry_num=\(count.hex)", call.line)
        case .vfioIOAS:
            throw Skip(reason: "the replay does not read this ioctl's struct yet")
        }
    }

    /// `IOMMU_TEST_CMD`: dispatched, as `iommufd_test()` does, on the `op` field.
    private mutating func testCommand(_ call: SyzCall, _ fields: [SyzValue]) throws(Skip) {
        try reserved(fields, 3)
        let number = try literal(fields[1], bits: 32)
        guard let op = IOMMUTestOp(rawValue: UInt32(number)) else { throw Skip(reason: "selftest op \(number) is not one the replay reads") }
        // The variant gives the union's layout; an op the layout was not written for reads
        // other bytes in the kernel.
        let expected = Self.testOp(variant: call.variant)
        guard expected == op || (expected == .mockDomain && op == .mockDomainFlags) else {
            throw Skip(reason: "op \(number) in the layout of \(call.variant): the kernel reads other fields")
        }
        switch op {
        case .addReserved:
            emit("test_add_reserved ioas_id=\(try id(fields, 2)) start=\(try integer(fields[4], bits: 64)) length=\(try integer(fields[5], bits: 64))", call.line)
        case .mockDomain, .mockDomainFlags:
            // The kernel takes dev_flags only with IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, whatever
            // the layout (syzkaller's MOCK_DOMAIN_FLAGS variant passes op 2).
            let flags = op == .mockDomainFlags && fields.count > 7 ? " dev_flags=\(try integer(fields[7], bits: 32))" : ""
            try bind(call, "test_mock_domain pt_id=\(try id(fields, 2))\(flags)",
                     outputs: [(fields[4], "out_stdev_id"), (fields[5], "out_hwpt_id"), (fields[6], "out_idev_id")])
        case .mdCheckMap:
            let uptr = try userAddress(fields[6]).map { " uptr=\($0)" } ?? ""
            emit("test_md_check_map id=\(try id(fields, 2)) iova=\(try integer(fields[4], bits: 64)) length=\(try integer(fields[5], bits: 64))\(uptr)", call.line)
        case .createAccess:
            let flags = try integer(fields[5], bits: 32)
            try bind(call, "test_create_access ioas_id=\(try id(fields, 2)) flags=\(flags)", outputs: [(fields[4], "out_access_fd")])
        case .destroyAccessPages:
            emit("test_destroy_access_pages id=\(try id(fields, 2)) access_pages_id=\(try id(fields, 4))", call.line)
        case .accessPages:
            let flags = try literal(fields[4], bits: 32)
            let syz = call.variant.hasSuffix("$syz")
            let iova = syz ? try syzIOVA(flags: flags, nthArea: fields[6], offset: fields[7]) : try integer(fields[6], bits: 64)
            let length = try integer(fields[syz ? 8 : 7], bits: 64)
            let uptr = try userAddress(fields[syz ? 9 : 8]).map { " uptr=\($0)" } ?? ""
            try bind(call, "test_access_pages id=\(try id(fields, 2)) iova=\(iova) length=\(length) flags=\(flags.hex)\(uptr)",
                     outputs: [(fields[5], "out_access_pages_id")])
        case .accessRW:
            let syz = call.variant.hasSuffix("$syz")
            let flags = try literal(fields[syz ? 8 : 7], bits: 32)
            let iova = syz ? try syzIOVA(flags: flags, nthArea: fields[4], offset: fields[5]) : try integer(fields[4], bits: 64)
            let length = try literal(fields[syz ? 6 : 5], bits: 64)
            var value = ""
            if flags & UInt64(MockAccessFlags.write) != 0 {
                guard case .pointer(_, .data(let bytes)?) = fields[syz ? 7 : 6] else { throw Skip(reason: "the bytes written are not a literal buffer") }
                guard length <= UInt64(bytes.count) else { throw Skip(reason: "a write of \(length) bytes from a buffer of \(bytes.count): the rest lies in memory the program does not give") }
                value = " value=" + ObjectText.words(Array(bytes.prefix(Int(length)))).map(\.hex).joined(separator: ",")
            }
            emit("test_access_rw id=\(try id(fields, 2)) iova=\(iova) length=\(length.hex) flags=\(flags.hex)\(value)", call.line)
        case .mockDomainReplace:
            emit("test_mock_domain_replace id=\(try id(fields, 2)) pt_id=\(try id(fields, 4))", call.line)
        case .accessReplaceIOAS:
            emit("test_access_replace_ioas id=\(try id(fields, 2)) ioas_id=\(try id(fields, 4))", call.line)
        case .mdCheckRefs:
            throw Skip(reason: "IOMMU_TEST_OP_MD_CHECK_REFS counts the host's page references, which the model does not keep")
        case .setTempMemoryLimit:
            throw Skip(reason: "IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT sets the selftest's pin limit, which the model does not have")
        }
    }

    /// The op a `IOMMU_TEST_OP_*` variant's layout is written for.
    private static func testOp(variant: Substring) -> IOMMUTestOp? {
        let name = variant.hasSuffix("$syz") ? variant.dropLast(4) : variant
        switch name {
        case "IOMMU_TEST_OP_ADD_RESERVED": return .addReserved
        case "IOMMU_TEST_OP_MOCK_DOMAIN", "IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS": return .mockDomain
        case "IOMMU_TEST_OP_MD_CHECK_MAP": return .mdCheckMap
        case "IOMMU_TEST_OP_MD_CHECK_REFS": return .mdCheckRefs
        case "IOMMU_TEST_OP_CREATE_ACCESS": return .createAccess
        case "IOMMU_TEST_OP_DESTROY_ACCESS_PAGES": return .destroyAccessPages
        case "IOMMU_TEST_OP_ACCESS_PAGES": return .accessPages
        case "IOMMU_TEST_OP_ACCESS_RW": return .accessRW
        case "IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT": return .setTempMemoryLimit
        case "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE": return .mockDomainReplace
        case "IOMMU_TEST_OP_ACCESS_REPLACE_IOAS": return .accessReplaceIOAS
        default: return nil
        }
    }

    // MARK: Structs and values

    /// The fields of the struct `arg` points to, in the order of the variant's description
    /// (`sys/linux/dev_iommu.txt`), as many as the widest layout of the command reads; fields
    /// the program leaves out are zero, as syzkaller fills them. The `size` field is checked
    /// against the kernel's minimum.
    private func structFields(_ call: SyzCall, _ command: IOMMUFDIoctl) throws(Skip) -> [SyzValue] {
        guard case .pointer(_, let inner?) = call.arguments[2], case .group(var fields) = inner else {
            throw Skip(reason: "arg is not a pointer to a literal struct")
        }
        let width = Self.fieldCount(command, variant: call.variant)
        guard fields.count <= width else {
            throw Skip(reason: "\(fields.count) fields where \(call.variant)'s struct has \(width)")
        }
        fields += [SyzValue](repeating: .integer(0), count: width - fields.count)
        let size = try literal(fields[0], bits: 32)
        guard size >= command.minimumSize else {
            throw Skip(reason: "size \(size.hex) is below the kernel's \(command.minimumSize.hex) (its EINVAL), and the scenario passes the whole struct")
        }
        return fields
    }

    /// How many fields the variant's struct has in `dev_iommu.txt` (trailing padding not counted).
    private static func fieldCount(_ command: IOMMUFDIoctl, variant: Substring) -> Int {
        switch command {
        case .destroy: 2
        case .ioasAlloc: 3
        case .ioasAllowIOVAs: 5
        case .ioasIOVARanges: 6
        case .ioasMap: 7
        case .ioasCopy: variant.hasSuffix("$syz") ? 8 : 7
        case .ioasUnmap: 4
        case .option: 6
        case .vfioIOAS: 4
        case .hwptAlloc: 9
        case .getHWInfo, .hwptGetDirtyBitmap: 8
        case .hwptSetDirtyTracking: 4
        case .hwptInvalidate: 7
        case .testCommand: variant.hasSuffix("$syz") ? 10 : 9
        }
    }

    /// An id field: a resource or a literal, as the scenario writes it.
    private func id(_ fields: [SyzValue], _ index: Int) throws(Skip) -> String {
        try integer(fields[index], bits: 32)
    }

    /// A `__reserved` field: the kernel refuses a non-zero one, which the scenario cannot pass.
    private func reserved(_ fields: [SyzValue], _ index: Int) throws(Skip) {
        let value = try literal(fields[index], bits: 32)
        guard value == 0 else { throw Skip(reason: "__reserved is \(value.hex) (the kernel's EOPNOTSUPP), which the scenario cannot pass") }
    }

    /// A number as the scenario writes it: a literal cut to the field's width (syzkaller
    /// stores only `bits` of it), or the binding of a resource.
    private func integer(_ value: SyzValue, bits: Int) throws(Skip) -> String {
        switch value {
        case .resource(let number, let divide, let add):
            guard divide == nil, add == nil else { throw Skip(reason: "r\(number) with /, + computes on the kernel's value") }
            switch resources[number] {
            case .value(let name)?: return name
            case .iommufd?: throw Skip(reason: "r\(number) is the iommufd's fd, which the scenario does not number")
            case .unavailable(let why)?: throw Skip(reason: why)
            case nil: throw Skip(reason: "r\(number) is not defined by an earlier call")
            }
        default:
            return try literal(value, bits: bits).hex
        }
    }

    /// The literal number a field holds, cut to its width.
    private func literal(_ value: SyzValue, bits: Int) throws(Skip) -> UInt64 {
        let mask: UInt64 = bits >= 64 ? .max : (1 << UInt64(bits)) - 1
        switch value {
        case .integer(let number): return number & mask
        case .output(_, let stored): return try literal(stored, bits: bits)
        case .null: return 0
        case .auto: throw Skip(reason: "AUTO is filled in by syzkaller, not given")
        case .resource(let number, _, _): throw Skip(reason: "r\(number) where the replay needs a literal")
        default: throw Skip(reason: "a pointer, buffer or struct where a number should be")
        }
    }

    /// `iommufd_test_syz_conv_iova_id()`: with MOCK_FLAGS_ACCESS_SYZ (1 << 16) the selftest
    /// turns (nth_area, offset) into an IOVA of the IOAS when the call runs; without it the two
    /// u32 fields are the low and high halves of the u64 `iova` they overlay.
    private func syzIOVA(flags: UInt64, nthArea: SyzValue, offset: SyzValue) throws(Skip) -> String {
        guard flags & (1 << 16) == 0 else {
            throw Skip(reason: "MOCK_FLAGS_ACCESS_SYZ picks the IOVA from the IOAS's nth area when the call runs, which the scenario cannot name")
        }
        let low = try literal(nthArea, bits: 32), high = try literal(offset, bits: 32)
        return (low | high << 32).hex
    }

    /// `allowed_iovas=START-LAST,...` from a pointer to an array of `{start, last}`; the
    /// kernel reads `num_iovas` of them.
    private func rangeList(_ value: SyzValue, count: UInt64) throws(Skip) -> String {
        var ranges: [SyzValue] = []
        switch value {
        case .pointer(_, .array(let items)?): ranges = items
        case .pointer(_, nil), .null, .integer(0): ranges = []
        default: throw Skip(reason: "allowed_iovas is not a literal array of ranges")
        }
        guard UInt64(ranges.count) == count else {
            throw Skip(reason: "num_iovas \(count) with \(ranges.count) ranges given: the kernel reads memory the program does not give")
        }
        return try ranges.map { (range) throws(Skip) -> String in
            guard case .group(let pair) = range, pair.count == 2 else { throw Skip(reason: "a range is not {start, last}") }
            return "\(try literal(pair[0], bits: 64).hex)-\(try literal(pair[1], bits: 64).hex)"
        }.joined(separator: ",")
    }

    /// A user address as the scenario writes it, `data+OFFSET` inside the data area, nil for
    /// NULL. An `&AUTO` buffer takes the next free 64-byte granule.
    private mutating func userAddress(_ value: SyzValue) throws(Skip) -> String? {
        let offset: UInt64
        switch value {
        case .null, .integer(0):
            return nil
        case .integer(let address):
            guard address >= SyzDataArea.runtimeBase, address - SyzDataArea.runtimeBase < SyzDataArea.size else {
                throw Skip(reason: "user address \(address.hex) is outside syzkaller's data area, the only memory the replay maps")
            }
            offset = address - SyzDataArea.runtimeBase
        case .vma(let address, _), .pointer(let address?, _):
            guard address >= SyzDataArea.textBase, address - SyzDataArea.textBase < SyzDataArea.size else {
                throw Skip(reason: "address \(address.hex) is outside syzkaller's data area")
            }
            // A VMA starts on a page, as syzkaller's parseAddr rounds it.
            if case .vma = value { offset = (address - SyzDataArea.textBase) & ~(SyzDataArea.pageSize - 1) }
            else { offset = address - SyzDataArea.textBase }
        case .pointer(nil, let inner):
            guard let placed = place(size: Self.byteSize(inner)) else { throw Skip(reason: "no room left in the data area for an &AUTO buffer") }
            offset = placed
        default:
            throw Skip(reason: "not a user address")
        }
        return offset == 0 ? "data" : "data+\(offset.hex)"
    }

    /// The bytes a pointee takes in memory, where the program writes them.
    private static func byteSize(_ value: SyzValue?) -> UInt64 {
        if case .data(let bytes)? = value { return UInt64(bytes.count) }
        return SyzDataArea.granule
    }

    /// Marks the data area that buffers at literal addresses take, so `&AUTO` ones go elsewhere.
    private mutating func noteLiteralBuffers(_ program: [SyzProgramLine]) {
        func visit(_ value: SyzValue) {
            switch value {
            case .pointer(let address?, let inner):
                if address >= SyzDataArea.textBase, address - SyzDataArea.textBase < SyzDataArea.size {
                    let start = address - SyzDataArea.textBase
                    taken.append((start, min(SyzDataArea.size, start + Self.byteSize(inner))))
                }
                if let inner { visit(inner) }
            case .pointer(nil, let inner?), .output(_, let inner), .union(_, let inner?): visit(inner)
            case .group(let items), .array(let items): items.forEach(visit)
            default: break
            }
        }
        for case .call(let call) in program { call.arguments.forEach(visit) }
    }

    /// The first run of free 64-byte granules that holds `size` bytes, taken.
    private mutating func place(size: UInt64) -> UInt64? {
        let length = max(1, (size + SyzDataArea.granule - 1) / SyzDataArea.granule) * SyzDataArea.granule
        var start: UInt64 = 0
        while start + length <= SyzDataArea.size {
            guard let clash = taken.first(where: { $0.start < start + length && start < $0.end }) else {
                taken.append((start, start + length))
                return start
            }
            start = (clash.end + SyzDataArea.granule - 1) / SyzDataArea.granule * SyzDataArea.granule
        }
        return nil
    }

    // MARK: Resources

    /// Writes `NAME = COMMAND` where the call defines resources in `outputs` (out fields and
    /// the scenario's names for them); without one the command stands alone.
    private mutating func bind(_ call: SyzCall, _ command: String, outputs: [(SyzValue, String)]) throws(Skip) {
        let defined = outputs.compactMap { (value, field) -> (Int, String)? in
            if case .output(let number, _) = value { return (number, field) }
            return nil
        }
        guard let first = defined.first else { return emit(command, call.line) }
        // A name a live resource still refers to is not bound again.
        var name = "r\(first.0)"
        let redefined = Set(defined.map(\.0))
        let live = resources.filter { !redefined.contains($0.key) }.values.compactMap { (resource) -> String? in
            if case .value(let text) = resource { return String(text.prefix { $0 != "." }) }
            return nil
        }
        if live.contains(name) { name += "_\(call.line)" }
        let main = outputs.first?.1
        for (number, field) in defined {
            resources[number] = .value(field == main ? name : "\(name).\(field)")
        }
        emit("\(name) = \(command)", call.line)
    }

    /// The resources a call's arguments define (`<rN=>`).
    private static func outputs(of values: [SyzValue]) -> [Int] {
        values.flatMap { (value) -> [Int] in
            switch value {
            case .output(let number, let inner): [number] + outputs(of: [inner])
            case .pointer(_, let inner?), .union(_, let inner?): outputs(of: [inner])
            case .group(let items), .array(let items): outputs(of: items)
            default: []
            }
        }
    }

}
