/// The kernel selftest's mock IOMMU (`drivers/iommu/iommufd/selftest.c`), faithful enough that
/// the kernel's own iommufd selftests replay against this core with the same results.
public final class MockIOMMU: IOMMUDriver {
    /// `MOCK_APERTURE_START ... MOCK_APERTURE_LAST`.
    public static let aperture = IOVARange(start: 1 << 24, last: (1 << 31) - 1)
    /// `MOCK_IO_PAGE_SIZE`: half a CPU page, so the IOAS alignment becomes 2048.
    public static let ioPageSize: UInt64 = pageSize / 2
    /// `MOCK_HUGE_PAGE_SIZE`.
    public static let hugeIOPageSize: UInt64 = 512 * ioPageSize
    public static let nestedIOTLBIDMax: UInt32 = 3
    public static let deviceCacheIDMax: UInt32 = 3
    /// `IOMMU_TEST_DEV_CACHE_DEFAULT`.
    public static let deviceCacheDefault: UInt32 = 0xbaddad
    /// `IOMMU_HW_INFO_SELFTEST_REGVAL`.
    public static let testRegisterValue: UInt64 = 0xdeadbeef
    /// `MOCK_PASID_WIDTH`.
    public static let pasidWidth: UInt8 = 20
    /// The device flag its no-dirty refusals name.
    static let noDirtyFlag = Refusal.InvolvedValue("MOCK_FLAGS_DEVICE_NO_DIRTY", nil, .flag)

    public let name: String
    public var architecture: IOMMUArchitecture { .mock }
    public var allocatesNestedDomains: Bool { true }
    private var deviceCaches: [ObjectIdentifier: [UInt32]] = [:]
    private var createdDevices = 0

    public init(name: String) { self.name = name }

    public func makeCopy(in copier: ModelCopy) -> MockIOMMU {
        let copy = MockIOMMU(name: name)
        copy.createdDevices = createdDevices
        copier.rekey(deviceCaches) { copy.deviceCaches = $0 }
        return copy
    }

    /// `mock_dev_create`: a new mock device behind this IOMMU.
    public func createDevice(flags: MockDeviceFlags) -> PlatformDevice {
        createdDevices += 1
        let device = PlatformDevice(name: "\(name)-dev\(createdDevices)", iommu: self, streamID: UInt32(createdDevices),
                                    mockFlags: flags, maxPASIDLog2: flags.contains(.pasid) ? Self.pasidWidth : 0)
        deviceCaches[ObjectIdentifier(device)] = Array(repeating: Self.deviceCacheDefault, count: 4)
        return device
    }

    /// `mock_dev->cache[]`, which only vIOMMU invalidation changes.
    public func cache(of device: PlatformDevice) -> [UInt32] {
        deviceCaches[ObjectIdentifier(device)] ?? Array(repeating: Self.deviceCacheDefault, count: 4)
    }

    public func reservedRegions(for device: PlatformDevice) -> [ReservedRegion] { [] }

    /// The mock never enforces coherency.
    public func canEnforceCacheCoherency(for device: PlatformDevice) -> Bool { false }

    public func capabilities(for device: PlatformDevice) -> HWCapabilities {
        device.mockFlags.contains(.noDirty) ? [] : .dirtyTracking
    }

    public func hardwareInfo(for device: PlatformDevice, type: UInt32) throws(Refusal) -> HWInfo {
        guard type == HWInfoType.default.rawValue || type == HWInfoType.selftest.rawValue else { throw .hardwareInfoType(type) }
        return HWInfo(type: .selftest, length: 8, fields: [("flags", 0, 4), ("test_reg", Self.testRegisterValue, 4)])
    }

    public func allocatePagingDomain(for device: PlatformDevice, flags: HWPTAllocFlags, userData: UserData?,
                                     memory: PhysicalMemory) throws(Refusal) -> PagingDomain {
        if let userData {
            throw Refusal(.EOPNOTSUPP, .pagingDomainData, values: [.init("data_type", UInt64(userData.type), .requested)])
        }
        let valid: HWPTAllocFlags = [.dirtyTracking, .nestParent, .pasid]
        guard flags.isSubset(of: valid) else { throw .unsupportedFlags(flags, valid: valid) }
        if flags.contains(.dirtyTracking) && device.mockFlags.contains(.noDirty) {
            throw Refusal(.EOPNOTSUPP, .mockNoDirtyAllocation, values: [.flag(.dirtyTracking), Self.noDirtyFlag])
        }
        var pageSizes = Self.ioPageSize
        if device.mockFlags.contains(.hugeIOVA) { pageSizes |= Self.hugeIOPageSize }
        return PagingDomain(driver: self, stage: .mock, aperture: Self.aperture, pageSizes: pageSizes, table: FlatPageTable(pageSizes: pageSizes),
                            nestParent: flags.contains(.nestParent), dirtyTracking: flags.contains(.dirtyTracking))
    }

    public func allocateNestedDomain(for device: PlatformDevice, parent: PagingDomain, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        guard flags.isSubset(of: .pasid) else { throw .unsupportedFlags(flags, valid: .pasid) }
        guard parent.driver is MockIOMMU else { throw Refusal(.EINVAL, .domainOfOtherDriver) }
        guard userData.type == HWPTDataType.selftest.rawValue else { throw .nestedDataType(userData.type) }
        let iotlb = try userData.copy(IOMMUHWPTSelftest.self).iotlb
        return NestedDomain(driver: self, parent: parent, configuration: .selftest(iotlb: Array(repeating: iotlb, count: 4)))
    }

