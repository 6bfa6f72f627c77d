/// In-kernel accesses (`drivers/iommu/iommufd/device.c`'s `iommufd_access_*`, `io_pagetable.c`'s
/// `iopt_add_access`) and the selftest driver that drives them (`selftest.c`'s
/// `iommufd_test_create_access`, `_access_pages`, `_access_rw`, `_access_replace_ioas` and the
/// `selftest_access_ops` unmap callback).

/// `MOCK_FLAGS_ACCESS_*` and `MOCK_ACCESS_RW_*` of `iommufd_test.h`.
public enum MockAccessFlags {
    /// `MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES`.
    public static let needsPinPages: UInt32 = 1 << 0
    /// `MOCK_FLAGS_ACCESS_WRITE` (ACCESS_PAGES) and `MOCK_ACCESS_RW_WRITE` (ACCESS_RW).
    public static let write: UInt32 = 1 << 0
    /// `MOCK_ACCESS_RW_SLOW_PATH`: the copy goes page by page; the bytes are the same.
    public static let slowPath: UInt32 = 1 << 2
    /// The selftest refuses larger ACCESS_PAGES and ACCESS_RW requests (its kvzalloc guard).
    public static let maximumLength: UInt64 = 16 << 20
}

extension IOMMUFD {
    /// `iommufd_access_get`: the selftest access behind a file, EBADFD for any other fd.
    private func access(fd: UInt32) throws(Refusal) -> Access {
        guard let descriptor = Int32(exactly: fd), let id = eventFiles.open[descriptor],
              case .access(let access)? = try? kind(id.rawValue) else {
            throw Refusal(.EBADFD, .accessGetNotAccess, values: [InvolvedValue("fd", UInt64(fd), .requested)])
        }
        return access
    }

    // MARK: IOMMU_TEST_OP_CREATE_ACCESS

    /// `iommufd_test_create_access`: an access object (its id taken in the table, though no
    /// uAPI names it), attached to the IOAS, and the driver's file, whose descriptor is the
    /// selftest's handle. An IOAS the access cannot attach to destroys it again.
    public func testCreateAccess(ioasID: UInt32, flags: UInt32) throws(Refusal) -> Access {
        beginMutation()
        guard flags & ~MockAccessFlags.needsPinPages == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        let access = try allocate { id throws(Refusal) -> Access in
            Access(id: id, needsPinPages: flags & MockAccessFlags.needsPinPages != 0, fd: try openEventFile(for: id))
        }
        // The calling driver is a user until iommufd_access_destroy().
        setFileReference(access.id, open: true)
        do throws(Refusal) {
            try attach(access, to: try object(ioasID, as: IOAS.self))
        } catch {
            _ = eventFiles.close(access.fd)
            destroyAccess(access)
            throw error
        }
        return access
    }

    /// `iopt_add_access` and the IOAS reference: an access that pins pages holds the IOAS to
    /// PAGE_SIZE alignment (`iopt_calculate_iova_alignment`: EINVAL, or EADDRINUSE over a
    /// misaligned area).
    private func attach(_ access: Access, to ioas: IOAS) throws(Refusal) {
        let alignment = try requiredAlignment(ioas, addingPinningAccess: access.needsPinPages)
        ioas.accesses.append(access)
        ioas.iovaAlignment = alignment
        access.ioas = ioas
        setReference(ObjectReference(from: access.id, to: ioas.id, role: .ioas), held: true)
    }

    /// `iopt_remove_access`: the IOAS lets the access go and its alignment may drop again.
    private func detach(_ access: Access) {
        guard let ioas = access.ioas else { return }
        ioas.accesses.removeAll { $0 === access }
        setReference(ObjectReference(from: access.id, to: ioas.id, role: .ioas), held: false)
        access.ioas = nil
        try? recomputeAlignment(ioas)
    }

    /// `iommufd_test_staccess_release` and `iommufd_access_destroy`: the driver unpins what it
    /// holds, the access leaves its IOAS and its id is freed.
    func destroyAccess(_ access: Access) {
        beginMutation()
        unmapCallback(access, IOVARange.all)
        detach(access)
        setFileReference(access.id, open: false)
        release(access.id)
    }

    // MARK: IOMMU_TEST_OP_ACCESS_REPLACE_IOAS

    /// `iommufd_access_replace` (`iommufd_access_change_ioas`): ENOENT for an access on no
    /// IOAS or an IOAS id that names none; the same IOAS changes nothing. The new IOAS takes
    /// the access first; then the driver is told to drop every pin of the old one.
    public func testAccessReplaceIOAS(accessFD: UInt32, ioasID: UInt32) throws(Refusal) {
        beginMutation()
        let access = try access(fd: accessFD)
        guard let current = access.ioas else { throw .accessNoIOAS(access) }
        let replacement = try object(ioasID, as: IOAS.self)
        if replacement === current { return }
        let alignment = try requiredAlignment(replacement, addingPinningAccess: access.needsPinPages)
        unmapCallback(access, IOVARange.all)
        detach(access)
        replacement.accesses.append(access)
        replacement.iovaAlignment = alignment
        access.ioas = replacement
        setReference(ObjectReference(from: access.id, to: replacement.id, role: .ioas), held: true)
    }

