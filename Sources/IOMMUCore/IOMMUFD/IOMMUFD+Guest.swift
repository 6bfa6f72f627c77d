/// Guest memory: a guest physical address is an IOVA of the nest parent's IOAS, backed by the
/// VMM memory the IOAS maps. This is how a guest's CD tables and stage-1 tables come to be
/// in host memory for the SMMU (or VT-d) to walk.
extension IOMMUFD {
    /// What refusals involve, by their short names.
    /// The host physical address behind a GPA, or ENOENT where the IOAS maps nothing.
    public func hostPhysicalAddress(ioasID: UInt32, gpa: UInt64) throws(Refusal) -> UInt64 {
        let ioas = try object(ioasID, as: IOAS.self)
        guard let (range, area) = ioas.areas.entry(containing: gpa) else {
            throw Refusal(.ENOENT, .guestUnmapped, objects: [InvolvedObject(ioas, .requested)],
                          values: [InvolvedValue("gpa", gpa, .requested)])
        }
        guard let physical = areaPhysicalAddress(ioas, area, area: range, at: area.userVA &+ (gpa - range.start)) else {
            throw Refusal(.ENOENT, .guestUnbacked, objects: [InvolvedObject(ioas, .requested)], ranges: [InvolvedRange(range, .area)],
                          values: [InvolvedValue("gpa", gpa, .requested)])
        }
        return physical
    }

    /// The host page behind a user VA of an area: the page its pin holds once a domain or an
    /// access pinned the area (whatever `munmap` did since), else what the process maps there now.
    func areaPhysicalAddress(_ ioas: IOAS, _ value: IOASArea, area: IOVARange, at userVA: UInt64) -> UInt64? {
        isPinned(ioas, area) ? machine.memory.pinnedPhysicalAddress(of: userVA) : machine.memory.physicalAddress(of: userVA)
    }

    /// Whether an area's pages are pinned: by the IOAS's domains, or by an access.
    func isPinned(_ ioas: IOAS, _ area: IOVARange) -> Bool {
        !ioas.hwpts.isEmpty || ioas.accessPins[area.start, default: 0] > 0
    }

    /// Writes little-endian u64s at a GPA, through the IOAS mapping; ENOENT if unmapped,
    /// EINVAL if not 8-byte aligned. Every word is checked before any is written.
    public func guestWrite(ioasID: UInt32, gpa: UInt64, values: [UInt64]) throws(Refusal) {
        // Guest RAM holds guest page tables and CDs: views keyed on the generation must redraw.
        beginMutation()
        guard gpa.isAligned(to: 8) else { throw .guestUnaligned(gpa) }
        guard !values.isEmpty else { throw .guestNoWords(count: 0) }
        var targets: [UInt64] = []
        for index in values.indices {
            guard let address = gpa.checkedAdd(UInt64(index) * 8) else { throw .addressOverflow(gpa, length: UInt64(index) * 8) }
            targets.append(try hostPhysicalAddress(ioasID: ioasID, gpa: address))
        }
        for (target, value) in zip(targets, values) {
            do throws(BusError) { try machine.physical.write64(target, value) } catch { throw .guestBusError(error) }
        }
    }

    /// Reads `count` little-endian u64s at a GPA.
    public func guestRead(ioasID: UInt32, gpa: UInt64, count: Int) throws(Refusal) -> [UInt64] {
        guard gpa.isAligned(to: 8) else { throw .guestUnaligned(gpa) }
        guard count > 0 else { throw .guestNoWords(count: count) }
        var values: [UInt64] = []
        for index in 0..<count {
            guard let address = gpa.checkedAdd(UInt64(index) * 8) else { throw .addressOverflow(gpa, length: UInt64(index) * 8) }
            let target = try hostPhysicalAddress(ioasID: ioasID, gpa: address)
            do throws(BusError) { values.append(try machine.physical.read64(target)) } catch { throw .guestBusError(error) }
        }
        return values
    }
}

/// A guest's RAM as page-table memory: addresses are GPAs, resolved through the IOAS, and
/// tables come from a pool of guest pages the guest set aside (bump-allocated, zeroed).
/// This is what the `guest_pgtable` helpers build guest stage-1 tables in.
public final class GuestTableMemory: TableMemory {
    public let iommufd: IOMMUFD
    public let ioasID: UInt32
    public let pool: IOVARange
    private var next: UInt64

    public init(iommufd: IOMMUFD, ioasID: UInt32, pool: IOVARange) {
        self.iommufd = iommufd
        self.ioasID = ioasID
        self.pool = pool
        next = pool.start
    }

    public func makeCopy(in copier: ModelCopy) -> GuestTableMemory {
        let copy = GuestTableMemory(iommufd: copier.copy(iommufd), ioasID: ioasID, pool: pool)
        copy.next = next
        return copy
    }

    public func read64(_ address: UInt64) throws(BusError) -> UInt64 {
        guard let host = try? iommufd.hostPhysicalAddress(ioasID: ioasID, gpa: address) else { throw BusError(address: address) }
        return try iommufd.machine.physical.read64(host)
    }

    public func write64(_ address: UInt64, _ value: UInt64) throws(BusError) {
        guard let host = try? iommufd.hostPhysicalAddress(ioasID: ioasID, gpa: address) else { throw BusError(address: address) }
        iommufd.beginMutation()
        try iommufd.machine.physical.write64(host, value)
    }

    public func allocateTable(size: UInt64) throws(Refusal) -> UInt64 {
        let length = max(size, pageSize).roundedUpToPowerOfTwo
        guard let start = next.alignedUp(to: length), let range = IOVARange(start: start, length: length),
              pool.contains(range) else {
            throw Refusal(.ENOMEM, .guestTablePoolFull, ranges: [Refusal.InvolvedRange(pool, .limit, note: "pool")],
                          values: [Refusal.InvolvedValue("size", length, .requested)])
        }
        var offset: UInt64 = 0
        while offset < length {
            do throws(BusError) { try write64(start + offset, 0) } catch { throw .guestBusError(error) }
            offset += 8
        }
        next = range.last &+ 1
        return start
    }
}
