/// Hardware Access/Dirty state in the descriptors of each real format: what the IOMMU writes
/// when a walk uses an entry (`PageTableFormat.updated`), and how Linux's
/// `read_and_clear_dirty` reads and clears the dirty state (`DirtyTrackingFormat`).

extension PageTableFormat {
    /// Formats whose hardware keeps no Access/Dirty state in the descriptors.
    public func updated(_ descriptor: UInt64, level: Int, kind: DescriptorKind, access: AccessRights,
                        updates: HardwareUpdates) -> UInt64 { descriptor }
}

/// A format whose leaves record DMA writes, read back and cleared by the driver's
/// `iommu_dirty_ops.read_and_clear_dirty`.
public protocol DirtyTrackingFormat: PageTableFormat {
    /// The leaf records a write since it was last cleaned.
    func isDirty(_ leaf: UInt64, level: Int) -> Bool
    /// The leaf with its dirty state cleared (writable-clean again).
    func cleaned(_ leaf: UInt64, level: Int) -> UInt64
}

// MARK: Arm VMSAv8-64 (HTTU)

extension ArmLPAE: DirtyTrackingFormat {
    /// AF (`ARM_LPAE_PTE_AF`).
    static let accessFlag: UInt64 = 1 << 10
    /// AP[2] (`ARM_LPAE_PTE_AP_RDONLY`): a DBM leaf with it set is writable-clean.
    static let readOnly: UInt64 = 1 << 7
    /// DBM (`ARM_LPAE_PTE_DBM`).
    static let dirtyBitModifier: UInt64 = 1 << 51

    /// Stage 1 with CD.HA: AF is set on use instead of an Access flag fault. With CD.HD, a
    /// write to a DBM leaf clears AP[2] (writable-dirty) instead of a permission fault (Arm
    /// ARM D8.4 "Hardware management of the Access flag and dirty state"). Stage 2
    /// (STE.S2HA/S2HD) is not modelled: Linux enables neither.
    public func updated(_ descriptor: UInt64, level: Int, kind: DescriptorKind, access: AccessRights,
                        updates: HardwareUpdates) -> UInt64 {
        guard stage == .stage1, kind == .block || kind == .page else { return descriptor }
        var result = descriptor
        if updates.contains(.access) { result |= Self.accessFlag }
        if updates.contains(.dirty), access.contains(.write), result & Self.dirtyBitModifier != 0 { result &= ~Self.readOnly }
        return result
    }

    /// `iopte_writeable_dirty`: DBM set and AP[2] clear. Only stage-1 tables with
    /// `IO_PGTABLE_QUIRK_ARM_HD` have dirty ops.
    public func isDirty(_ leaf: UInt64, level: Int) -> Bool {
        stage == .stage1 && leaf & (Self.readOnly | Self.dirtyBitModifier) == Self.dirtyBitModifier
    }

    /// `__arm_lpae_read_and_clear_dirty`: `set_bit(ARM_LPAE_PTE_AP_RDONLY_BIT, ptep)`.
    public func cleaned(_ leaf: UInt64, level: Int) -> UInt64 { leaf | Self.readOnly }
}

// MARK: Formats with A and D bits (VT-d second stage, AMD-Vi v1)

/// A format whose hardware sets an Accessed bit in every entry it uses and a Dirty bit in
/// the leaf of a write, and whose driver reads and clears that Dirty bit.
public protocol AccessedDirtyFormat: DirtyTrackingFormat {
    static var accessed: UInt64 { get }
    static var dirty: UInt64 { get }
}

extension AccessedDirtyFormat {
    public func updated(_ descriptor: UInt64, level: Int, kind: DescriptorKind, access: AccessRights,
                        updates: HardwareUpdates) -> UInt64 {
        var result = descriptor
        if updates.contains(.access) { result |= Self.accessed }
        if updates.contains(.dirty), access.contains(.write), kind != .table { result |= Self.dirty }
        return result
    }

    public func isDirty(_ leaf: UInt64, level: Int) -> Bool { leaf & Self.dirty != 0 }
    public func cleaned(_ leaf: UInt64, level: Int) -> UInt64 { leaf & ~Self.dirty }
}

/// With the PASID entry's SSADE (VT-d spec 3.x §3.6.2 "Accessed, Extended Accessed and Dirty
/// flags"): A (bit 8) on every second-stage entry used, D (bit 9) on the leaf of a write;
/// `dma_sl_pte_test_and_clear_dirty` reads and clears `DMA_SL_PTE_DIRTY`.
extension VTdSecondStage: AccessedDirtyFormat {}

/// DTE.HAD (AMD IOMMU spec 48882 §2.2.7.1): 01b sets A (bit 5) on the entries used, 11b also
/// D (bit 6, `IOMMU_PTE_HD_BIT`) on the leaf of a write; hardware writes the one replica of
/// a non-default page size that it read, and `pte_test_and_clear_dirty` tests every replica.
extension AMDv1: AccessedDirtyFormat {}

