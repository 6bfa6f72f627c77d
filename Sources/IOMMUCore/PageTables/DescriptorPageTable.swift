/// Memory that page-table descriptors live in: host physical memory for the host's domains,
/// or a guest's RAM (through the IOAS) for the stage-1 tables a guest builds.
public protocol TableMemory: ModelCopyable {
    func read64(_ address: UInt64) throws(BusError) -> UInt64
    func write64(_ address: UInt64, _ value: UInt64) throws(BusError)
    /// Zeroed memory for a table of `size` bytes, naturally aligned to its (page-rounded) size.
    func allocateTable(size: UInt64) throws(Refusal) -> UInt64
}

extension PhysicalMemory: TableMemory {
    /// Tables are whole pages, naturally aligned to their size (`alloc_pages` of that order).
    public func allocateTable(size: UInt64) throws(Refusal) -> UInt64 {
        let length = max(size, PhysicalMemory.frameSize).roundedUpToPowerOfTwo
        return try allocate(length: length, alignment: length)
    }
}

/// A page table of real descriptors in simulated memory, built the way Linux's
/// io-pgtable code builds it: tables allocated zeroed on demand, each leaf the largest
/// page size that the IOVA, the output address and the remaining length allow.
///
/// It is generic over the format; `lookup` walks the descriptors themselves. A side index
/// of the runs mapped lets views list mappings without walking every table.
public final class DescriptorPageTable: IOPageTableOps {
    /// The format at the table's current top (it changes only when a dynamic top grows).
    public private(set) var format: any PageTableFormat
    public let memory: any TableMemory
    /// The root table's address (TTB, SSPTPTR, DTE root pointer), in `memory`'s address space.
    public private(set) var root: UInt64
    /// The domain whose driver `change_top` tells after a dynamic top grew, so that it
    /// rewrites every reference its hardware has to the root and the level count (AMD-Vi's
    /// DTE root and Mode); nil for tables nobody must tell (fixed tops, a guest's tables).
    public weak var owner: PagingDomain?
    private var mapped = MappingIndex()
    /// Every table this page table allocated, root first.
    public private(set) var tables: [UInt64] = []

    public init(format: any PageTableFormat, memory: any TableMemory) throws(Refusal) {
        self.format = format
        self.memory = memory
        root = try memory.allocateTable(size: format.rootTableSize)
        tables.append(root)
    }

    private init(format: any PageTableFormat, memory: any TableMemory, root: UInt64) {
        self.format = format
        self.memory = memory
        self.root = root
    }

    /// The same table over the copy of its memory (whose descriptors the memory's copy holds).
    public func makeCopy(in copier: ModelCopy) -> DescriptorPageTable {
        let copy = DescriptorPageTable(format: format, memory: copier.copy(memory), root: root)
        copy.mapped = mapped
        copy.tables = tables
        copier.later { [self] in copy.owner = owner.map(copier.copy) }
        return copy
    }

    public var mappingCount: Int { mapped.count }

    public func mappings(in range: IOVARange) -> [DomainMapping] {
        var found: [DomainMapping] = []
        mapped.forEach(intersecting: range) { found.append($0); return true }
        return found
    }

    // MARK: Map

    public func map(iova: UInt64, output: UInt64, length: UInt64, prot: IOMMUProt) throws(Refusal) {
        try map(iova: iova, runs: PhysicalRunSeries(output: output, length: length, count: 1, stride: 0), prot: prot)
    }

    /// `map_pages` for each run of `runs` in turn, consecutive in IOVA from `iova`, with the
    /// checks and errno of each call; all or nothing: a run that fails leaves none of the
    /// series mapped. The format maps the runs (`PageTableFormat.mapRuns`, specialised per
    /// format) until one reaches beyond the top, which grows here before it goes on.
    public func map(iova: UInt64, runs: PhysicalRunSeries, prot: IOMMUProt) throws(Refusal) {
        var batch = RunBatch(iova: iova, runs: runs, prot: prot, conflict: firstConflict(iova: iova, runs: runs))
        do throws(Refusal) {
            while true {
                try format.mapRuns(&batch, in: self)
                guard batch.next < runs.count else { break }
                // The run reaches beyond the top: grow it (once; beyond it still is ERANGE).
                try growTop(toCover: batch.start + (runs.length - 1))
                batch.grown = batch.next
                batch.leafTable = nil
            }
        } catch {
            if batch.installed > 0 { clear(IOVARange(start: iova, length: batch.installed)!) }
            throw error
        }
        mapped.insert(iova: iova, runs, prot: prot)
    }

