import Foundation
import Testing
import TestSupport
import IOMMUCore
@testable import ScenarioScript

// Fuzz-style robustness of the scenario language: every line of every bundled scenario is
// truncated, mutated and stuffed with hostile values, then parsed (and, when it parses, run).
// The contract (docs/scenario-language.md): a malformed line is reported with its line and column, never a trap.
// All randomness comes from a seeded SplitMix64.

/// The scenarios the fuzzing starts from.
private enum Corpus {
    static let scenarioDirectory = Bundle.module.resourceURL!.appendingPathComponent("Scenarios")
    /// The bundled default scenario is a resource of the executable target, so it is read
    /// from the source tree.
    static let defaultScenario = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu")

    /// Every `.iommu` file under `Scenarios/`, then the default scenario, by name.
    static let files: [(name: String, source: String)] = {
        var found: [(name: String, source: String)] = []
        let enumerator = FileManager.default.enumerator(at: scenarioDirectory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "iommu", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            found.append((String(url.path.dropFirst(scenarioDirectory.path.count + 1)), text))
        }
        found.sort { $0.name < $1.name }
        if let text = try? String(contentsOf: defaultScenario, encoding: .utf8) { found.append(("default.iommu", text)) }
        return found
    }()

    static func source(_ name: String) -> String { files.first { $0.name == name }?.source ?? "" }

    /// Every distinct command line of the corpus, with the command lines that precede its first
    /// occurrence in its file (the context its names are bound in).
    static let distinctLines: [(text: String, header: [String])] = {
        var seen: Set<String> = []
        var result: [(text: String, header: [String])] = []
        for file in files {
            var header: [String] = []
            for line in lines(file.source) where isCommand(line) {
                if seen.insert(line).inserted { result.append((line, header)) }
                header.append(line)
            }
        }
        return result
    }()

    /// The lines as `Scenario(source:)` numbers them: "\n" and "\r\n" (one Character) end a line.
    static func lines(_ source: String) -> [String] {
        source.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
    }

    /// A line that holds a command (not blank, not only a comment).
    static func isCommand(_ line: String) -> Bool {
        guard let first = line.first(where: { $0 != " " && $0 != "\t" }) else { return false }
        return first != "#"
    }
}

// MARK: - Properties

/// Parses `source`. A failure must name lines that exist, columns inside them (or just past
/// their end), and a reason. Problems are appended to `problems`; the scenario is returned
/// when it parses. `firstCheckedLine` lets a caller assert that an untouched header of
/// known-good lines produced no error.
@discardableResult
private func parseChecked(_ source: String, firstCheckedLine: Int = 1, _ problems: inout [String]) -> Scenario? {
    var errors: [ScenarioError] = []
    return parseChecked(source, firstCheckedLine: firstCheckedLine, &problems, errors: &errors)
}

/// As above, also handing back the (valid) errors.
private func parseChecked(_ source: String, firstCheckedLine: Int = 1, _ problems: inout [String],
                          errors valid: inout [ScenarioError]) -> Scenario? {
    do {
        return try Scenario(source: source)
    } catch {
        let lines = Corpus.lines(source)
        if error.errors.isEmpty { problems.append("ScenarioParseErrors without errors for \(source.debugDescription)") }
        for located in error.errors {
            let isValid = located.line >= firstCheckedLine && located.line <= lines.count && located.column >= 1
                && located.column <= lines[located.line - 1].count + 1 && !located.reason.isEmpty
            if isValid {
                valid.append(located)
            } else {
                let text = located.line >= 1 && located.line <= lines.count ? lines[located.line - 1] : "<no such line>"
                problems.append("\(located) for line \(text.debugDescription)")
            }
        }
        return nil
    }
}

/// Runs a parsed scenario: every line must come back as a report (an error is a result).
private func runChecked(_ scenario: Scenario, _ problems: inout [String], _ what: @autoclosure () -> String) {
    let reports = Session().run(scenario)
    if reports.count != scenario.lines.count || zip(reports, scenario.lines).contains(where: { $0.line != $1.number }) {
        problems.append("run of \(what()) returned \(reports.count) reports for \(scenario.lines.count) lines")
    }
}

