import Testing
import TestSupport
@testable import IOMMUCore

/// The AMD-Vi device table Linux writes and the hardware walk through it: DTE words, v1 and
/// v2 walks, IO_PAGE_FAULT flags (AMD IOMMU spec 48882 §2.5), level skipping, the IOTLB.
struct AMDViTranslationTests {
    /// An AMD-Vi instance, one device at DeviceID `rid`, a domain of `flags` attached.
    struct Setup {
        let memory = PhysicalMemory()
        let iommu: AMDVi
        let device: PlatformDevice
        let domain: PagingDomain
        var table: DescriptorPageTable { domain.table as! DescriptorPageTable }

        init(levels: Int = 4, flags: HWPTAllocFlags = [], rid: UInt32 = 0x100, maxPASIDLog2: UInt8 = 0) throws {
            var configuration = AMDVi.Configuration()
            configuration.levels = levels
            iommu = AMDVi(name: "amd0", configuration: configuration)
            device = PlatformDevice(name: "nic0", iommu: iommu, streamID: rid, maxPASIDLog2: maxPASIDLog2)
            iommu.install(device, .blocked, pasid: noPASID, memory: memory)
            domain = try iommu.allocatePagingDomain(for: device, flags: flags, userData: nil, memory: memory)
            iommu.install(device, .paging(domain), pasid: noPASID, memory: memory)
        }

        func dte() throws -> [UInt64] {
            let base = try #require(iommu.deviceTable) + UInt64(device.streamID) * 32
            return try (0..<4).map { try memory.read64(base + UInt64($0) * 8) }
        }

        func translate(_ iova: UInt64, _ access: AccessRights = .read) -> Result<Translation, TranslationFault>? {
            iommu.translate(device, iova: iova, pasid: nil, access: access, caches: .use, memory: memory)
        }

        func fault(_ iova: UInt64, _ access: AccessRights = .read) -> TranslationFault? {
            if case .failure(let fault)? = translate(iova, access) { return fault }
            return nil
        }

        func translation(_ iova: UInt64, _ access: AccessRights = .read) -> Translation? {
            if case .success(let translation)? = translate(iova, access) { return translation }
            return nil
        }
    }

    private func flags(_ fault: TranslationFault?) -> UInt16? { fault?.amdViEvent?.flags.rawValue }