    /// The first run of the series that would meet a mapping already in the table (the run
    /// whose `map_pages` fails with EEXIST), and the first mapping in its way.
    private func firstConflict(iova: UInt64, runs: PhysicalRunSeries) -> (run: UInt64, existing: IOVARange)? {
        guard runs.length > 0 else { return nil }
        let (bytes, overflow) = runs.length.multipliedReportingOverflow(by: runs.count)
        let span = overflow ? IOVARange(start: iova, last: .max) : IOVARange(start: iova, length: bytes) ?? IOVARange(start: iova, last: .max)
        guard let existing = mapped.firstMapping(intersecting: span) else { return nil }
        return ((max(existing.iova.start, iova) - iova) / runs.length, existing.iova)
    }

    /// `increase_top` (`PT_FEAT_DYNAMIC_TOP`; AMD v1's `increase_address_space`): while
    /// `address` is beyond the top's reach and the format can grow, a new top table whose
    /// entry 0 points to the old top, one level at a time; then `owner`'s driver is told
    /// (`topChanged(of:)`). Tables never shrink.
    private func growTop(toCover address: UInt64) throws(Refusal) {
        var grew = false
        defer { if grew, let owner { owner.driver.topChanged(of: owner) } }
        while !format.translates(address), let taller = format.grownTop() {
            let newRoot = try memory.allocateTable(size: taller.rootTableSize)
            write(newRoot, taller.encodeTable(root, level: taller.rootLevel))
            tables.insert(newRoot, at: 0)
            root = newRoot
            format = taller
            grew = true
        }
    }

    /// A zeroed table for a level below the top, recorded in `tables`.
    fileprivate func newTable() throws(Refusal) -> UInt64 {
        let table = try memory.allocateTable(size: format.tableSize)
        tables.append(table)
        return table
    }

    // MARK: Unmap

    public func unmap(iova: UInt64, length: UInt64) -> UInt64 {
        guard length > 0 else { return 0 }
        let range = IOVARange(start: iova, length: length) ?? IOVARange(start: iova, last: .max)
        var unmapped: UInt64 = 0
        for removal in mapped.remove(range) {
            clear(removal.runs)
            // Parts of a run outside the range stay mapped (Linux splits blocks to keep them).
            for kept in [removal.head, removal.tail].compactMap({ $0 }) {
                try? map(iova: kept.iova.start, output: kept.output, length: kept.iova.last - kept.iova.start + 1, prot: kept.prot)
            }
            unmapped &+= removal.unmapped
        }
        return unmapped
    }

    /// Zeroes every leaf entry inside `range` (whole leaves: the range follows map calls).
    private func clear(_ range: IOVARange) {
        var address = range.start
        while address <= range.last {
            guard let (slot, level, descriptor) = leafSlot(for: address) else {
                // Nothing here: skip to the next granule.
                guard let next = address.checkedAdd(format.granule) else { return }
                address = next
                continue
            }
            let size = format.leafSize(of: descriptor, level: level)
            let count = format.entriesPerLeaf(size: size, level: level)
            let first = slot - UInt64(format.index(of: address, level: level) % count) * 8
            for entry in 0..<count { write(first + UInt64(entry) * 8, 0) }
            guard let next = address.alignedDown(to: size).checkedAdd(size) else { return }
            address = next
        }
    }

    // MARK: Lookup

    /// The descriptors from the root to the leaf (or the first invalid entry) for `iova`, as
    /// software (not the IOMMU) reads them; `stage` labels the steps.
    public func path(to iova: UInt64, stage: TranslationStage = .stage1) -> [WalkStep] {
        cursor(stage: stage).steps(to: iova, limit: format.levels.count)
    }

    /// The slot, level and descriptor of the leaf mapping `iova`, found by the cursor.
    private func leafSlot(for iova: UInt64) -> (slot: UInt64, level: Int, descriptor: UInt64)? { cursor().leaf(for: iova) }