    // MARK: IOMMU_TEST_OP_ACCESS_PAGES and DESTROY_ACCESS_PAGES

    /// `iommufd_test_access_pages`: pins `length` bytes at `iova` through a pinning access and
    /// records them as a new item (`out_access_pages_id`, counted from 0). With `uptr`, the
    /// pages pinned must be the user memory's there (EBADE otherwise).
    public func testAccessPages(accessFD: UInt32, iova: UInt64, length: UInt64, flags: UInt32,
                                uptr: UInt64?) throws(Refusal) -> UInt32 {
        beginMutation()
        guard length <= MockAccessFlags.maximumLength else { throw .testAccessLengthLimit(length) }
        guard flags & ~MockAccessFlags.write == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        let access = try access(fd: accessFD)
        guard access.needsPinPages else {
            throw Refusal(.EOPNOTSUPP, .testAccessNoPinPages, objects: [InvolvedObject(access, .requested)],
                          values: [InvolvedValue("MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES", nil, .flag)])
        }
        let pages = try pinPages(access, iova: iova, length: length, write: flags & MockAccessFlags.write != 0)
        if let uptr {
            // iommufd_test_check_pages: the user VA's pages, from the page holding uptr onward.
            let first = uptr &- (iova % pageSize)
            for (index, page) in pages.enumerated() {
                let userVA = first &+ UInt64(index) * pageSize
                let user = machine.memory.physicalAddress(of: userVA).map { $0 / pageSize * pageSize }
                guard let user else { unpinPages(access, iova: iova, length: length); throw .userPagesUnbacked(userVA) }
                guard user == page else {
                    unpinPages(access, iova: iova, length: length)
                    throw Refusal(.EBADE, .testCheckPagesMismatch, objects: [InvolvedObject(access, .requested)],
                                  values: [InvolvedValue("user_va", userVA, .requested), InvolvedValue("user_page", user, .requested),
                                           InvolvedValue("pinned_page", page, .existing)])
                }
            }
        }
        let id = access.nextPinID
        access.nextPinID &+= 1
        access.pins.append(Access.Pin(id: id, iova: iova, length: length))
        return id
    }

    /// `iommufd_test_access_item_destroy`: unpins one item; ENOENT for an id it does not hold.
    public func testDestroyAccessPages(accessFD: UInt32, pinID: UInt32) throws(Refusal) {
        beginMutation()
        let access = try access(fd: accessFD)
        guard let index = access.pins.firstIndex(where: { $0.id == pinID }) else {
            throw Refusal(.ENOENT, .testAccessItemMissing, objects: [InvolvedObject(access, .requested)],
                          values: [InvolvedValue("access_pages_id", UInt64(pinID), .requested)])
        }
        let pin = access.pins.remove(at: index)
        unpinPages(access, iova: pin.iova, length: pin.length)
    }

    /// The areas covering `[iova, iova+length)` without a gap, in order, each with the part of
    /// it the range takes (`iopt_for_each_contig_area`); nil at a gap (`!iopt_area_contig_done`).
    /// `visit` runs on each area as it is reached, so its errors come before a later gap's.
    private func contiguousAreas(_ ioas: IOAS, iova: UInt64, length: UInt64,
                                 _ visit: (IOVARange, IOASArea, IOVARange) throws(Refusal) -> Void) throws(Refusal) {
        guard length > 0 else { throw Refusal(.EINVAL, .ioptZeroLength) }
        guard let range = IOVARange(start: iova, length: length) else { throw .addressOverflow(iova, length: length) }
        var cursor = range.start
        var covered = false
        var failure: Refusal?
        ioas.areas.forEach(intersecting: range) { area, value in
            guard area.start <= cursor else { return false }
            let part = IOVARange(start: cursor, last: min(area.last, range.last))
            do throws(Refusal) { try visit(area, value, part) } catch { failure = error; return false }
            if part.last == range.last { covered = true; return false }
            cursor = part.last + 1
            return true
        }
        if let failure { throw failure }
        guard covered else { throw .areaContigGap(ioas, range, unmappedAt: cursor) }
    }

