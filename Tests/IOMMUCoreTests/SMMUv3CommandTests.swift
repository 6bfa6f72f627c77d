import Testing
import TestSupport
@testable import IOMMUCore

/// SMMUv3 TLBI command decoding against the field layout of `arm-smmu-v3.h` (`CMDQ_TLBI_*`,
/// `CMDQ_CFGI_0_SID`), the range rules of IHI0070 4.4.1.1, and the IOTLB's global entries.
struct SMMUv3CommandTests {
    @Test func tlbiFieldsDecodeAsArmSMMUCmdqBuildCmdWritesThem() {
        // NUM 0x13, SCALE 0x15, VMID 2, ASID 1; Address 0x7fff12345000, TG 16K, TTL 3, Leaf.
        let command = SMMUv3Command(0x0001_0002_0151_3012, 0x7fff_1234_5b01)
        #expect(command.opcode == .tlbiNHVA)
        #expect(command.num == 0x13)
        #expect(command.scale == 0x15)
        #expect(command.vmid == 2)
        #expect(command.asid == 1)
        #expect(command.leaf)
        #expect(command.ttl == 3)
        #expect(command.tg == 2)
        #expect(command.address == 0x7fff_1234_5000)
    }

    @Test func scaleBit25IsRES0WithoutIDR5DS() {
        #expect(SMMUv3Command(0x12 | 1 << 25 | 0x3 << 20, 0).scale == 3)
    }

    @Test func conversionRewritesOnlyItsField() {
        var command = SMMUv3Command(0xffff_ffff_ffff_ff12, 0)
        command.setVMID(5)
        #expect(command.word0 == 0xffff_0005_ffff_ff12)
        var cfgi = SMMUv3Command(0x0000_0077_0000_1005, 1)
        cfgi.streamID = 0x100
        #expect(cfgi.word0 == 0x0000_0100_0000_1005)
        #expect(cfgi.streamID == 0x100)
    }

    @Test func nonRangeScopes() throws {
        // Without RIL the range fields are RES0 and ignored; with RIL, TG 0 is non-range.
        let ranged = SMMUv3Command(0x12 | 3 << 12, 0x1000_0000 | 1 << 10 | 3 << 8)
        #expect(try ranged.addressScope(rangeInvalidation: false) == .address(0x1000_0000))
        let plain = SMMUv3Command(0x12 | 3 << 12, 0x1000_0000 | 3 << 8)
        #expect(try plain.addressScope(rangeInvalidation: true) == .address(0x1000_0000))
    }

    @Test func rangeIsNumPlusOneTimesTwoToTheScaleGranules() throws {
        let four = SMMUv3Command(0x12 | 3 << 12, 0x1000_0000 | 1 << 10 | 3 << 8)
        #expect(try four.addressScope(rangeInvalidation: true)
            == .range(IOVARange(start: 0x1000_0000, length: 0x4000)!, granule: 4096, level: 3))
        // NUM 2, SCALE 3, 64K, any level: 3 * 8 granules of 64K.
        let sixtyFour = SMMUv3Command(0x12 | 2 << 12 | 3 << 20, 0x4000_0000 | 3 << 10)
        #expect(try sixtyFour.addressScope(rangeInvalidation: true)
            == .range(IOVARange(start: 0x4000_0000, length: 24 << 16)!, granule: 65536, level: nil))
    }

    @Test func reservedCombinationsAreIllegal() throws {
        // TG 4K with NUM = SCALE = TTL = 0.
        #expect(throws: SMMUv3Command.IllegalCommand.self) {
            try SMMUv3Command(0x12, 1 << 10).addressScope(rangeInvalidation: true)
        }
        // 16K with TTL 1 reads as TTL 0 without IDR5.DS.
        #expect(throws: SMMUv3Command.IllegalCommand.self) {
            try SMMUv3Command(0x12, 2 << 10 | 1 << 8).addressScope(rangeInvalidation: true)
        }
        #expect(try SMMUv3Command(0x12 | 1 << 12, 2 << 10 | 1 << 8).addressScope(rangeInvalidation: true)
            == .range(IOVARange(start: 0, length: 0x8000)!, granule: 16384, level: nil))
    }

    @Test func largestRangeStopsAtTheTopOfTheAddressSpace() throws {
        // NUM 31, SCALE 31, 64K: 2^52 bytes from near the top does not wrap.
        let command = SMMUv3Command(0x12 | 31 << 12 | 31 << 20, 0xffff_ffff_ffff_f000 | 3 << 10)
        #expect(try command.addressScope(rangeInvalidation: true)
            == .range(IOVARange(start: 0xffff_ffff_ffff_f000, last: .max), granule: 65536, level: nil))
    }

    @Test func randomWordsNeverTrap() {
        var random = SplitMix64(seed: 0x5eed_0008)
        for _ in 0..<20_000 {
            let command = SMMUv3Command(random.next(), random.next())
            _ = try? command.addressScope(rangeInvalidation: random.chance(1, in: 2))
            _ = (command.opcode, command.streamID, command.vmid, command.asid)
        }
    }

    @Test func rangeScopeMatchesGranuleAndLevel() {
        let entry = IOTLB.Entry(tag: IOTLB.Tag(domain: 1, addressSpace: 1), input: 0x1000_4000, size: 4096, output: 0,
                                rights: .readWrite, leaf: IOTLB.Leaf(level: 3, granule: 4096))
        let range = IOVARange(start: 0x1000_0000, length: 0x8000)!
        #expect(entry.isNamed(by: .range(range, granule: 4096, level: 3)))
        #expect(entry.isNamed(by: .range(range, granule: 4096, level: nil)))
        #expect(!entry.isNamed(by: .range(range, granule: 4096, level: 2)))
        #expect(!entry.isNamed(by: .range(range, granule: 65536, level: nil)))
        #expect(!entry.isNamed(by: .range(IOVARange(start: 0x1000_0000, length: 0x4000)!, granule: 4096, level: 3)))
        #expect(entry.isNamed(by: .address(0x1000_4fff)))
    }

    @Test func globalEntriesServeEveryASIDOfTheirDomainOnly() {
        let iotlb = IOTLB()
        iotlb.insert(IOTLB.Entry(tag: IOTLB.Tag(domain: 1, addressSpace: 1), input: 0x1000, size: 4096, output: 0x5000,
                                 rights: .readWrite, global: true))
        #expect(iotlb.lookup(IOTLB.Tag(domain: 1, addressSpace: 7), 0x1234)?.output == 0x5000)
        #expect(iotlb.lookup(IOTLB.Tag(domain: 2, addressSpace: 1), 0x1234) == nil)
        // A stage-2-only lookup of the VMID has no address space: a stage-1 entry never serves it.
        #expect(iotlb.lookup(IOTLB.Tag(domain: 1, addressSpace: nil), 0x1234) == nil)
        #expect(iotlb.invalidate { $0.global } == 1)
        #expect(iotlb.lookup(IOTLB.Tag(domain: 1, addressSpace: 7), 0x1234) == nil)
        #expect(iotlb.count == 0)
    }

    @Test func batchSizeIsBitsPerLong() {
        #expect(ArmSMMUv3.commandBatchEntries == 64)
    }
}