    /// `iova_to_phys`, by walking the descriptors.
    public func lookup(_ iova: UInt64) -> (output: UInt64, prot: IOMMUProt)? {
        guard format.inputBits >= 64 || iova >> UInt64(format.inputBits) == 0,
              let (_, level, descriptor) = leafSlot(for: iova) else { return nil }
        let size = format.leafSize(of: descriptor, level: level)
        let prot = mapped.prot(at: iova) ?? [.read, .write]
        return (format.outputAddress(of: descriptor, level: level) + (iova & (size - 1)), prot)
    }

    // Page tables live in memory this table allocated, so accesses cannot fault.
    fileprivate func read(_ address: UInt64) -> UInt64 { (try? memory.read64(address)) ?? 0 }
    fileprivate func write(_ address: UInt64, _ value: UInt64) { try? memory.write64(address, value) }
}

/// A series being mapped (`DescriptorPageTable.map(iova:runs:prot:)`): the runs, the run in
/// the way of a mapping already there, how far the mapping got, and the leaf table the last
/// leaf went into.
public struct RunBatch {
    let iova: UInt64
    let runs: PhysicalRunSeries
    let prot: IOMMUProt
    /// The first run whose `map_pages` meets a mapping, and the first mapping in its way.
    let conflict: (run: UInt64, existing: IOVARange)?
    /// The next run to map, and its IOVA.
    var next: UInt64 = 0
    var start: UInt64
    /// The bytes of leaves written from `iova`.
    var installed: UInt64 = 0
    /// The run the top grew for (still beyond the top after that: ERANGE).
    var grown: UInt64?
    var leafTable: LeafTable?

    init(iova: UInt64, runs: PhysicalRunSeries, prot: IOMMUProt, conflict: (run: UInt64, existing: IOVARange)?) {
        self.iova = iova
        self.runs = runs
        self.prot = prot
        self.conflict = conflict
        start = iova
    }
}

/// The leaf table the last leaf of a map call went into: the size of its leaves, its level,
/// its address, how many entries a leaf takes there, and the IOVAs it covers.
struct LeafTable {
    var size: UInt64
    var level: Int
    var table: UInt64
    var entries: Int
    var covers: IOVARange
}

extension PageTableFormat {
    /// The highest input address the format translates.
    fileprivate var lastTranslated: UInt64 { inputBits >= 64 ? .max : (1 << UInt64(inputBits)) - 1 }

    /// Each run from `batch.next`: the checks of one `map_pages` call, then its leaves, each
    /// the largest page that fits, one descriptor write each into the leaf table the last
    /// leaf used while they stay inside it (one walk from the root per table). Returns early
    /// at a run beyond the top that the top has not grown for yet.
    public func mapRuns(_ batch: inout RunBatch, in table: DescriptorPageTable) throws(Refusal) {
        let runs = batch.runs, prot = batch.prot, reach = lastTranslated, sizes = pageSizes, granule = self.granule
        // The loop's state in locals, back in the batch however the loop ends.
        var next = batch.next, start = batch.start, installed = batch.installed, leafTable = batch.leafTable
        defer { (batch.next, batch.start, batch.installed, batch.leafTable) = (next, start, installed, leafTable) }
        while next < runs.count {
            let output = runs.output(ofRun: next)
            guard let range = IOVARange(start: start, length: runs.length) else { throw .mapRange(iova: start, length: runs.length) }
            guard output.checkedAdd(runs.length - 1) != nil else { throw .addressOverflow(output, length: runs.length) }
            // `pt_iommu_set_prot` comes first; then the top grows to cover the range.
            if next == 0 { try checkProt(prot) }
            if range.last > reach {
                guard batch.grown == next else { return }
                throw Refusal(.ERANGE, .pageTableBeyondTop, ranges: [Refusal.InvolvedRange(range, .requested),
                                                                     Refusal.InvolvedRange(.addressWidth(inputBits), .aperture)])
            }
            guard start.isAligned(to: granule), output.isAligned(to: granule), runs.length.isAligned(to: granule) else {
                throw Refusal(.EINVAL, .pageTableUnaligned, values: [
                    Refusal.InvolvedValue("iova", start, .requested), Refusal.InvolvedValue("paddr", output, .requested),
                    Refusal.InvolvedValue("size", runs.length, .requested), Refusal.InvolvedValue("min_pagesz", granule, .limit),
                    .pageSizes(sizes),
                ])
            }
            if let conflict = batch.conflict, conflict.run == next { throw .mapped(range, existing: conflict.existing) }
            var offset: UInt64 = 0
            while offset < runs.length {
                let iova = start + offset, address = output + offset
                let size = largestPage(sizes, granule: granule, iova: iova, output: address, remaining: runs.length - offset)
                if let leaf = leafTable, leaf.size == size, leaf.covers.contains(iova) {
                    try writeLeaf(at: leaf.table + UInt64(index(of: iova, level: leaf.level)) * 8, in: table, entries: leaf.entries,
                                  iova: iova, output: address, size: size, level: leaf.level, prot: prot)
                } else {
                    try installLeaf(iova: iova, output: address, size: size, prot: prot, in: &leafTable, of: table)
                }
                offset += size
                installed += size
            }
            next += 1
            start = range.last &+ 1
        }
    }

