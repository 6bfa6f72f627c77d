import Testing
import TestSupport
@testable import IOMMUCore

/// The driver payloads' layouts and the one implementation of the kernel's copy rules
/// (`__iommu_copy_struct_from_user`, `iommu_copy_struct_from_full_user_array`).
struct UAPIPayloadTests {
    /// What the tests' own entry handlers refuse with.
    static let handlerRefusal = Refusal(.EINVAL, Refusal.Rule("test.handler", "the test's handler refuses the entry"))

    /// `sizeof` and `offsetofend(min_last)` as `include/uapi/linux/iommufd.h` and `iommufd_test.h` give them.
    @Test func layoutsMatchTheHeaders() {
        let expected: [(any UAPIPayload.Type, size: Int, minimum: Int)] = [
            (IOMMUHWPTArmSMMUv3.self, 16, 16), (IOMMUVIOMMUArmSMMUv3Invalidate.self, 16, 16),
            (IOMMUHWPTVTdS1.self, 24, 24), (IOMMUHWPTVTdS1Invalidate.self, 24, 24),
            (IOMMUHWPTSelftest.self, 4, 4), (IOMMUHWPTInvalidateSelftest.self, 8, 8),
            (IOMMUVIOMMUInvalidateSelftest.self, 12, 12), (IOMMUVIOMMUSelftest.self, 24, 8),
        ]
        for (payload, size, minimum) in expected {
            #expect(payload.size == size, "\(payload.cName)")
            #expect(payload.minimumSize == minimum, "\(payload.cName)")
            // Fields do not overlap and are naturally aligned, as C lays them out.
            var end = 0
            for field in payload.fields {
                #expect(field.offset >= end && field.offset % field.size == 0, "\(payload.cName).\(field.name)")
                end = field.end
            }
        }
        #expect(uapiPayloads.count == expected.count)
        #expect(uapiPayload(for: .hwpt(.vtdS1)).map(ObjectIdentifier.init) == ObjectIdentifier(IOMMUHWPTVTdS1.self))
        #expect(uapiPayload(for: .viommuInvalidate(.selftest)).map(ObjectIdentifier.init)
                    == ObjectIdentifier(IOMMUVIOMMUInvalidateSelftest.self))
        #expect(uapiPayload(for: .hwpt(.none)) == nil)
    }

    @Test func fieldsReadAndWriteLittleEndian() {
        let s1 = IOMMUHWPTVTdS1([(IOMMUHWPTVTdS1.flags, [5]), (IOMMUHWPTVTdS1.pgtblAddr, [0x1122_3344_5566_7788]),
                                 (IOMMUHWPTVTdS1.addrWidth, [57])])
        #expect(s1.raw.bytes.count == 24)
        #expect(Array(s1.raw.bytes[8..<16]) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(s1.flags == 5 && s1.pageTableAddress == 0x1122_3344_5566_7788 && s1.addressWidth == 57)
        // A value wider than its field keeps the field's bytes only.
        let selftest = IOMMUHWPTSelftest([(IOMMUHWPTSelftest.iotlb, [0x1_dead_beef])])
        #expect(selftest.iotlb == 0xdead_beef)
        #expect(IOMMUHWPTArmSMMUv3(ste: [1, 2]).ste == [1, 2])
    }

    /// `data_len` shorter than the first version or longer than the struct, or another type: EINVAL.
    @Test func copyFromUserChecksTypeAndLength() throws {
        let bytes = IOMMUHWPTSelftest([(IOMMUHWPTSelftest.iotlb, [7])]).raw.bytes
        func copy(type: UInt32 = HWPTDataType.selftest.rawValue, length: UInt32) throws(Refusal) -> UInt32 {
            try UserData(type: type, buffer: UserBuffer(length: length, bytes: bytes)).copy(IOMMUHWPTSelftest.self).iotlb
        }
        #expect(try copy(length: 4) == 7)
        for (refused, rule) in [(refusal { try copy(length: 3) }, Refusal.Rule.userDataLength),
                                (refusal { try copy(length: 8) }, .userDataLength),
                                (refusal { try copy(type: HWPTDataType.vtdS1.rawValue, length: 4) }, .userDataType)] {
            #expect(refused?.errno == .EINVAL && refused?.rule == rule)
        }
        // viommu_selftest: anything from offsetofend(out_data) to sizeof is accepted.
        let viommu = UserData(type: VIOMMUType.selftest.rawValue, buffer: UserBuffer(length: 8, bytes: [9, 0, 0, 0]))
        #expect(try viommu.copy(IOMMUVIOMMUSelftest.self).inData == 9)
    }

    /// The full-array copy has no minimum: a short entry is zero-extended, a long one must be
    /// zero past the struct, else E2BIG; an empty array or another type is EINVAL.
    @Test func fullArrayCopyZeroExtendsAndRejectsNonZeroTails() {
        func outcome(_ entries: [UserBuffer], type: InvalidateDataType = .selftest) -> InvalidationOutcome {
            InvalidationArray(type: type.rawValue, entryLength: entries.first?.length ?? 0, entries: entries)
                .handleAll(as: IOMMUVIOMMUInvalidateSelftest.self) { $0.cacheID == 0 ? nil : Self.handlerRefusal }
        }
        let short = UserBuffer(length: 5, bytes: [0, 0, 0, 0, 0, 3])
        #expect(short.bytes.count == 5)
        #expect(outcome([short]).error == nil && outcome([short]).handled == 1)
        let zeroTail = UserBuffer(length: 16, bytes: Array(repeating: 0, count: 16))
        #expect(outcome([zeroTail, zeroTail]).error == nil && outcome([zeroTail, zeroTail]).handled == 2)
        let dirtyTail = UserBuffer(length: 16, bytes: Array(repeating: 0, count: 15) + [1])
        #expect(outcome([zeroTail, dirtyTail]).error?.errno == .E2BIG && outcome([zeroTail, dirtyTail]).handled == 0)
        #expect(outcome([zeroTail, dirtyTail]).error?.rule == .copyStructNonzeroTail)
        #expect(outcome([]).error?.errno == .EINVAL && outcome([]).error?.rule == .userArrayEmpty)
        #expect(outcome([zeroTail], type: .selftestInvalid).error?.errno == .EINVAL)
        #expect(outcome([zeroTail], type: .selftestInvalid).error?.rule == .userDataType)
        let badCache = UserBuffer(length: 12, bytes: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
        #expect(outcome([zeroTail, badCache]).handled == 1 && outcome([zeroTail, badCache]).error == Self.handlerRefusal)
    }

    /// Entry by entry, `entry_num` counts the entries before the first one that fails to copy.
    @Test func entryByEntryCopyStopsAtTheFirstBadEntry() {
        let good = UserBuffer(length: 8, bytes: [])
        let array = InvalidationArray(type: InvalidateDataType.selftest.rawValue, entryLength: 9,
                                      entries: [UserBuffer(length: 9), UserBuffer(length: 9)])
        let outcome = array.handleEach(as: IOMMUHWPTInvalidateSelftest.self) { _ in nil }
        #expect(outcome.handled == 0 && outcome.error?.errno == .EINVAL && outcome.error?.rule == .userDataLength)
        let mixed = InvalidationArray(type: InvalidateDataType.selftest.rawValue, entryLength: 8, entries: [good, good])
        var seen = 0
        let counted = mixed.handleEach(as: IOMMUHWPTInvalidateSelftest.self) { _ in seen += 1; return seen == 2 ? Self.handlerRefusal : nil }
        #expect(counted.handled == 1 && counted.error == Self.handlerRefusal)
    }

    @Test func enumsCarryTheirScriptNames() {
        #expect(HWPTDataType.allCases.map(\.name) == ["none", "vtd_s1", "arm_smmuv3", "selftest"])
        #expect(InvalidateDataType.selftestInvalid.name == "selftest_invalid")
        #expect(HWInfoType.intelVTd.name == "intel_vtd" && VIOMMUType.tegra241CMDQV.name == "tegra241_cmdqv")
    }
}