extension HardwareUpdates {
    /// AMD-Vi DTE.HAD (bits 8:7): 00b none, 01b Access only, 11b Access and Dirty (10b is
    /// reserved and updates nothing here).
    public init(amdHostAccessDirty had: UInt64) {
        switch had & 3 {
        case 1: self = .access
        case 3: self = [.access, .dirty]
        default: self = []
        }
    }
}

// MARK: Reading and clearing a table

extension DescriptorPageTable {
    /// `read_and_clear_dirty` over `range` (`arm_lpae_read_and_clear_dirty`,
    /// `intel_iommu_read_and_clear_dirty`, `amd_iommu_read_and_clear_dirty`): every leaf in
    /// the range that is dirty in any of its entries, as the whole leaf's IOVA range, cleaned
    /// unless `clear` is false (`IOMMU_DIRTY_NO_CLEAR`). A format without dirty state reads clean.
    public func readAndClearDirty(_ range: IOVARange, clear: Bool) -> [IOVARange] {
        guard let format = format as? any DirtyTrackingFormat else { return [] }
        var dirty: [IOVARange] = []
        var address = range.start
        while address <= range.last {
            guard let leaf = path(to: address).last else { return dirty }
            let span: UInt64
            if leaf.kind == .block || leaf.kind == .page {
                span = format.leafSize(of: leaf.descriptor, level: leaf.level)
                let count = format.entriesPerLeaf(size: span, level: leaf.level)
                let first = leaf.entryAddress - UInt64(leaf.index % count) * 8
                let replicas = (0..<count).map { first + UInt64($0) * 8 }
                let words = replicas.map { (try? memory.read64($0)) ?? 0 }
                if words.contains(where: { format.isDirty($0, level: leaf.level) }) {
                    let start = address.alignedDown(to: span)
                    dirty.append(IOVARange(start: start, last: start.checkedAdd(span - 1) ?? .max))
                    if clear {
                        for (slot, word) in zip(replicas, words) { try? memory.write64(slot, format.cleaned(word, level: leaf.level)) }
                    }
                }
            } else {
                // Nothing mapped below an invalid entry: skip what it spans.
                span = leaf.kind == .invalid ? format.entrySpan(level: leaf.level) : format.granule
            }
            guard let next = address.alignedDown(to: span).checkedAdd(span) else { return dirty }
            address = next
        }
        return dirty
    }
}

// MARK: The selftest mock's xarray

extension FlatPageTable {
    /// The size of the IO page `iova` belongs to: `MOCK_HUGE_PAGE_SIZE` where `iommu_map`
    /// split the run into a huge page (the IOVA block lies wholly in the run and its output is
    /// aligned like it), else `MOCK_IO_PAGE_SIZE`; nil where nothing is mapped.
    func ioPageSize(at iova: UInt64) -> UInt64? {
        guard let mapping = mappings(in: IOVARange(start: iova, last: iova)).first else { return nil }
        let huge = MockIOMMU.hugeIOPageSize
        let block = iova.alignedDown(to: huge)
        if pageSizes & huge != 0, block >= mapping.iova.start, let end = block.checkedAdd(huge - 1), end <= mapping.iova.last,
           (mapping.output &- mapping.iova.start).isAligned(to: huge) {
            return huge
        }
        return MockIOMMU.ioPageSize
    }

    /// `IOMMU_TEST_OP_DIRTY`'s store: flags the xarray entry at index `index` (the v6.17
    /// `iommufd_test_dirty` indexes by `iova / page_size` of the caller's page size); false
    /// where there is no entry.
    func markDirty(entry index: UInt64) -> Bool {
        let (iova, overflow) = index.multipliedReportingOverflow(by: MockIOMMU.ioPageSize)
        guard !overflow, ioPageSize(at: iova) != nil else { return false }
        dirtyPages.insert(iova)
        return true
    }

    /// `mock_domain_read_and_clear_dirty`: IO page by IO page from `range.start`; a huge entry
    /// reports (from the address reached) a whole huge page if any of its IO pages is dirty
    /// (`mock_test_and_clear_dirty`), and clears them all unless `clear` is false.
    public func readAndClearDirty(_ range: IOVARange, clear: Bool) -> [IOVARange] {
        var dirty: [IOVARange] = []
        var iova = range.start
        while iova <= range.last {
            let size = ioPageSize(at: iova) ?? MockIOMMU.ioPageSize
            if ioPageSize(at: iova) != nil {
                let head = iova.alignedDown(to: size)
                let pages = stride(from: head, to: head &+ size, by: Int(MockIOMMU.ioPageSize)).filter { dirtyPages.contains($0) }
                if !pages.isEmpty {
                    if clear { dirtyPages.subtract(pages) }
                    dirty.append(IOVARange(start: iova, last: iova.checkedAdd(size - 1) ?? .max))
                }
            }
            guard let next = iova.checkedAdd(size) else { break }
            iova = next
        }
        return dirty
    }
}
