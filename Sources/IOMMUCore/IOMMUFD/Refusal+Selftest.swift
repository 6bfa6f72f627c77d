/// The rules of the selftest's checking ops (`selftest.c`) and of the SW_MSI doorbell maps
/// (`driver.c`).
extension Refusal.Rule {
    /// `get_md_pagetable_nested`: the HWPT's domain is not the mock driver's nested domain (EINVAL).
    public static let notMockNestedPagetable = Refusal.Rule("get_md_pagetable_nested.not_mock", "the HWPT's domain is not a mock nested domain")

    /// `iommufd_test_md_check_iotlb`: `iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX ||
    /// mock_nested->iotlb[iotlb_id] != iotlb` (EINVAL).
    public static let testIOTLBMismatch = Refusal.Rule("iommufd_test_md_check_iotlb.mismatch",
                                                       "the nested mock domain's IOTLB entry does not hold the value")

    /// `iommufd_test_dev_check_cache`: the device is not behind the mock IOMMU, whose
    /// `mock_dev` the check reads (EINVAL).
    public static let testDeviceNotMock = Refusal.Rule("iommufd_test_dev_check_cache.not_mock", "the device is not a mock device")

    /// `iommufd_test_dev_check_cache`: `cache_id > MOCK_DEV_CACHE_ID_MAX ||
    /// mdev->cache[cache_id] != cache` (EINVAL).
    public static let testDeviceCacheMismatch = Refusal.Rule("iommufd_test_dev_check_cache.mismatch",
                                                             "the mock device's cache entry does not hold the value")

    /// `iommufd_test_md_check_pa`: the IOVA, length or `uptr` is not a multiple of
    /// MOCK_IO_PAGE_SIZE, or `uptr + length` wraps (EINVAL).
    public static let testCheckMapArguments = Refusal.Rule("iommufd_test_md_check_pa.arguments",
                                                           "the IOVA, length or user address is not in whole mock IO pages, or the range wraps")

    /// The model's MD_CHECK_MAP without `uptr`: no area of the IOAS says what backs the IOVA (EINVAL).
    public static let testCheckMapNoArea = Refusal.Rule("iommufd_test_md_check_pa.no_area", "no area maps the IOVA")

    /// `iommufd_test_md_check_pa`: the mock domain's entry for an IOVA is missing or holds
    /// another page than the user memory's (EINVAL).
    public static let testCheckMapMismatch = Refusal.Rule("iommufd_test_md_check_pa.mismatch",
                                                          "the mock domain does not map the IOVA to the expected page")

    /// `iommufd_sw_msi_get_map`: `ictx->sw_msi_id` reached the bits of
    /// `struct iommufd_sw_msi_maps` (EOVERFLOW).
    public static let swMSIMapsFull = Refusal.Rule("iommufd_sw_msi_get_map.full", "every doorbell map id is taken")
}

extension Refusal {
    /// EINVAL for a selftest cache check whose entry (`name` = `id`) holds another value
    /// than `expected`: `found`, or nil for an id past the cache.
    static func testCacheMismatch(_ rule: Rule, _ object: IOMMUFDObject, _ name: String, _ id: UInt32,
                                  expected: UInt32, found: UInt32?) -> Refusal {
        Refusal(.EINVAL, rule, objects: [InvolvedObject(object, .requested)],
                values: [InvolvedValue(name, UInt64(id), .requested), InvolvedValue("expected", UInt64(expected), .requested)]
                    + (found.map { [InvolvedValue("found", UInt64($0), .existing)] } ?? []))
    }
}
