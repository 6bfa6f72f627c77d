/// What a descriptor is at its level.
public enum DescriptorKind: String, Sendable {
    case invalid, table, block, page
}

/// One named field of a decoded descriptor, for display: its definition's name and bits
/// (numbered across all of a structure's words), the value read, and, for the fields of the
/// page-table formats and the configuration structures, what the field means and where its
/// specification defines it.
public struct DescriptorField: Sendable, Equatable {
    public var name: String
    /// The field's bits, low to high (`12...47`).
    public var bits: ClosedRange<Int>
    public var value: UInt64
    public var meaning: String?
    public var reference: SpecReference?

    public init(_ name: String, _ bits: ClosedRange<Int>, _ value: UInt64) {
        self.name = name
        self.bits = bits
        self.value = value
    }

    /// Reads `bits` out of `descriptor`.
    public init(_ name: String, _ bits: ClosedRange<Int>, of descriptor: UInt64) {
        self.init(name, bits, Self.read(bits, of: descriptor))
    }

    /// `definition` with `value` (an address, already masked, or a value assembled from
    /// several words).
    public init(_ definition: FieldDefinition, _ value: UInt64) {
        self.init(definition.name, definition.bits, value)
        meaning = definition.meaning
        reference = definition.reference
    }

    /// Reads `definition`'s bits out of `descriptor` (a one-word descriptor).
    public init(_ definition: FieldDefinition, of descriptor: UInt64) {
        self.init(definition, Self.read(definition.bits, of: descriptor))
    }

    /// Reads `definition`'s bits out of a structure of several 64-bit words, from the word
    /// that holds its low bit (a definition's bits lie within one word; a missing word reads
    /// as zero).
    public init(_ definition: FieldDefinition, words: [UInt64]) {
        let word = definition.bits.lowerBound / 64
        let low = definition.bits.lowerBound % 64
        let bits = low...min(63, low + definition.bits.count - 1)
        self.init(definition, words.indices.contains(word) ? Self.read(bits, of: words[word]) : 0)
    }

    static func read(_ bits: ClosedRange<Int>, of descriptor: UInt64) -> UInt64 {
        let width = bits.count
        let mask: UInt64 = width >= 64 ? .max : (1 << UInt64(width)) - 1
        return bits.lowerBound >= 64 ? 0 : (descriptor >> UInt64(bits.lowerBound)) & mask
    }
}

/// The permissions a walk accumulates or a leaf grants.
public struct AccessRights: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = AccessRights(rawValue: 1)
    public static let write = AccessRights(rawValue: 2)
    /// Both, as a plain constant: a walk reads it without a lazy global's initialisation check.
    public static let readWrite = AccessRights(rawValue: 3)

    /// "r", "w", "rw" or "-", as translate results print permissions.
    public var shortDescription: String {
        let text = (contains(.read) ? "r" : "") + (contains(.write) ? "w" : "")
        return text.isEmpty ? "-" : text
    }
}

/// A page-table format: the geometry of its levels and how Linux encodes and the hardware
/// decodes its descriptors. One conforming type per architecture format; the generic table
/// (`DescriptorPageTable`) and the walkers are written once against this protocol.
///
/// Levels use the architecture's own numbers, listed in walk order (`levels.first` holds the
/// root): Arm lookup levels 0-3, VT-d 5/4-1, AMD-Vi 6-1.
public protocol PageTableFormat: Sendable {
    /// This format as one of the core's formats, held by value (what a walk step keeps): the
    /// formats are the core's own, one `KnownFormat` case each.
    var known: KnownFormat { get }
    /// A short name for display (`arm-lpae-s2 4K ias=40 oas=40`).
    var name: String { get }
    /// The levels, root first.
    var levels: [Int] { get }
    /// `levels.first` and `levels.last`, without building the list (a walk asks on every step).
    var rootLevel: Int { get }
    var leafLevel: Int { get }
    /// Input address bits the table translates.
    var inputBits: Int { get }
    /// Whether the table has an entry for `input`: below 2^inputBits, or canonical on x86-64
    /// paging. Outside, an index would drop high bits and name a low address's entry.
    func translates(_ input: UInt64) -> Bool
    /// Every leaf size the format maps (the domain's `pgsize_bitmap`).
    var pageSizes: UInt64 { get }
    /// Bytes of the root table (all concatenated tables on Arm stage 2).
    var rootTableSize: UInt64 { get }
    /// Bytes of a table below the root.
    var tableSize: UInt64 { get }

    /// The entry index of `address` in a table at `level` (the root's index spans all of its
    /// concatenated tables).
    func index(of address: UInt64, level: Int) -> Int
    /// Bytes one entry covers at `level`.
    func entrySpan(level: Int) -> UInt64
    /// The leaf sizes Linux maps at `level`, largest first (empty: no leaf there).
    func leafSizes(level: Int) -> [UInt64]

