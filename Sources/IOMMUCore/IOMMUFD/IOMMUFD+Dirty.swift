/// Dirty tracking: `IOMMU_HWPT_SET_DIRTY_TRACKING` and `IOMMU_HWPT_GET_DIRTY_BITMAP`
/// (`hw_pagetable.c`, `io_pagetable.c` `iopt_set_dirty_tracking` /
/// `iopt_read_and_clear_dirty_data`, `iova_bitmap.c`), fed by each format's hardware dirty
/// bits through `IOPageTableOps.readAndClearDirty`.
extension IOMMUFD {
    /// `enum iommufd_hwpt_set_dirty_tracking_flags`.
    public static let dirtyTrackingEnable: UInt32 = 1 << 0
    /// `enum iommufd_hwpt_get_dirty_bitmap_flags`.
    public static let dirtyBitmapNoClear: UInt32 = 1 << 0
    /// The most bits one bitmap holds here (16M bits: 64 GiB of 4K pages, a 2 MiB buffer).
    /// The kernel pins the user's buffer chunk by chunk and has no such bound; past it the
    /// model answers ENOMEM rather than building the words.
    public static let dirtyBitmapMaximumBits: UInt64 = 1 << 24

    // MARK: IOMMU_HWPT_SET_DIRTY_TRACKING

    /// `iommufd_hwpt_set_dirty_tracking` → `iopt_set_dirty_tracking`: enabling first clears
    /// the dirty state of every area (a clean snapshot), then the driver's
    /// `set_dirty_tracking` switches the hardware (VT-d SSADE, AMD-Vi DTE.HAD; Arm and the
    /// mock keep their configuration), and the devices' configuration is written again.
    public func hwptSetDirtyTracking(flags: UInt32, hwptID: UInt32) throws(Refusal) {
        beginMutation()
        guard flags & ~Self.dirtyTrackingEnable == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        let hwpt = try object(hwptID, as: HWPTPaging.self)
        let domain = hwpt.domain
        guard domain.dirtyTracking else { throw .noDirtyOps(hwpt) }
        let enable = flags & Self.dirtyTrackingEnable != 0
        if enable {
            // iopt_clear_dirty_data: read_and_clear_dirty without a bitmap over each area.
            hwpt.ioas.areas.forEach(intersecting: IOVARange(start: 0, last: .max)) { range, _ in
                clearDirty(domain, range)
                return true
            }
        }
        // Every driver's set_dirty_tracking returns early when nothing changes; Arm's always.
        guard domain.dirtyTrackingEnabled != enable else { return }
        domain.dirtyTrackingEnabled = enable
        guard domain.driver.switchesDirtyTracking else { return }
        // intel_iommu_set_dirty_tracking (device_set_dirty_tracking and, for a nest parent,
        // parent_domain_set_dirty_tracking) / amd_iommu_set_dirty_tracking rewrite the PASID
        // entries / DTEs of every device using the domain.
        let users: [HWPT] = [hwpt] + objects.compactMap { ($0 as? HWPTNested).flatMap { $0.stage2 === hwpt ? $0 : nil } }
        for user in users {
            for (device, pasid) in attachments(of: user) { installConfiguration(device, pasid: pasid) }
        }
    }

    /// Read-and-clear whose bitmap is discarded, then the IOTLB sync of what it cleaned.
    private func clearDirty(_ domain: PagingDomain, _ range: IOVARange) {
        for page in domain.table.readAndClearDirty(range, clear: true) { domain.driver.flushIOTLB(domain, range: page) }
    }

    // MARK: IOMMU_HWPT_GET_DIRTY_BITMAP

