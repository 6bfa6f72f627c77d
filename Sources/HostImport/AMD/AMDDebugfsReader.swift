import IOMMUCore
import Presentation

/// Reads `sys/kernel/debug/iommu/amd/` (host-inputs §4), the files
/// `drivers/iommu/amd/debugfs.c` (v6.17+) prints: the global `devid`, `devtbl` and
/// `irqtbl`, and per unit `iommu%02d/{mmio,capability,cmdbuf}`.
///
/// Every file shows one thing the user chose by writing to it (an MMIO or capability
/// offset, a device in `devid`); the reader never writes, so it keeps what they show, and
/// the kernel's "Please provide ..." and "Enter a valid device ID ..." answers become notes.
/// Kernels before v6.17 have only empty `iommuNN` directories: a note says there is no data.
/// Pasted copies are accepted too: CRLF, mail quoting, expanded tabs, rows wrapped onto the
/// next line, shell prompts and `[...]` elisions (skipped).
public enum AMDDebugfsReader: HostDirectoryReader {
    static let directory = "sys/kernel/debug/iommu/amd"
    /// `CMD_BUFFER_ENTRIES` is 512 and the head/tail mask 0x7fff: no buffer has more slots.
    static let maximumCommandSlots = 0x8000
    /// 2048 IRTEs with FEATURE_NUM_INT_REMAP_SUP_2K.
    static let maximumInterruptEntries = 2048

    public static func read(from source: any HostSource, warnings: inout [ImportWarning]) -> AMDDebugfs {
        var debugfs = AMDDebugfs()
        guard source.exists(directory) else { return debugfs }
        var reader = Reader(source: source)
        let entries = source.list(directory)
        let units = entries.compactMap { name in unitIndex(name).map { (name: name, index: $0) } }
        for unit in units.sorted(by: { $0.index < $1.index }) {
            let path = "\(directory)/\(unit.name)"
            if let text = reader.text("\(path)/mmio") {
                reader.registers(text, file: "\(path)/mmio", unit: unit.index, space: .mmio, into: &debugfs)
            }
            if let text = reader.text("\(path)/capability") {
                reader.registers(text, file: "\(path)/capability", unit: unit.index, space: .capability, into: &debugfs)
            }
            if let text = reader.text("\(path)/cmdbuf") { reader.commandBuffer(text, file: "\(path)/cmdbuf", unit: unit.index, into: &debugfs) }
        }
        if let text = reader.text("\(directory)/devid") { reader.selectedDevice(text, file: "\(directory)/devid", into: &debugfs) }
        if let text = reader.text("\(directory)/devtbl") { reader.deviceTable(text, file: "\(directory)/devtbl", into: &debugfs) }
        if let text = reader.text("\(directory)/irqtbl") { reader.interruptTable(text, file: "\(directory)/irqtbl", into: &debugfs) }
        if !reader.readAny {
            debugfs.notes.append(units.isEmpty
                ? "AMD-Vi debugfs has no iommuNN directories: no AMD debugfs data"
                : "AMD-Vi debugfs directories are empty (a kernel before v6.17): no AMD debugfs data")
        }
        warnings += reader.warnings
        return debugfs
    }

    /// `iommu%02d` (the directory) or `iommu%d` (devtbl's trailer): the unit index, which
    /// sysfs calls `ivhd%d`.
    static func unitIndex<S: StringProtocol>(_ name: S) -> Int? {
        guard name.hasPrefix("iommu") else { return nil }
        let digits = name.dropFirst(5)
        guard digits.count <= 4, isDigits(digits) else { return nil }
        return Int(digits)
    }