    func kind(of descriptor: UInt64, level: Int) -> DescriptorKind
    /// The address a table descriptor of `kind` points to, or a leaf's output base: the
    /// caller has decided the kind (a walk decides it once per descriptor).
    func outputAddress(of descriptor: UInt64, level: Int, kind: DescriptorKind) -> UInt64
    /// The leaf size a descriptor maps (AMD-Vi encodes non-default sizes in the address).
    func leafSize(of descriptor: UInt64, level: Int) -> UInt64
    /// The level of the table a table descriptor points to (AMD-Vi may skip levels).
    func nextLevel(after level: Int, descriptor: UInt64) -> Int
    /// The named fields of a descriptor.
    func fields(of descriptor: UInt64, level: Int) -> [DescriptorField]
    /// What the architecture calls the addresses a stage-2 table of this format translates
    /// for a stage 1: `IPA` on Arm, `GPA` on x86.
    var intermediateAddressName: String { get }

    /// What Linux writes for a next-level table at `tableAddress`.
    func encodeTable(_ tableAddress: UInt64, level: Int) -> UInt64
    /// `PT_FEAT_DYNAMIC_TOP`: this format with one level more above its top, or nil when the
    /// top is fixed or already the highest the hardware walks.
    func grownTop() -> (any PageTableFormat)?
    /// `pt_iommu_set_prot`: the errno with which Linux refuses to map with `prot` in this
    /// table before writing anything (no format refuses by default).
    func checkProt(_ prot: IOMMUProt) throws(Refusal)
    /// What Linux writes for a leaf of `size` at `level` mapping `output` with `prot`.
    func encodeLeaf(_ output: UInt64, size: UInt64, level: Int, prot: IOMMUProt) -> UInt64
    /// How many consecutive entries one leaf of `size` occupies at `level` (AMD-Vi replicates
    /// non-default page sizes; everyone else writes one entry).
    func entriesPerLeaf(size: UInt64, level: Int) -> Int
    /// Maps the runs of `batch` from its next one into `table` with this format at its top,
    /// until all are mapped or one reaches beyond the top (the table grows it and asks
    /// again). Every format takes `DescriptorPageTable`'s implementation, specialised for it.
    func mapRuns(_ batch: inout RunBatch, in table: DescriptorPageTable) throws(Refusal)
    /// The descriptor as the hardware leaves it after using it (a table entry on the way, or
    /// the leaf) for `access` with `updates` enabled: the Access flag set, a write recorded.
    /// The walker evaluates rights and faults on it and writes it back when it differs.
    func updated(_ descriptor: UInt64, level: Int, kind: DescriptorKind, access: AccessRights,
                 updates: HardwareUpdates) -> UInt64
}

/// One of the core's page-table formats, held by value: what a walk step records, so that a
/// step is plain data, copied and dropped without reference counting or witness calls (a
/// nested walk records 24 of them).
public enum KnownFormat: Sendable, Equatable {
    case armLPAE(ArmLPAE)
    case vtdSecondStage(VTdSecondStage)
    case x86FirstStage(X86FirstStage)
    case amdV1(AMDv1)

    public var format: any PageTableFormat {
        switch self {
        case .armLPAE(let format): format
        case .vtdSecondStage(let format): format
        case .x86FirstStage(let format): format
        case .amdV1(let format): format
        }
    }
}

extension PageTableFormat {
    /// The next level in walk order: every format's levels are consecutive numbers, counting
    /// up (Arm) or down (x86); AMD-Vi, whose table descriptors may skip levels, overrides it.
    public func nextLevel(after level: Int, descriptor: UInt64) -> Int { rootLevel < leafLevel ? level + 1 : level - 1 }

    public func entriesPerLeaf(size: UInt64, level: Int) -> Int { 1 }

    public func checkProt(_ prot: IOMMUProt) throws(Refusal) {}

    public func grownTop() -> (any PageTableFormat)? { nil }

    public func translates(_ input: UInt64) -> Bool { inputBits >= 64 || input >> UInt64(inputBits) == 0 }

    /// Guest-physical addresses, as VT-d and AMD-Vi name them.
    public var intermediateAddressName: String { "GPA" }

    public func leafSize(of descriptor: UInt64, level: Int) -> UInt64 { entrySpan(level: level) }

    /// The address a table descriptor points to, or a leaf's output base.
    @inline(__always)
    public func outputAddress(of descriptor: UInt64, level: Int) -> UInt64 {
        outputAddress(of: descriptor, level: level, kind: kind(of: descriptor, level: level))
    }

    public var rootLevel: Int { levels[0] }
    public var leafLevel: Int { levels[levels.count - 1] }

    /// The most descriptors one walk reads (from the root to the leaf level), without
    /// building the list.
    public var levelCount: Int { abs(leafLevel &- rootLevel) &+ 1 }

    /// The smallest page, which fixes the IOAS alignment.
    public var granule: UInt64 { 1 << UInt64(pageSizes.trailingZeroBitCount) }
}
