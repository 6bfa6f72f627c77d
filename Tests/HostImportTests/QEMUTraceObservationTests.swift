import Foundation
import IOMMUCore
import Testing
@testable import HostImport
import ScenarioScript
import TestSupport

/// QEMU's emulated-vIOMMU events as timeline observations: each event's formats (old ones
/// too), the real samples, malformed and wrapped lines, and the verdicts against the model for
/// a device shadowed into an IOAS and one on a nested HWPT.
@Suite struct QEMUTraceObservationTests {
    static func read(_ text: String) -> QEMUTraceReader { QEMUTraceReader.read(Array(text.utf8), file: "t") }

    static func observation(_ line: String) -> QEMUTraceObservation? {
        guard case .observation(let observed)? = read(line).records.first?.event else { return nil }
        return observed
    }

    // MARK: Formats

    @Test func smmuTranslationsBothForms() {
        // Pre-9.1 (the hvisor sample's form) and 9.1 with stage=; sid decimal before 5.2.
        #expect(Self.observation("smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0x8e043242 translated=0x8e043242 perm=0x3")
            == .translation(EmulatedTranslation(unit: .armSMMUv3, requester: .streamID(0x10), iova: 0x8e04_3242, gpa: 0x8e04_3242,
                                                rights: .readWrite, pageSize: nil, stage: nil)))
        #expect(Self.observation("smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0x1000 translated=0x40001000 perm=0x1 stage=1")
            == .translation(EmulatedTranslation(unit: .armSMMUv3, requester: .streamID(0x10), iova: 0x1000, gpa: 0x4000_1000,
                                                rights: .read, pageSize: nil, stage: 1)))
        #expect(Self.observation("smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=16 iova=0x1000 translated=0x2000 perm=0x2")?.summary
            == "smmuv3 SID 0x10 iova 0x1000 → gpa 0x2000 w")
    }

    @Test func faultsTypedByTheCoresReasons() {
        #expect(Self.observation("smmuv3_translate_abort smmuv3-iommu-memory-region-16-2 sid=0x10 abort on iova:0x3000 is_write=1")
            == .fault(EmulatedFault(unit: .armSMMUv3, requester: .streamID(0x10), address: 0x3000, isWrite: true, reason: .smmuv3Abort)))
        #expect(Self.observation("smmuv3_propagate_event SMMU_EVT_F_TRANSLATION sid=0x10")
            == .fault(EmulatedFault(unit: .armSMMUv3, requester: .streamID(0x10), address: nil, isWrite: nil,
                                    reason: .smmuv3(.F_TRANSLATION, name: "SMMU_EVT_F_TRANSLATION"))))
        // The pre-2025 name, decimal sid, and QEMU's own spelling of F_TRANSL_FORBIDDEN.
        #expect(Self.observation("smmuv3_record_event SMMU_EVT_F_TRANS_FORBIDDEN sid=16")
            == .fault(EmulatedFault(unit: .armSMMUv3, requester: .streamID(0x10), address: nil, isWrite: nil,
                                    reason: .smmuv3(.F_TRANSL_FORBIDDEN, name: "SMMU_EVT_F_TRANS_FORBIDDEN"))))
        // vtd_dmar_fault prints the reason in decimal and the requester as a source-id.
        let vtd = Self.observation("vtd_dmar_fault sid 0x18 fault 6 addr 0x7ebb0000 write 0")
        #expect(vtd == .fault(EmulatedFault(unit: .intelVTd, requester: .pci(PCIAddress(bus: 0, device: 3, function: 0)),
                                            address: 0x7ebb_0000, isWrite: false, reason: .vtd(.readNotSet, code: 6))))
        #expect(vtd?.summary == "vtd fault dev 00:03.0 addr 0x7ebb0000 read: PTE Read access is not set (0x6)")
        #expect(Self.observation("vtd_dmar_fault sid 0x18 fault 32 addr 0x0 write 0")?.summary.hasSuffix("reason 0x20 (not a DMA-remapping fault reason)") == true)
        #expect(Self.observation("amdvi_page_fault error: page fault accessing guest physical address 0xfee00000")
            == .fault(EmulatedFault(unit: .amdVi, requester: nil, address: 0xfee0_0000, isWrite: nil, reason: .amdViPageFault)))
    }

    @Test func x86Translations() {
        // The two-digit function of vtd_dmar_translate; the mask is the page's.
        let vtd = Self.observation("vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x100000 mask 0xfff")
        #expect(vtd == .translation(EmulatedTranslation(unit: .intelVTd, requester: .pci(PCIAddress(bus: 0, device: 3, function: 0)),
                                                        iova: 0x10_0000, gpa: 0x10_0000, rights: nil, pageSize: 0x1000, stage: nil)))
        #expect(vtd?.summary == "vtd dev 00:03.0 iova 0x100000 → gpa 0x100000 (4K)")
        #expect(Self.observation("vtd_dmar_translate dev 00:03.00 iova 0x200000 -> gpa 0x40200000 mask 0x1fffff")?.summary.hasSuffix("(2M)") == true)
        // AMD-Vi's labels: its input (the IOVA) is "gpa", its output "hpa".
        #expect(Self.observation("amdvi_translation_result devid: 00:04.0 gpa 0x5000 hpa 0x9000")
            == .translation(EmulatedTranslation(unit: .amdVi, requester: .pci(PCIAddress(bus: 0, device: 4, function: 0)),
                                                iova: 0x5000, gpa: 0x9000, rights: nil, pageSize: nil, stage: nil)))
    }

    @Test func guestInvalidations() {
        let dev3 = PCIAddress(bus: 0, device: 3, function: 0)
        let cases: [(String, GuestInvalidation)] = [
            ("smmuv3_cmdq_opcode <--- SMMU_CMD_TLBI_NH_VA", .smmuv3Command("SMMU_CMD_TLBI_NH_VA")),
            ("smmuv3_cmdq_cfgi_ste streamid= 0x10", .smmuv3STE(streamID: 0x10)),
            ("smmuv3_cmdq_cfgi_ste streamid =16", .smmuv3STE(streamID: 0x10)),
            ("smmuv3_cmdq_cfgi_ste_range start=0x0 - end=0x1f", .smmuv3STERange(first: 0, last: 0x1f)),
            ("smmuv3_cmdq_cfgi_cd sid=0x10", .smmuv3CD(streamID: 0x10)),
            ("smmuv3_cmdq_cfgi_cd streamid = 16", .smmuv3CD(streamID: 0x10)),
            ("smmu_config_cache_inv Config cache INV for sid=0x10", .smmuv3STE(streamID: 0x10)),
            ("smmuv3_config_cache_inv Config cache INV for sid 16", .smmuv3STE(streamID: 0x10)),
            ("smmuv3_cmdq_tlbi_nh vmid=2", .smmuTLB(asid: nil, vmid: 2, address: nil)),
            ("smmuv3_cmdq_tlbi_nsnh ", .smmuTLB(asid: nil, vmid: nil, address: nil)),
            ("smmu_configs_inv_sid_range Config cache INV SID range from 0x8 to 0xf", .smmuv3STERange(first: 8, last: 0xf)),
            ("smmuv3_range_inval vmid=0 asid=1 addr=0x10000000 tg=1 num_pages=0x2 ttl=3 leaf=1 stage=1",
             .smmuv3Range(vmid: 0, asid: 1, address: 0x1000_0000, granule: 1, pages: 2, ttl: 3, leaf: true, stage: 1)),
            ("smmuv3_s1_range_inval vmid =-1 asid =1 addr=0x10000000 tg=0 num_pages=0x1 ttl=0 leaf=0",
             .smmuv3Range(vmid: -1, asid: 1, address: 0x1000_0000, granule: 0, pages: 1, ttl: 0, leaf: false, stage: nil)),
            ("smmu_iotlb_inv_iova IOTLB invalidate asid=1 addr=0x10000000", .smmuTLB(asid: 1, vmid: nil, address: 0x1000_0000)),
            ("smmuv3_cmdq_tlbi_nh_asid asid=5", .smmuTLB(asid: 5, vmid: nil, address: nil)),
            ("smmu_iotlb_inv_all IOTLB invalidate all", .smmuTLB(asid: nil, vmid: nil, address: nil)),
            ("vtd_inv_desc invalidate desc type iotlb high 0x0 low 0x10032", .vtdDescriptor(type: "iotlb", high: 0, low: 0x10032)),
            ("vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x1 addr 0x100000 mask 0x0", .vtdIOTLB(domain: 1, address: 0x10_0000, mask: 0, pasid: nil)),
            ("vtd_inv_desc_iotlb_pasid_pages iotlb invalidate domain 0x1 addr 0x100000 mask 0x9 pasid 0x2",
             .vtdIOTLB(domain: 1, address: 0x10_0000, mask: 9, pasid: 2)),
            ("vtd_inv_desc_iotlb_domain iotlb invalidate whole domain 0x1", .vtdIOTLB(domain: 1, address: nil, mask: nil, pasid: nil)),
            ("vtd_inv_desc_iotlb_global iotlb invalidate global", .vtdIOTLB(domain: nil, address: nil, mask: nil, pasid: nil)),
            ("vtd_inv_desc_cc_device context invalidate device 00:03.00", .vtdContextCache(domain: nil, device: dev3, functionMask: nil)),
            ("vtd_inv_desc_cc_devices context invalidate devices sid 0x18 fmask 0x3", .vtdContextCache(domain: nil, device: dev3, functionMask: 3)),
            ("vtd_inv_desc_cc_domain context invalidate domain 0x2", .vtdContextCache(domain: 2, device: nil, functionMask: nil)),
            ("vtd_inv_desc_cc_global context invalidate globally", .vtdContextCache(domain: nil, device: nil, functionMask: nil)),
            ("vtd_context_cache_reset ", .vtdContextCacheReset),
        ]
        for (line, expected) in cases {
            #expect(Self.observation(line) == .invalidation(expected), "\(line)")
        }
    }

    @Test func guestConfiguration() {
        #expect(Self.observation("vtd_switch_address_space Device 00:1f.2 switching address space (iommu enabled=1)")
            == .configuration(.vtdAddressSpace(PCIAddress(bus: 0, device: 0x1f, function: 2), translated: true)))
        #expect(Self.observation("vtd_reg_dmar_root addr 0x7f000 scalable 1") == .configuration(.vtdRootTable(address: 0x7f000, mode: .scalable)))
        #expect(Self.observation("vtd_reg_dmar_root addr 0x7f000 extended 0") == .configuration(.vtdRootTable(address: 0x7f000, mode: .legacy)))
        #expect(Self.observation("vtd_dmar_enable enable 1") == .configuration(.vtdTranslation(enabled: true)))
    }

    // MARK: Samples, damage

    @Test func theRealSamplesReadWithTheirObservations() {
        let smmu = Self.read(Samples.text("qemu-trace/smmuv3-translate-success-hvisor.txt"))
        #expect(smmu.warnings.isEmpty)
        #expect(smmu.records.map(\.event).last == .observation(.translation(EmulatedTranslation(
            unit: .armSMMUv3, requester: .streamID(0x10), iova: 0x8e04_3242, gpa: 0x8e04_3242, rights: .readWrite, pageSize: nil, stage: nil))))
        let vtd = Self.read(Samples.text("qemu-trace/vtd-switch-address-space-pid-timestamp-2020.txt"))
        #expect(vtd.warnings.isEmpty)
        let observed = vtd.records.compactMap { record -> QEMUTraceObservation? in
            if case .observation(let o) = record.event { o } else { nil }
        }
        #expect(observed.count == 14)
        #expect(observed[0] == .invalidation(.vtdContextCacheReset))
        #expect(observed[6] == .configuration(.vtdAddressSpace(PCIAddress(bus: 0, device: 0x1f, function: 3), translated: false)))
        // The writer keeps each one as an observed comment.
        let scenario = QEMUTraceScenario.make(vtd.records, file: "t")
        #expect(scenario.contains("# trace 2: vtd_switch_address_space Device 00:00.0 switching address space (iommu enabled=0) (observed: vtd dev 00:00.0 DMA straight to guest RAM)"))
    }

    /// A known event whose arguments are not its format: a located warning, kept as a comment.
    @Test func malformedLinesWarnAtTheirLine() {
        let reader = Self.read("""
            vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x100000 mask 0xffe
            smmuv3_translate_success mr sid=0x10 iova=zz translated=0x0 perm=0x3
            vtd_dmar_fault sid 0x18 fault 300 addr 0x0 write 0
            smmuv3_cmdq_opcode
            vtd_dmar_enable enable 2
            """)
        #expect(reader.warnings.map(\.line) == [1, 2, 3, 4, 5])
        #expect(reader.warnings.first?.reason == "vtd_dmar_translate: not the vtd_dmar_translate format; kept as a comment")
        #expect(reader.records.allSatisfy { if case .other = $0.event { true } else { false } })
    }

    /// A mail copy wraps an observation before its last field: the tail joins it.
    @Test func wrappedObservationsJoin() {
        let reader = Self.read("""
            vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x100000
              mask 0xfff
            smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0x1000
             translated=0x2000 perm=0x3
            vtd_dmar_enable enable 1
            """)
        #expect(reader.warnings.isEmpty)
        #expect(reader.records.map(\.line) == [1, 3, 5])
        #expect(reader.records.map(\.event).allSatisfy { if case .observation = $0 { true } else { false } })
    }

    @Test func seededFuzzNeverTraps() throws {
        var random = SplitMix64(seed: 0x0b5e_7fed)
        let lines = [
            "smmuv3_translate_success smmuv3-iommu-memory-region-16-2 sid=0x10 iova=0x8e043242 translated=0x8e043242 perm=0x3 stage=1",
            "smmuv3_translate_abort m sid=0x10 abort on iova:0x3000 is_write=1", "smmuv3_propagate_event SMMU_EVT_F_TRANSLATION sid=0x10",
            "vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x100000 mask 0xfff", "vtd_dmar_fault sid 0x18 fault 6 addr 0x7ebb0000 write 0",
            "smmuv3_range_inval vmid=0 asid=1 addr=0x10000000 tg=1 num_pages=0x2 ttl=3 leaf=1 stage=1",
            "vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x1 addr 0x100000 mask 0x0", "amdvi_translation_result devid: 00:04.0 gpa 0x5000 hpa 0x9000",
            "vtd_switch_address_space Device 00:1f.2 switching address space (iommu enabled=1)", "smmuv3_cmdq_cfgi_ste streamid= 0x10",
            "smmuv3_translate_success m sid=0x18 iova=0x100000 translated=0x7000 perm=0x3", "vtd_dmar_fault sid 0x18 fault 5 addr 0x100000 write 1",
        ]
        // Compared with a model that has the trace's device bound, attached and mapped, so the
        // mangled requesters and addresses reach every comparison.
        let shadow = try Timeline(sources: QEMUTraceScenario.replay(Self.read(Self.shadowTrace).records, file: "t").sources,
                                  start: { Session() })
        for _ in 0..<300 {
            var bytes = Array(lines[random.below(lines.count)].utf8)
            for _ in 0..<random.below(6) where !bytes.isEmpty {
                let at = random.below(bytes.count)
                switch random.below(3) {
                case 0: bytes[at] = random.pick([0x20, 0x3d, 0x3a, 0x2e, 0x78, 0x66, 0x30, 0x39, 0x2d, 0xff])
                case 1: bytes.remove(at: at)
                default: bytes.insert(contentsOf: Array("ffffffffffffffffffff".utf8.prefix(random.below(20))), at: at)
                }
            }
            let reader = QEMUTraceReader.read(bytes, file: "fuzz")
            for record in reader.records {
                guard case .observation(let observed) = record.event else { continue }
                _ = observed.summary
                _ = observed.compare(with: ModelReader(shadow.session.iommufd))
            }
        }
    }

    // MARK: Verdicts

    /// A PCI device shadowed into an IOAS, three translations and two faults of the emulated VT-d.
    static let shadowTrace = """
        iommufd_cdev_getfd  /dev/vfio/devices/vfio0 (fd=26)
        iommufd_backend_connect fd=15 owned=1 users=1
        iommufd_cdev_connect_and_bind  [iommufd=15] Successfully bound device 0000:00:03.0 (fd=26): output devid=1
        iommufd_backend_alloc_ioas  iommufd=15 ioas=2
        iommufd_cdev_attach_ioas_hwpt  [iommufd=15] Successfully attached device 0000:00:03.0 (26) to id=2
        iommufd_backend_map_dma  iommufd=15 ioas=2 iova=0x100000 size=0x1000 addr=0x7fb80f700000 readonly=0 (0)
        vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x7000 mask 0xfff
        vtd_dmar_translate dev 00:03.00 iova 0x200000 -> gpa 0x8000 mask 0xfff
        vtd_dmar_translate dev 00:04.00 iova 0x100000 -> gpa 0x7000 mask 0xfff
        vtd_dmar_fault sid 0x18 fault 6 addr 0x300000 write 0
        vtd_dmar_fault sid 0x18 fault 6 addr 0x100000 write 0
        iommufd_backend_map_dma  iommufd=15 ioas=2 iova=0x200000 size=0x1000 addr=0x7fb80f701000 readonly=1 (0)
        vtd_dmar_translate dev 00:03.00 iova 0x200000 -> gpa 0x8000 mask 0xfff
        """

    @Test func shadowedTranslationsAgreeDisagreeOrAreNotComparable() throws {
        let replay = QEMUTraceScenario.replay(Self.read(Self.shadowTrace).records, file: "t")
        let timeline = try Timeline(sources: replay.sources, start: { Session() })
        func verdict(_ line: Int) -> ObservationVerdict? {
            (0..<timeline.count).first { timeline.source($0).line == line }.flatMap { timeline.outcome($0).verdict }
        }
        func index(_ line: Int) -> Int? { (0..<timeline.count).first { timeline.source($0).line == line } }
        #expect(verdict(7) == .agrees("model: IOAS 2 maps 0x100000 rw at user VA 0x7f0000000000 (the GPA is not compared: the trace shows no guest RAM layout, vfio_listener_region_add_ram, for the VMM memory mapped there)"))
        #expect(verdict(8) == .disagrees("guest: dev 00:03.0 iova 0x200000 → gpa 0x8000; model: IOAS 2 maps nothing at 0x200000 (dev1's DMA there faults: the shadow mapping is missing or stale)"))
        #expect(verdict(9) == .notComparable("dev 00:04.0 is an emulated device, not one the trace bound to iommufd"))
        #expect(verdict(10) == .agrees("model: IOAS 2 maps nothing at 0x300000 either"))
        #expect(verdict(11) == .disagrees("guest: dev 00:03.0 faults at 0x100000; model: IOAS 2 still maps 0x100000-0x100fff rw (a mapping the guest's tables no longer hold)"))
        // Once the VMM maps it, the same translation agrees (read-only: VT-d prints no permission).
        if case .agrees? = verdict(13) {} else { Issue.record("trace 13: \(String(describing: verdict(13)))") }
        // The timeline marks exactly the disagreements, and every expectation held.
        #expect(timeline.markCount == 2)
        let first = try #require(timeline.nextMark(after: 0))
        #expect(first == index(8))
        #expect(timeline.outcome(first).mark == .disagreement)
        #expect(timeline.nextMark(after: first) == index(11))
        #expect((0..<timeline.count).allSatisfy { timeline.outcome($0).failedCommand == nil })
    }

    /// With guest RAM laid out by the VFIO listener, the GPA a shadow mapping holds is
    /// compared too: a mapping left pointing at another guest page is stale.
    @Test func aStaleShadowMappingDisagreesWhenTheTraceLaysOutGuestRAM() throws {
        let trace = """
            iommufd_cdev_connect_and_bind  [iommufd=15] Successfully bound device 0000:00:03.0 (fd=26): output devid=1
            iommufd_backend_alloc_ioas  iommufd=15 ioas=2
            iommufd_cdev_attach_ioas_hwpt  [iommufd=15] Successfully attached device 0000:00:03.0 (26) to id=2
            vfio_listener_region_add_ram region_add [ram] 0x0 - 0x7fffffff [0x7fb800000000]
            iommufd_backend_map_dma  iommufd=15 ioas=2 iova=0x100000 size=0x1000 addr=0x7fb800007000 readonly=0 (0)
            vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x7000 mask 0xfff
            vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x9000 mask 0xfff
            iommufd_backend_map_dma  iommufd=15 ioas=2 iova=0x200000 size=0x1000 addr=0x7fc000000000 readonly=0 (0)
            vtd_dmar_translate dev 00:03.00 iova 0x200000 -> gpa 0x8000 mask 0xfff
            iommufd_backend_unmap_dma  iommufd=15 ioas=2 iova=0x100000 size=0x1000 (0)
            vtd_dmar_translate dev 00:03.00 iova 0x100000 -> gpa 0x7000 mask 0xfff
            """
        let records = Self.read(trace).records
        guard case .observation(.translation(let first)) = records[5].event else { Issue.record("line 6"); return }
        #expect(first.shadow == ShadowedMemory(layoutKnown: true, mappings: [.init(ioas: 2, vmmVA: 0x7fb8_0000_7000, gpa: 0x7000)]))
        guard case .observation(.translation(let last)) = records[10].event else { Issue.record("line 11"); return }
        #expect(last.shadow == ShadowedMemory(layoutKnown: true, mappings: []))

        let timeline = try Timeline(sources: QEMUTraceScenario.replay(records, file: "t").sources, start: { Session() })
        func verdict(_ line: Int) -> ObservationVerdict? {
            (0..<timeline.count).first { timeline.source($0).line == line }.flatMap { timeline.outcome($0).verdict }
        }
        #expect(verdict(6) == .agrees("model: IOAS 2 maps 0x100000 rw at user VA 0x7f0000000000, VMM VA 0x7fb800007000 in the trace, which holds gpa 0x7000"))
        #expect(verdict(7) == .disagrees("guest: dev 00:03.0 iova 0x100000 → gpa 0x9000; model: IOAS 2 maps 0x100000 rw at user VA 0x7f0000000000, VMM VA 0x7fb800007000 in the trace, which holds gpa 0x7000: a stale shadow mapping"))
        #expect(verdict(9) == .disagrees("guest: dev 00:03.0 iova 0x200000 → gpa 0x8000; model: IOAS 2 maps 0x200000 rw at user VA 0x7f0000001000, VMM VA 0x7fc000000000 in the trace, which holds no guest RAM the trace lays out"))
        if case .disagrees? = verdict(11) {} else { Issue.record("trace 11: \(String(describing: verdict(11)))") }
        #expect(timeline.markCount == 3)
        #expect((0..<timeline.count).allSatisfy { timeline.outcome($0).failedCommand == nil })
    }

    /// The bundled nested-guest example's state, then what the emulated SMMU reported for its
    /// vSID: the model walks the guest's stage 1 and the nest parent's stage 2.
    static let nestedScenario = """
        iommu smmu0 type=arm-smmu-v3
        device nic0 iommu=smmu0 sid=0x100
        ram = mmap length=64M align=2M
        nic = device_bind dev=nic0
        ioas = ioas_alloc
        ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
        s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
        vi = viommu_alloc type=arm_smmuv3 dev_id=nic hwpt_id=s2
        vdevice_alloc viommu_id=vi dev_id=nic virt_id=1
        pt = guest_pgtable ioas_id=ioas format=arm-s1-4k pool=0x40010000-0x400fffff
        guest_map root=pt iova=0x10000000 gpa=0x40200000 length=2M
        guest_map root=pt iova=0x20000000 gpa=0x40400000 length=4K flags=readable
        guest_write ioas_id=ioas gpa=0x40001000 value=0x1e205c0003510,pt
        s1 = hwpt_alloc dev_id=nic pt_id=vi data_type=arm_smmuv3 ste=0x4000100b,0
        device_attach dev_id=nic pt_id=s1 expect=ok
        """

    @Test func nestedTranslationsAreWalkedByTheModel() throws {
        var sources = Self.nestedScenario.split(separator: "\n").enumerated().map { index, text in
            TimelineSource(line: index + 1, text: String(text), commands: [TimelineCommand(number: index + 1, text: String(text))])
        }
        let observed = [
            "smmuv3_translate_success smmuv3-iommu-memory-region-8-0 sid=0x1 iova=0x10012345 translated=0x40212345 perm=0x3 stage=1",
            "smmuv3_translate_success smmuv3-iommu-memory-region-8-0 sid=0x1 iova=0x10012345 translated=0x40312345 perm=0x3 stage=1",
            "smmuv3_translate_success smmuv3-iommu-memory-region-8-0 sid=0x1 iova=0x20000000 translated=0x40400000 perm=0x2 stage=1",
            "smmuv3_translate_abort smmuv3-iommu-memory-region-8-0 sid=0x1 abort on iova:0x30000000 is_write=0",
            "smmuv3_translate_success smmuv3-iommu-memory-region-8-0 sid=0x2 iova=0x10012345 translated=0x40212345 perm=0x3 stage=1",
        ]
        for (offset, line) in observed.enumerated() {
            guard case .observation(let observation)? = Self.read(line).records.first?.event else { Issue.record("\(line)"); return }
            sources.append(TimelineSource(line: 100 + offset, text: line, observation: observation))
        }
        let timeline = try Timeline(sources: sources, start: { Session() })
        func verdict(_ line: Int) -> ObservationVerdict? {
            (0..<timeline.count).first { timeline.source($0).line == line }.flatMap { timeline.outcome($0).verdict }
        }
        guard case .agrees(let text)? = verdict(100) else { Issue.record("100: \(String(describing: verdict(100)))"); return }
        #expect(text.hasPrefix("model: dev1's nested walk reaches HPA"))
        guard case .disagrees(let wrong)? = verdict(101) else { Issue.record("101: \(String(describing: verdict(101)))"); return }
        #expect(wrong.hasPrefix("guest: SID 0x1 iova 0x10012345 → gpa 0x40312345 rw (HPA"))
        // The guest's own tables map 0x20000000 read-only: the model's walk faults on a write.
        guard case .disagrees(let permission)? = verdict(102) else { Issue.record("102: \(String(describing: verdict(102)))"); return }
        #expect(permission.contains("model: the walk faults at stage 1"))
        guard case .agrees(let abort)? = verdict(103) else { Issue.record("103: \(String(describing: verdict(103)))"); return }
        #expect(abort.hasPrefix("model: dev1's nested walk faults at stage 1 too"))
        #expect(verdict(104) == .notComparable("SID 0x2 is an emulated device, not one the trace bound to iommufd"))
        #expect(timeline.markCount == 2)
    }
}
