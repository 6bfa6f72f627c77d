import Testing
@testable import IOMMUCore

/// Host frames adopted at their own addresses, and a unit walking a host's legacy-mode root
/// table (RTADDR.TTM = 00b): root entry → 16-byte context entry → second-level table, with
/// the legacy fault reasons of `dma_remap_fault_reasons[]`.
@Suite struct VTdLegacyModeTests {
    let memory = PhysicalMemory()
    let vtd = IntelVTd(name: "dmar1")
    /// 00:02.0, as in the kabylake ABI sample.
    let device: PlatformDevice
    static let root: UInt64 = 0x1_0302_7000, context: UInt64 = 0x1_0303_e000
    static let l4: UInt64 = 0x1_017f_8000, l3: UInt64 = 0x1_017f_9000, l2: UInt64 = 0x1_017f_a000, l1: UInt64 = 0x1_017f_b000

    init() throws {
        device = PlatformDevice(name: "0000:00:02.0", iommu: vtd, streamID: 0x10)
        for frame in [Self.root, Self.context, Self.l4, Self.l3, Self.l2, Self.l1] {
            #expect(memory.adopt(IOVARange(start: frame, length: 4096)!))
        }
        try memory.write64(Self.root, Self.context | 1)
        // P, TT 01b, SLPTPTR; AW 2 (4-level), DID 1.
        try memory.write64(Self.context + 0x10 * 16, words: [Self.l4 | 0b0101, 0x102])
        try memory.write64(Self.l4, Self.l3 | 3)
        try memory.write64(Self.l3 + 2 * 8, Self.l2 | 3)
        try memory.write64(Self.l2 + 0x6c * 8, Self.l1 | 3)
        try memory.write64(Self.l1 + 1 * 8, 0x8d80_1003)
        try memory.write64(Self.l1 + 2 * 8, 0x8d80_2001)  // read-only
        vtd.adoptRootTable(Self.root, mode: .legacy)
    }

    func translate(_ iova: UInt64, _ access: AccessRights = .read, pasid: UInt32? = nil) -> Result<Translation, TranslationFault>? {
        vtd.translate(device, iova: iova, pasid: pasid, access: access, caches: .bypass, memory: memory)
    }

    func reason(_ iova: UInt64, _ access: AccessRights = .read, pasid: UInt32? = nil) -> VTd.FaultReason? {
        guard case .failure(let fault)? = translate(iova, access, pasid: pasid) else { return nil }
        return fault.vtdRecord?.reason
    }

    @Test func translatesThroughTheLegacyContextEntry() throws {
        guard case .success(let translation)? = translate(0x8d80_1234, .write) else {
            Issue.record("no translation")
            return
        }
        #expect(translation.output == 0x8d80_1234)
        #expect(translation.steps.map(\.level) == [4, 3, 2, 1])
        #expect(vtd.translationTableMode == .legacy)
        let structures = vtd.configurationStructures(for: device, pasid: nil, memory: memory)
        #expect(structures.map(\.name) == ["root entry", "context entry"])
        #expect(structures.last?.address == Self.context + 0x10 * 16)
        #expect(structures.last?.fields.map(\.name) == ["P", "FPD", "TT", "SLPTPTR", "AW", "DID"])
        #expect(structures.last?.fields.map(\.value) == [1, 0, 1, Self.l4, 2, 1])
    }

    @Test func legacyFaultReasons() throws {
        #expect(reason(0x8d80_2000, .write) == .writeNotSet)       // 0x05
        #expect(reason(0x8d80_3000) == .readNotSet)                // 0x06
        #expect(reason(0x8d80_3000, .write) == .writeNotSet)
        #expect(reason(0x1000, pasid: 1) == .ttm0WithPASID)        // 0x31
        #expect(reason(1 << 50) == .beyondMGAW)                    // 0x04
        try memory.write64(Self.l2 + 0x6c * 8, 0x7000_0000 | 3)    // a table nothing backs
        #expect(reason(0x8d80_1000) == .nextTableInvalid)          // 0x07
        try memory.write64(Self.l2 + 0x6c * 8, Self.l1 | 1 << 51 | 3)
        #expect(reason(0x8d80_1000) == .reservedPTE)               // 0x0C
        try memory.write64(Self.context + 0x10 * 16, Self.l4 | 0b1101)  // TT 11b
        #expect(reason(0x8d80_1000) == .invalidContextEntry)       // 0x03
        try memory.write64(Self.context + 0x10 * 16, words: [Self.l4 | 0b0001, 0x107])  // AW 7
        #expect(reason(0x8d80_1000) == .invalidContextEntry)
        try memory.write64(Self.context + 0x10 * 16, 0)
        #expect(reason(0x8d80_1000) == .contextEntryNotPresent)    // 0x02
        try memory.write64(Self.root, 0)
        #expect(reason(0x8d80_1000) == .rootEntryNotPresent)       // 0x01
        vtd.adoptRootTable(0x7000_0000, mode: .legacy)
        #expect(reason(0x8d80_1000) == .rootTableInvalid)          // 0x08
    }

    @Test func passThroughContextEntry() throws {
        try memory.write64(Self.context + 0x10 * 16, Self.l4 | 0b1001)  // TT 10b
        guard case .success(let translation)? = translate(0x1234_5678, .write) else {
            Issue.record("no translation")
            return
        }
        #expect(translation.output == 0x1234_5678 && translation.steps.isEmpty)
    }

    @Test func adoptedFramesAreNeverAllocated() throws {
        let memory = PhysicalMemory()
        #expect(memory.adopt(IOVARange(start: PhysicalMemory.base + 0x1000, length: 0x2000)!))
        let first = try memory.allocate(length: 4096)
        let second = try memory.allocate(length: 8192)
        #expect(first == PhysicalMemory.base)
        #expect(second == PhysicalMemory.base + 0x3000)
        #expect(memory.allocatedBytes == 0x3000)
        try memory.write64(PhysicalMemory.base + 0x1ff8, 42)
        #expect(memory.peek64(PhysicalMemory.base + 0x1ff8) == 42)
        #expect(!memory.adopt(IOVARange(start: second, length: 1)!))  // already allocated
        #expect(!memory.adopt(IOVARange(start: 1 << 52, length: 4096)!))
        memory.free(PhysicalMemory.base + 0x1000)  // not an allocation: stays
        #expect(memory.isBacked(PhysicalMemory.base + 0x1000))
    }
}
