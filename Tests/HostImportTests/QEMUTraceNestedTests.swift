import Foundation
import Testing
@testable import HostImport
import ScenarioScript
import TestSupport

/// The nested-translation events of a QEMU trace (vIOMMU, vDEVICE, vEVENTQ, nested HWPTs,
/// invalidations, dirty tracking, the vIOMMUs' attach reports): read, written and run on the
/// model. The Arm trace is ours (its header says what it models); a corrupted copy fails on
/// the corrupted lines alone.
@Suite struct QEMUTraceNestedTests {
    static let arm = "qemu-trace/iommufd-arm-nested-smmuv3-accel-constructed.txt"

    static func read(_ text: String) -> QEMUTraceReader { QEMUTraceReader.read(Array(text.utf8), file: "t") }

    /// Every sample reads without a warning and its scenario runs with every expectation holding.
    @Test(arguments: [
        "qemu-trace/iommufd-backend-mtty-mdev-x86-2024.txt",
        "qemu-trace/vtd-switch-address-space-pid-timestamp-2020.txt",
        "qemu-trace/smmuv3-translate-success-hvisor.txt",
    ])
    func theRealSamplesImportAndRun(_ sample: String) throws {
        let reader = Self.read(Samples.text(sample))
        #expect(reader.warnings.isEmpty)
        #expect(try QEMUTraceScenarioTests.failingTraceLines(QEMUTraceScenario.make(reader.records, file: sample)) == [])
    }

