import Testing
import TestSupport
import IOMMUCore
@testable import ScenarioScript

/// Dirty tracking beyond what a scenario line can hold: every `FIXTURE_VARIANT_ADD` of
/// `iommufd_dirty_tracking` (tools/testing/selftests/iommu/iommufd.c, v6.17), the 64M and 128M
/// ones with their 512- and 1024-word bitmaps and the MOCK_FLAGS_DEVICE_HUGE_IOVA variants,
/// checked exactly as `_test_mock_dirty_bitmaps` (iommufd_utils.h) checks them; the Arm DBM /
/// AP[2] encodings; and that a probe walk writes no descriptor.
struct DirtyTrackingTests {
    /// The fixture and a dirty-tracking HWPT over the buffer mapped at MOCK_APERTURE_START,
    /// tracking enabled (the body of TEST_F(get_dirty_bitmap) up to the bitmap checks).
    static func mockFixture(bufferSize: String, huge: Bool) throws -> (Session, UInt32) {
        let source = """
            iommu mock type=mock
            buf = mmap length=\(bufferSize) align=2M
            ioas = ioas_alloc
            md = test_mock_domain pt_id=ioas\(huge ? " dev_flags=huge_iova" : "")
            dioas = ioas_alloc
            ioas_map ioas_id=dioas user_va=buf length=\(bufferSize) iova=0x1000000 flags=fixed_iova|readable|writeable
            h = hwpt_alloc flags=dirty_tracking dev_id=md.out_idev_id pt_id=dioas
            hwpt_set_dirty_tracking hwpt_id=h flags=enable
            """
        let session = Session()
        let reports = session.run(try Scenario(source: source))
        for report in reports { #expect(report.passed, "line \(report.line): \(report.result.status)") }
        guard case .integer(let hwpt)? = reports[6].result.field("out_hwpt_id") else { throw Errno.ENOENT }
        return (session, UInt32(hwpt))
    }

    /// A device of a `type` IOMMU attached to a dirty-tracking HWPT over 16K at 0x1000000
    /// (tracking not enabled yet): the session, the device's id and the HWPT's.
    static func attachedDirtyDomain(_ type: String) throws -> (Session, UInt32, UInt32) {
        let source = """
            iommu u0 type=\(type)
            device nic0 iommu=u0 \(type == "arm-smmu-v3" ? "sid" : "rid")=0x100
            small = mmap length=16K
            dev = device_bind dev=nic0
            ioas = ioas_alloc
            ioas_map ioas_id=ioas user_va=small length=16K iova=0x1000000 flags=fixed_iova|readable|writeable
            hwpt = hwpt_alloc dev_id=dev pt_id=ioas flags=dirty_tracking
            device_attach dev_id=dev pt_id=hwpt
            """
        let session = Session()
        let reports = session.run(try Scenario(source: source))
        for report in reports { #expect(report.passed, "line \(report.line): \(report.result.status)") }
        guard case .integer(let device)? = reports[3].result.field("out_devid"),
              case .integer(let hwpt)? = reports[6].result.field("out_hwpt_id") else { throw Errno.ENOENT }
        return (session, UInt32(device), UInt32(hwpt))
    }

    static func bit(_ words: [UInt64], _ index: UInt64) -> Bool { words[Int(index / 64)] >> (index % 64) & 1 != 0 }

    /// `_test_mock_dirty_bitmaps(hwpt_id, length, MOCK_APERTURE_START, page_size, pte_page_size, bitmap, nbits, flags)`.
    static func mockDirtyBitmaps(_ iommufd: IOMMUFD, hwpt: UInt32, length: UInt64, pageSize: UInt64, ptePageSize: UInt64,
                                 flags: UInt32) throws {
        let nbits = length / pageSize, npte = ptePageSize / pageSize, pteset = 2 * npte
        let nr = max(nbits / pteset, 1)
        var marked = [UInt64](repeating: 0, count: Int((nbits + 63) / 64))
        for index in stride(from: 0, to: nbits, by: Int(pteset)) { marked[Int(index / 64)] |= 1 << (index % 64) }
        let found = try iommufd.testDirty(hwptID: hwpt, iova: MockIOMMU.aperture.start, length: length, pageSize: pageSize,
                                          bitmap: marked)
        #expect(found == nr)
        let first = try iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: flags, iova: MockIOMMU.aperture.start, length: length,
                                                   pageSize: pageSize)
        let second = try iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: flags, iova: MockIOMMU.aperture.start, length: length,
                                                    pageSize: pageSize)
        let noClear = flags & IOMMUFD.dirtyBitmapNoClear != 0
        var firstMismatches = 0, secondMismatches = 0
        for index in 0..<nbits {
            let expected = index % pteset < npte
            if bit(first, index) != expected { firstMismatches += 1 }
            if bit(second, index) != (expected && noClear) { secondMismatches += 1 }
        }
        #expect(firstMismatches == 0)
        #expect(secondMismatches == 0)
    }