    public func checkAttach(_ device: PlatformDevice, to domain: PagingDomain) throws(Refusal) {
        guard domain.driver is MockIOMMU else { throw Refusal(.EINVAL, .domainOfOtherDriver) }
        if domain.dirtyTracking && device.mockFlags.contains(.noDirty) {
            throw Refusal(.EINVAL, .mockNoDirtyAttach, values: [.flag(.dirtyTracking), Self.noDirtyFlag])
        }
    }

    public func checkAttach(_ device: PlatformDevice, to domain: NestedDomain, viommu: VIOMMU?, vdevice: VDevice?) throws(Refusal) {
        guard domain.driver is MockIOMMU else { throw Refusal(.EINVAL, .domainOfOtherDriver) }
        if let viommu, vdevice == nil { throw Refusal(.ENOENT, .missingVDevice, objects: [.init(viommu, .parent)]) }
    }

    /// `mock_domain_cache_invalidate_user`: `struct iommu_hwpt_invalidate_selftest` entries, copied one by one.
    public func invalidate(_ domain: NestedDomain, _ request: InvalidationArray) -> InvalidationOutcome {
        guard request.type == InvalidateDataType.selftest.rawValue else {
            return InvalidationOutcome(handled: 0, error: .invalidationDataType(request.type))
        }
        guard case .selftest(var iotlb) = domain.configuration else {
            return InvalidationOutcome(handled: 0, error: Refusal(.EINVAL, .domainOfOtherDriver))
        }
        defer { domain.configuration = .selftest(iotlb: iotlb) }
        return request.handleEach(as: IOMMUHWPTInvalidateSelftest.self) { entry in
            if entry.flags & ~1 != 0 { return .unsupportedEntryFlags(entry.flags, valid: 1) }
            if entry.iotlbID > UInt64(Self.nestedIOTLBIDMax) {
                return Refusal(.EINVAL, .mockIOTLBID, values: [
                    .init("iotlb_id", entry.iotlbID, .requested),
                    .init("MOCK_NESTED_DOMAIN_IOTLB_ID_MAX", UInt64(Self.nestedIOTLBIDMax), .limit),
                ])
            }
            if entry.flags & 1 != 0 { iotlb = iotlb.map { _ in 0 } } else { iotlb[Int(entry.iotlbID)] = 0 }
            return nil
        }
    }

    public func checkVIOMMU(type: UInt32, device: PlatformDevice) throws(Refusal) {
        guard type == VIOMMUType.selftest.rawValue else { throw .vIOMMUType(type) }
    }

    /// `mock_viommu_init`: `struct iommu_viommu_selftest`'s `in_data` comes back as `out_data`.
    public func initializeVIOMMU(type: UInt32, parent: PagingDomain, userData: UserData?) throws(Refusal) -> UInt32 {
        guard let userData, userData.length > 0 else { return 0 }
        return try userData.copy(IOMMUVIOMMUSelftest.self).inData
    }

    public func allocateNestedDomain(on viommu: VIOMMU, for device: PlatformDevice, flags: HWPTAllocFlags,
                                     userData: UserData) throws(Refusal) -> NestedDomain {
        guard flags.isSubset(of: .pasid) else { throw .unsupportedFlags(flags, valid: .pasid) }
        return try allocateNestedDomain(for: device, parent: viommu.parent.domain, flags: flags, userData: userData)
    }

    /// `mock_viommu_cache_invalidate`: `struct iommu_viommu_invalidate_selftest` entries, read as
    /// a whole array first, so a short `entry_len` zero-extends each entry. An empty array of
    /// the right type probes the type.
    public func invalidate(_ viommu: VIOMMU, _ request: InvalidationArray) -> InvalidationOutcome {
        if request.entries.isEmpty && request.type == InvalidateDataType.selftest.rawValue { return InvalidationOutcome(handled: 0) }
        return request.handleAll(as: IOMMUVIOMMUInvalidateSelftest.self) { entry in
            if entry.flags & ~1 != 0 { return .unsupportedEntryFlags(entry.flags, valid: 1) }
            if entry.cacheID > UInt64(Self.deviceCacheIDMax) {
                return Refusal(.EINVAL, .mockCacheID, values: [
                    .init("cache_id", entry.cacheID, .requested), .init("MOCK_DEV_CACHE_ID_MAX", UInt64(Self.deviceCacheIDMax), .limit),
                ])
            }
            guard let vdevice = viommu.vdevices[UInt64(entry.vdevID)] else {
                return Refusal(.EINVAL, .mockVDevID, objects: [.init(viommu, .parent)],
                               values: [.init("vdev_id", entry.vdevID, .requested)])
            }
            var cache = cache(of: vdevice.device.platform)
            if entry.flags & 1 != 0 { cache = cache.map { _ in 0 } } else { cache[Int(entry.cacheID)] = 0 }
            deviceCaches[ObjectIdentifier(vdevice.device.platform)] = cache
            return nil
        }
    }
}