    @Test func theArmNestedTraceRunsWithEveryExpectationHolding() throws {
        let reader = Self.read(Samples.text(Self.arm))
        #expect(reader.warnings.isEmpty)
        let source = QEMUTraceScenario.make(reader.records, file: "arm")
        let reports = try Session().run(Scenario(source: source))
        #expect(reports.filter { !$0.passed }.map(\.line) == [])
        // Every object id the kernel returned is checked: devices 1 and 4, IOAS 2, HWPTs 3 5 7 8
        // 11, vIOMMU 6, vEVENTQ 9, vDEVICE 10; and both invalidations' done_num.
        for id in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] {
            #expect(source.contains(" expected=\(id) # trace "), "id \(id)")
        }
        #expect(source.contains("iommu iommu0 type=arm-smmu-v3"))
        #expect(source.contains("viommu6 = viommu_alloc type=arm_smmuv3 dev_id=dev4 hwpt_id=hwpt5 expect=ok # trace 15"))
        #expect(source.contains("hwpt7 = hwpt_alloc dev_id=dev4 pt_id=viommu6 data_type=arm_smmuv3 ste=0x1,0 expect=ok # trace 16"))
        #expect(source.contains("hwpt8 = hwpt_alloc dev_id=dev4 pt_id=viommu6 data_type=arm_smmuv3 ste=0x9,0 expect=ok # trace 17"))
        #expect(source.contains("veventq9 = veventq_alloc viommu_id=viommu6 type=arm_smmuv3 veventq_depth=128 expect=ok # trace 19"))
        #expect(source.contains("vdevice10 = vdevice_alloc viommu_id=viommu6 dev_id=dev4 virt_id=0x200 expect=ok # trace 20"))
        #expect(source.contains("hwpt11 = hwpt_alloc dev_id=dev4 pt_id=viommu6 data_type=arm_smmuv3 ste=0xb,0 expect=ok # trace 21"))
        #expect(source.contains("# trace 23: smmuv3_accel_install_ste vSID=0x200 ste type=translate hwpt_id=0xb (not replayed: restates the attach of trace 22)"))
        #expect(source.contains("invalidate24 = hwpt_invalidate hwpt_id=viommu6 data_type=arm_smmuv3 entries={cmd=0x10,0} entry_len=16 expect=ok # trace 24"))
        #expect(source.contains("check actual=invalidate24.entry_num expected=1 # trace 24"))
        #expect(source.contains("close fd=veventq9.out_veventq_fd expect=ok # trace 30\ndestroy id=veventq9 expect=ok # trace 30"))
        // The synthesized data says so on the line before.
        #expect(source.contains("# trace 16: the vSTE (16 bytes at 0xffffd7a3e6f0) is not in the trace; synthesized: ste=0x1,0"))
        #expect(source.contains("# trace 24: the entries are not in the trace; synthesized: 1 × CMD_TLBI_NH_ALL"))
    }

    /// The merged caller's labels: `type=4 dev_id=1` is dev_id 4 (bound at line 12), type 1.
    /// Both prefix forms, the wrapped line and the stderr warning read as in the header.
    @Test func theArmTraceIsReadAsItsHeaderSays() {
        let records = Self.read(Samples.text(Self.arm)).records
        #expect(records.first { $0.line == 15 }?.event
            == .backendAllocVIOMMU(iommufd: 22, devID: 4, type: 1, hwptID: 5, viommuID: 6, ret: 0, labelsSwapped: true))
        #expect(records.first { $0.line == 19 }?.event
            == .viommuAllocEventQ(iommufd: 22, viommuID: 6, type: 1, veventqID: 9, veventqFD: 31, ret: 0))
        #expect(records.first { $0.line == 23 }?.event == .smmuv3AccelInstallSTE(vsid: 0x200, type: "translate", hwptID: 11))
        #expect(records.first { $0.line == 24 }?.event
            == .backendInvalidateCache(iommufd: 22, id: 6, dataType: 1, entryLen: 16, entryNum: 1, doneNum: 1, dataPtr: 0xffff_6c7f_d6a0, errno: 0))
        #expect(!records.contains { $0.line == 9 || $0.line == 25 })
        #expect(records.count == 39)
    }

    /// A wrong vDEVICE id (its alloc and its free renumbered) fails on its check alone; a
    /// wrong invalidation result on that invalidation alone.
    @Test func aCorruptedCopyFailsOnExactlyTheCorruptedLines() throws {
        var lines = Samples.lines(Self.arm)
        lines[19] = lines[19].replacingOccurrences(of: "vdev_id=10", with: "vdev_id=12")
        lines[28] = lines[28].replacingOccurrences(of: "id=10 (0)", with: "id=12 (0)")
        lines[25] = lines[25].replacingOccurrences(of: "(0)", with: "(22)")
        let source = QEMUTraceScenario.make(Self.read(lines.joined(separator: "\n")).records, file: "t")
        #expect(source.contains("hwpt_invalidate hwpt_id=viommu6 data_type=arm_smmuv3 entries={cmd=0x10,0} entry_len=16 expect=EINVAL # trace 26"))
        #expect(try QEMUTraceScenarioTests.failingTraceLines(source) == [20, 26])
    }

    /// The events of a VT-d nested guest and of dirty tracking, written and run: a
    /// `vtd_device_attach_hwpt` the trace shows no cdev attach for is the attach; map_file_dma
    /// maps stand-in memory; change_process stays a comment.
    @Test func aVTdNestedAndDirtyTrackingTraceRuns() throws {
        let trace = """
            iommufd_cdev_connect_and_bind  [iommufd=15] Successfully bound device 0000:03:00.0 (fd=26): output devid=1
            iommufd_backend_alloc_ioas  iommufd=15 ioas=2
            iommufd_backend_alloc_hwpt  iommufd=15 dev_id=1 pt_id=2 flags=0x3 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=3 (0)
            iommufd_cdev_attach_ioas_hwpt  [iommufd=15] Successfully attached device 0000:03:00.0 (26) to id=3
            iommufd_backend_map_dma  iommufd=15 ioas=2 iova=0x0 size=0x100000 addr=0x7fb80f600000 readonly=0 (0)
            iommufd_backend_map_file_dma  iommufd=15 ioas=2 iova=0x100000 size=0x200000 fd=31 start=4096 readonly=0 (0)
            iommufd_change_process fd=15 (1)
            iommufd_backend_set_dirty  iommufd=15 hwpt=3 enable=1 (0)
            iommufd_backend_get_dirty_bitmap  iommufd=15 hwpt=3 iova=0x0 size=0x100000 flags=0x1 page_size=0x1000 (0)
            iommufd_backend_get_dirty_bitmap  iommufd=15 hwpt=3 iova=0x0 size=0x100000 page_size=0x1000 (0)
            iommufd_backend_get_dirty_bitmap  iommufd=15 hwpt=3 iova=0x800 size=0x1000 page_size=0x1000 (22)
            iommufd_backend_alloc_hwpt  iommufd=15 dev_id=1 pt_id=3 flags=0x0 hwpt_type=1 len=24 data_ptr=0x7ffd5a3e6f00 out_hwpt=4 (0)
            vtd_device_attach_hwpt dev_id 1 pasid 0 hwpt_id 4, ret: 0
            iommufd_backend_invalidate_cache  iommufd=15 id=4 data_type=0 entry_len=24 entry_num=2 done_num=2 data_ptr=0x7ffd5a3e7000 (0)
            iommufd_backend_set_dirty  iommufd=15 hwpt=3 enable=0 (0)
            iommufd_backend_unmap_dma  iommufd=15 ioas=2 iova=0x100000 size=0x200000 (0)
            """
        let reader = Self.read(trace)
        #expect(reader.warnings.isEmpty)
        #expect(reader.records[5...10].map(\.event) == [
            .backendMapFileDMA(iommufd: 15, ioas: 2, iova: 0x100000, size: 0x200000, fd: 31, start: 4096, readonly: false, ret: 0),
            .changeProcess(fd: 15, succeeded: true),
            .backendSetDirty(iommufd: 15, hwptID: 3, enable: true, errno: 0),
            .backendGetDirtyBitmap(iommufd: 15, hwptID: 3, iova: 0, size: 0x100000, flags: 1, pageSize: 0x1000, errno: 0),
            .backendGetDirtyBitmap(iommufd: 15, hwptID: 3, iova: 0, size: 0x100000, flags: nil, pageSize: 0x1000, errno: 0),
            .backendGetDirtyBitmap(iommufd: 15, hwptID: 3, iova: 0x800, size: 0x1000, flags: nil, pageSize: 0x1000, errno: 22),
        ])
        #expect(reader.records[12].event == .vtdDeviceAttachHWPT(devID: 1, pasid: 0, hwptID: 4, ret: 0))
        let source = QEMUTraceScenario.make(reader.records, file: "t")
        #expect(source.contains("iommu iommu0 type=intel-vtd"))
        #expect(source.contains("hwpt3 = hwpt_alloc dev_id=dev1 pt_id=ioas2 flags=nest_parent|dirty_tracking expect=ok # trace 3"))
        #expect(source.contains("file1 = mmap length=0x200000 # trace 6"))
        #expect(source.contains("ioas_map ioas_id=ioas2 user_va=file1 iova=0x100000 length=0x200000 flags=fixed_iova|readable|writeable expect=ok # trace 6"))
        #expect(source.contains("# trace 7: iommufd_change_process fd=15 (1) (not replayed: IOMMU_IOAS_CHANGE_PROCESS is not modelled"))
        #expect(source.contains("hwpt_set_dirty_tracking hwpt_id=hwpt3 flags=enable expect=ok # trace 8"))
        #expect(source.contains("hwpt_get_dirty_bitmap hwpt_id=hwpt3 iova=0x0 length=0x100000 page_size=0x1000 flags=no_clear expect=ok # trace 9"))
        #expect(source.contains("hwpt_get_dirty_bitmap hwpt_id=hwpt3 iova=0x800 length=0x1000 page_size=0x1000 expect=EINVAL # trace 11"))
        #expect(source.contains("hwpt4 = hwpt_alloc dev_id=dev1 pt_id=hwpt3 data_type=vtd_s1 addr_width=48 expect=ok # trace 12"))
        #expect(source.contains("device_attach dev_id=dev1 pt_id=hwpt4 expect=ok # trace 13"))
        #expect(source.contains("entries={addr=0 npages=1},{addr=0 npages=1} entry_len=24 expect=ok # trace 14"))
        #expect(source.contains("hwpt_set_dirty_tracking hwpt_id=hwpt3 expect=ok # trace 15"))
        #expect(try QEMUTraceScenarioTests.failingTraceLines(source) == [])
    }

    /// An attach report after the cdev attach QEMU traced for it restates it; after another
    /// attach it is replayed; a vSID no vDEVICE has, or an unknown hwpt type, stays a comment.
    @Test func attachReportsAndUnknownDataStayFaithful() {
        let source = QEMUTraceScenario.make(Self.read("""
            iommufd_cdev_connect_and_bind  [iommufd=3] Successfully bound device 0000:01:00.0 (fd=9): output devid=1
            iommufd_backend_alloc_ioas  iommufd=3 ioas=2
            iommufd_backend_alloc_hwpt  iommufd=3 dev_id=1 pt_id=2 flags=0x1 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=3 (0)
            iommufd_cdev_attach_ioas_hwpt  [iommufd=3] Successfully attached device 0000:01:00.0 (9) to id=3
            vtd_device_attach_hwpt dev_id 1 pasid 0 hwpt_id 3, ret: 0
            vtd_device_attach_hwpt dev_id 1 pasid 0 hwpt_id 2, ret: -22
            smmuv3_accel_install_ste vSID=0x8 ste type=bypass hwpt_id=0x3
            iommufd_backend_alloc_hwpt  iommufd=3 dev_id=1 pt_id=3 flags=0x0 hwpt_type=9 len=8 data_ptr=0x1000 out_hwpt=4 (0)
            iommufd_backend_invalidate_cache  iommufd=3 id=3 data_type=7 entry_len=8 entry_num=1 done_num=0 data_ptr=0x1000 (95)
            """).records, file: "t")
        #expect(source.contains("# trace 5: vtd_device_attach_hwpt dev_id 1 pasid 0 hwpt_id 3, ret: 0 (not replayed: restates the attach of trace 4)"))
        #expect(source.contains("device_attach dev_id=dev1 pt_id=ioas2 expect=EINVAL # trace 6"))
        #expect(source.contains("# trace 7: smmuv3_accel_install_ste vSID=0x8 ste type=bypass hwpt_id=0x3 (not replayed: no vDEVICE of the trace has virt_id 0x8)"))
        #expect(source.contains("# trace 8: iommufd_backend_alloc_hwpt") && source.contains("(not replayed: the driver data of hwpt_type 9 is not in the trace"))
        #expect(source.contains("(not replayed: the entries of data_type 7 are not in the trace"))
    }

    /// Each new event, cut short or mangled, is kept as a comment with a warning at its line.
    @Test(arguments: [
        "iommufd_backend_alloc_vdev  iommufd=3 dev_id=1 viommu_id=6 virt_id=0x200 (0)",
        "iommufd_viommu_alloc_eventq  iommufd=3 viommu_id=6 type=1 veventq_id=x veventq_fd=31 (0)",
        "iommufd_backend_invalidate_cache  iommufd=3 id=6 data_type=1 entry_len=16 entry_num=1 data_ptr=0x0 (0)",
        "iommufd_backend_set_dirty  iommufd=3 hwpt=3 (0)",
        "iommufd_backend_get_dirty_bitmap  iommufd=3 hwpt=3 iova=0x0 size=0x1000 flags=zz page_size=0x1000 (0)",
        "iommufd_backend_map_file_dma  iommufd=3 ioas=2 iova=0x0 size=0x1000 fd=9 start=-1 readonly=0 (0)",
        "iommufd_change_process fd=3 (7)",
        "smmuv3_accel_install_ste vSID=0x1ffffffff ste type=abort hwpt_id=0x7",
        "vtd_device_attach_hwpt dev_id 1 pasid 0 hwpt_id 4 ret: 0",
    ])
    func aMalformedEventIsAComment(_ line: String) {
        let reader = Self.read("iommufd_backend_connect fd=3 owned=1 users=1\n" + line + "\n")
        let name = String(line.prefix { $0 != " " })
        #expect(reader.records.last?.event == .other(name: name, arguments: String(line.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)))
        #expect(reader.warnings.map(\.line) == [2])
        #expect(QEMUTraceScenario.make(reader.records, file: "t").contains("# trace 2: \(name)"))
    }

    /// A line wrapped before its last field is joined to its tail, for every event read here.
    @Test func wrappedLinesAreJoined() {
        let reader = Self.read("""
            iommufd_viommu_alloc_eventq  iommufd=3 viommu_id=6 type=1 veventq_id=9
              veventq_fd=31 (0)
            smmuv3_accel_install_ste vSID=0x200 ste type=translate
              hwpt_id=0xb
            vtd_device_attach_hwpt dev_id 1 pasid 0 hwpt_id 4,
              ret: 0
            iommufd_change_process fd=3
              (1)
            """)
        #expect(reader.records.map(\.event) == [
            .viommuAllocEventQ(iommufd: 3, viommuID: 6, type: 1, veventqID: 9, veventqFD: 31, ret: 0),
            .smmuv3AccelInstallSTE(vsid: 0x200, type: "translate", hwptID: 11),
            .vtdDeviceAttachHWPT(devID: 1, pasid: 0, hwptID: 4, ret: 0),
            .changeProcess(fd: 3, succeeded: true),
        ])
        #expect(reader.records.map(\.line) == [1, 3, 5, 7])
        #expect(reader.warnings.isEmpty)
    }

    /// Mail quoting, CRLF, tabs and hard wraps at 72 columns of the Arm trace read as the clean
    /// trace (the lines renumbered by the wraps aside).
    @Test(arguments: ["quote", "crlf", "tabs", "wrap", "quoted-wrap"])
    func mangledCopiesOfTheArmTrace(_ damage: String) {
        let text = Samples.text(Self.arm)
        let mangled: String
        switch damage {
        case "quote": mangled = Mangle.quote(text)
        case "crlf": mangled = Mangle.crlf(text)
        case "tabs": mangled = Mangle.tabs(text)
        case "wrap": mangled = Mangle.wrap(text)
        default: mangled = Mangle.quote(Mangle.wrap(text))
        }
        #expect(Self.read(mangled).records.map(\.event) == Self.read(text).records.map(\.event))
    }

    /// The Arm trace with random bytes flipped or cut: no trap, every warning inside the input.
    @Test func seededFuzzOfTheArmTrace() {
        var random = SplitMix64(seed: 0x5eed_a11c_0ffe_e000)
        let sample = Array(Samples.text(Self.arm).utf8)
        for _ in 0..<150 {
            var bytes = Array(sample.prefix(random.below(sample.count + 1)))
            for _ in 0..<random.below(12) where !bytes.isEmpty {
                bytes[random.below(bytes.count)] = random.pick([0x20, 0x28, 0x29, 0x3d, 0x0a, 0x00, 0xff, 0x5f, 0x2c, 0x78, 0x31])
            }
            let lineCount = bytes.filter { $0 == 0x0a || $0 == 0x0d }.count + 1
            let reader = QEMUTraceReader.read(bytes, file: "fuzz")
            for warning in reader.warnings {
                #expect(warning.line.map { (1...lineCount).contains($0) } == true)
            }
            _ = QEMUTraceScenario.replay(reader.records, file: "fuzz")
        }
    }
}
