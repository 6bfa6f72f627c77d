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
    private var runs = IntervalTree<DomainMapping>()
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
        copy.runs = runs
        copy.tables = tables
        copier.later { [self] in copy.owner = owner.map(copier.copy) }
        return copy
    }

    public var mappingCount: Int { runs.count }

    public func mappings(in range: IOVARange) -> [DomainMapping] {
        var found: [DomainMapping] = []
        runs.forEach(intersecting: range) { _, mapping in found.append(mapping); return true }
        return found
    }

    // MARK: Map

    public func map(iova: UInt64, output: UInt64, length: UInt64, prot: IOMMUProt) throws(Refusal) {
        guard let range = IOVARange(start: iova, length: length) else { throw .mapRange(iova: iova, length: length) }
        guard output.checkedAdd(length - 1) != nil else { throw .addressOverflow(output, length: length) }
        // `pt_iommu_set_prot` comes first; then the top grows to cover the range.
        try format.checkProt(prot)
        try growTop(toCover: range.last)
        guard range.last >> UInt64(format.inputBits) == 0 || format.inputBits >= 64 else {
            throw Refusal(.ERANGE, .pageTableBeyondTop, ranges: [Refusal.InvolvedRange(range, .requested),
                                                                 Refusal.InvolvedRange(.addressWidth(format.inputBits), .aperture)])
        }
        guard iova.isAligned(to: format.granule), output.isAligned(to: format.granule),
              length.isAligned(to: format.granule) else {
            throw Refusal(.EINVAL, .pageTableUnaligned, values: [
                Refusal.InvolvedValue("iova", iova, .requested), Refusal.InvolvedValue("paddr", output, .requested),
                Refusal.InvolvedValue("size", length, .requested), Refusal.InvolvedValue("min_pagesz", format.granule, .limit),
                .pageSizes(format.pageSizes),
            ])
        }
        if runs.intersects(range) { throw .mapped(range, existing: mappings(in: range).first?.iova) }
        var offset: UInt64 = 0
        while offset < length {
            let size = largestPage(iova: iova + offset, output: output + offset, remaining: length - offset)
            do throws(Refusal) {
                try installLeaf(iova: iova + offset, output: output + offset, size: size, prot: prot)
            } catch {
                if offset > 0 { clear(IOVARange(start: iova, length: offset)!) }
                throw error
            }
            offset += size
        }
        runs.insert(range, DomainMapping(iova: range, output: output, prot: prot))
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

    /// `iommu_pgsize`: the largest supported page that fits alignment and length.
    private func largestPage(iova: UInt64, output: UInt64, remaining: UInt64) -> UInt64 {
        var sizes = format.pageSizes
        var best = format.granule
        while sizes != 0 {
            let size: UInt64 = 1 << UInt64(sizes.trailingZeroBitCount)
            sizes &= sizes - 1
            if size <= remaining && iova.isAligned(to: size) && output.isAligned(to: size) { best = max(best, size) }
        }
        return best
    }

    private func installLeaf(iova: UInt64, output: UInt64, size: UInt64, prot: IOMMUProt) throws(Refusal) {
        // map() checked that the whole run fits below 2^64.
        let leafRange = IOVARange(start: iova, last: iova + (size - 1))
        var table = root
        var level = format.rootLevel
        while true {
            let slot = table + UInt64(format.index(of: iova, level: level)) * 8
            let descriptor = read(slot)
            if format.leafSizes(level: level).contains(size) {
                let count = format.entriesPerLeaf(size: size, level: level)
                for entry in 0..<count where read(slot + UInt64(entry) * 8) != 0 { throw .mapped(leafRange, existing: nil) }
                let leaf = format.encodeLeaf(output, size: size, level: level, prot: prot)
                for entry in 0..<count { write(slot + UInt64(entry) * 8, leaf) }
                return
            }
            guard level != format.leafLevel else {
                throw Refusal(.EINVAL, .pageTablePageSize, values: [Refusal.InvolvedValue("pgsize", size, .requested), .pageSizes(format.pageSizes)])
            }
            switch format.kind(of: descriptor, level: level) {
            case .table:
                table = format.outputAddress(of: descriptor, level: level)
                level = format.nextLevel(after: level, descriptor: descriptor)
            case .invalid where descriptor == 0:
                let newTable = try memory.allocateTable(size: format.tableSize)
                tables.append(newTable)
                let entry = format.encodeTable(newTable, level: level)
                write(slot, entry)
                table = newTable
                level = format.nextLevel(after: level, descriptor: entry)
            default:
                throw .mapped(leafRange, existing: nil)
            }
        }
    }

    // MARK: Unmap

    public func unmap(iova: UInt64, length: UInt64) -> UInt64 {
        guard length > 0 else { return 0 }
        let range = IOVARange(start: iova, length: length) ?? IOVARange(start: iova, last: .max)
        var doomed: [DomainMapping] = []
        runs.forEach(intersecting: range) { _, mapping in doomed.append(mapping); return true }
        var unmapped: UInt64 = 0
        for mapping in doomed {
            runs.remove(startingAt: mapping.iova.start)
            clear(mapping.iova)
            // Parts of a run outside the range stay mapped (Linux splits blocks to keep them).
            if mapping.iova.start < range.start {
                let head = range.start - mapping.iova.start
                try? map(iova: mapping.iova.start, output: mapping.output, length: head, prot: mapping.prot)
            }
            if mapping.iova.last > range.last {
                let skip = range.last + 1 - mapping.iova.start
                try? map(iova: range.last + 1, output: mapping.output + skip, length: mapping.iova.last - range.last, prot: mapping.prot)
            }
            let cut = IOVARange(start: max(range.start, mapping.iova.start), last: min(range.last, mapping.iova.last))
            unmapped &+= cut.last - cut.start + 1
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
        let prot = runs.entry(containing: iova)?.value.prot ?? [.read, .write]
        return (format.outputAddress(of: descriptor, level: level) + (iova & (size - 1)), prot)
    }

    // Page tables live in memory this table allocated, so accesses cannot fault.
    private func read(_ address: UInt64) -> UInt64 { (try? memory.read64(address)) ?? 0 }
    private func write(_ address: UInt64, _ value: UInt64) { try? memory.write64(address, value) }
}
