/// The IOAS ioctls and the `io_pagetable.c` rules behind them.
extension IOMMUFD {
    /// What `IOMMU_IOAS_IOVA_RANGES` writes back.
    public struct IOVARanges: Sendable, Equatable {
        /// Every usable range (the caller's buffer may hold fewer: see `ioasIOVARanges`).
        public var ranges: [IOVARange]
        public var iovaAlignment: UInt64
    }

    // MARK: IOMMU_IOAS_ALLOC

    public func ioasAlloc(flags: UInt32 = 0) throws(Refusal) -> ObjectID {
        beginMutation()
        guard flags == 0 else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(flags)) }
        return try allocate { id throws(Refusal) in IOAS(id: id) }.id
    }

    // MARK: IOMMU_IOAS_MAP

    /// `IOMMU_IOAS_MAP`: maps `length` bytes of user memory at `userVA`; returns the IOVA.
    public func ioasMap(flags rawFlags: UInt32, ioasID: UInt32, userVA: UInt64, length: UInt64, iova: UInt64) throws(Refusal) -> UInt64 {
        beginMutation()
        let flags = IOASMapFlags(rawValue: rawFlags)
        guard flags.isSubset(of: .valid) else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(rawFlags)) }
        guard iova < .max, length < .max else { throw .ioasULongMax(["iova": iova, "length": length]) }
        guard !flags.isDisjoint(with: [.readable, .writeable]) else { throw .ioasMapNoAccess(rawFlags) }
        let ioas = try object(ioasID, as: IOAS.self)
        // iopt_alloc_user_pages: the pages object.
        guard length > 0, length <= UInt64.max - pageSize else {
            throw Refusal(.EINVAL, .allocPagesLength, values: [InvolvedValue("length", length, .requested)])
        }
        guard userVA.checkedAdd(length) != nil else { throw .addressOverflow(userVA, length: length) }
        return try mapPieces(ioas, flags: flags, iova: iova, pieces: [(userVA, length, nil)], firstAddress: userVA)
    }

    /// `iopt_map_pages`: places one area per piece, contiguous in IOVA, all or nothing.
    /// A piece from IOAS_COPY carries the source pages it shares (`source`).
    private func mapPieces(_ ioas: IOAS, flags: IOASMapFlags, iova requested: UInt64,
                           pieces: [(userVA: UInt64, length: UInt64, source: PinnedPageAccounting.PagesSource?)],
                           firstAddress: UInt64) throws(Refusal) -> UInt64 {
        let total = pieces.reduce(UInt64(0)) { $0 &+ $1.length }
        let alignmentMask = ioas.iovaAlignment - 1
        for piece in pieces where piece.length & alignmentMask != 0 || piece.length == 0 {
            throw Refusal(.EINVAL, .areaPagesLength, objects: [InvolvedObject(ioas, .requested)],
                          values: [InvolvedValue("length", piece.length, .requested), InvolvedValue("iova_alignment", ioas.iovaAlignment, .limit)])
        }
        var iova = requested
        if flags.contains(.fixedIOVA) {
            try checkFixedIOVA(ioas, iova: iova, length: total)
        } else {
            iova = try allocateIOVA(ioas, address: firstAddress, length: total)
        }
        // iopt_insert_area: the sub-page offset of the pages must respect the alignment too.
        for piece in pieces where (piece.userVA % pageSize) & alignmentMask != 0 {
            throw Refusal(.EINVAL, .insertAreaPageOffset, objects: [InvolvedObject(ioas, .requested)],
                          values: [InvolvedValue("user_va", piece.userVA, .requested), InvolvedValue("iova_alignment", ioas.iovaAlignment, .limit)])
        }
        var prot: IOMMUProt = .cache
        if flags.contains(.readable) { prot.insert(.read) }
        if flags.contains(.writeable) { prot.insert(.write) }
        var placed: [IOVARange] = []
        var cursor = iova
        for piece in pieces {
            let range = IOVARange(start: cursor, length: piece.length)!
            let area = IOASArea(userVA: piece.userVA, prot: prot)
            do throws(Refusal) {
                if let source = piece.source { machine.pinned.share(source, with: pinKey(ioas, range), mode: pinAccountMode) }
                // With domains attached the pages are pinned and mapped now (iopt_fill_domains_pages).
                if !ioas.hwpts.isEmpty { try pin(ioas, range, area) }
                try fillDomains(ioas, range: range, area: area)
            } catch {
                machine.pinned.forget(pinKey(ioas, range))
                for done in placed { removeArea(ioas, at: done) }
                throw error
            }
            ioas.areas.insert(range, area)
            placed.append(range)
            cursor = range.last &+ 1
        }
        return iova
    }

    /// `iopt_check_iova`: a fixed IOVA must be aligned, free of reservations and of areas.
    /// A reservation of an attached domain is what lies outside its aperture: the refusal
    /// names the aperture and the domain's HWPT.
    private func checkFixedIOVA(_ ioas: IOAS, iova: UInt64, length: UInt64) throws(Refusal) {
        guard iova.isAligned(to: ioas.iovaAlignment) else {
            throw Refusal(.EINVAL, .checkIOVAUnaligned, objects: [InvolvedObject(ioas, .requested)],
                          values: [InvolvedValue("iova", iova, .requested), InvolvedValue("iova_alignment", ioas.iovaAlignment, .limit)])
        }
        guard let range = IOVARange(start: iova, length: length) else { throw .addressOverflow(iova, length: length) }
        if let reservation = ioas.reservations.first(where: { $0.range.intersects(range) }) {
            if case .domain(let id) = reservation.owner, let hwpt = ioas.hwpts.first(where: { $0.id == id }) {
                throw Refusal(.EINVAL, .checkIOVAOutsideAperture, objects: [InvolvedObject(hwpt, .owner)],
                              ranges: [InvolvedRange(range, .requested), InvolvedRange(hwpt.domain.aperture, .aperture)])
            }
            throw .reserved(.EINVAL, .checkIOVAReserved, requested: range, reservation)
        }
        if let area = firstArea(of: ioas, in: range) {
            throw Refusal(.EEXIST, .checkIOVAMapped, ranges: [InvolvedRange(range, .requested), InvolvedRange(area, .area)])
        }
    }

    /// The lowest area of the IOAS that intersects `range` (`iopt_area_iter_first`).
    private func firstArea(of ioas: IOAS, in range: IOVARange) -> IOVARange? {
        var found: IOVARange?
        ioas.areas.forEach(intersecting: range) { area, _ in found = area; return false }
        return found
    }

    /// `iopt_alloc_iova`: the kernel's first-fit search, lowest address first, keeping the
    /// alignment of `address` (the user VA) so that huge pages stay possible.
    func allocateIOVA(_ ioas: IOAS, address: UInt64, length: UInt64) throws(Refusal) -> UInt64 {
        guard length > 0, length < UInt64.max / 2 else {
            throw Refusal(.EOVERFLOW, .allocIOVALength, values: [InvolvedValue("length", length, .requested)])
        }
        let pageOffset = address % pageSize
        var alignment = length.roundedUpToPowerOfTwo
        if address != 0 { alignment = min(alignment, 1 << UInt64(address.trailingZeroBitCount)) }
        if alignment >= hugePageSize { alignment = hugePageSize }
        guard alignment >= ioas.iovaAlignment else {
            throw Refusal(.EINVAL, .allocIOVAAlignment, objects: [InvolvedObject(ioas, .requested)],
                          values: [InvolvedValue("user_va", address, .requested), InvolvedValue("length", length, .requested),
                                   InvolvedValue("alignment", alignment, .requested), InvolvedValue("iova_alignment", ioas.iovaAlignment, .limit)])
        }

        /// `__alloc_iova_check_range`: ALIGN_UP(start) | page_offset must leave room for length.
        func fit(_ start: UInt64, _ last: UInt64) -> UInt64? {
            guard let aligned = start.alignedUp(to: alignment) else { return nil }
            let candidate = aligned | pageOffset
            guard candidate < last, last - candidate >= length - 1 else { return nil }
            return candidate
        }

        // interval_tree_for_each_span: maximal used spans of the allowed tree (touching ranges
        // form one span), clipped to [PAGE_SIZE, ULONG_MAX - PAGE_SIZE].
        let bounds = IOVARange(start: pageSize, last: UInt64.max - pageSize)
        var spans: [IOVARange] = []
        for range in ioas.allowedRanges {
            if let previous = spans.last, previous.last != .max, previous.last + 1 == range.start {
                spans[spans.count - 1].last = range.last
            } else {
                spans.append(range)
            }
        }
        spans = ioas.allowedRanges.isEmpty ? [bounds] : spans.compactMap { range -> IOVARange? in
            let start = max(range.start, bounds.start), last = min(range.last, bounds.last)
            return start <= last ? IOVARange(start: start, last: last) : nil
        }
        for span in spans {
            guard let spanStart = fit(span.start, span.last) else { continue }
            let window = IOVARange(start: spanStart, last: span.last)
            // Holes of reserved ∪ areas: split the window at reservations, then ask the area tree.
            for gap in Self.complement(of: ioas.reservations.map(\.range), within: window) {
                var found: UInt64?
                ioas.areas.forEachHole(in: gap, minimumLength: length) { hole in
                    found = fit(hole.start, hole.last)
                    return found == nil
                }
                if let found { return found }
            }
        }
        throw Refusal(.ENOSPC, .allocIOVANoSpace, objects: [InvolvedObject(ioas, .requested)],
                      ranges: ioas.allowedRanges.map { InvolvedRange($0, .existing, note: "allowed") },
                      values: [InvolvedValue("length", length, .requested), InvolvedValue("alignment", alignment, .requested)])
    }

    /// The parts of `window` that no range in `ranges` (in any order, possibly overlapping) covers.
    static func complement(of ranges: [IOVARange], within window: IOVARange) -> [IOVARange] {
        var result: [IOVARange] = []
        var cursor: UInt64? = window.start
        for range in ranges.sorted() where range.intersects(window) {
            guard let start = cursor else { break }
            if range.start > start { result.append(IOVARange(start: start, last: range.start - 1)) }
            if range.last >= window.last { cursor = nil } else { cursor = max(start, range.last + 1) }
        }
        if let start = cursor, start <= window.last { result.append(IOVARange(start: start, last: window.last)) }
        return result
    }

    /// Maps an area into every domain of the IOAS, undoing the ones done on failure.
    private func fillDomains(_ ioas: IOAS, range: IOVARange, area: IOASArea) throws(Refusal) {
        var filled: [PagingDomain] = []
        for hwpt in ioas.hwpts {
            do throws(Refusal) {
                try mapArea(range, area, into: hwpt.domain)
            } catch {
                for domain in filled { domain.table.unmap(iova: range.start, length: range.last - range.start + 1) }
                throw error
            }
            filled.append(hwpt.domain)
        }
    }

    /// `iopt_area_fill_domain`: pins the area's pages and writes them into one domain, one
    /// physically contiguous run at a time, so the domain can use blocks where the backing
    /// allows. Unbacked user memory cannot be pinned: EFAULT, with nothing left mapped. An
    /// area already `pinned` (the IOAS has a domain) is copied from the pages its pin holds,
    /// as `iopt_area_fill_domain` reads the storage domain, even where `munmap` took the VAs.
    /// The runs come from the process's mapping arithmetic, a series of equal runs at a time.
    func mapArea(_ range: IOVARange, _ area: IOASArea, into domain: PagingDomain, pinned: Bool = false) throws(Refusal) {
        let length = range.last - range.start + 1
        let (runs, covered) = machine.memory.physicalRuns(from: area.userVA, length: length, pinned: pinned)
        var offset: UInt64 = 0
        do throws(Refusal) {
            for series in runs {
                try domain.table.map(iova: range.start + offset, runs: series, prot: area.prot)
                offset += series.bytes
            }
            guard covered == length else { throw .userPagesUnbacked(area.userVA &+ covered) }
        } catch {
            if offset > 0 { domain.table.unmap(iova: range.start, length: offset) }
            throw error
        }
    }

    private func removeArea(_ ioas: IOAS, at range: IOVARange) {
        ioas.accessPins[range.start] = nil
        for hwpt in ioas.hwpts {
            hwpt.domain.table.unmap(iova: range.start, length: range.last - range.start + 1)
            hwpt.domain.driver.flushIOTLB(hwpt.domain, range: range)
        }
        machine.pinned.forget(pinKey(ioas, range))
        ioas.areas.remove(startingAt: range.start)
    }

    func removeAllAreas(of ioas: IOAS) {
        for (range, _) in ioas.areas.entries { removeArea(ioas, at: range) }
    }

    // MARK: IOMMU_IOAS_UNMAP

    /// `IOMMU_IOAS_UNMAP`: removes whole areas inside the range; returns the bytes unmapped.
    public func ioasUnmap(ioasID: UInt32, iova: UInt64, length: UInt64) throws(Refusal) -> UInt64 {
        beginMutation()
        let ioas = try object(ioasID, as: IOAS.self)
        let range: IOVARange
        if iova == 0 && length == .max {
            range = .all
        } else {
            guard iova < .max, length < .max else { throw .ioasULongMax(["iova": iova, "length": length]) }
            guard length > 0 else { throw Refusal(.EINVAL, .ioptZeroLength) }
            guard let checked = IOVARange(start: iova, length: length) else { throw .addressOverflow(iova, length: length) }
            range = checked
        }
        var unmapped: UInt64 = 0
        var found = false
        var failure: Refusal?
        var doomed: [IOVARange] = []
        ioas.areas.forEach(intersecting: range) { area, _ in
            // No splitting: an area that sticks out of the range ends the walk with ENOENT;
            // what came before it is already gone, as in the kernel.
            guard range.contains(area) else {
                failure = Refusal(.ENOENT, .unmapPartialArea, ranges: [InvolvedRange(range, .requested), InvolvedRange(area, .area)])
                return false
            }
            doomed.append(area)
            return true
        }
        for area in doomed {
            // Pinned by accesses: their drivers are told to unpin first (iommufd_access_notify_unmap);
            // one that does not is retried and given up on (EDEADLOCK).
            if ioas.accessPins[area.start] != nil { notifyUnmap(ioas, area) }
            if ioas.accessPins[area.start] != nil {
                let holders = ioas.accesses.filter { access in
                    access.pins.contains { IOVARange(start: $0.iova, length: $0.length).map(area.intersects) ?? false }
                }
                throw Refusal(.EDEADLOCK, .unmapAccessPinned, objects: holders.map { InvolvedObject($0, .user) },
                              ranges: [InvolvedRange(area, .area)])
            }
            removeArea(ioas, at: area)
            unmapped &+= area.last - area.start + 1
            found = true
        }
        if let failure { throw failure }
        if !found && range != .all { throw Refusal(.ENOENT, .unmapNotMapped, ranges: [InvolvedRange(range, .requested)]) }
        return unmapped
    }

    // MARK: IOMMU_IOAS_COPY

    /// `IOMMU_IOAS_COPY`: maps the pages behind a source IOVA range into a destination IOAS.
    public func ioasCopy(flags rawFlags: UInt32, dstIOASID: UInt32, srcIOASID: UInt32, length: UInt64,
                         dstIOVA: UInt64, srcIOVA: UInt64) throws(Refusal) -> UInt64 {
        beginMutation()
        let flags = IOASMapFlags(rawValue: rawFlags)
        guard flags.isSubset(of: .valid) else { throw .unsupportedFlags(.EOPNOTSUPP, "flags", UInt64(rawFlags)) }
        guard length < .max, srcIOVA < .max, dstIOVA < .max else {
            throw .ioasULongMax(["length": length, "src_iova": srcIOVA, "dst_iova": dstIOVA])
        }
        guard !flags.isDisjoint(with: [.readable, .writeable]) else { throw .ioasMapNoAccess(rawFlags) }
        let source = try object(srcIOASID, as: IOAS.self)
        guard length > 0 else { throw Refusal(.EINVAL, .ioptZeroLength) }
        guard let range = IOVARange(start: srcIOVA, length: length) else { throw .addressOverflow(srcIOVA, length: length) }
        // iopt_get_pages: the range must be covered by areas without a gap.
        var pieces: [(userVA: UInt64, length: UInt64, source: PinnedPageAccounting.PagesSource?)] = []
        var cursor = range.start
        var covered = false
        source.areas.forEach(intersecting: range) { area, value in
            guard area.start <= cursor else { return false }
            let last = min(area.last, range.last)
            // The piece's page indices in the source area's pages (counted from ALIGN_DOWN(uptr)).
            let offset = value.userVA % pageSize + (cursor - area.start)
            let pages = PinnedPageAccounting.PagesSource(
                area: pinKey(source, area), areaPages: Self.pageCount(value.userVA % pageSize + (area.last - area.start) + 1),
                first: offset / pageSize, last: (offset + (last - cursor)) / pageSize)
            pieces.append((value.userVA + (cursor - area.start), last - cursor + 1, pages))
            if last == range.last { covered = true; return false }
            cursor = last + 1
            return true
        }
        guard covered else { throw .areaContigGap(source, range, unmappedAt: cursor) }
        let destination = try object(dstIOASID, as: IOAS.self)
        return try mapPieces(destination, flags: flags, iova: dstIOVA, pieces: pieces, firstAddress: pieces[0].userVA)
    }

    // MARK: IOMMU_IOAS_IOVA_RANGES and IOMMU_IOAS_ALLOW_IOVAS

    /// `IOMMU_IOAS_IOVA_RANGES`: the holes of the reserved tree over the whole 64-bit space.
    /// The caller compares `ranges.count` with its buffer (`num_iovas`) for EMSGSIZE.
    public func ioasIOVARanges(ioasID: UInt32) throws(Refusal) -> IOVARanges {
        let ioas = try object(ioasID, as: IOAS.self)
        return IOVARanges(ranges: Self.complement(of: ioas.reservations.map(\.range), within: .all),
                          iovaAlignment: ioas.iovaAlignment)
    }

    /// `IOMMU_IOAS_ALLOW_IOVAS`: replaces the allowed list atomically.
    /// Each pair is `struct iommu_iova_range {start, last}` as the user wrote it.
    public func ioasAllowIOVAs(ioasID: UInt32, ranges: [(start: UInt64, last: UInt64)]) throws(Refusal) {
        beginMutation()
        let ioas = try object(ioasID, as: IOAS.self)
        var accepted: [IOVARange] = []
        for pair in ranges {
            guard pair.start < pair.last else {
                throw Refusal(.EINVAL, .allowIOVAsEmptyRange,
                              values: [InvolvedValue("start", pair.start, .requested), InvolvedValue("last", pair.last, .requested)])
            }
            let range = IOVARange(start: pair.start, last: pair.last)
            if let earlier = accepted.first(where: { $0.intersects(range) }) {
                throw Refusal(.EINVAL, .allowIOVAsOverlap, ranges: [InvolvedRange(range, .requested), InvolvedRange(earlier, .requested)])
            }
            accepted.append(range)
        }
        for range in accepted {
            if let reservation = ioas.reservations.first(where: { $0.range.intersects(range) }) {
                throw .reserved(.EADDRINUSE, .setAllowIOVAReserved, requested: range, reservation)
            }
        }
        ioas.allowedRanges = accepted.sorted()
    }

    // MARK: Reservations

    /// `iopt_reserve_iova`: EADDRINUSE over an area or an allowed range.
    /// The refusal names the range to reserve (noted with what it is), its owner, and the
    /// area or allowed range in the way.
    func reserve(_ ioas: IOAS, _ range: IOVARange, owner: ReservationOwner) throws(Refusal) {
        let requested = InvolvedRange(range, .requested, note: owner.note)
        let owners = owner.involvedObject.map { [$0] } ?? []
        if let area = firstArea(of: ioas, in: range) {
            throw Refusal(.EADDRINUSE, .reserveIOVAMapped, objects: owners, ranges: [requested, InvolvedRange(area, .area)])
        }
        if let allowed = ioas.allowedRanges.first(where: { $0.intersects(range) }) {
            throw Refusal(.EADDRINUSE, .reserveIOVAAllowed, objects: owners,
                          ranges: [requested, InvolvedRange(allowed, .existing, note: "allowed")])
        }
        let index = ioas.reservations.firstIndex { $0.range.start > range.start } ?? ioas.reservations.endIndex
        ioas.reservations.insert(Reservation(range: range, owner: owner), at: index)
    }

    /// `iopt_remove_reserved_iova`.
    func removeReservations(_ ioas: IOAS, where matches: (ReservationOwner) -> Bool) {
        ioas.reservations.removeAll { matches($0.owner) }
    }

    // MARK: Alignment and domains

    /// `iopt_calculate_iova_alignment` and `iopt_check_iova_alignment`: the alignment the IOAS
    /// needs with its domains (and `adding`, a domain about to join), checked against every
    /// area but not applied.
    func requiredAlignment(_ ioas: IOAS, adding extra: PagingDomain? = nil, addingPinningAccess: Bool = false) throws(Refusal) -> UInt64 {
        // An access that pins pages needs PAGE_SIZE (access->iova_alignment).
        let pinningAccess = addingPinningAccess || ioas.accesses.contains { $0.needsPinPages }
        var alignment: UInt64 = ioas.largePagesDisabled || pinningAccess ? pageSize : 1
        for domain in ioas.hwpts.map(\.domain) + (extra.map { [$0] } ?? []) {
            alignment = max(alignment, domain.minimumPageSize)
        }
        if alignment > pageSize {
            throw Refusal(.EINVAL, .addDomainPageSize, objects: [InvolvedObject(ioas, .requested)],
                          values: [InvolvedValue("iova_alignment", alignment, .requested), InvolvedValue("PAGE_SIZE", pageSize, .limit)])
        }
        if alignment != ioas.iovaAlignment { try checkAlignment(ioas, alignment) }
        return alignment
    }

    func recomputeAlignment(_ ioas: IOAS) throws(Refusal) {
        ioas.iovaAlignment = try requiredAlignment(ioas)
    }

    private func checkAlignment(_ ioas: IOAS, _ alignment: UInt64) throws(Refusal) {
        let mask = alignment - 1
        for (range, area) in ioas.areas.entries {
            if range.start & mask != 0 || (range.last &- range.start &+ 1) & mask != 0 || (area.userVA % pageSize) & mask != 0 {
                throw Refusal(.EADDRINUSE, .checkIOVAAlignmentArea, objects: [InvolvedObject(ioas, .requested)],
                              ranges: [InvolvedRange(range, .area)],
                              values: [InvolvedValue("user_va", area.userVA, .existing), InvolvedValue("iova_alignment", alignment, .limit)])
            }
        }
    }

    /// `iopt_table_add_domain`: raise the alignment, reserve what lies outside the aperture,
    /// then mirror every area into the new domain.
    func addDomain(_ hwpt: HWPTPaging) throws(Refusal) {
        let ioas = hwpt.ioas, domain = hwpt.domain
        let alignment = try requiredAlignment(ioas, adding: domain)
        let owner = ReservationOwner.domain(hwpt.id)
        do throws(Refusal) {
            if domain.aperture.start != 0 {
                try reserve(ioas, IOVARange(start: 0, last: domain.aperture.start - 1), owner: owner)
            }
            if domain.aperture.last != .max {
                try reserve(ioas, IOVARange(start: domain.aperture.last + 1, last: .max), owner: owner)
            }
            // The first domain pins every area no access pinned; later ones read the pages from it.
            for (range, area) in ioas.areas.entries {
                let pinned = isPinned(ioas, range)
                if !pinned { try pin(ioas, range, area) }
                try mapArea(range, area, into: domain, pinned: pinned)
            }
        } catch {
            if ioas.hwpts.isEmpty { for (range, _) in ioas.areas.entries where !isPinned(ioas, range) { unpin(ioas, range) } }
            domain.table.unmap(iova: 0, length: .max)
            removeReservations(ioas) { $0 == owner }
            throw error
        }
        ioas.iovaAlignment = alignment
        ioas.hwpts.append(hwpt)
    }

    /// `iopt_table_remove_domain` and the HWPT's destruction.
    func removeDomain(_ hwpt: HWPTPaging) {
        let ioas = hwpt.ioas
        hwpt.domain.table.unmap(iova: 0, length: .max)
        hwpt.domain.driver.flushIOTLB(hwpt.domain, range: .all)
        removeReservations(ioas) { $0 == .domain(hwpt.id) }
        ioas.hwpts.removeAll { $0 === hwpt }
        // The last domain gone, only accesses can hold the pages: the others are unpinned and uncharged.
        if ioas.hwpts.isEmpty { for (range, _) in ioas.areas.entries where !isPinned(ioas, range) { unpin(ioas, range) } }
        // Removing a domain can only lower the alignment, which every area already meets.
        try? recomputeAlignment(ioas)
    }

    // MARK: Pinned-page accounting (pages.c)

    /// `pages->account_mode` of a mapping pinned now: `iopt_alloc_pages` picks NONE with
    /// CAP_IPC_LOCK, else USER, and `iopt_map_user_pages` turns USER into MM when the file's
    /// IOMMU_OPTION_RLIMIT_MODE is 1.
    var pinAccountMode: PinnedPageAccountMode {
        if machine.limits.capIPCLock { return .none }
        return accountsToMM ? .mm : .user
    }

    /// `pfn_reader_user_pin` and `do_update_pinned` for one area entering its IOAS's first
    /// domain: EFAULT where no `mmap` backs the pages, ENOMEM past RLIMIT_MEMLOCK. The kernel
    /// pins first and charges after; the answer is the same, without pinning a terabyte first.
    func pin(_ ioas: IOAS, _ range: IOVARange, _ area: IOASArea) throws(Refusal) {
        let offset = area.userVA % pageSize
        let bytes = range.last - range.start + 1 + offset
        guard let user = IOVARange(start: area.userVA - offset, length: bytes), machine.memory.covers(user) else {
            throw .userPagesUnbacked(area.userVA, length: bytes - offset)
        }
        try machine.pinned.charge(pinKey(ioas, range), pages: Self.pageCount(bytes), mode: pinAccountMode, limits: machine.limits)
    }

    /// Releases an area's charge when its pages are unpinned (no-op when it holds none).
    func unpin(_ ioas: IOAS, _ range: IOVARange) {
        machine.pinned.release(pinKey(ioas, range))
    }

    /// The accounting's name for an area.
    private func pinKey(_ ioas: IOAS, _ range: IOVARange) -> PinnedPageAccounting.Key {
        .init(owner: ObjectIdentifier(ioas), start: range.start)
    }

    /// `DIV_ROUND_UP(bytes, PAGE_SIZE)` without overflow.
    static func pageCount(_ bytes: UInt64) -> UInt64 { bytes / pageSize + (bytes % pageSize == 0 ? 0 : 1) }

    // MARK: IOMMU_OPTION

    /// `IOMMU_OPTION`; returns `val64` as written back.
    public func option(optionID: UInt32, op: UInt16, objectID: UInt32, val64: UInt64) throws(Refusal) -> UInt64 {
        beginMutation()
        switch OptionID(rawValue: optionID) {
        case .rlimitMode:
            guard objectID == 0 else {
                throw Refusal(.EOPNOTSUPP, .optionRLimitModeObject, values: [InvolvedValue("object_id", UInt64(objectID), .requested)])
            }
            switch OptionOp(rawValue: op) {
            case .get: return accountsToMM ? 1 : 0
            case .set:
                guard machine.limits.capSysResource else {
                    throw Refusal(.EPERM, .optionRLimitModeCapability, values: [InvolvedValue("CAP_SYS_RESOURCE", nil, .flag)])
                }
                guard slots.isEmpty else {
                    throw Refusal(.EBUSY, .optionRLimitModeObjects, values: [InvolvedValue("objects", UInt64(slots.count), .existing)])
                }
                guard val64 <= 1 else { throw .optionValue(val64) }
                accountsToMM = val64 == 1
                return val64
            case nil: throw .optionUnknownOp(op)
            }
        case .hugePages:
            let ioas = try object(objectID, as: IOAS.self)
            switch OptionOp(rawValue: op) {
            case .get: return ioas.largePagesDisabled ? 0 : 1
            case .set:
                switch val64 {
                case 0:
                    guard !ioas.largePagesDisabled else { return val64 }
                    if !ioas.hwpts.isEmpty && !ioas.areas.isEmpty {
                        throw Refusal(.EINVAL, .disableLargePagesMapped,
                                      objects: [InvolvedObject(ioas, .requested)] + ioas.hwpts.map { InvolvedObject($0, .existing) },
                                      ranges: ioas.areas.entries.map { InvolvedRange($0.range, .area) })
                    }
                    ioas.largePagesDisabled = true
                    do throws(Refusal) { try recomputeAlignment(ioas) } catch { ioas.largePagesDisabled = false; throw error }
                case 1:
                    ioas.largePagesDisabled = false
                    try? recomputeAlignment(ioas)
                default:
                    throw .optionValue(val64)
                }
                return val64
            case nil: throw .optionUnknownOp(op)
            }
        case nil:
            throw Refusal(.EOPNOTSUPP, .optionUnknownOption, values: [InvolvedValue("option_id", UInt64(optionID), .requested)])
        }
    }
}