    /// `iommu_pgsize`: the largest page of `sizes` (this format's) that fits alignment and
    /// length (`granule` when none does).
    @inline(__always)
    fileprivate func largestPage(_ sizes: UInt64, granule: UInt64, iova: UInt64, output: UInt64, remaining: UInt64) -> UInt64 {
        // Power-of-two sizes up to the largest one in `remaining`, and up to the lowest set
        // bit of both addresses (all sizes when both are zero); `&-` makes the masks.
        let largestFitting: UInt64 = 1 << UInt64(63 - remaining.leadingZeroBitCount)
        let fitting = (largestFitting << 1) &- 1
        let addresses = iova | output
        let lowestBit = addresses & (~addresses &+ 1)
        let aligned = addresses == 0 ? UInt64.max : (lowestBit << 1) &- 1
        let candidates = sizes & fitting & aligned
        return candidates == 0 ? granule : 1 << UInt64(63 - candidates.leadingZeroBitCount)
    }

    /// Writes the leaf of `size` for `iova` by a walk from the root that allocates the tables
    /// missing on the way, and leaves the table it ended in as `leafTable`.
    fileprivate func installLeaf(iova: UInt64, output: UInt64, size: UInt64, prot: IOMMUProt, in leafTable: inout LeafTable?,
                                 of table: DescriptorPageTable) throws(Refusal) {
        var current = table.root
        var level = rootLevel
        var covers = IOVARange.all
        while true {
            let slot = current + UInt64(index(of: iova, level: level)) * 8
            let descriptor = table.read(slot)
            if leafSizes(level: level).contains(size) {
                let entries = entriesPerLeaf(size: size, level: level)
                leafTable = LeafTable(size: size, level: level, table: current, entries: entries, covers: covers)
                return try writeLeaf(at: slot, in: table, entries: entries, iova: iova, output: output, size: size, level: level, prot: prot)
            }
            guard level != leafLevel else {
                throw Refusal(.EINVAL, .pageTablePageSize, values: [Refusal.InvolvedValue("pgsize", size, .requested), .pageSizes(pageSizes)])
            }
            // The entry's span is a power of two, so its last address cannot overflow.
            let span = entrySpan(level: level)
            let start = iova.alignedDown(to: span)
            covers = IOVARange(start: start, last: start + (span - 1))
            switch kind(of: descriptor, level: level) {
            case .table:
                current = outputAddress(of: descriptor, level: level, kind: .table)
                level = nextLevel(after: level, descriptor: descriptor)
            case .invalid where descriptor == 0:
                let newTable = try table.newTable()
                let entry = encodeTable(newTable, level: level)
                table.write(slot, entry)
                current = newTable
                level = nextLevel(after: level, descriptor: entry)
            default:
                throw .mapped(IOVARange(start: iova, last: iova + (size - 1)), existing: nil)
            }
        }
    }

    /// Writes the leaf at `slot` (and the `entries - 1` after it that it replicates into);
    /// EEXIST when any of them holds something.
    @inline(__always)
    fileprivate func writeLeaf(at slot: UInt64, in table: DescriptorPageTable, entries: Int, iova: UInt64, output: UInt64,
                               size: UInt64, level: Int, prot: IOMMUProt) throws(Refusal) {
        // map() checked that the whole run fits below 2^64.
        for entry in 0..<entries where table.read(slot + UInt64(entry) * 8) != 0 {
            throw .mapped(IOVARange(start: iova, last: iova + (size - 1)), existing: nil)
        }
        let leaf = encodeLeaf(output, size: size, level: level, prot: prot)
        for entry in 0..<entries { table.write(slot + UInt64(entry) * 8, leaf) }
    }
}