    @Test(arguments: [
        ("8K", false), ("16K", false), ("64K", false), ("128K", false), ("320K", false),
        ("64M", false), ("64M", true), ("128M", false), ("128M", true),
    ])
    func selftestVariant(_ size: String, _ huge: Bool) throws {
        let bytes: UInt64 = size.hasSuffix("M") ? UInt64(size.dropLast())! << 20 : UInt64(size.dropLast())! << 10
        // TEST_F(get_dirty_bitmap) and TEST_F(get_dirty_bitmap_no_clear), each run twice as the
        // selftest does (its buffer-offset repeats see the same bitmap).
        for flags in [0, IOMMUFD.dirtyBitmapNoClear] {
            let (session, hwpt) = try Self.mockFixture(bufferSize: size, huge: huge)
            for _ in 0..<2 {
                try Self.mockDirtyBitmaps(session.iommufd, hwpt: hwpt, length: bytes, pageSize: MockIOMMU.ioPageSize,
                                          ptePageSize: huge ? MockIOMMU.hugeIOPageSize : MockIOMMU.ioPageSize, flags: flags)
            }
        }
    }

    /// iova_bitmap: a bitmap page larger than the IO page gets a bit when any IO page in it
    /// is dirty; the mock reports a huge page from the address the walk reached.
    @Test func coarseBitmapPages() throws {
        let (session, hwpt) = try Self.mockFixture(bufferSize: "16K", huge: false)
        let iova = MockIOMMU.aperture.start
        // Mark IO pages 1 and 6 (of eight 2K pages).
        #expect(try session.iommufd.testDirty(hwptID: hwpt, iova: iova, length: 16384, pageSize: 2048, bitmap: [0b0100_0010]) == 2)
        let words = try session.iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: 0, iova: iova, length: 16384, pageSize: 8192)
        #expect(words == [0b11])
    }

    @Test func armDirtyEncoding() {
        let format = ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48, hardwareDirty: true)
        let writable = format.encodeLeaf(0x4000_0000, size: 4096, level: 3, prot: [.read, .write])
        // arm_lpae_prot_to_pte: DBM with AP[2] clear, writable-dirty from the start.
        #expect(writable >> 51 & 1 == 1 && writable >> 7 & 1 == 0)
        #expect(format.isDirty(writable, level: 3))
        let clean = format.cleaned(writable, level: 3)
        #expect(!format.isDirty(clean, level: 3) && clean >> 7 & 1 == 1)
        // HD: a write makes it dirty again, a read does not; without HD nothing changes.
        #expect(format.updated(clean, level: 3, kind: .page, access: .write, updates: [.access, .dirty]) == writable)
        #expect(format.updated(clean, level: 3, kind: .page, access: .read, updates: [.access, .dirty]) == clean)
        #expect(format.updated(clean, level: 3, kind: .page, access: .write, updates: .access) == clean)
        // A read-only leaf has no DBM: a write stays a permission fault.
        let readOnly = format.encodeLeaf(0x4000_0000, size: 4096, level: 3, prot: .read)
        #expect(format.updated(readOnly, level: 3, kind: .page, access: .write, updates: [.access, .dirty]) == readOnly)
        // HA sets AF (bit 10) of a leaf whose AF is clear; table entries have none.
        #expect(format.updated(writable & ~(1 << 10), level: 3, kind: .page, access: .read, updates: .access) == writable)
        #expect(format.updated(0x4000_0003, level: 2, kind: .table, access: .read, updates: .access) == 0x4000_0003)
        // Stage 2 (S2HA/S2HD) is not modelled, and a stage-2 leaf is never dirty here.
        let s2 = ArmLPAE(stage: .stage2, granule: 4096, ias: 48, oas: 48)
        let s2Leaf = s2.encodeLeaf(0x4000_0000, size: 4096, level: 3, prot: [.read, .write])
        #expect(s2.updated(s2Leaf, level: 3, kind: .page, access: .write, updates: [.access, .dirty]) == s2Leaf)
        #expect(!s2.isDirty(s2Leaf | 1 << 51, level: 3))
    }

    /// CD.HA/HD as IDR0.HTTU lets the SMMU honour them (IHI0070 §3.13): nothing without
    /// HTTU, AF only with HTTU = 1, both with 2; HD without HA does nothing.
    @Test func contextDescriptorUpdates() {
        let base: UInt64 = 0x1e205c0003510, ha: UInt64 = 1 << 43, hd: UInt64 = 1 << 42
        func updates(_ word0: UInt64, _ httu: UInt64) -> HardwareUpdates {
            SMMUv3.ContextDescriptor(words: [word0, 0]).hardwareUpdates(httu: httu)
        }
        #expect(updates(base | ha | hd, 0) == [])
        #expect(updates(base | ha | hd, 1) == .access)
        #expect(updates(base | ha | hd, 2) == [.access, .dirty])
        #expect(updates(base | ha, 2) == .access)
        #expect(updates(base | hd, 2) == [])
        #expect(SMMUv3.ContextDescriptor(words: [base | 1 << 35, 0]).accessFlagFaultDisable)
    }

    @Test func amdHostAccessDirtyField() {
        #expect(HardwareUpdates(amdHostAccessDirty: 0) == [])
        #expect(HardwareUpdates(amdHostAccessDirty: 1) == .access)
        #expect(HardwareUpdates(amdHostAccessDirty: 2) == [])
        #expect(HardwareUpdates(amdHostAccessDirty: 3) == [.access, .dirty])
    }

    /// A probe (the inspector's walk) answers what the hardware would do and writes nothing;
    /// the same DMA write through `translate` marks the page dirty.
    @Test func probeWritesNoDescriptor() throws {
        let (session, device, hwpt) = try Self.attachedDirtyDomain("intel-vtd")
        try session.iommufd.hwptSetDirtyTracking(flags: IOMMUFD.dirtyTrackingEnable, hwptID: hwpt)
        let reader = ModelReader(session.iommufd)
        let generation = session.iommufd.generation
        for caches in [ModelReader.ProbeCaches.lookupOnly, .bypass] {
            let probe = try reader.probe(deviceID: ObjectID(rawValue: device), iova: 0x100_0000, pasid: nil, access: .write,
                                         caches: caches)
            guard case .success? = probe else { Issue.record("probe failed"); return }
        }
        #expect(session.iommufd.generation == generation)
        let clean = try session.iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: IOMMUFD.dirtyBitmapNoClear,
                                                           iova: 0x100_0000, length: 16384, pageSize: 4096)
        #expect(clean == [0])
        _ = try session.iommufd.translate(deviceID: device, iova: 0x100_0000, pasid: nil, access: .write)
        #expect(session.iommufd.generation != generation)
        let dirty = try session.iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: 0, iova: 0x100_0000, length: 16384,
                                                           pageSize: 4096)
        #expect(dirty == [1])
    }

    /// Under Arm HTTU every DMA write walks, past the route the first transaction left and
    /// past the IOTLB entries of the pages read and written before it: each written page is
    /// marked dirty (AP[2] cleared in its DBM leaf), the page only read is not.
    @Test func armWritesUnderARouteMarkDirty() throws {
        let (session, device, hwpt) = try Self.attachedDirtyDomain("arm-smmu-v3")
        try session.iommufd.hwptSetDirtyTracking(flags: IOMMUFD.dirtyTrackingEnable, hwptID: hwpt)
        let accesses: [(page: UInt64, access: AccessRights)] = [(1, .read), (0, .write), (1, .read), (2, .write), (3, .write), (2, .write)]
        for (page, access) in accesses {
            guard case .success? = try session.iommufd.translate(deviceID: device, iova: 0x100_0000 + page * 4096, pasid: nil,
                                                                 access: access) else {
                Issue.record("page \(page) did not translate for \(access)")
                return
            }
        }
        let dirty = try session.iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: 0, iova: 0x100_0000, length: 16384, pageSize: 4096)
        #expect(dirty == [0b1101])
    }

    /// The configuration words set_dirty_tracking rewrites, bit for bit: VT-d SSADE (bit 9)
    /// in the PASID entry (intel_pasid_setup_dirty_tracking), AMD-Vi HAD (bits 8:7) in the DTE
    /// (amd_iommu_set_dirty_tracking); Arm's CD has HD and HA (bits 42, 43) from the
    /// allocation on (arm_smmu_make_s1_cd) and keeps them.
    @Test(arguments: [("intel-vtd", "PASID entry", 9 as UInt64, 1 as UInt64, 1 as UInt64, 0 as UInt64),
                      ("amd-vi", "DTE", 7, 3, 3, 0), ("arm-smmu-v3", "CD", 42, 3, 3, 3)])
    func configurationFollowsTracking(_ type: String, _ structure: String, _ shift: UInt64, _ mask: UInt64, _ on: UInt64,
                                      _ off: UInt64) throws {
        let (session, _, hwpt) = try Self.attachedDirtyDomain(type)
        let reader = ModelReader(session.iommufd), device = try #require(session.iommufd.devices.first)
        func value() throws -> UInt64 {
            let structures = reader.configurationStructures(of: device)
            return try #require(structures.first { $0.name.hasPrefix(structure) }?.words.first) >> shift & mask
        }
        #expect(try value() == off)
        #expect(SessionSummary(session: session).text.contains("dirty-tracking disabled"))
        try session.iommufd.hwptSetDirtyTracking(flags: IOMMUFD.dirtyTrackingEnable, hwptID: hwpt)
        #expect(try value() == on)
        #expect(SessionSummary(session: session).text.contains("dirty-tracking enabled"))
        try session.iommufd.hwptSetDirtyTracking(flags: 0, hwptID: hwpt)
        #expect(try value() == off)
    }

    /// u64 boundaries answer the kernel's errno, never a trap: a zero length wraps
    /// `length - 1` to U64_MAX (a whole-space bitmap, past the model's bound), and a range
    /// ending past U64_MAX overflows.
    @Test func boundaries() throws {
        let (session, hwpt) = try Self.mockFixture(bufferSize: "8K", huge: false)
        let iommufd = session.iommufd
        #expect(refusal { try iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: 0, iova: 0, length: 0, pageSize: 1) }?.errno == .ENOMEM)
        #expect(refusal {
            try iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: 0, iova: .max - 2047, length: 4096, pageSize: 2048)
        }?.errno == .EOVERFLOW)
        // page_size 3 passes the kernel's mask checks (mask 2) and iova_bitmap shifts by
        // __ffs(3) = 0: one bit per byte.
        #expect(try iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: 0, iova: 0x100_0000, length: 8192, pageSize: 3).count == 128)
        #expect(refusal {
            try iommufd.testDirty(hwptID: hwpt, iova: .max - 2047, length: 2048, pageSize: 0, bitmap: [1])
        }?.errno == .EINVAL)
        #expect(try iommufd.testDirty(hwptID: hwpt, iova: .max - 2047, length: 2048, pageSize: 2048, bitmap: [.max]) == 0)
        #expect(refusal {
            try iommufd.testDirty(hwptID: hwpt, iova: 0x100_0000, length: 65 * 2048, pageSize: 2048, bitmap: [.max])
        }?.errno == .EFAULT)
    }
}
