/// The VT-d files of `/sys/kernel/debug/iommu/intel/` as typed values (host-inputs §3).
public struct VTdDebugfs: Sendable, Equatable {
    /// `iommu_regset`: one block per DRHD.
    public var registerSets: [VTdRegisterSet] = []
    /// `dmar_translation_struct`: one block per unit.
    public var translationStructures: [VTdTranslationStructure] = []
    /// `domain_translation_struct`: the global file (v5.6-v6.6) or the per-device and
    /// per-PASID files (v6.7+), one dump per device heading.
    public var domains: [VTdDomainDump] = []
    /// `invalidation_queue`: one per unit with queued invalidation.
    public var invalidationQueues: [VTdInvalidationQueue] = []
    /// Units whose table files said "DMA Remapping is not enabled on %s".
    public var translationDisabled: [String] = []

    public init() {}

    public var isEmpty: Bool { self == VTdDebugfs() }
}

/// One `iommu_regset` block: `IOMMU: %s Register Base Address: %llx`, then one row per register.
public struct VTdRegisterSet: Sendable, Equatable {
    public var unit: String
    public var base: UInt64
    /// Rows in file order, keyed by the register's name (never by position: the list changed
    /// between kernels).
    public var registers: [(name: String, offset: UInt32, value: UInt64)]

    public init(unit: String, base: UInt64, registers: [(name: String, offset: UInt32, value: UInt64)] = []) {
        self.unit = unit
        self.base = base
        self.registers = registers
    }

    public subscript(name: String) -> UInt64? { registers.first { $0.name == name }?.value }

    public static func == (a: VTdRegisterSet, b: VTdRegisterSet) -> Bool {
        a.unit == b.unit && a.base == b.base && a.registers.map(\.name) == b.registers.map(\.name)
            && a.registers.map(\.offset) == b.registers.map(\.offset) && a.registers.map(\.value) == b.registers.map(\.value)
    }
}

/// One unit's block of `dmar_translation_struct`.
public struct VTdTranslationStructure: Sendable, Equatable {
    /// Which printer wrote it (host-inputs §3.2).
    public enum Layout: String, Sendable, Equatable, Codable {
        /// v4.20-v5.2: `Root Table Entries:` and per-bus context tables.
        case perBus = "v4.20"
        /// The first v5.3 patch: the B.D.F table without the PASID columns.
        case withoutPASID = "v5.3-rc"
        /// v5.3 to today.
        case current = "v5.3"
    }

    public var unit: String
    public var rootTable: UInt64
    public var layout: Layout
    public var rows: [Row] = []

    public init(unit: String, rootTable: UInt64, layout: Layout) {
        self.unit = unit
        self.rootTable = rootTable
        self.layout = layout
    }

    /// One present context entry (legacy mode) or one present PASID entry (scalable mode).
    public struct Row: Sendable, Equatable {
        /// Bus and devfn; the segment is not printed (0).
        public var device: PCIAddress
        /// The root entry's upper and lower words (scalable mode: the upper and lower
        /// context-table pointers).
        public var rootEntry: (hi: UInt64, lo: UInt64)
        public var contextEntry: (hi: UInt64, lo: UInt64)
        /// Nil for legacy-mode rows (printed `-1`) and layouts without the column.
        public var pasid: UInt32?
        /// `val[0]`, `val[1]`, `val[2]` (printed in reverse): present in scalable-mode rows.
        public var pasidEntry: [UInt64]?

        public init(device: PCIAddress, rootEntry: (hi: UInt64, lo: UInt64), contextEntry: (hi: UInt64, lo: UInt64),
                    pasid: UInt32? = nil, pasidEntry: [UInt64]? = nil) {
            self.device = device
            self.rootEntry = rootEntry
            self.contextEntry = contextEntry
            self.pasid = pasid
            self.pasidEntry = pasidEntry
        }

        public static func == (a: Row, b: Row) -> Bool {
            a.device == b.device && a.rootEntry == b.rootEntry && a.contextEntry == b.contextEntry && a.pasid == b.pasid
                && a.pasidEntry == b.pasidEntry
        }
    }
}

/// One `Device ... @0x%llx` heading of `domain_translation_struct` with its rows.
public struct VTdDomainDump: Sendable, Equatable {
    public enum Layout: String, Sendable, Equatable, Codable {
        /// v5.6-v6.6: `Device %s @0x%llx`, five entries on every row.
        case global = "v5.6"
        /// v6.7+: `Device %04x:%02x:%02x.%x [with pasid %x] @0x%llx`, rows as long as the walk.
        case perDevice = "v6.7"
    }

    /// The device's sysfs name.
    public var device: String
    /// The PASID of a `with pasid %x` heading or a per-PASID file; nil for the RID's table.
    public var pasid: UInt32?
    /// The table root the heading prints (`@0x...`).
    public var root: UInt64
    public var layout: Layout
    /// The file it came from, for located messages.
    public var file: String
    public var rows: [Row] = []
    /// Where the text lost rows: an elision (`[...]`) or a row that could not be read.
    public var gaps: [Gap] = []

    /// Rows lost after `afterRow` rows were read. The walk prints rows in IOVA order, so the
    /// lost ones lie between `rows[afterRow - 1]` and `rows[afterRow]` (or past the last).
    public struct Gap: Sendable, Equatable {
        public var afterRow: Int
        public var line: Int

        public init(afterRow: Int, line: Int) {
            self.afterRow = afterRow
            self.line = line
        }
    }

    public init(device: String, pasid: UInt32?, root: UInt64, layout: Layout, file: String) {
        self.device = device
        self.pasid = pasid
        self.root = root
        self.layout = layout
        self.file = file
    }

    /// One present leaf: its IOVA page frame number and the entries of its walk, PML5E first,
    /// as printed (a 4-level table's PML5E is printed as zero; a 2 MiB leaf ends at PDE).
    public struct Row: Sendable, Equatable {
        public var iovaPFN: UInt64
        public var entries: [UInt64]
        /// The 1-based line of the row.
        public var line: Int

        public init(iovaPFN: UInt64, entries: [UInt64], line: Int) {
            self.iovaPFN = iovaPFN
            self.entries = entries
            self.line = line
        }
    }
}

/// `invalidation_queue` of one unit.
public struct VTdInvalidationQueue: Sendable, Equatable {
    public var unit: String
    public var base: UInt64
    /// Descriptor indexes (the register value >> 4, or >> 5 for 256-bit descriptors).
    public var head: UInt64
    public var tail: UInt64
    /// 256-bit descriptors (`qw0`..`qw3`) or 128-bit (`qw0`, `qw1`).
    public var wideDescriptors: Bool
    public var entries: [Entry] = []

    public init(unit: String, base: UInt64, head: UInt64, tail: UInt64, wideDescriptors: Bool) {
        self.unit = unit
        self.base = base
        self.head = head
        self.tail = tail
        self.wideDescriptors = wideDescriptors
    }

    public struct Entry: Sendable, Equatable {
        public var index: Int
        public var words: [UInt64]
        /// 0 free, 1 in use, 2 done, 3 abort; nil where the kernel (v5.2) printed no column.
        public var status: UInt32?

        public init(index: Int, words: [UInt64], status: UInt32?) {
            self.index = index
            self.words = words
            self.status = status
        }
    }
}
