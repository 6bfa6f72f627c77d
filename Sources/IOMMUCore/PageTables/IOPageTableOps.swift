/// IOMMU protection bits a mapping carries (`IOMMU_READ`, `IOMMU_WRITE`, `IOMMU_CACHE`, `IOMMU_MMIO`).
public struct IOMMUProt: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = IOMMUProt(rawValue: 1 << 0)
    public static let write = IOMMUProt(rawValue: 1 << 1)
    public static let cache = IOMMUProt(rawValue: 1 << 2)
    public static let noExec = IOMMUProt(rawValue: 1 << 3)
    public static let mmio = IOMMUProt(rawValue: 1 << 4)
    /// Project: a global stage-1 leaf (Arm nG = 0), matching every ASID. No `IOMMU_*` flag
    /// asks for one (io-pgtable-arm always sets nG), so only `guest_map` writes it.
    public static let global = IOMMUProt(rawValue: 1 << 31)

    /// "r", "w", "rw" or "-", as translate results print permissions.
    public var shortDescription: String {
        let text = (contains(.read) ? "r" : "") + (contains(.write) ? "w" : "")
        return text.isEmpty ? "-" : text
    }
}

/// One run of a domain's translations: `iova ... iova+length-1 -> output ...`.
public struct DomainMapping: Sendable, Equatable {
    public var iova: IOVARange
    public var output: UInt64
    public var prot: IOMMUProt
}

/// The seam between a domain and its page-table format, after Linux's `struct io_pgtable_ops`.
///
/// A paging domain only ever asks its table to map, unmap and look up; whether the table is an
/// index of ranges (the selftest mock's xarray) or real descriptors in simulated memory is the
/// format's business.
public protocol IOPageTableOps: ModelCopyable {
    /// Maps `[iova, iova+length)` to `output` (`map_pages`). `length` is a multiple of the
    /// smallest page size; EEXIST if anything in the range is already mapped.
    func map(iova: UInt64, output: UInt64, length: UInt64, prot: IOMMUProt) throws(Refusal)
    /// `map_pages` once per run of `runs`, consecutive in IOVA from `iova`, each run's errno
    /// as that call's; all or nothing.
    func map(iova: UInt64, runs: PhysicalRunSeries, prot: IOMMUProt) throws(Refusal)
    /// Unmaps what lies in the range and returns the bytes unmapped (`unmap_pages`).
    @discardableResult func unmap(iova: UInt64, length: UInt64) -> UInt64
    /// The output address for `iova`, or nil when unmapped (`iova_to_phys`).
    func lookup(_ iova: UInt64) -> (output: UInt64, prot: IOMMUProt)?
    /// The mapped runs that intersect `range`, ascending.
    func mappings(in range: IOVARange) -> [DomainMapping]
    /// How many mapped runs the table holds.
    var mappingCount: Int { get }
    /// `read_and_clear_dirty`: the dirty IO pages in `range` (each as the whole page the
    /// table maps there), their dirty state cleared unless `clear` is false.
    func readAndClearDirty(_ range: IOVARange, clear: Bool) -> [IOVARange]
}

extension IOPageTableOps {
    /// One `map` call per run; the runs mapped before one that fails are unmapped again.
    public func map(iova: UInt64, runs: PhysicalRunSeries, prot: IOMMUProt) throws(Refusal) {
        var start = iova
        for index in 0..<runs.count {
            do throws(Refusal) {
                try map(iova: start, output: runs.output(ofRun: index), length: runs.length, prot: prot)
            } catch {
                if start > iova { unmap(iova: iova, length: start - iova) }
                throw error
            }
            start &+= runs.length
        }
    }
}

/// A page table kept as an index of mapped runs, like the selftest mock domain's xarray.
///
/// Lookups and updates are O(log n) in runs; it holds no descriptors, so there is nothing
/// for a hardware walker to read. Real formats live beside it behind the same protocol.
public final class FlatPageTable: IOPageTableOps {
    private var runs = IntervalTree<DomainMapping>()
    /// The domain's `pgsize_bitmap`, which decides how `iommu_map` splits a run into pages
    /// (the mock marks the entries of a huge page `MOCK_PFN_HUGE_IOVA`).
    let pageSizes: UInt64
    /// The IO pages (by IOVA) whose xarray entry carries `MOCK_PFN_DIRTY_IOVA`.
    var dirtyPages = Set<UInt64>()

    public init(pageSizes: UInt64 = MockIOMMU.ioPageSize) { self.pageSizes = pageSizes }

    public func makeCopy(in copier: ModelCopy) -> FlatPageTable {
        let copy = FlatPageTable(pageSizes: pageSizes)
        copy.runs = runs
        copy.dirtyPages = dirtyPages
        return copy
    }

    public func map(iova: UInt64, output: UInt64, length: UInt64, prot: IOMMUProt) throws(Refusal) {
        guard let range = IOVARange(start: iova, length: length) else { throw .mapRange(iova: iova, length: length) }
        if runs.intersects(range) { throw .mapped(range, existing: mappings(in: range).first?.iova) }
        runs.insert(range, DomainMapping(iova: range, output: output, prot: prot))
    }

    public func unmap(iova: UInt64, length: UInt64) -> UInt64 {
        guard let range = IOVARange(start: iova, length: length) else { return 0 }
        var doomed: [DomainMapping] = []
        runs.forEach(intersecting: range) { _, mapping in doomed.append(mapping); return true }
        var unmapped: UInt64 = 0
        // Erased xarray entries lose their dirty flag with them.
        if !dirtyPages.isEmpty { dirtyPages = dirtyPages.filter { !range.contains($0) } }
        for mapping in doomed {
            runs.remove(startingAt: mapping.iova.start)
            // Keep the parts outside the range, as a page table would keep their PTEs.
            if mapping.iova.start < range.start {
                let head = IOVARange(start: mapping.iova.start, last: range.start - 1)
                runs.insert(head, DomainMapping(iova: head, output: mapping.output, prot: mapping.prot))
            }
            if mapping.iova.last > range.last {
                let tail = IOVARange(start: range.last + 1, last: mapping.iova.last)
                runs.insert(tail, DomainMapping(iova: tail, output: mapping.output &+ (tail.start - mapping.iova.start), prot: mapping.prot))
            }
            let cut = IOVARange(start: max(range.start, mapping.iova.start), last: min(range.last, mapping.iova.last))
            unmapped &+= cut.last - cut.start + 1
        }
        return unmapped
    }

    public func lookup(_ iova: UInt64) -> (output: UInt64, prot: IOMMUProt)? {
        guard let (range, mapping) = runs.entry(containing: iova) else { return nil }
        return (mapping.output &+ (iova - range.start), mapping.prot)
    }

    public func mappings(in range: IOVARange) -> [DomainMapping] {
        var found: [DomainMapping] = []
        runs.forEach(intersecting: range) { _, mapping in found.append(mapping); return true }
        return found
    }

    public var mappingCount: Int { runs.count }
}