    @Test func blockedDTEIsValidOnly() throws {
        let memory = PhysicalMemory()
        let iommu = AMDVi(name: "amd0")
        let device = PlatformDevice(name: "nic0", iommu: iommu, streamID: 0x42)
        iommu.install(device, .blocked, pasid: noPASID, memory: memory)
        let base = try #require(iommu.deviceTable)
        #expect(base.isAligned(to: 2 << 20))
        #expect(try memory.read64(base + 0x42 * 32) == 1)
        #expect(try memory.read64(base + 0x42 * 32 + 8) == 0)
        // V = 1, TV = 0: every request faults, DomainID 0, PR = 0.
        let fault = try #require({ () -> TranslationFault? in
            if case .failure(let fault)? = iommu.translate(device, iova: 0x1000, pasid: nil, access: .write, caches: .use, memory: memory) { return fault }
            return nil
        }())
        #expect(fault.amdViEvent?.type == .IO_PAGE_FAULT)
        #expect(fault.amdViEvent == AMDViEvent(.IO_PAGE_FAULT, deviceID: 0x42, domainID: 0, address: 0x1000, flags: .RW))
    }

    /// A v1 table starts at mode 3 (`v1_alloc_pgtable`; generic_pt amdv1 `starting_level`
    /// 2) and grows one level per `increase_address_space` when an IOVA above its reach is
    /// mapped, up to the host levels; `amd_iommu_change_top` rewrites the DTE's root and Mode.
    @Test(arguments: [4, 5, 6]) func v1StartsAtThreeLevelsAndGrows(levels: Int) throws {
        let setup = try Setup(levels: levels)
        let first = setup.table.root
        // V | TV | Mode << 9 | root | IR | IW; DomainID 1 in DTE[1].
        #expect(try setup.dte() == [first | 3 << 9 | 3 | 3 << 61, 1, 0, 0])
        try setup.table.map(iova: 0x4000_0000, output: 0x2_0000_0000, length: 2 << 20, prot: [.read, .write])
        try setup.table.map(iova: 0x1234_5000, output: 0xabcd_e000, length: 8192, prot: [.read])
        #expect(setup.table.root == first)
        let big = try #require(setup.translation(0x4000_1234, .write))
        #expect(big.output == 0x2_0000_1234)
        #expect(big.pageSize == 2 << 20)
        #expect(big.steps.map(\.level) == [3, 2])
        #expect(big.steps.last?.descriptor == 0x7000_0002_0000_0001)
        let small = try #require(setup.translation(0x1234_5678))
        #expect(small.steps.count == 3)
        #expect(small.steps.map(\.index) == [0, 0x91, 0x145])
        #expect(small.output == 0xabcd_e678)
        #expect(small.rights == .read)

        // The highest page the host levels reach: one new top per level, each holding the
        // old top in entry 0; the DTE follows and the cached DTE is dropped.
        let top: UInt64 = levels == 6 ? 1 << 63 : 1 << UInt64(12 + 9 * levels - 1)
        try setup.table.map(iova: top, output: 0x3_0000_0000, length: 4096, prot: [.read])
        let grown = setup.table.root
        #expect(grown != first)
        #expect((setup.table.format as? AMDv1)?.mode == levels)
        #expect(try setup.dte() == [grown | UInt64(levels) << 9 | 3 | 3 << 61, 1, 0, 0])
        #expect(setup.table.tables.prefix(levels - 2).count == levels - 2)
        var entry = try setup.memory.read64(grown)
        for level in stride(from: levels, to: 3, by: -1) {
            #expect(AMDv1.nextLevelField(entry) == UInt64(level - 1))
            if level == 4 { #expect(entry & AMDv1.addressMask == first) }
            entry = try setup.memory.read64(entry & AMDv1.addressMask)
        }
        // A page no walk cached yet reads the new top (no IOTLB entry changed).
        let deep = try #require(setup.translation(0x1234_6678))
        #expect(deep.steps.count == levels)
        #expect(deep.output == 0xabcd_f678)
        #expect(setup.translation(top + 0x10)?.output == 0x3_0000_0010)
        // Six levels cover the whole 64-bit space: there is no IOVA above them to refuse.
        if levels < 6 {
            #expect(refusal { try setup.table.map(iova: 1 << UInt64(12 + 9 * levels), output: 0, length: 4096, prot: [.read]) }?.errno == .ERANGE)
        }
    }

    /// Reference §7 item 9: not present → 0x0000 / 0x0020; write to IW = 0 → 0x0070; read of
    /// a write-only page → 0x0050.
    @Test func ioPageFaultFlags() throws {
        let setup = try Setup()
        try setup.table.map(iova: 0x10_0000, output: 0x3_0000_0000, length: 4096, prot: [.read])
        try setup.table.map(iova: 0x20_0000, output: 0x3_0001_0000, length: 4096, prot: [.write])
        #expect(flags(setup.fault(0x50_0000)) == 0x0000)
        #expect(flags(setup.fault(0x50_0000, .write)) == 0x0020)
        let write = try #require(setup.fault(0x10_0000, .write))
        #expect(write.amdViEvent?.type == .IO_PAGE_FAULT)
        #expect(write.level == 1)
        #expect(write.stage == .stage2)
        #expect(flags(write) == 0x0070)
        #expect(flags(setup.fault(0x20_0000, .read)) == 0x0050)
        #expect(setup.fault(0x50_0000)?.amdViEvent?.domainID == 1)
    }

    /// An input above what the DTE's Mode translates: IO_PAGE_FAULT at the root, whether the
    /// table could still grow (mode 3 of a 4-level IOMMU, above 512G) or not.
    @Test func inputBeyondTheModeFaults() throws {
        let setup = try Setup(levels: 4)
        let fault = try #require(setup.fault(1 << 39))
        #expect(fault.amdViEvent?.type == .IO_PAGE_FAULT)
        #expect(fault.level == 3)
        #expect(flags(fault) == 0x0000)
        try setup.table.map(iova: 1 << 40, output: 0x3_0000_0000, length: 4096, prot: [.read])
        #expect(setup.fault(1 << 48)?.level == 4)
    }

    @Test func iotlbHitsUntilTheUnmapFlushes() throws {
        let setup = try Setup()
        try setup.table.map(iova: 0x10_0000, output: 0x3_0000_0000, length: 4096, prot: [.read, .write])
        #expect(setup.translation(0x10_0010)?.iotlbHit == false)
        let hit = try #require(setup.translation(0x10_0020, .write))
        #expect(hit.iotlbHit)
        #expect(hit.steps.isEmpty)
        #expect(hit.output == 0x3_0000_0020)
        _ = setup.table.unmap(iova: 0x10_0000, length: 4096)
        // Without the flush the stale entry still translates, as on hardware.
        #expect(setup.translation(0x10_0020)?.iotlbHit == true)
        setup.iommu.flushIOTLB(setup.domain, range: IOVARange(start: 0x10_0000, length: 4096)!)
        #expect(setup.fault(0x10_0020)?.amdViEvent?.type == .IO_PAGE_FAULT)
    }

    @Test func busErrorIsAPageTableHardwareError() throws {
        let setup = try Setup()
        try setup.table.map(iova: 0x10_0000, output: 0x3_0000_0000, length: 4096, prot: [.read])
        let leafTable = try #require(setup.table.path(to: 0x10_0000).last?.table)
        setup.memory.free(leafTable)
        let fault = try #require(setup.fault(0x10_0000))
        #expect(fault.amdViEvent?.type == .PAGE_TAB_HARDWARE_ERROR)
        #expect(fault.level == 1)
        #expect(fault.amdViEvent?.address == leafTable + 0x100 * 8)
    }

    /// A hand-made PDE at level 4 pointing straight to a level-2 table: IOVA bits 38:30 (the
    /// skipped level 3) must be zero.
    @Test func levelSkipping() throws {
        let setup = try Setup(levels: 4)
        // A mapping at 1T grows the table to mode 4 (root entry 2).
        try setup.table.map(iova: 1 << 40, output: 0x3_0000_0000, length: 4096, prot: [.read])
        let memory = setup.memory
        let level2 = try memory.allocate(length: 4096)
        let level1 = try memory.allocate(length: 4096)
        // Level 4 entry 1 (IOVA 2^39): NextLevel 2.
        try memory.write64(setup.table.root + 8, level2 | 2 << 9 | 1 | 3 << 61)
        try memory.write64(level2 + 3 * 8, level1 | 1 << 9 | 1 | 3 << 61)
        try memory.write64(level1 + 5 * 8, 0x4_0000_0000 | 1 | 3 << 61)
        let iova: UInt64 = 1 << 39 | 3 << 21 | 5 << 12 | 0x42
        let ok = try #require(setup.translation(iova))
        #expect(ok.output == 0x4_0000_0042)
        #expect(ok.steps.map(\.level) == [4, 2, 1])
        // Same indices, but a skipped bit set: fault at the skipping PDE after one fetch.
        let skipped = iova | 1 << 30
        let fault = try #require(setup.fault(skipped))
        #expect(fault.amdViEvent?.type == .IO_PAGE_FAULT)
        #expect(fault.level == 4)
        #expect(flags(fault) == 0x0000)
    }

    /// A present PDE whose NextLevel is not below its own level is a reserved encoding: PR|RZ.
    @Test func reservedNextLevel() throws {
        let setup = try Setup(levels: 4)
        try setup.table.map(iova: 1 << 40, output: 0x3_0000_0000, length: 4096, prot: [.read])
        try setup.memory.write64(setup.table.root + 8, 0x5_0000_0000 | 5 << 9 | 1 | 3 << 61)
        let fault = try #require(setup.fault(1 << 39, .write))
        #expect(fault.level == 4)
        #expect(flags(fault) == 0x00b0)
    }

    @Test func v2DomainUsesAGCR3Table() throws {
        let setup = try Setup(flags: .pasid, maxPASIDLog2: 20)
        let words = try setup.dte()
        let dte = AMDViDeviceTable.Entry(words: words)
        #expect(dte.valid && dte.translationValid && dte.guestValid && dte.guestIOProtection)
        #expect(dte.mode == 0)
        #expect(dte.rights == .readWrite)
        // 2^20 PASIDs: three GCR3 levels (GLX 2); the device gets its own DomainID (2).
        #expect(dte.glx == 2)
        #expect(dte.domainID == 2)
        #expect(dte.guestLevels == 4)
        var table = dte.gcr3Table
        for _ in 0..<2 { table = try setup.memory.read64(table) & ~0xfff }
        #expect(try setup.memory.read64(table) == setup.table.root | 1)

        try setup.table.map(iova: 0x1234_5000, output: 0xabcd_e000, length: 4096, prot: [.read])
        let walk = try #require(setup.translation(0x1234_5678))
        #expect(walk.steps.map(\.level) == [4, 3, 2, 1])
        #expect(walk.steps.allSatisfy { $0.stage == .stage1 })
        #expect(walk.output == 0xabcd_e678)
        let write = try #require(setup.fault(0x1234_5000, .write))
        #expect(flags(write) == 0x0070)
        #expect(write.amdViEvent?.domainID == 2)
        // Non-canonical input.
        #expect(flags(setup.fault(0x8000_0000_0000)) == 0x0000)
        // The unmap flush reaches the device's DomainID.
        _ = setup.table.unmap(iova: 0x1234_5000, length: 4096)
        setup.iommu.flushIOTLB(setup.domain, range: .all)
        #expect(setup.fault(0x1234_5678) != nil)
    }

    /// v2 tables share the x86-64 format with VT-d's first stage, and its reserved bits (the
    /// low frame bits of a 2M / 1G page, PS in a PML4E), but not the reason: AMD-Vi reports
    /// IO_PAGE_FAULT with PR|RZ (AMD IOMMU spec 48882 §2.5.3, the IO_PAGE_FAULT event), not
    /// VT-d's 0x72. Bit 63 stays AMD's NX, not a reserved bit.
    @Test func v2ReservedBitsAreRZ() throws {
        let setup = try Setup(flags: .pasid, maxPASIDLog2: 20)
        try setup.table.map(iova: 0x1234_5000, output: 0xabcd_e000, length: 4096, prot: [.read, .write])
        let walk = try #require(setup.translation(0x1234_5000))
        let pde = try #require(walk.steps.first { $0.level == 2 })
        // A 2M page at PDE index 0x92 with bit 13 of its frame set.
        try setup.memory.write64(pde.table + 0x92 * 8, 0x4020_2000 | 0xe7)
        let twoMiB = try #require(setup.fault(0x1240_0000))
        #expect(twoMiB.level == 2)
        #expect(flags(twoMiB) == 0x0090)
        // A PML4E with PS.
        try setup.memory.write64(setup.table.root + 8, 0x4000_3000 | 0xa7)
        #expect(flags(setup.fault(1 << 39, .write)) == 0x00b0)
        // NX on a present leaf is no reserved bit on AMD: the 2M page translates.
        try setup.memory.write64(pde.table + 0x93 * 8, 1 << 63 | 0x4020_0000 | 0xe7)
        #expect(setup.translation(0x1260_0000)?.output == 0x4020_0000)
    }

    /// A PASID attach writes GCR3[PASID] as `update_gcr3` does (`__get_gcr3_pte`: 9 PASID
    /// bits per level from GLX down), a PASID request walks it, and a missing entry is an
    /// IO_PAGE_FAULT whose event sets GN and carries the 20-bit PASID in the field the
    /// DomainID uses otherwise.
    @Test func gcr3EntryPerPASID() throws {
        let setup = try Setup(flags: .pasid, maxPASIDLog2: 20)
        let other = try setup.iommu.allocatePagingDomain(for: setup.device, flags: .pasid, userData: nil, memory: setup.memory)
        let otherTable = try #require(other.table as? DescriptorPageTable)
        try otherTable.map(iova: 0x1000, output: 0x7000_0000, length: 4096, prot: [.read, .write])
        let pasid: UInt32 = 0x4_0203
        setup.iommu.install(setup.device, .paging(other), pasid: pasid, memory: setup.memory)
        let dte = AMDViDeviceTable.Entry(words: try setup.dte())
        #expect(dte.glx == 2)
        var table = dte.gcr3Table
        for level in [2, 1] {
            let entry = try setup.memory.read64(table + AMDViDeviceTable.gcr3Index(pasid, level: level) * 8)
            #expect(entry & 1 == 1)
            table = entry & AMDViDeviceTable.rootMask
        }
        #expect([UInt64(0x1), 0x1, 0x3].elementsEqual([2, 1, 0].map { AMDViDeviceTable.gcr3Index(pasid, level: $0) }))
        #expect(try setup.memory.read64(table + 3 * 8) == otherTable.root | 1)
        let walk = try #require(setup.iommu.translate(setup.device, iova: 0x1234, pasid: pasid, access: .write, caches: .use,
                                                      memory: setup.memory))
        #expect((try? walk.get())?.output == 0x7000_0234)
        guard case .failure(let fault)? = setup.iommu.translate(setup.device, iova: 0x1234, pasid: pasid + 1, access: .read,
                                                                 caches: .use, memory: setup.memory) else {
            Issue.record("PASID without a GCR3 entry translated")
            return
        }
        let event = try #require(fault.amdViEvent)
        #expect(event.type == .IO_PAGE_FAULT && event.pasid == pasid + 1 && event.domainID == nil)
        #expect(event.flags == .GN)
        #expect(event.words[0] >> 16 == 0x4 && event.words[1] & 0xffff == 0x0204)
        #expect(AMDViEvent(words: event.words) == event)
        // Detach: GCR3[PASID] cleared.
        setup.iommu.install(setup.device, .blocked, pasid: pasid, memory: setup.memory)
        #expect(try setup.memory.read64(table + 3 * 8) == 0)
    }

    @Test func detachFlushesAndBlocks() throws {
        let setup = try Setup()
        try setup.table.map(iova: 0x10_0000, output: 0x3_0000_0000, length: 4096, prot: [.read])
        #expect(setup.translation(0x10_0000) != nil)
        #expect(setup.iommu.iotlb.count == 1)
        setup.iommu.install(setup.device, .blocked, pasid: noPASID, memory: setup.memory)
        #expect(setup.iommu.iotlb.count == 0)
        #expect(try setup.dte() == [1, 0, 0, 0])
        #expect(setup.fault(0x10_0000)?.stage == .configuration)
    }

    @Test func gcr3Levels() {
        #expect(AMDViDeviceTable.gcr3Levels(pasids: 1) == 0)
        #expect(AMDViDeviceTable.gcr3Levels(pasids: 512) == 0)
        #expect(AMDViDeviceTable.gcr3Levels(pasids: 1024) == 1)
        #expect(AMDViDeviceTable.gcr3Levels(pasids: 1 << 18) == 1)
        #expect(AMDViDeviceTable.gcr3Levels(pasids: 1 << 20) == 2)
    }
}