private func report(_ problems: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(problems.isEmpty, "\(problems.count) problems in \(what); first: \(problems.prefix(10).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}

// MARK: - Mutations

private enum Mutation {
    /// Values that are too big, empty, malformed, structural or not ASCII.
    static let hostileValues: [String] = [
        "0x1_0000_0000_0000_0000", "99999999999999999999", "18446744073709551616", "u64max+1", "1+u64max",
        "0x8000_0000_0000_0000+0x8000_0000_0000_0000", "4096T", "16777216T", "0xffff_ffff_ffff_ffffK", "0b" + String(repeating: "1", count: 65),
        "u64max", "18446744073709551615", "0xffffffffffffffff", "0", "1", "0x800", "4K", "2M", "0xffffffff", "0x100000000",
        "4294967296", "65536", "256", "32",
        "", "0x", "0b", "0b2", "0x_", "_", "K", "4KK", "0xG", "-1", "+", "1+", "+1", "++", "1-", "-", "1-2", "1-2-3", "2-1",
        ",", "1,", ",1", "1,,2", "|", "readable|", "|4", "1|2|u64max", ":", "0+4K:", "0+4K:msi", "0+4K:bogus", "u64max+1:msi",
        "{", "}", "{}", "{{}}", "}{", "{x=1}", "{iotlb_id=1},", "{iotlb_id=u64max+1}", "{flags=all iotlb_id=2},{iotlb_id=1}",
        "=", "==", "a=b", "yes", "no", "mock", "ioas", "ioas.out_ioas_id", "ioas.bogus", "x.y.z", ".", "..", "ok", "EINVAL",
        "日本", "🧪", "e\u{301}", "\u{0}", "\u{FEFF}", "\u{202E}", "١٢", "１２", "Ⅻ", "½", "²", "#", "0x1000#x",
    ]

    /// Insertions for random edits: structure, separators, control and non-ASCII characters.
    static let fragments: [String] = [
        "{", "}", "=", "==", "#", "+", "|", ",", "-", ".", ":", " ", "\t", "\r", "\u{0}", "\u{7F}", "é", "e\u{301}", "\u{301}",
        "日本", "🧪", "👩‍👩‍👧", "\u{FEFF}", "\u{200B}", "\u{202E}", "１", "٣", "Ⅻ", "½", "²", "ß", "İ", "\\", "\"", "'",
        "0x", "u64max", "K", "T", "_", "9999999999999999999999",
    ]

    /// Each `KEY=VALUE` word of the line with its value replaced by `count` hostile values picked
    /// at random, plus key-level damage (unknown key, empty key, duplicated and dropped arguments).
    static func substitutions(of line: String, values count: Int, _ rng: inout SplitMix64) -> [String] {
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var result: [String] = []
        for (index, word) in words.enumerated() {
            guard let equals = word.firstIndex(of: "="), word != "=" else { continue }
            let key = word[..<equals]
            func replaced(_ newWord: String) -> String {
                var copy = words
                copy[index] = newWord
                return copy.joined(separator: " ")
            }
            for _ in 0..<count { result.append(replaced("\(key)=\(rng.pick(hostileValues))")) }
            result.append(replaced("bogus\(word[equals...])"))
            result.append(replaced(String(word[equals...])))
            result.append(replaced("\(word) \(word)"))
            result.append(replaced(""))
        }
        return result
    }

    /// One random edit: bytes inserted or replaced (decoded leniently, as invalid UTF-8 turns
    /// into U+FFFD), characters deleted, swapped or duplicated, fragments inserted, or the
    /// line cut and finished with a hostile value.
    static func random(_ line: String, _ rng: inout SplitMix64) -> String {
        var characters = Array(line)
        let position = rng.below(characters.count + 1)
        switch rng.below(9) {
        case 0, 1:
            var bytes = Array(line.utf8)
            var byte = UInt8(truncatingIfNeeded: rng.next())
            if byte == 10 { byte = 9 } // a newline would only start another line
            let at = rng.below(bytes.count + 1)
            if rng.chance(1, in: 2) || bytes.isEmpty { bytes.insert(byte, at: at) } else { bytes[min(at, bytes.count - 1)] = byte }
            return String(decoding: bytes, as: UTF8.self)
        case 2:
            if !characters.isEmpty { characters.remove(at: min(position, characters.count - 1)) }
        case 3, 4:
            characters.insert(contentsOf: rng.pick(fragments), at: position)
        case 5:
            if !characters.isEmpty { characters[min(position, characters.count - 1)] = Character(rng.pick(fragments)) }
        case 6:
            let end = min(characters.count, position + 1 + rng.below(12))
            characters.insert(contentsOf: characters[position..<end], at: position)
        case 7:
            if characters.count > 1 { characters.swapAt(position % characters.count, rng.below(characters.count)) }
        default:
            return String(characters[..<position]) + rng.pick(hostileValues)
        }
        return String(characters)
    }
}

extension Character {
    /// A fragment as one character when it is one, otherwise its first.
    fileprivate init(_ fragment: String) { self = fragment.first ?? "?" }
}

// MARK: - Fuzz tests

struct ParserRobustnessTests {
    /// The fuzzing is split into shards that run in parallel.
    static let shards = Array(0..<8)

    @Test func corpusIsPresent() throws {
        #expect(Corpus.files.count >= 20)
        #expect(Corpus.files.contains { $0.name == "default.iommu" }, "the bundled default scenario was not found at \(Corpus.defaultScenario.path)")
        #expect(Corpus.distinctLines.count > 500)
        var problems: [String] = []
        for file in Corpus.files { #expect(parseChecked(file.source, &problems) != nil, "\(file.name) does not parse") }
        report(problems, "the corpus")
    }

    /// Every prefix (by character) of every distinct command line of the corpus, parsed after
    /// the lines that precede the line in its file (so names are bound as they would be), and
    /// parsed without them.
    @Test(arguments: shards)
    func everyPrefixOfEveryLine(shard: Int) {
        var problems: [String] = []
        var cases = 0
        for (index, line) in Corpus.distinctLines.enumerated() where index % Self.shards.count == shard {
            let prefixes = (0...line.text.count).map { String(line.text.prefix($0)) }
            let batch = prefixes.joined(separator: "\n")
            parseChecked((line.header + prefixes).joined(separator: "\n"), firstCheckedLine: line.header.count + 1, &problems)
            parseChecked(batch, &problems)
            cases += prefixes.count
        }
        #expect(cases > 1_000)
        report(problems, "prefixes, shard \(shard)")
    }

    /// For every distinct command line: 16 hostile values (of the 100-odd, chosen per line) in
    /// each of its arguments, key damage (unknown, empty, duplicated, dropped), 16 random edits
    /// and 4 triple edits; all parsed after the line's header, the random edits also alone.
    @Test(arguments: shards)
    func mutatedLines(shard: Int) {
        var rng = SplitMix64(seed: 0x5EED_0000 &+ UInt64(shard))
        var problems: [String] = []
        var cases = 0
        for (index, line) in Corpus.distinctLines.enumerated() where index % Self.shards.count == shard {
            var mutants = Mutation.substitutions(of: line.text, values: 16, &rng)
            var edits: [String] = []
            for _ in 0..<16 { edits.append(Mutation.random(line.text, &rng)) }
            for _ in 0..<4 { edits.append(Mutation.random(Mutation.random(Mutation.random(line.text, &rng), &rng), &rng)) }
            mutants += edits
            cases += mutants.count
            parseChecked((line.header + mutants).joined(separator: "\n"), firstCheckedLine: line.header.count + 1, &problems)
            parseChecked(edits.joined(separator: "\n"), &problems)
        }
        #expect(cases > 5_000)
        report(problems, "mutations, shard \(shard)")
    }

    /// Whole-file variants, run after parsing: for each file, 5 variants with several lines
    /// mutated at once (lines that no longer parse are dropped, with the lines that then lose
    /// a binding, until the variant parses), and 5 variants with one mutated line that still
    /// parses, run up to a few lines past the mutation.
    @Test(arguments: shards)
    func mutatedScenariosRun(shard: Int) {
        var rng = SplitMix64(seed: 0xF00D_0000 &+ UInt64(shard))
        var problems: [String] = []
        var runs = 0, mutatedLinesRun = 0
        for (fileIndex, file) in Corpus.files.enumerated() where fileIndex % Self.shards.count == shard {
            let original = Corpus.lines(file.source)
            let commandIndices = original.indices.filter { Corpus.isCommand(original[$0]) }
            guard !commandIndices.isEmpty else { continue }

            func mutate(_ line: String) -> String {
                if rng.chance(2, in: 3) {
                    let substitutions = Mutation.substitutions(of: line, values: 4, &rng)
                    if !substitutions.isEmpty { return rng.pick(substitutions) }
                }
                return Mutation.random(line, &rng)
            }

            // Several lines at once, repaired until the variant parses.
            for _ in 0..<5 {
                var lines = original
                var mutated: Set<Int> = []
                for _ in 0..<(1 + rng.below(max(1, commandIndices.count / 6))) {
                    let index = rng.pick(commandIndices)
                    lines[index] = mutate(lines[index])
                    mutated.insert(index)
                }
                for _ in 0..<12 {
                    var errors: [ScenarioError] = []
                    if let scenario = parseChecked(lines.joined(separator: "\n"), &problems, errors: &errors) {
                        runChecked(scenario, &problems, "a variant of \(file.name)")
                        runs += 1
                        let kept = Set(scenario.lines.map(\.number))
                        mutatedLinesRun += mutated.filter { kept.contains($0 + 1) }.count
                        break
                    }
                    // A mutant may have split into several lines: renumber before dropping.
                    lines = Corpus.lines(lines.joined(separator: "\n"))
                    for located in errors { lines[located.line - 1] = "# dropped" }
                    if errors.isEmpty { break }
                }
            }
            // One line, kept only when it still parses; run up to 6 lines past it.
            var singles = 0
            for _ in 0..<100 where singles < 5 {
                let index = rng.pick(commandIndices)
                let mutant = mutate(original[index])
                guard mutant != original[index] else { continue }
                var lines = Array(original[...min(original.count - 1, index + 6)])
                lines[index] = mutant
                var scratch: [String] = []
                guard let scenario = parseChecked(lines.joined(separator: "\n"), &scratch) else { problems += scratch; continue }
                runChecked(scenario, &problems, "\(file.name) with line \(index + 1) = \(mutant.debugDescription)")
                singles += 1
                runs += 1
                mutatedLinesRun += 1
            }
        }
        #expect(runs >= 20)
        #expect(mutatedLinesRun >= 20)
        report(problems, "runs of mutated scenarios, shard \(shard)")
    }

    /// Sessions a hostile command runs in: the default scenario (Arm SMMUv3, nested), and a
    /// mock-IOMMU selftest setup with a mock domain and a mapped buffer.
    static let preludes = [
        "default.iommu",
        """
        iommu mock type=mock
        iommu smmu type=arm-smmu-v3
        iommu vtd type=intel-vtd
        iommu amd type=amd-vi
        device pci0 iommu=vtd rid=0x10
        device amd0 iommu=amd rid=0x20
        device arm0 iommu=smmu sid=0x30
        buf = mmap length=64K align=2M
        ioas = ioas_alloc
        md = test_mock_domain pt_id=ioas dev_flags=pasid
        ioas_map ioas_id=ioas user_va=buf length=64K flags=readable|writeable
        pci = device_bind dev=pci0
        """,
    ]

    /// Appended to every prelude: bound names whose values are as wide as a u64 gets.
    static let wideBindings = """
        spare = ioas_alloc
        half = ioas_map ioas_id=spare user_va=0 length=4K iova=0x8000_0000_0000_0000 flags=fixed_iova|readable
        top = ioas_map ioas_id=spare user_va=0 length=4K iova=0xffff_ffff_ffff_f000 flags=fixed_iova|readable
        """

    /// Every argument of every command, one at a time, set to the extremes its kind allows
    /// (u64max, the width's maximum, 0, every bound name including ones as wide as a u64,
    /// every enumerated name, empty lists, huge ranges), with the
    /// command's other required arguments present; each line is parsed and run in a live
    /// session. Nothing may trap; every line comes back as a report or a located error.
    @Test(arguments: preludes)
    func hostileArgumentsAtRunTime(prelude: String) throws {
        let source = (prelude.hasSuffix(".iommu") ? Corpus.source(prelude) : prelude) + "\n" + Self.wideBindings
        let session = Session()
        for report in session.run(try Scenario(source: source)) where !report.passed {
            Issue.record("prelude line \(report.line) ended \(report.result.status)")
        }
        let devices = session.machine.devices.map(\.name), iommus = session.machine.iommus.map(\.name)
        let bound = Array(session.bindings.keys).sorted()
        var rng = SplitMix64(seed: 0xBAD_A665)
        var problems: [String] = []
        var lines = 0, parsed = 0, fresh = 0

        func extremes(_ kind: ArgumentKind) -> [String] {
            func widest(_ bits: Int) -> UInt64 { bits >= 64 ? .max : (UInt64(1) << UInt64(bits)) - 1 }
            switch kind {
            case .integer(let bits):
                let top = widest(bits)
                var values = ["0", "1", top.hex, (top - 1).hex, (top / 2 + 1).hex, "0x800", "0x1000", "2M"]
                if bits == 64 { values += ["4096T", "0x7fff_ffff_f000", "0xffff_ffff_ffff_f000", "u64max"] }
                return values.filter { value in
                    if case .success(let number) = parseIntegerLiteral(value) { return number <= top }
                    return false
                } + bound
            case .flags(let names, let bits), .choice(let names, let bits):
                var values = names.keys.sorted() + ["0", widest(bits).hex]
                if case .flags = kind { values.append(names.keys.sorted().joined(separator: "|")) }
                return values
            case .words: return ["", "0", "u64max", "0,u64max", "4K,16K,64K", "1,2", "1,2,3,4,5", "0x40000000b,0"]
            case .ranges: return ["", "0-u64max", "u64max-0", "0x1000-0x1fff,0x2000-0x2fff", "0-0", "5-4", "u64max-u64max"]
            case .value: return ["0", "u64max", "0-u64max", "1,2"]
            case .entries(let fields):
                var values = ["", "{}", "{},{},{}"]
                for (field, fieldKind) in fields.sorted(by: { $0.key < $1.key }) {
                    for value in extremes(fieldKind).prefix(4) where !value.isEmpty { values.append("{\(field)=\(value)}") }
                }
                return values
            case .device: return devices + ["nope"]
            case .iommu: return iommus + ["nope"]
            case .word(let words): return words
            case .regions: return ["", "0+1:msi", "0+u64max:reserved", "1+u64max:direct", "0x8000000+1M:sw_msi", "0xfee00000+1M:msi,0+4K:direct-relaxable"]
            }
        }

        func baseline(_ kind: ArgumentKind) -> String {
            switch kind {
            case .integer: return rng.pick(["1", "2", "3", "4", "5", "6", "7", "8"] + bound)
            case .flags(let names, _), .choice(let names, _): return names.keys.sorted().first ?? "0"
            case .words, .value: return "0"
            case .ranges: return "0x1000-0x1fff"
            case .entries: return "{}"
            case .device: return devices.first ?? "nope"
            case .iommu: return iommus.first ?? "nope"
            case .word(let words): return words[0]
            case .regions: return ""
            }
        }

        for name in commandTable.keys.sorted() {
            let spec = commandTable[name]!
            for argument in spec.arguments {
                for value in extremes(argument.kind) {
                    var words = [name]
                    if spec.declaresName { fresh += 1; words.append("fresh\(fresh)") }
                    for other in spec.arguments where other.required && other.name != argument.name {
                        words.append("\(other.name)=\(baseline(other.kind))")
                    }
                    words.append("\(argument.name)=\(value)")
                    let text = words.joined(separator: " ")
                    lines += 1
                    do {
                        if let report = try session.run(command: text) {
                            parsed += 1
                            if report.line != 1 { problems.append("\(text): report for line \(report.line)") }
                        }
                    } catch {
                        for located in error.errors where located.line != 1 || located.column < 1 || located.column > text.count + 1 {
                            problems.append("\(text): \(located)")
                        }
                    }
                }
            }
        }
        #expect(lines > 800)
        #expect(parsed > lines / 2)
        report(problems, "hostile arguments after \(prelude.prefix(20))")
    }

    /// A few whole sources that are hostile from the first byte.
    @Test func hostileSources() {
        var problems: [String] = []
        let sources = [
            "", "\n", "\n\n\n", "#", "=", "= =", "{", "}", "}{", "{{{{", "a =", "a = b = c", "\u{0}", "\u{FEFF}ioas_alloc",
            "ioas_alloc\u{0}", String(repeating: "{", count: 10_000), String(repeating: "a", count: 10_000),
            String(repeating: "ioas_alloc\n", count: 2_000), "x = ioas_alloc\n" + String(repeating: "destroy id=x\n", count: 500),
            "ioas_alloc flags=" + String(repeating: "1+", count: 2_000) + "1",
            "check actual=" + String(repeating: "1,", count: 2_000) + "1 expected=1",
            "🧪 = ioas_alloc\ndestroy id=🧪", "ioas_alloc expect=", "ioas_alloc expect=ok expect=ok", "ioas_alloc expect=EWHAT",
            "\t\t ioas_alloc \t flags=0 \t", "ioas_alloc flags=0\r", "ioas_alloc\r\n", "\r\n\r\n",
        ]
        for source in sources {
            if let scenario = parseChecked(source, &problems) { runChecked(scenario, &problems, source.debugDescription) }
        }
        report(problems, "hostile sources")
    }
}

// MARK: - Located errors

/// The single error of a one-error source.
private func onlyError(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) -> ScenarioError? {
    do {
        _ = try Scenario(source: source)
        Issue.record("\(source.debugDescription) parsed", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.errors.count == 1, "\(error)", sourceLocation: sourceLocation)
        return error.errors.first
    }
}

/// Asserts the one error of `source`: its line, column and a piece of its reason.
private func expectError(_ source: String, line: Int = 1, column: Int, _ reason: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error = onlyError(source, sourceLocation: sourceLocation) else { return }
    #expect(error.line == line && error.column == column, "\(source.debugDescription): \(error)", sourceLocation: sourceLocation)
    #expect(error.reason.contains(reason), "\(source.debugDescription): '\(error.reason)' does not mention '\(reason)'",
            sourceLocation: sourceLocation)
}

struct LocatedErrorTests {
    @Test func unknownCommand() {
        expectError("frobnicate ioas_id=1", column: 1, "unknown command 'frobnicate'")
        expectError("x = frobnicate", column: 5, "unknown command 'frobnicate'")
        expectError("ioas = ioas_alloc\n\n# comment\n    frob flags=1 # trailing\n", line: 4, column: 5, "unknown command 'frob'")
        expectError("\tioas_aloc", column: 2, "unknown command 'ioas_aloc'")
        expectError("IOAS_ALLOC", column: 1, "unknown command 'IOAS_ALLOC'")
        expectError("1ioas", column: 1, "expected a command name, found '1ioas'")
        expectError("a = = ioas_alloc", column: 5, "expected a command name, found '='")
        expectError("ioas = ", column: 8, "missing command after '='")
    }

    @Test func unknownArgument() {
        expectError("ioas = ioas_alloc\nioas_map ioas_id=ioas bogus=1 user_va=0 length=4K", line: 2, column: 23,
                    "'ioas_map' has no argument 'bogus'")
        expectError("ioas_alloc  flagz=1", column: 13, "'ioas_alloc' has no argument 'flagz' (it takes: flags)")
    }

    @Test func badNumber() {
        expectError("ioas_map ioas_id=1 user_va=0x12g4 length=4K", column: 28, "'0x12g4' is not a number")
        expectError("ioas_map ioas_id=1 user_va=0 length=4K+9zz", column: 40, "'9zz' is not a number")
        expectError("ioas_map ioas_id=1 user_va=0b102 length=4K", column: 28, "'0b102' is not a number")
        expectError("ioas_map ioas_id=1 user_va=0x length=4K", column: 28, "'0x' is not a number")
        expectError("ioas_map ioas_id=1 user_va=0 length=", column: 37, "missing value")
        expectError("ioas_map ioas_id=1 user_va=0 length=4K+", column: 40, "missing value")
        expectError("ioas_map ioas_id=1 user_va=0 length=4K flags=readable|", column: 55, "missing value")
        expectError("ioas_map ioas_id=1 user_va=0 length=4K flags=readable|bogus", column: 55, "unknown name 'bogus'")
        expectError("ioas_allow_iovas ioas_id=1 allowed_iovas=1-2,3", column: 46, "a range is START-LAST")
        expectError("ioas_alloc expect=EWHAT", column: 19, "not 'EWHAT'")
    }

    /// Every value that does not fit in 64 bits, in every numeric field of every command, is
    /// reported at the number that overflows.
    @Test func u64OverflowInEveryField() {
        let overflows = ["0x1_0000_0000_0000_0000", "99999999999999999999", "18446744073709551616", "16777216T"]
        var checked = 0
        for name in commandTable.keys.sorted() {
            let spec = commandTable[name]!
            let prefix = spec.declaresName ? "\(name) n " : "\(name) "
            for argument in spec.arguments {
                let valueColumn = prefix.count + argument.name.count + 2
                for overflow in overflows {
                    // (text, column of the overflowing number) for this argument's kind.
                    var cases: [(String, Int)] = []
                    switch argument.kind {
                    case .integer, .flags, .choice, .words:
                        cases = [(overflow, 0)]
                        if case .choice = argument.kind {} else if case .flags = argument.kind { cases.append(("1|" + overflow, 2)) }
                        else if case .words = argument.kind { cases.append(("1," + overflow, 2)) }
                        else { cases.append(("4K+" + overflow, 3)) }
                    case .ranges: cases = [("0-" + overflow, 2), (overflow + "-1", 0), ("0-1,2-" + overflow, 6)]
                    case .value: cases = [(overflow, 0), ("0-" + overflow, 2), ("1," + overflow, 2)]
                    case .regions: cases = [(overflow + "+4K:msi", 0), ("0+" + overflow + ":msi", 2)]
                    case .entries(let fields):
                        for field in fields.keys.sorted() { cases.append(("{" + field + "=" + overflow + "}", field.count + 2)) }
                    case .device, .iommu, .word: continue
                    }
                    for (text, offset) in cases {
                        checked += 1
                        expectError(prefix + argument.name + "=" + text, column: valueColumn + offset, "does not fit in 64 bits")
                    }
                }
                // A sum of two constants that passes u64max is reported at the start of the sum.
                if case .integer = argument.kind {
                    expectError(prefix + argument.name + "=u64max+1", column: valueColumn, "'u64max+1' does not fit in 64 bits")
                    expectError(prefix + argument.name + "=0x8000_0000_0000_0000+0x8000_0000_0000_0000", column: valueColumn, "does not fit in 64 bits")
                }
            }
        }
        #expect(checked > 500)
        // Narrower fields name their width.
        expectError("destroy id=0x1_0000_0000", column: 12, "'0x1_0000_0000' does not fit in 32 bits")
        expectError("destroy id=u64max", column: 12, "does not fit in 32 bits")
        expectError("device d iommu=m rid=65536", column: 22, "does not fit in 16 bits")
        // ... and what does fit is accepted.
        #expect((try? Scenario(source: "mmap length=4096T")) != nil)
        #expect((try? Scenario(source: "mmap length=u64max")) != nil)
        #expect((try? Scenario(source: "mmap length=18446744073709551615")) != nil)
        #expect((try? Scenario(source: "destroy id=0xffff_ffff")) != nil)
    }

    @Test func missingRequiredArgument() {
        expectError("m = ioas_map ioas_id=1 user_va=0", column: 5, "'ioas_map' needs length=")
        expectError("ioas_unmap", column: 1, "'ioas_unmap' needs ioas_id=")
        expectError("iommu smmu0", column: 1, "'iommu' needs type=")
        expectError("iommu type=mock", column: 1, "'iommu' needs a NAME")
        // Every command with a required argument, given none.
        var checked = 0
        for name in commandTable.keys.sorted() {
            let spec = commandTable[name]!
            guard let required = spec.arguments.first(where: \.required) else { continue }
            let line = spec.declaresName ? "  \(name) n" : "  \(name)"
            expectError(line, column: 3, "'\(name)' needs \(required.name)=")
            checked += 1
        }
        #expect(checked > 20)
    }

    @Test func unboundName() {
        expectError("ioas_map ioas_id=nope user_va=0 length=4K", column: 18, "'nope' is not bound by an earlier line")
        expectError("buf = mmap length=64K\nioas = ioas_alloc\nioas_map ioas_id=ioas user_va=buf+0x800+other length=4K",
                    line: 3, column: 41, "'other' is not bound by an earlier line")
        expectError("destroy id=md.out_hwpt_id", column: 12, "'md' is not bound")
        expectError("md = test_mock_domain pt_id=1\ndestroy id=md.bogus", line: 2, column: 12,
                    "'test_mock_domain' has no out field 'bogus'")
        expectError("destroy id=later\nlater = ioas_alloc", line: 1, column: 12, "'later' is not bound")
        expectError("check actual=r expected=1", column: 14, "'r' is not bound")
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={iotlb_id=x}", column: 64, "'x' is not bound")
        // A line that fails does not bind its name: its users fail too, each on its own line.
        do {
            _ = try Scenario(source: "ioas = ioas_alloc flags=zz9\ndestroy id=ioas")
            Issue.record("parsed")
        } catch {
            #expect(error.errors.map(\.line) == [1, 2])
            #expect(error.errors.map(\.column) == [25, 12])
        }
    }

    @Test func structuralErrors() {
        expectError("ioas_alloc flags=1}", column: 19, "unbalanced '}'")
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={iotlb_id=1", column: 46, "unclosed '{'")
        expectError("ioas_alloc flags=1 flags=2", column: 20, "argument 'flags' given twice")
        expectError("ioas_alloc =1", column: 12, "'' is not an argument name")
        expectError("ioas_alloc stray", column: 12, "expected KEY=VALUE, found 'stray'")
        expectError("ioas_alloc flags=1 stray", column: 20, "expected KEY=VALUE, found 'stray'")
        expectError("1x = ioas_alloc", column: 1, "'1x' is not a name that can be bound")
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={iotlb_id=1}{iotlb_id=2}", column: 66,
                    "expected ',' between entries")
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={iotlb_id=1},", column: 67, "missing entry after ','")
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={bogus=1}", column: 55, "unknown entry field")
        // Columns count characters, not bytes.
        expectError("é = ioas_alloc flags=zz9", column: 22, "'zz9' is not bound")
        expectError("# ünïcödé\n日本 = ioas_alloc flagz=1", line: 2, column: 17, "has no argument 'flagz'")
    }

    // MARK: Bound values wider than their field (found by this suite, fixed in Sources)

    static let widePrelude = """
        iommu smmu0 type=arm-smmu-v3
        buf = mmap length=4K
        spare = ioas_alloc
        half = ioas_map ioas_id=spare user_va=0 length=4K iova=0x8000_0000_0000_0000 flags=fixed_iova|readable
        wide17 = ioas_map ioas_id=spare user_va=0 length=4K iova=0x10000 flags=fixed_iova|readable
        wide6 = ioas_map ioas_id=spare user_va=0 length=0x20 iova=0x20 flags=fixed_iova|readable
        """

    /// A field narrower than 64 bits is width-checked at parse time for literals only; a bound
    /// name is checked at run time by `Arguments.u32` but not by the `device` and `iommu`
    /// commands, which convert with trapping initializers (Commands.swift: `UInt32(...)` of
    /// sid/rid, `UInt8(...)` of max_pasid_log2, `Int(...)` of oas/ias/aw/levels). Each of these
    /// lines crashed the process ("Not enough bits to represent the passed value") instead of
    /// failing the line, until `Arguments.integer` held every value to its declared width.
    @Test(arguments: [
              "device d iommu=smmu0 sid=buf", "device d iommu=smmu0 rid=buf", "device d iommu=smmu0 max_pasid_log2=buf",
              "iommu s type=arm-smmu-v3 oas=half", "iommu s type=arm-smmu-v3 ias=half", "iommu s type=intel-vtd aw=half",
              "iommu s type=amd-vi levels=half",
          ])
    func boundValueWiderThanField(line: String) throws {
        let reports = Session().run(try Scenario(source: Self.widePrelude + "\n" + line))
        guard case .failed? = reports.last?.result.status else {
            Issue.record("\(line) ended \(reports.last?.result.status.description ?? "nothing"), expected a failed line")
            return
        }
    }

    /// The same problem without a trap: a bound value that fits the conversion but not the
    /// declared width is accepted (rid is 16 bits, max_pasid_log2 5 bits).
    @Test(arguments: ["device d iommu=smmu0 rid=wide17", "device d iommu=smmu0 max_pasid_log2=wide6"])
    func boundValueWiderThanDeclaredWidth(line: String) throws {
        let reports = Session().run(try Scenario(source: Self.widePrelude + "\n" + line))
        guard case .failed? = reports.last?.result.status else {
            Issue.record("\(line) ended \(reports.last?.result.status.description ?? "nothing"), expected a failed line")
            return
        }
    }

    // MARK: Regressions (found by the fuzzing above, fixed in Sources)

    /// "\r\n" is one Character in Swift: splitting on "\n" alone read a CRLF file as one line.
    @Test func crlfLineEndings() throws {
        let scenario = try Scenario(source: "ioas = ioas_alloc\r\ndestroy id=ioas\r\n")
        #expect(scenario.lines.map(\.number) == [1, 2])
        let reports = Session().run(scenario)
        #expect(reports.count == 2 && reports.allSatisfy(\.passed))
        expectError("ioas = ioas_alloc\r\n\r\n  frob\r\n", line: 3, column: 3, "unknown command 'frob'")
    }

    /// An error inside an entry body was reported at the body's own column 1.
    @Test func nestedBraceInEntryIsLocated() {
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={iotlb_id=1{x}}", column: 55, "unclosed '{'")
        expectError("hwpt_invalidate hwpt_id=1 data_type=selftest entries={iotlb_id=1},{a{x}}", column: 68, "unclosed '{'")
    }

    /// A stray word after a command was located assuming exactly one separating space.
    @Test func strayWordAfterSeveralSpaces() {
        expectError("ioas_alloc   stray", column: 14, "expected KEY=VALUE, found 'stray'")
        expectError("ioas_alloc\t \tstray", column: 14, "expected KEY=VALUE, found 'stray'")
    }
}

// MARK: - Bytes that are not UTF-8

struct InvalidUTF8Tests {
    /// A stray byte (a lone continuation byte, a cut multi-byte sequence, 0xff) anywhere in
    /// any corpus line is an error at that line, at the column of the character it replaces.
    @Test func strayBytesAreLocatedInEveryCorpusFile() {
        var random = SplitMix64(seed: 0x7e_57ed)
        var problems: [String] = []
        let strays: [[UInt8]] = [[0x80], [0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80]]
        for file in Corpus.files {
            var lines = Corpus.lines(file.source).map { Array($0.utf8) }
            guard !lines.isEmpty else { continue }
            let target = random.below(lines.count)
            // Insert at a Character boundary, so the column is the prefix's Character count + 1.
            let text = String(decoding: lines[target], as: UTF8.self)
            let characters = random.below(text.count + 1)
            let prefix = Array(String(text.prefix(characters)).utf8)
            lines[target] = prefix + random.pick(strays) + lines[target].dropFirst(prefix.count)
            let bytes = Array(lines.joined(separator: [0x0a]))
            let errors = Scenario.check(ScenarioLines(chunks: [bytes])).errors
            let located = errors.filter { $0.reason.hasPrefix("invalid UTF-8") }
            if located.count != 1 || located[0].line != target + 1 || located[0].column != characters + 1 {
                problems.append("\(file.name): line \(target + 1) column \(characters + 1): \(located)")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