    /// `iommufd_hwpt_get_dirty_bitmap`: the bitmap's u64 words, bit `i` for the `page_size`
    /// page at `iova + i * page_size` (iova_bitmap: the index is the offset shifted by
    /// `__ffs(page_size)`). A dirty IO page larger than `page_size` sets all of its bits; the
    /// walk covers the areas contiguous from `iova` and stops at the first hole, which the
    /// kernel does not report (`iova_bitmap_for_each`'s result is dropped). Reading clears the
    /// dirty state and syncs the IOTLB unless `flags` has NO_CLEAR. `data` is the bits the
    /// kernel sets in a zeroed buffer (it never clears the user's bits).
    public func hwptGetDirtyBitmap(hwptID: UInt32, flags: UInt32, iova: UInt64, length: UInt64, pageSize: UInt64,
                                   reserved: UInt32 = 0) throws(Refusal) -> [UInt64] {
        guard flags & ~Self.dirtyBitmapNoClear == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        guard reserved == 0 else { throw .reservedField(.EOPNOTSUPP, "__reserved", UInt64(reserved)) }
        let hwpt = try object(hwptID, as: HWPTPaging.self)
        // iommufd_check_iova_range: length - 1 wraps to U64_MAX for a zero length.
        guard let last = iova.checkedAdd(length &- 1) else { throw .addressOverflow(iova, length: length) }
        let alignment = hwpt.ioas.iovaAlignment
        let range = IOVARange(start: iova, last: last)
        guard iova.isAligned(to: alignment), (last &+ 1).isAligned(to: alignment) else {
            throw Refusal(.EINVAL, .dirtyRangeUnaligned, objects: [InvolvedObject(hwpt.ioas, .requested)],
                          ranges: [InvolvedRange(range, .requested)], values: [InvolvedValue("iova_alignment", alignment, .limit)])
        }
        guard pageSize != 0 else { throw Refusal(.EINVAL, .dirtyZeroPageSize, values: [InvolvedValue("page_size", 0, .requested)]) }
        guard iova & (pageSize - 1) == 0, (last &+ 1) & (pageSize - 1) == 0 else {
            throw Refusal(.EINVAL, .dirtyRangePageUnaligned, ranges: [InvolvedRange(range, .requested)],
                          values: [InvolvedValue("page_size", pageSize, .requested)])
        }
        let domain = hwpt.domain
        guard domain.dirtyTracking else { throw .noDirtyOps(hwpt) }
        let shift = UInt64(pageSize.trailingZeroBitCount)
        // One bitmap of `bits` bits, in u64 words, as the user's buffer must hold it.
        let lastBit = (last - iova) >> shift
        guard lastBit < Self.dirtyBitmapMaximumBits else {
            throw Refusal(.ENOMEM, .dirtyBitmapLimit, values: [InvolvedValue("bits", lastBit &+ 1, .requested),
                                                               InvolvedValue("bits", Self.dirtyBitmapMaximumBits, .limit)])
        }
        let bits = lastBit + 1
        var words = [UInt64](repeating: 0, count: Int((bits + 63) / 64))
        // mock_domain_read_and_clear_dirty, intel_ and amd_iommu_read_and_clear_dirty refuse
        // with EINVAL while tracking is off, before reading anything; the core drops that
        // result with the rest of iova_bitmap_for_each's, so the ioctl succeeds and sets no bit.
        if domain.driver.switchesDirtyTracking && !domain.dirtyTrackingEnabled { return words }
        let clear = flags & Self.dirtyBitmapNoClear == 0
        if clear { beginMutation() }
        var cursor = iova
        // __iommu_read_and_clear_dirty: iopt_for_each_contig_area from iova.
        while cursor <= last, let (area, _) = hwpt.ioas.areas.entry(containing: cursor) {
            let chunk = IOVARange(start: cursor, last: min(last, area.last))
            for page in domain.table.readAndClearDirty(chunk, clear: clear) {
                // iova_bitmap_set, clipped to the bitmap.
                let first = page.start > iova ? (page.start - iova) >> shift : 0
                let final = min(bits - 1, (min(page.last, last) - iova) >> shift)
                guard page.last >= iova, first <= final else { continue }
                for bit in first...final { words[Int(bit / 64)] |= 1 << (bit % 64) }
                if clear { domain.driver.flushIOTLB(domain, range: page) }
            }
            guard area.last < last else { break }
            cursor = area.last + 1
        }
        return words
    }
}

extension IOMMUFD {
    // MARK: IOMMU_TEST_OP_DIRTY

    /// `iommufd_test_dirty` (v6.17): for each bit set in `bitmap` (bit `i` for the `pageSize`
    /// page at `iova + i * pageSize`), flags the mock domain's xarray entry at index
    /// `(iova + i * pageSize) / pageSize` dirty, as DMA would; returns `out_nr_dirty`, the
    /// entries found. `bitmap == nil` is a NULL `uptr`.
    public func testDirty(hwptID: UInt32, iova: UInt64, length: UInt64, pageSize: UInt64, bitmap: [UInt64]?) throws(Refusal) -> UInt64 {
        beginMutation()
        guard pageSize != 0, length != 0, iova % pageSize == 0, length % pageSize == 0, let bitmap else {
            throw Refusal(.EINVAL, .testDirtyArguments, values: [InvolvedValue("iova", iova, .requested), InvolvedValue("length", length, .requested),
                                                                 InvolvedValue("page_size", pageSize, .requested)])
        }
        let hwpt = try object(hwptID, as: HWPTPaging.self)
        guard hwpt.domain.driver is MockIOMMU, let table = hwpt.domain.table as? FlatPageTable else { throw .notMockPagetable(hwpt) }
        guard hwpt.domain.dirtyTrackingEnabled else {
            throw Refusal(.EINVAL, .testDirtyNotTracking, objects: [InvolvedObject(hwpt, .requested)])
        }
        let pages = length / pageSize
        // copy_from_user of DIV_ROUND_UP(max, 8) bytes: a shorter buffer faults.
        guard UInt64(bitmap.count) * 64 >= pages else {
            throw Refusal(.EFAULT, .testDirtyShortBitmap, values: [InvolvedValue("bits", UInt64(bitmap.count) * 64, .requested),
                                                                   InvolvedValue("pages", pages, .limit)])
        }
        var count: UInt64 = 0
        for (index, word) in bitmap.enumerated() where word != 0 {
            for bit in 0..<64 where word >> UInt64(bit) & 1 != 0 {
                let page = UInt64(index) * 64 + UInt64(bit)
                guard page < pages else { break }
                // cur = iova + i * page_size; an address past U64_MAX has no entry.
                let (offset, overflow) = page.multipliedReportingOverflow(by: pageSize)
                guard !overflow, let current = iova.checkedAdd(offset) else { continue }
                if table.markDirty(entry: current / pageSize) { count += 1 }
            }
        }
        return count
    }
}
