import Testing
@testable import IOMMUCore

/// Reserved bits in second-stage entries the unit walks: a present entry with one set is
/// 0x7A "SM: Non-zero reserved field set in second-level paging entry" at its level (VT-d
/// spec §9.8 and the scalable-mode fault reasons; QEMU `vtd_slpte_nonzero_rsvd` with the
/// `VTD_SPTE_*_RSVD_MASK` masks reports the legacy 0x0C instead). Linux never writes such
/// bits, so the tests write the descriptors into host memory themselves.
struct VTdReservedBitTests {
    let memory = PhysicalMemory()
    let vtd = IntelVTd(name: "vt0")
    let device: PlatformDevice
    let domain: PagingDomain
    var table: DescriptorPageTable { domain.table as! DescriptorPageTable }

    init() throws {
        device = PlatformDevice(name: "nic0", iommu: vtd, streamID: 0x100)
        // Dirty tracking makes the domain second stage.
        domain = try vtd.allocatePagingDomain(for: device, flags: .dirtyTracking, userData: nil, memory: memory)
        vtd.install(device, .paging(domain), pasid: noPASID, memory: memory)
    }

    func reason(_ iova: UInt64) -> (reason: VTd.FaultReason, level: Int)? {
        guard case .failure(let fault)? = vtd.translate(device, iova: iova, pasid: nil, access: .read, caches: .bypass, memory: memory),
              let record = fault.vtdRecord else { return nil }
        return (record.reason, fault.level)
    }

    @Test func superpageAndAddressBits() throws {
        try table.map(iova: 0x4000_0000, output: 0x2_0000_0000, length: 4096, prot: [.read, .write])
        let path = table.path(to: 0x4000_0000)
        let pde = try #require(path.first { $0.level == 2 })
        let pdpte = try #require(path.first { $0.level == 3 })
        let pte = try #require(path.last)
        // A 2M SS-PDE (R|W|PS) with bit 12 of its frame set; without it, it translates.
        try memory.write64(pde.table + 8 * 8, 0x2_0020_1083)
        #expect(reason(0x4100_0000)?.reason == .secondStageReserved)
        #expect(reason(0x4100_0000)?.level == 2)
        try memory.write64(pde.table + 9 * 8, 0x2_0020_0083)
        #expect(reason(0x4120_0000) == nil)
        // A 1G SS-PDPTE with bit 29 set.
        try memory.write64(pdpte.table + 2 * 8, 0x2_2000_0083)
        #expect(reason(0x8000_0000)?.level == 3)
        #expect(reason(0x8000_0000)?.reason == .secondStageReserved)
        // Bit 48 (above the 48-bit host address width) in a PTE, and in a table entry.
        try memory.write64(pte.table + 1 * 8, 1 << 48 | 0x2_0000_1003)
        #expect(reason(0x4000_1000)?.level == 1)
        try memory.write64(pde.table + 10 * 8, 1 << 50 | pte.table | 3)
        #expect(reason(0x4140_0000)?.level == 2)
        #expect(reason(0x4140_0000)?.reason == .secondStageReserved)
        // The mapped page still translates.
        #expect(reason(0x4000_0000) == nil)
    }
}