    /// Decimal digits only (the kernel's `%d`), at least one.
    static func isDigits<S: StringProtocol>(_ text: S) -> Bool { !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber } }

    /// The state of one read: the source, whether any file had text, and the warnings.
    struct Reader {
        var source: any HostSource
        var readAny = false
        var warnings: [ImportWarning] = []

        init(source: any HostSource) { self.source = source }

        /// The file's text; a missing file is silent (older kernels lack them), any other
        /// failure a warning.
        mutating func text(_ path: String) -> String? {
            switch source.read(path) {
            case .success(let text):
                readAny = true
                return text
            case .failure(.missing):
                return nil
            case .failure(let failure):
                warnings.append(ImportWarning(file: path, reason: "not read: \(failure)"))
                return nil
            }
        }

        mutating func notUnderstood(_ line: PastedLine, file: String) {
            let shown = line.text.count > 60 ? String(line.text.prefix(60)) + "..." : line.text
            warnings.append(ImportWarning(file: file, line: line.number, reason: "not understood: \(terminalSafe(shown))"))
        }

        /// `mmio` (`"Offset:0x%x Value:0x%016llx\n"`, `iommu_mmio_show`) or `capability`
        /// (`"Offset:0x%x Value:0x%08x\n"`, `iommu_capability_show`), or why nothing is shown.
        mutating func registers(_ text: String, file: String, unit: Int, space: AMDRegisterRead.Space, into debugfs: inout AMDDebugfs) {
            let maximumDigits = space == .mmio ? 16 : 8
            for line in Self.lines(text) {
                let compact = line.text.filter { !$0.isWhitespace }
                if let note = Self.refusal(line, file: file) {
                    debugfs.notes.append(note)
                } else if compact.hasPrefix("Offset:"), let read = Self.offsetValue(compact, maximumDigits: maximumDigits) {
                    debugfs.registerReads.append(AMDRegisterRead(unitIndex: unit, space: space, offset: read.offset, value: read.value))
                } else {
                    notUnderstood(line, file: file)
                }
            }
        }

        /// A file's lines, wrapped rows and sentences joined: a line is short when `rowIsShort`
        /// says so or it begins one of the kernel's sentences without its end; it takes the
        /// next line unless that starts a row (`rowStart`) or a sentence of its own.
        static func lines(_ text: String, rowIsShort: @escaping ([Substring]) -> Bool = { _ in false },
                          rowStart: @escaping ([Substring]) -> Bool = { _ in false }) -> [PastedLine] {
            PastedLine.rows(text, joiningWhile: { rowIsShort($0) || isOpenSentence($0) },
                             rowStart: { tokens in
                                 guard let first = tokens.first else { return false }
                                 return rowStart(tokens) || sentenceStarts.contains(String(first)) || first.hasPrefix("Offset:0x")
                             })
        }

        /// The first words of the sentences `debugfs.c` prints.
        static let sentenceStarts: Set<String> = ["Please", "Not", "No", "Enter", "Interrupt", "IRQ", "The", "CMD", "DeviceId", "Device"]

        /// The sentences `debugfs.c` prints instead of data, by their start, and what each means
        /// (nil: the sentence says it). "Please provide valid device id input" is devtbl's in the
        /// series' earlier revisions.
        static let refusals: [(start: String, meaning: String?)] = [
            ("Please provide mmio register's offset", "no offset written yet"),
            ("Please provide capability register's offset", "no offset written yet"),
            ("Please provide valid device id", "no device selected"),
            ("No or Invalid input provided", "no device selected"),
            ("Enter a valid device ID", "no device selected"),
            ("Not able to read capability register", nil),
            ("Device table not found", nil),
            ("Interrupt remapping is disabled", nil),
            ("IRQ lookup table not set", nil),
            ("The device's DTE contains an invalid IRT length", nil),
        ]

        /// The note for a refusal line: `FILE: MEANING ("SENTENCE")`, or `FILE: SENTENCE`.
        static func refusal(_ line: PastedLine, file: String) -> String? {
            guard let refusal = refusals.first(where: { line.text.hasPrefix($0.start) }) else { return nil }
            let text = terminalSafe(line.text)
            return refusal.meaning.map { "\(file): \($0) (\"\(text)\")" } ?? "\(file): \(text)"
        }

        /// Whether `tokens` begin one of `debugfs.c`'s sentences (or its `Offset:`/`CMD Buffer`
        /// lines, its headers) and stop before its last word: the rest was wrapped.
        static func isOpenSentence(_ tokens: [Substring]) -> Bool {
            guard let first = tokens.first, let last = tokens.last else { return false }
            let compact = tokens.joined()
            switch first {
            case "Please": return last != "offset" && last != "0x14]" && last != "input"
            case "Device": return last != "found"
            case "Not": return tokens.count < 7                      // Not able to read capability register at 0x%x
            case "No": return last != "provided"
            case "Enter": return last != "file"
            case "Interrupt": return last != "disabled"
            case "IRQ": return tokens.count < 6                      // IRQ lookup table not set for %04x:%02x:%02x:%x
            case "The": return !last.hasPrefix("value")
            case "CMD": return !compact.contains("TailOffset:") || compact.hasSuffix(":")
            case "DeviceId": return tokens.count < 2 || (interruptDevice(tokens[1]) == nil && last != "iommu")
            default: return first.hasPrefix("Offset:") && (!compact.contains("Value:") || compact.hasSuffix("Value:"))
            }
        }

        /// `Offset:0x18Value:0x000c22000003f48d` (whitespace removed).
        static func offsetValue(_ compact: String, maximumDigits: Int) -> (offset: UInt32, value: UInt64)? {
            let body = compact.dropFirst("Offset:".count)
            guard let split = body.firstRange(of: "Value:") else { return nil }
            let valueText = body[split.upperBound...]
            guard valueText.count <= maximumDigits + 2, let offset = parseHexWord(body[..<split.lowerBound]),
                  let offset32 = UInt32(exactly: offset), let value = parseHexWord(valueText) else { return nil }
            return (offset32, value)
        }

        /// `iommu_cmdbuf_show`: `"CMD Buffer Head Offset:%d Tail Offset:%d\n"`, then every slot as
        /// `"%3d: %08x %08x %08x %08x\n"`. A slot out of sequence (an elided stretch) is warned
        /// about and dropped, so `entries[i]` is always slot i.
        mutating func commandBuffer(_ text: String, file: String, unit: Int, into debugfs: inout AMDDebugfs) {
            var buffer: AMDCommandBuffer?
            for line in Self.lines(text, rowIsShort: Self.isShortCommandRow, rowStart: { Self.commandLabel($0.first) != nil }) {
                let compact = line.text.filter { !$0.isWhitespace }
                if compact.hasPrefix("CMDBufferHeadOffset:") {
                    if let buffer { debugfs.commandBuffers.append(buffer) }
                    let numbers = compact.dropFirst("CMDBufferHeadOffset:".count).split(separator: "TailOffset:")
                    guard numbers.count == 2, numbers.allSatisfy({ $0.count <= 5 }), let head = Int(numbers[0]), let tail = Int(numbers[1]) else {
                        notUnderstood(line, file: file)
                        buffer = nil
                        continue
                    }
                    buffer = AMDCommandBuffer(unitIndex: unit, head: head, tail: tail)
                } else if let slot = Self.commandSlot(line.tokens) {
                    guard var current = buffer else {
                        warnings.append(ImportWarning(file: file, line: line.number, reason: "command slot before the Head/Tail line"))
                        continue
                    }
                    guard slot.index == current.entries.count, slot.index < maximumCommandSlots else {
                        warnings.append(ImportWarning(file: file, line: line.number,
                                                      reason: "command slot \(slot.index) out of sequence (expected \(current.entries.count)): dropped"))
                        continue
                    }
                    current.entries.append(slot.words)
                    buffer = current
                } else {
                    notUnderstood(line, file: file)
                }
            }
            if let buffer { debugfs.commandBuffers.append(buffer) }
        }

        /// `NNN:` and four 8-digit words.
        static func commandSlot(_ tokens: [Substring]) -> (index: Int, words: [UInt32])? {
            guard tokens.count == 5, let index = commandLabel(tokens.first) else { return nil }
            let words = tokens.dropFirst().compactMap { $0.count == 8 ? parseBareHex($0).flatMap(UInt32.init(exactly:)) : nil }
            return words.count == 4 ? (index, words) : nil
        }

        static func isShortCommandRow(_ tokens: [Substring]) -> Bool { commandLabel(tokens.first) != nil && tokens.count < 5 }

        /// `%3d:`, the slot index.
        static func commandLabel(_ token: Substring?) -> Int? {
            guard let token, token.hasSuffix(":"), token.count <= 6 else { return nil }
            let digits = token.dropLast()
            guard AMDDebugfsReader.isDigits(digits) else { return nil }
            return Int(digits)
        }

        /// `devid_show`: `"%04x:%02x:%02x.%x\n"` or `"No or Invalid input provided\n"`.
        mutating func selectedDevice(_ text: String, file: String, into debugfs: inout AMDDebugfs) {
            for line in Self.lines(text) {
                if let device = line.tokens.count == 1 ? PCIAddress(parsing: line.tokens[0]) : nil {
                    debugfs.selectedDevice = device
                } else if let note = Self.refusal(line, file: file) {
                    debugfs.notes.append(note)
                } else {
                    notUnderstood(line, file: file)
                }
            }
        }

        /// `iommu_devtbl_show`: a header, then `"%04x:%02x:%02x.%x "`, the DTE's four words
        /// `%016llx` from QWORD[3] down to QWORD[0], and `"iommu%d\n"`; or `"Enter a valid
        /// device ID to 'devid' file\n"`.
        mutating func deviceTable(_ text: String, file: String, into debugfs: inout AMDDebugfs) {
            for line in Self.lines(text, rowIsShort: Self.isShortDeviceTableRow, rowStart: { $0.first.flatMap(PCIAddress.init(parsing:)) != nil }) {
                if line.tokens.first == "DeviceId" { continue }
                if let note = Self.refusal(line, file: file) {
                    debugfs.notes.append(note)
                } else if let entry = Self.deviceTableRow(line.tokens) {
                    debugfs.deviceTableEntries.append(entry)
                } else {
                    notUnderstood(line, file: file)
                }
            }
        }

        static func deviceTableRow(_ tokens: [Substring]) -> AMDDeviceTableEntry? {
            guard tokens.count == 6, let device = PCIAddress(parsing: tokens[0]), let unit = unitIndex(tokens[5]) else { return nil }
            let printed = tokens[1...4].compactMap { $0.count == 16 ? parseBareHex($0) : nil }
            guard printed.count == 4 else { return nil }
            return AMDDeviceTableEntry(device: device, words: printed.reversed(), unitIndex: unit)
        }

        static func isShortDeviceTableRow(_ tokens: [Substring]) -> Bool {
            guard let first = tokens.first, PCIAddress(parsing: first) != nil else { return false }
            return tokens.count < 6
        }

        /// `iommu_irqtbl_show`: `"DeviceId %04x:%02x:%02x.%x\n"`, then each valid IRTE as
        /// `"IRT[%04d] %016llx %016llx\n"` (128-bit GA format, hi lo) or `"IRT[%04d] %08x\n"`;
        /// or one of its refusals (remapping disabled, no table, a bad IntTabLen).
        mutating func interruptTable(_ text: String, file: String, into debugfs: inout AMDDebugfs) {
            var table: AMDInterruptRemapTable?
            for line in Self.lines(text, rowIsShort: Self.isShortInterruptRow, rowStart: { Self.interruptIndex($0.first) != nil }) {
                let tokens = line.tokens
                if tokens.count == 2, tokens[0] == "DeviceId", let device = Self.interruptDevice(tokens[1]) {
                    if let table { debugfs.interruptRemapTables.append(table) }
                    table = AMDInterruptRemapTable(device: device)
                } else if let note = Self.refusal(line, file: file) {
                    debugfs.notes.append(note)
                } else if let entry = Self.interruptRow(tokens) {
                    guard var current = table else {
                        warnings.append(ImportWarning(file: file, line: line.number, reason: "IRTE before the DeviceId line"))
                        continue
                    }
                    guard current.entries.count < maximumInterruptEntries else {
                        warnings.append(ImportWarning(file: file, line: line.number, reason: "more than \(maximumInterruptEntries) IRTEs: dropped"))
                        continue
                    }
                    current.entries.append(entry)
                    table = current
                } else {
                    notUnderstood(line, file: file)
                }
            }
            if let table { debugfs.interruptRemapTables.append(table) }
        }

        /// `IRT[NNNN]` and either one 8-digit word or two 16-digit words (hi lo).
        static func interruptRow(_ tokens: [Substring]) -> AMDInterruptRemapEntry? {
            guard let index = interruptIndex(tokens.first) else { return nil }
            let words = tokens.dropFirst()
            if words.count == 1, let word = words.first, word.count == 8, let value = parseBareHex(word) {
                return AMDInterruptRemapEntry(index: index, words: [value])
            }
            // The series' earlier revisions glued the halves: "%016llx%016llx".
            let halves = words.count == 1 && words.first?.count == 32 ? words.flatMap { [$0.prefix(16), $0.suffix(16)] } : Array(words)
            let wide = halves.compactMap { $0.count == 16 ? parseBareHex($0) : nil }
            guard halves.count == 2, wide.count == 2 else { return nil }
            return AMDInterruptRemapEntry(index: index, words: [wide[1], wide[0]])
        }

        /// `%04x:%02x:%02x.%x`, or `%04x:%02x:%02x:%x` (a ':' before the function) as the
        /// series' earlier revisions and the "IRQ lookup table not set" line print it.
        static func interruptDevice(_ token: Substring) -> PCIAddress? {
            if let device = PCIAddress(parsing: token) { return device }
            let parts = token.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            return PCIAddress(parsing: parts[0...2].joined(separator: ":") + "." + parts[3])
        }

        static func interruptIndex(_ token: Substring?) -> Int? {
            guard let token, token.hasPrefix("IRT["), token.hasSuffix("]") else { return nil }
            let digits = token.dropFirst(4).dropLast()
            guard digits.count <= 5, AMDDebugfsReader.isDigits(digits) else { return nil }
            return Int(digits)
        }

        /// An `IRT[n]` row whose only word is a 16-digit hi half: its lo half was wrapped.
        static func isShortInterruptRow(_ tokens: [Substring]) -> Bool {
            interruptIndex(tokens.first) != nil && tokens.count == 2 && tokens[1].count == 16
        }
    }
}
