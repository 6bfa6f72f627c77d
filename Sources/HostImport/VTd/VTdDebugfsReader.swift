/// Reads `sys/kernel/debug/iommu/intel/` (host-inputs §3): `iommu_regset`,
/// `dmar_translation_struct`, the global `domain_translation_struct` (v5.6-v6.6) and the
/// per-device and per-PASID ones (v6.7+), and `invalidation_queue`. A missing file is no
/// fact (debugfs or `CONFIG_INTEL_IOMMU_DEBUGFS` absent); any other read failure is a
/// warning. Nothing is written.
public enum VTdDebugfsReader: HostDirectoryReader {
    /// The directory `drivers/iommu/intel/debugfs.c` creates.
    public static let directory = "sys/kernel/debug/iommu/intel"

    public static func read(from source: any HostSource, warnings: inout [ImportWarning]) -> VTdDebugfs {
        var dump = VTdDebugfs()
        let files: [(name: String, reader: any VTdDebugfsFileReader.Type)] = [
            ("iommu_regset", VTdRegsetReader.self),
            ("dmar_translation_struct", VTdTranslationStructReader.self),
            ("domain_translation_struct", VTdDomainDumpReader.self),
            ("invalidation_queue", VTdInvalidationQueueReader.self),
        ]
        for (name, reader) in files {
            readFile("\(directory)/\(name)", with: reader, from: source, into: &dump, warnings: &warnings)
        }
        // v6.7+ (`intel_iommu_debugfs_create_dev`, `..._create_dev_pasid`): `<dev_name>/` per
        // device with its RID table, and `<dev_name>/<pasid %x>/` per PASID.
        for entry in source.list(directory) where entry.count == 12 && PCIAddress(parsing: entry) != nil {
            let device = "\(directory)/\(entry)"
            readFile("\(device)/domain_translation_struct", with: VTdDomainDumpReader.self, from: source, into: &dump, warnings: &warnings)
            for pasid in source.list(device) where parseBareHex(pasid) != nil {
                readFile("\(device)/\(pasid)/domain_translation_struct", with: VTdDomainDumpReader.self, from: source,
                         into: &dump, warnings: &warnings)
            }
        }
        return dump
    }

    private static func readFile(_ path: String, with reader: any VTdDebugfsFileReader.Type, from source: any HostSource,
                                 into dump: inout VTdDebugfs, warnings: inout [ImportWarning]) {
        switch source.read(path) {
        case .success(let text): reader.parse(text, file: path, into: &dump, warnings: &warnings)
        case .failure(.missing): break
        case .failure(let failure): warnings.append(ImportWarning(file: path, reason: failure.description))
        }
    }
}

/// One file of `sys/kernel/debug/iommu/intel/`: its printer's text becomes part of the dump
/// (`VTdDebugfsReader`, the `HostDirectoryReader` of the directory, runs one per file).
/// (The VT-d readers' protocol; `path` locates warnings and, for the domain dumps, says
/// which layout and PASID the file has.)
protocol VTdDebugfsFileReader {
    static func parse(_ text: String, file: String, into dump: inout VTdDebugfs, warnings: inout [ImportWarning])
}

extension ImportWarning {
    init(_ file: String, _ line: PastedLine, _ reason: String) {
        self.init(file: file, line: line.number, reason: reason)
    }
}

/// A decimal field of at most `digits` digits (`%d`, `%lld`), never a trap.
func parseDecimal<S: StringProtocol>(_ text: S, digits: Int = 10) -> Int? {
    guard !text.isEmpty, text.count <= digits, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(text)
}

/// A `%llx` field printed with or without `0x`.
func parseHexField<S: StringProtocol>(_ text: S) -> UInt64? {
    parseHexWord(text) ?? parseBareHex(text)
}

/// A continuation block of the ABI docs (host-inputs §1.5): one logical row printed as
/// several column blocks, each under its own header. The block's rows extend the first
/// block's rows by position; a row hard-wrapped inside the block extends the same row.
struct ColumnBlock {
    let header: PastedLine
    /// The index of the first block's first row.
    let first: Int
    private(set) var next: Int
    /// Fields this block gave the row it is filling.
    private var filled: Int

    init(header: PastedLine, first: Int) {
        self.header = header
        self.first = first
        next = first
        filled = 0
    }

    /// No row of the block read yet (a header line right after it is the rest of a wrapped header).
    var isEmpty: Bool { next == first }

    /// Fields the header names: a row given fewer is wrapped.
    var width: Int { header.tokens.count }

    /// The row a line of `count` fields extends: the one being filled while it is short
    /// (`continues(row)`, by default: it has fewer fields than the header names), else the
    /// next one; nil (with a warning) past the first block's rows.
    mutating func row(for count: Int, rows: Int, file: String, line: PastedLine, warnings: inout [ImportWarning],
                      continues: ((_ row: Int) -> Bool)? = nil) -> Int? {
        if next > first, next <= rows, continues?(next - 1) ?? (filled + count <= width) {
            filled += count
            return next - 1
        }
        defer {
            next += 1
            filled = count
        }
        guard next < rows else {
            warnings.append(ImportWarning(file, line, "more rows under `\(header.excerpt)` than in the block before it"))
            return nil
        }
        return next
    }

    /// The block ends: a warning when it had fewer (or more) rows than the first block.
    func end(rows: Int, file: String, warnings: inout [ImportWarning]) {
        if next - first != rows - first {
            warnings.append(ImportWarning(file, header, "\(next - first) rows under `\(header.excerpt)` for \(rows - first) in the block before it"))
        }
    }
}