    /// `iommufd_access_pin_pages`: every area of the range must start its part on a page and,
    /// but for the last, end on one (EINVAL), and allow the access (EPERM). An area no domain
    /// or access pinned yet is pinned now, from the process (EFAULT where unbacked, ENOMEM past
    /// the limit). All or nothing. Returns the host pages, one per CPU page of the range.
    private func pinPages(_ access: Access, iova: UInt64, length: UInt64, write: Bool) throws(Refusal) -> [UInt64] {
        guard let ioas = access.ioas else { throw .accessNoIOAS(access) }
        var done: [IOVARange] = []
        var pages: [UInt64] = []
        do throws(Refusal) {
            try contiguousAreas(ioas, iova: iova, length: length) { area, value, part throws(Refusal) in
                let startByte = value.userVA &+ (part.start - area.start)
                let endsArea = part.last == area.last
                let lastByte = value.userVA &+ (part.last - area.start)
                if startByte % pageSize != 0 || (endsArea && part.last != iova &+ (length - 1) && lastByte % pageSize != pageSize - 1) {
                    throw Refusal(.EINVAL, .contigAreaUnaligned, ranges: [InvolvedRange(part, .requested), InvolvedRange(area, .area)],
                                  values: [InvolvedValue("user_va", startByte, .existing)])
                }
                guard value.prot.contains(write ? .write : .read) else { throw .areaProtDenied(area, write: write) }
                if ioas.hwpts.isEmpty && ioas.accessPins[area.start, default: 0] == 0 { try pin(ioas, area, value) }
                ioas.accessPins[area.start, default: 0] += 1
                done.append(area)
                for index in 0...(lastByte / pageSize - startByte / pageSize) {
                    let page = startByte + index * pageSize
                    guard let physical = areaPhysicalAddress(ioas, value, area: area, at: page) else { throw .userPagesUnbacked(page) }
                    pages.append(physical / pageSize * pageSize)
                }
            }
        } catch {
            for area in done { dropAccessPin(ioas, area) }
            throw error
        }
        return pages
    }

    /// `iommufd_access_unpin_pages`: one pin less on each area of the range.
    private func unpinPages(_ access: Access, iova: UInt64, length: UInt64) {
        guard let ioas = access.ioas, let range = IOVARange(start: iova, length: length) else { return }
        var areas: [IOVARange] = []
        ioas.areas.forEach(intersecting: range) { area, _ in areas.append(area); return true }
        for area in areas { dropAccessPin(ioas, area) }
    }

    /// The last access pin of an area no domain holds lets its pages go.
    private func dropAccessPin(_ ioas: IOAS, _ area: IOVARange) {
        let count = ioas.accessPins[area.start, default: 0] - 1
        ioas.accessPins[area.start] = count > 0 ? count : nil
        if count <= 0 && ioas.hwpts.isEmpty { unpin(ioas, area) }
    }

    // MARK: Unmap notification

    /// `iommufd_access_notify_unmap`: every access on the IOAS is told the range goes; the
    /// selftest driver (`iommufd_test_access_unmap`) unpins each of its items that intersects it.
    func notifyUnmap(_ ioas: IOAS, _ range: IOVARange) {
        for access in ioas.accesses { unmapCallback(access, range) }
    }

    private func unmapCallback(_ access: Access, _ range: IOVARange) {
        let doomed = access.pins.filter { pin in IOVARange(start: pin.iova, length: pin.length).map(range.intersects) ?? false }
        access.pins.removeAll { doomed.contains($0) }
        for pin in doomed { unpinPages(access, iova: pin.iova, length: pin.length) }
    }

    // MARK: IOMMU_TEST_OP_ACCESS_RW

    /// `iommufd_test_access_rw` and `iommufd_access_rw`: copies `length` bytes at `iova` from
    /// (or, with `write`, `data` to) the memory the areas map: through the pages pinned where
    /// they are, else through the process (EFAULT where unbacked). Every area must allow the
    /// access (EPERM). Returns the bytes read.
    public func testAccessRW(accessFD: UInt32, iova: UInt64, length: UInt64, flags: UInt32, data: [UInt8]) throws(Refusal) -> [UInt8] {
        let write = flags & MockAccessFlags.write != 0
        if write { beginMutation() }
        guard length <= MockAccessFlags.maximumLength else { throw .testAccessLengthLimit(length) }
        guard flags & ~(MockAccessFlags.write | MockAccessFlags.slowPath) == 0 else {
            throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags))
        }
        let access = try access(fd: accessFD)
        guard let ioas = access.ioas else { throw .accessNoIOAS(access) }
        var bytes: [UInt8] = []
        try contiguousAreas(ioas, iova: iova, length: length) { area, value, part throws(Refusal) in
            guard value.prot.contains(write ? .write : .read) else { throw .areaProtDenied(area, write: write) }
            var address = part.start
            while true {
                let offset = Int(address - iova)
                let user = value.userVA &+ (address - area.start)
                guard let physical = areaPhysicalAddress(ioas, value, area: area, at: user) else { throw .userPagesUnbacked(user) }
                let word = physical & ~7, shift = (physical & 7) * 8
                do throws(BusError) {
                    let old = try machine.physical.read64(word)
                    if write {
                        let byte = offset < data.count ? UInt64(data[offset]) : 0
                        try machine.physical.write64(word, old & ~(0xff << shift) | byte << shift)
                    } else {
                        bytes.append(UInt8(truncatingIfNeeded: old >> shift))
                    }
                } catch {
                    throw Refusal(.EFAULT, .accessRWBusError, ranges: [InvolvedRange(area, .area)],
                                  values: [InvolvedValue("iova", address, .requested), InvolvedValue("physical", error.address, .existing)])
                }
                if address == part.last { break }
                address += 1
            }
        }
        return bytes
    }
}
