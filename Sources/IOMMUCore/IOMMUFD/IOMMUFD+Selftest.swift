/// The selftest's `IOMMU_TEST_CMD` ops that the kernel's own iommufd tests depend on
/// (`drivers/iommu/iommufd/selftest.c`), so those tests can be replayed here.
extension IOMMUFD {
    /// What `IOMMU_TEST_OP_MOCK_DOMAIN` writes back.
    public struct MockDomain: Sendable, Equatable {
        public var stdevID: ObjectID
        public var hwptID: ObjectID
        public var idevID: ObjectID
    }

    /// `IOMMU_TEST_OP_ADD_RESERVED`: a reservation with no owner, kept until the IOAS goes.
    public func testAddReserved(ioasID: UInt32, start: UInt64, length: UInt64) throws(Refusal) {
        beginMutation()
        let ioas = try object(ioasID, as: IOAS.self)
        guard let range = IOVARange(start: start, length: length) else { throw .addressOverflow(start, length: length) }
        try reserve(ioas, range, owner: .test)
    }

    /// `IOMMU_TEST_OP_MOCK_DOMAIN(_FLAGS)`: creates a mock device behind `iommu`, binds it and
    /// attaches it to `ptID`. Ids are taken in the kernel's order: stdev, idev, then the HWPT.
    public func testMockDomain(ptID: UInt32, deviceFlags: UInt32, iommu: MockIOMMU) throws(Refusal) -> MockDomain {
        beginMutation()
        var result: MockDomain?
        _ = try allocate { stdevID throws(Refusal) -> SelftestDevice in
            let flags = MockDeviceFlags(rawValue: deviceFlags)
            guard flags.isSubset(of: .valid) else { throw .unsupportedFlags(.EINVAL, "dev_flags", UInt64(deviceFlags)) }
            let platform = iommu.createDevice(flags: flags)
            let idevID = try bind(platform)
            let device = try object(idevID.rawValue, as: Device.self)
            do throws(Refusal) {
                let hwptID = try attach(deviceID: idevID.rawValue, ptID: ptID)
                result = MockDomain(stdevID: stdevID, hwptID: hwptID, idevID: idevID)
            } catch {
                try? unbind(device)
                throw error
            }
            return SelftestDevice(id: stdevID, device: device)
        }
        return result!
    }

    /// `IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE`: replaces the mock device's attachment.
    public func testMockDomainReplace(stdevID: UInt32, ptID: UInt32) throws(Refusal) -> ObjectID {
        beginMutation()
        let stdev = try object(stdevID, as: SelftestDevice.self)
        return try replace(deviceID: stdev.device.id.rawValue, ptID: ptID)
    }

    /// `IOMMU_TEST_OP_MD_CHECK_IOTLB`: EINVAL unless the nested mock domain's IOTLB entry holds `value`.
    public func testCheckIOTLB(hwptID: UInt32, iotlbID: UInt32, value: UInt32) throws(Refusal) {
        let hwpt = try object(hwptID, as: HWPTNested.self)
        guard case .selftest(let iotlb) = hwpt.domain.configuration else {
            throw Refusal(.EINVAL, .notMockNestedPagetable, objects: [InvolvedObject(hwpt, .requested)])
        }
        guard Int(iotlbID) < iotlb.count, iotlb[Int(iotlbID)] == value else {
            throw .testCacheMismatch(.testIOTLBMismatch, hwpt, "iotlb_id", iotlbID, expected: value,
                                     found: Int(iotlbID) < iotlb.count ? iotlb[Int(iotlbID)] : nil)
        }
    }

    /// `IOMMU_TEST_OP_DEV_CHECK_CACHE`: EINVAL unless the mock device's cache entry holds `value`.
    public func testCheckDeviceCache(deviceID: UInt32, cacheID: UInt32, value: UInt32) throws(Refusal) {
        let device = try object(deviceID, as: Device.self)
        guard let mock = device.platform.iommu as? MockIOMMU else {
            throw Refusal(.EINVAL, .testDeviceNotMock, objects: [InvolvedObject(device, .requested)])
        }
        guard cacheID <= MockIOMMU.deviceCacheIDMax, mock.cache(of: device.platform)[Int(cacheID)] == value else {
            throw .testCacheMismatch(.testDeviceCacheMismatch, device, "cache_id", cacheID, expected: value,
                                     found: cacheID <= MockIOMMU.deviceCacheIDMax ? mock.cache(of: device.platform)[Int(cacheID)] : nil)
        }
    }

    /// `IOMMU_TEST_OP_MD_CHECK_MAP`: EINVAL unless every mock page of `[iova, iova+length)` in
    /// the paging HWPT maps the user memory at `userVA` onward. Without `userVA`, the memory
    /// expected is what the IOAS's areas say backs each IOVA.
    public func testCheckMap(hwptID: UInt32, iova: UInt64, length: UInt64, userVA: UInt64?) throws(Refusal) {
        let page = MockIOMMU.ioPageSize
        guard iova % page == 0, length % page == 0, (userVA ?? 0) % page == 0,
              (userVA ?? 0).checkedAdd(length) != nil, iova.checkedAdd(length) != nil else {
            throw Refusal(.EINVAL, .testCheckMapArguments,
                          values: [InvolvedValue("iova", iova, .requested), InvolvedValue("length", length, .requested)]
                              + (userVA.map { [InvolvedValue("uptr", $0, .requested)] } ?? [])
                              + [InvolvedValue("MOCK_IO_PAGE_SIZE", page, .limit)])
        }
        let hwpt = try object(hwptID, as: HWPTPaging.self)
        guard hwpt.domain.driver is MockIOMMU else { throw .notMockPagetable(hwpt) }
        var offset: UInt64 = 0
        while offset < length {
            let address = iova + offset
            let physical: UInt64?
            if let userVA {
                // The mock stores the pinned page's PFN: compare physical addresses, as GUP would.
                physical = machine.memory.physicalAddress(of: userVA + offset)
            } else {
                guard let (range, area) = hwpt.ioas.areas.entry(containing: address) else {
                    throw Refusal(.EINVAL, .testCheckMapNoArea, objects: [InvolvedObject(hwpt.ioas, .requested)],
                                  values: [InvolvedValue("iova", address, .requested)])
                }
                physical = areaPhysicalAddress(hwpt.ioas, area, area: range, at: area.userVA + (address - range.start))
            }
            guard let physical else { throw .userPagesUnbacked(userVA.map { $0 + offset } ?? address) }
            let mapped = hwpt.domain.table.lookup(address)?.output
            guard mapped == physical else {
                throw Refusal(.EINVAL, .testCheckMapMismatch, objects: [InvolvedObject(hwpt, .requested)],
                              values: [InvolvedValue("iova", address, .requested), InvolvedValue("expected", physical, .requested)]
                                  + (mapped.map { [InvolvedValue("mapped", $0, .existing)] } ?? []))
            }
            offset += page
        }
    }
}
