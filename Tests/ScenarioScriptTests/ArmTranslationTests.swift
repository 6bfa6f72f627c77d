import Testing
import IOMMUCore
@testable import ScenarioScript

/// Which SMMUv3 event each faulting line of `arm_faults.iommu` reports: the SMMUv3 fault
/// classification (IHI0070 §7.3: which stage, level, event name, CLASS and IPA) as a table (stage, level, event name, CLASS, IPA).
struct ArmTranslationTests {
    static func expectFault(_ faults: [String: [(name: String, value: FieldValue)]], _ line: String,
                            stage: UInt64, level: UInt64, reason: String, eventClass: String, ipa: String? = nil) {
        VTdTranslationTests.expectFaultRecord(faults, line, stage: stage, level: level, reason: reason,
                                              details: ["class": eventClass, "ipa": ipa])
    }

    @Test func faultClassification() throws {
        let (_, faults, _) = try VTdTranslationTests.runAll("arm_faults.iommu")
        Self.expectFault(faults, "translate dev_id=nic iova=0x50000000 access=write expect=fault",
                         stage: 1, level: 3, reason: "F_PERMISSION", eventClass: "IN")
        Self.expectFault(faults, "translate dev_id=nic iova=0x50000000 access=write expect=fault  # stage 2",
                         stage: 2, level: 3, reason: "F_PERMISSION", eventClass: "IN", ipa: "0x50000000")
        Self.expectFault(faults, "translate dev_id=nic iova=0x60000000 expect=fault",
                         stage: 2, level: 2, reason: "F_TRANSLATION", eventClass: "IN", ipa: "0x60000000")
        Self.expectFault(faults, "translate dev_id=nic1 iova=0x100000000000 expect=fault",
                         stage: 1, level: 0, reason: "F_ADDR_SIZE", eventClass: "IN")
        Self.expectFault(faults, "translate dev_id=nic iova=0x10001000 expect=fault",
                         stage: 1, level: 3, reason: "F_ACCESS", eventClass: "IN")
        Self.expectFault(faults, "translate dev_id=nic iova=0x30000000 expect=fault",
                         stage: 2, level: 2, reason: "F_TRANSLATION", eventClass: "TT", ipa: "0x70000000")
    }

    /// The typed event behind the last line: stage 2 faulted translating the IPA of a
    /// stage-1 table (CLASS TT, TT_READ), for StreamID 0x100 and the IOVA the device sent.
    @Test func nestedTableFaultEvent() throws {
        let (session, _, results) = try VTdTranslationTests.runAll("arm_faults.iommu")
        guard case .integer(let device)? = results["nic = device_bind dev=nic0"]?.field("out_devid") else {
            Issue.record("no device id")
            return
        }
        guard case .failure(let fault)? = try session.iommufd.translate(deviceID: UInt32(device), iova: 0x3000_0000, pasid: nil,
                                                                       access: .read) else {
            Issue.record("no fault")
            return
        }
        var expected = SMMUv3Event(.F_TRANSLATION, streamID: 0x100, inputAddress: 0x3000_0000)
        expected.stage2 = true
        expected.eventClass = .TT
        expected.tableRead = true
        expected.ipa = 0x7000_0000
        #expect(fault.smmuv3Event == expected)
        #expect(fault.stage == .stage2)
        #expect(fault.origin == .walk)
        #expect(expected.words == [0x0000_0100_0000_0010, 0x0000_1188_0000_0000, 0x3000_0000, 0x7000_0000])
        // A write: RnW is the transaction's (0), TT_READ says the table access read.
        guard case .failure(let write)? = try session.iommufd.translate(deviceID: UInt32(device), iova: 0x3000_0000, pasid: nil,
                                                                       access: .write) else {
            Issue.record("no fault")
            return
        }
        #expect(write.smmuv3Event?.read == false)
        #expect(write.smmuv3Event?.tableRead == true)
        #expect(write.smmuv3Event?.words[1] == 0x0000_1180_0000_0000)
    }

    /// `walk` of an IOVA the 48-bit table does not translate is ERANGE: indexing it would
    /// drop bit 48 and report the mapping at 0x1000 as the one at 2^48 + 0x1000.
    @Test func walkOutsideTheInputRangeIsERANGE() throws {
        let reports = Session().run(try Scenario(source: """
            iommu smmu0 type=arm-smmu-v3
            device nic0 iommu=smmu0 sid=0x100
            buf = mmap length=64K
            dev = device_bind dev=nic0
            ioas = ioas_alloc
            hwpt = device_attach dev_id=dev pt_id=ioas
            ioas_map ioas_id=ioas user_va=buf length=4K iova=0x1000 flags=fixed_iova|readable
            walk hwpt_id=hwpt iova=0x1000
            walk hwpt_id=hwpt iova=0x1000000001000
            walk hwpt_id=hwpt iova=u64max
            """))
        #expect(reports[7].result.field("page_size") == .address(0x1000))
        #expect(reports[8].result.status.errno == .ERANGE)
        #expect(reports[9].result.status.errno == .ERANGE)
    }

    /// `guest_map flags=global` clears nG, an Arm stage-1 descriptor bit (IHI0070 4.4.2.4, Arm
    /// ARM D8): the leaf it writes has bit 11 clear, and an x86 table refuses the flag.
    @Test func guestMapGlobalClearsNG() throws {
        let reports = Session().run(try Scenario(source: """
            iommu smmu0 type=arm-smmu-v3
            device nic0 iommu=smmu0 sid=0x100
            ram = mmap length=16M align=2M
            nic = device_bind dev=nic0
            ioas = ioas_alloc
            ioas_map ioas_id=ioas user_va=ram length=16M iova=0x40000000 flags=fixed_iova|readable|writeable
            pt = guest_pgtable ioas_id=ioas format=arm-s1-4k pool=0x40010000-0x400fffff
            guest_map root=pt iova=0x10000000 gpa=0x40200000 length=4K flags=readable|writeable|global
            guest_map root=pt iova=0x10001000 gpa=0x40201000 length=4K
            leaves = guest_read ioas_id=ioas gpa=0x40013000 count=2
            xt = guest_pgtable ioas_id=ioas format=x86-4level pool=0x40800000-0x408fffff
            guest_map root=xt iova=0x10000000 gpa=0x40200000 length=4K flags=readable|global
            """))
        guard case .words(let leaves)? = reports[9].result.field("value"), leaves.count == 2 else {
            Issue.record("no leaves read back: \(reports[9].result.status)")
            return
        }
        #expect(leaves[0] & 1 << 11 == 0)
        #expect(leaves[1] & 1 << 11 != 0)
        guard case .failed(let reason) = reports[11].result.status else {
            Issue.record("x86 guest_map with global ended \(reports[11].result.status)")
            return
        }
        #expect(reason.contains("global"))
    }
}
