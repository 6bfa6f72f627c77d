import IOMMUCore
import Presentation
import ScenarioScript


/// Writes the iommufd ioctls a QEMU trace shows as a scenario (docs/scenario-language.md),
/// in trace order, each line ending `# trace N`. What the kernel returned becomes `expect=`
/// and `check` lines, so a run reports where the model and the kernel disagree.
public struct QEMUTraceScenario {
    /// The scenario's lines so far.
    private var lines: [String] = []
    /// Trace device name (BDF or mdev UUID) → the binding of its device id.
    private var devices: [String: Binding] = [:]
    /// Trace object id → scenario binding name.
    private var objects: [UInt32: String] = [:]
    /// `vfio_mdev ... is_mdev 1` names: emulated devices, bound by the kernel to an ACCESS.
    private var mdevs: Set<String> = []
    /// User-VA regions already `mmap`ed: start, length, binding.
    private var regions: [(start: UInt64, length: UInt64, name: String)] = []
    /// The line of the backend's alloc_ioas per IOAS id, for the cdev restatement.
    private var ioasLines: [UInt32: Int] = [:]
    /// False once the kernel allocated an object id the replay cannot allocate in its place:
    /// the trace's later ids then differ from the model's by construction, so they are not checked.
    private var idsAligned = true
    /// Device binding and PASID (nil: the RID) → the trace id it is attached to, and the trace
    /// line of that attach (a vIOMMU's report of an attach QEMU traced already restates it).
    private var attachments: [AttachPoint: (id: UInt32, line: Int)] = [:]
    /// vDEVICE `virt_id` (the guest's StreamID on Arm) → the binding of its device.
    private var vdevices: [UInt64: String] = [:]
    /// vIOMMU trace id → nested HWPTs allocated on it so far (QEMU's first two are its abort
    /// and bypass HWPTs).
    private var nestedOnVIOMMU: [UInt32: Int] = [:]
    /// `map_file_dma`s replayed so far, to name their stand-in memory.
    private var fileMaps = 0
    /// Trace ids of the vEVENTQs made, whose fd QEMU closes before it frees them.
    private var veventqs: Set<UInt32> = []
    /// Record index of an ARM_SMMUV3 nested `alloc_hwpt` → the `ste type=` a later
    /// `smmuv3_accel_install_ste` of that HWPT names (before the HWPT is freed).
    private let installedSTE: [Int: String]

    private enum Binding { case device(String), access(devid: UInt32) }
    private struct AttachPoint: Hashable { var device: String; var pasid: UInt32? }

    private init(records: [QEMUTraceRecord]) {
        var pending: [UInt32: Int] = [:]
        var installed: [Int: String] = [:]
        for (index, record) in records.enumerated() {
            switch record.event {
            case .backendAllocHWPT(_, _, _, _, 2, _, _, let out, 0): pending[out] = index
            case .smmuv3AccelInstallSTE(_, let type, let hwpt): if let alloc = pending.removeValue(forKey: hwpt) { installed[alloc] = type }
            case .backendFreeID(_, let id, 0): pending[id] = nil
            default: break
            }
        }
        installedSTE = installed
    }

    /// The scenario for a trace's records.
    public static func make(_ records: [QEMUTraceRecord], file: String) -> String {
        replay(records, file: file).scenario
    }

    /// The scenario for a trace's records, and its lines grouped by trace line. The lines that
    /// replay no trace line (the platform's) are the first source, at line 0.
    public static func replay(_ records: [QEMUTraceRecord], file: String) -> ImportedReplay {
        var writer = QEMUTraceScenario(records: records)
        writer.note("# Replay of the QEMU trace \(terminalSafe(file)) (iommuscope import qemu-trace).")
        writer.declarePlatform(records)
        var sources: [TimelineSource] = []
        let platform = writer.commands(from: 0)
        if !platform.isEmpty {
            sources.append(TimelineSource(line: 0, text: "(the platform the trace runs on)", commands: platform))
        }
        for (index, record) in records.enumerated() {
            let first = writer.lines.count
            writer.write(record, at: index)
            var observation: QEMUTraceObservation?
            if case .observation(let observed) = record.event { observation = observed }
            let commands = writer.commands(from: first)
            let note = commands.isEmpty ? writer.lines[first...].last : nil
            sources.append(TimelineSource(line: record.line, text: terminalSafe("\(record.name) \(record.arguments)"),
                                          commands: commands, note: note, observation: observation))
        }
        return ImportedReplay(scenario: writer.lines.joined(separator: "\n") + "\n", sources: sources)
    }

    /// The command lines (not comments) written from `first` on, numbered as in the scenario.
    private func commands(from first: Int) -> [TimelineCommand] {
        lines.indices[first...].compactMap { index in
            let text = lines[index]
            return text.hasPrefix("#") ? nil : TimelineCommand(number: index + 1, text: text)
        }
    }

    private mutating func note(_ text: String) { lines.append(text) }

    /// An `iommu` and one `device` per PCI device the trace binds; an mdev has no IOMMU.
    private mutating func declarePlatform(_ records: [QEMUTraceRecord]) {
        var pci: [String] = []
        var arm = false
        for record in records {
            if case .vfioMdev(let name, true) = record.event { mdevs.insert(name) }
            if case .cdevBind(_, let name, _, _) = record.event, PCIAddress(parsing: name) != nil, !pci.contains(name) { pci.append(name) }
            arm = arm || Self.namesArm(record.event)
        }
        guard !pci.isEmpty else { return }
        // Not `mock`: the selftest's mock domain has an aperture from 16M, which a guest's low
        // RAM maps (iova 0) would miss.
        if arm {
            note("# The trace does not name the host's IOMMU; its ARM_SMMUV3 vIOMMU or nested HWPT says it is an SMMUv3.")
            note("iommu iommu0 type=arm-smmu-v3")
        } else {
            note("# The trace does not name the host's IOMMU: a VT-d unit stands for it (change the type to match).")
            note("iommu iommu0 type=intel-vtd")
        }
        for name in pci { note("device \(name) iommu=iommu0") }
    }

    /// An event only an Arm SMMUv3 host has: an ARM_SMMUV3 vIOMMU (or Tegra241 CMDQV), an
    /// ARM_SMMUV3 nested HWPT, QEMU's accelerated SMMUv3 installing a vSTE.
    private static func namesArm(_ event: QEMUTraceEvent) -> Bool {
        switch event {
        case .backendAllocVIOMMU(_, _, let type, _, _, _, _): return type == 1 || type == 2
        case .backendAllocHWPT(_, _, _, _, let type, _, _, _, _): return type == 2
        case .smmuv3AccelInstallSTE: return true
        default: return false
        }
    }

    private mutating func emit(_ text: String, _ line: Int) { note("\(text) # trace \(line)") }

    private mutating func skip(_ record: QEMUTraceRecord, _ why: String) {
        let args = record.arguments.isEmpty ? "" : " " + record.arguments
        note(terminalSafe("# trace \(record.line): \(record.name)\(args) (not replayed: \(why))"))
    }

    /// `expect=` for a printed ioctl result: 0 is `ok`, -errno its name; -1 (a caller that
    /// returns -1 with errno elsewhere) says only that it failed, which has no status name.
    private static func expectation(_ ret: Int32?) -> String {
        guard let ret else { return "" }
        if ret == 0 { return " expect=ok" }
        if ret < 0, ret != Int32.min, let errno = Errno(rawValue: -ret) { return " expect=\(errno)" }
        return ""
    }

    /// `expect=` for the positive errno QEMU prints for invalidate_cache, set_dirty and
    /// get_dirty_bitmap (`ret ? errno : 0`).
    private static func expectation(errno: Int32) -> String {
        if errno == 0 { return " expect=ok" }
        if let name = Errno(rawValue: errno) { return " expect=\(name)" }
        return ""
    }

    private mutating func check(_ name: String, _ id: UInt32, _ line: Int) {
        if idsAligned { emit("check actual=\(name) expected=\(id)", line) }
        else { note("# trace \(line): id \(id) not checked (an earlier object the kernel made is not in the replay)") }
    }

    private func object(_ id: UInt32) -> String? { objects[id] }

    /// The user VA of `[va, va+size)` inside a region already mapped, as `NAME` or `NAME+OFFSET`.
    private func userVA(_ va: UInt64, _ size: UInt64) -> String? {
        for region in regions where va >= region.start && va - region.start <= region.length
            && size <= region.length - (va - region.start) {
            return va == region.start ? region.name : "\(region.name)+\(hex(va - region.start))"
        }
        return nil
    }

    private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// `IOMMU_VIOMMU_TYPE_*` and `IOMMU_VEVENTQ_TYPE_*` (the same numbers) by their scenario names.
    private static func viommuType(_ type: UInt32) -> String {
        [0: "default", 1: "arm_smmuv3", 2: "tegra241_cmdqv"][type] ?? String(type)
    }

    /// `IOMMU_HWPT_ALLOC_*` flags by their scenario names.
    private func hwptFlags(_ flags: UInt32) -> String {
        let names: [(UInt32, String)] = [(1 << 0, "nest_parent"), (1 << 1, "dirty_tracking"), (1 << 2, "fault_id_valid"), (1 << 3, "pasid")]
        var words = names.filter { flags & $0.0 != 0 }.map(\.1)
        let rest = flags & ~names.reduce(0) { $0 | $1.0 }
        if rest != 0 { words.append(hex(UInt64(rest))) }
        return words.isEmpty ? "" : " flags=" + words.joined(separator: "|")
    }

    /// The vSTE an `ARM_SMMUV3` nested HWPT is given: the trace shows only its length and
    /// address. QEMU's accelerated SMMUv3 (hw/arm/smmuv3-accel.c) makes three kinds: its abort
    /// and bypass HWPTs, the first two it allocates on the vIOMMU, and one per translating
    /// guest STE; a later `smmuv3_accel_install_ste` names which a HWPT is. Each vSTE here
    /// passes `arm_smmu_validate_vste`: V and Config only, every other field 0.
    private func armVSTE(on viommu: UInt32, at index: Int) -> (word0: UInt64, what: String) {
        switch installedSTE[index] ?? [0: "abort", 1: "bypass"][nestedOnVIOMMU[viommu, default: 0]] {
        case "abort": return (0x1, "V=1 Config=abort, as QEMU's abort HWPT")
        case "bypass": return (0x9, "V=1 Config=bypass (stage 2 only), as QEMU's bypass HWPT")
        case "translate":
            return (0xb, "V=1 Config=S1 translate with S1ContextPtr 0 and S1CDMax 0: the guest's CD table address is not in the trace")
        default: return (0, "V=0, which the kernel accepts and installs as abort: the guest's STE is not in the trace")
        }
    }

    /// The attach a vIOMMU reports (`smmuv3_accel_install_ste`, `vtd_device_attach_hwpt`): the
    /// cdev attach QEMU traced for it is restated; one the trace did not show is replayed.
    private mutating func reportedAttach(_ record: QEMUTraceRecord, device: String, pasid: UInt32?, hwpt: UInt32, ret: Int32) {
        let point = AttachPoint(device: device, pasid: pasid)
        if ret == 0, let current = attachments[point], current.id == hwpt {
            return skip(record, "restates the attach of trace \(current.line)")
        }
        guard let pt = object(hwpt) else { return skip(record, "id \(hwpt) was not allocated in the trace") }
        emit("device_attach dev_id=\(device) pt_id=\(pt)\(pasid.map { " pasid=\($0)" } ?? "")\(Self.expectation(ret))", record.line)
        if ret == 0 { attachments[point] = (hwpt, record.line) }
    }

    private mutating func write(_ record: QEMUTraceRecord, at index: Int) {
        let n = record.line
        switch record.event {
        case .backendConnect(_, _, _, let ret):
            if let ret, ret != 0 { skip(record, "opening /dev/iommu failed; the scenario's context is always open") }
            else { skip(record, "opens /dev/iommu; the scenario runs in one open context") }
        case .backendDisconnect:
            skip(record, "closes /dev/iommu")
        case .cdevGetFD:
            skip(record, "opens the VFIO cdev, not an iommufd ioctl")
        case .vfioMdev:
            skip(record, "VFIO's note of the device kind")
        case .cdevBind(_, let name, _, let devid):
            if mdevs.contains(name) || PCIAddress(parsing: name) == nil {
                devices[name] = .access(devid: devid)
                idsAligned = false
                skip(record, "an mdev has no IOMMU: the kernel (vfio_iommufd_emulated_bind) makes an in-kernel ACCESS object, id \(devid), with no IOAS yet; the scenario's test_create_access needs its IOAS, so the access is made at the attach")
            } else {
                let binding = "dev\(devid)"
                devices[name] = .device(binding)
                objects[devid] = binding
                emit("\(binding) = device_bind dev=\(name)", n)
                check(binding, devid, n)
            }
        case .backendAllocIOAS(_, let ioas, let ret):
            let binding = "ioas\(ioas)"
            objects[ioas] = binding
            ioasLines[ioas] = n
            emit("\(binding) = ioas_alloc\(Self.expectation(ret))", n)
            check(binding, ioas, n)
        case .cdevAllocIOAS(_, let ioas):
            if let first = ioasLines[ioas] { skip(record, "restates trace \(first)") }
            else { skip(record, "restates a backend alloc_ioas the trace does not show") }
        case .cdevAttach(_, let name, _, let pasid, let id):
            guard let pt = object(id) else { return skip(record, "id \(id) was not allocated in the trace") }
            switch devices[name] {
            case .device(let binding):
                let pasidArg = pasid.map { " pasid=\($0)" } ?? ""
                emit("device_attach dev_id=\(binding) pt_id=\(pt)\(pasidArg) expect=ok", n)
                attachments[AttachPoint(device: binding, pasid: pasid)] = (id, n)
            case .access(let devid):
                emit("access\(devid) = test_create_access ioas_id=\(pt) expect=ok", n)
            case nil:
                skip(record, "the device was not bound in the trace")
            }
        case .cdevDetach(_, let name, let pasid):
            switch devices[name] {
            case .device(let binding):
                emit("device_detach dev_id=\(binding)\(pasid.map { " pasid=\($0)" } ?? "") expect=ok", n)
                attachments[AttachPoint(device: binding, pasid: pasid)] = nil
            case .access(let devid):
                emit("close fd=access\(devid) expect=ok", n)
            case nil:
                skip(record, "the device was not bound in the trace")
            }
        case .backendMapDMA(_, let ioas, let iova, let size, let va, let readonly, let ret):
            guard let ioasName = object(ioas) else { return skip(record, "IOAS \(ioas) was not allocated in the trace") }
            guard size > 0 else { return skip(record, "an empty map") }
            let user: String
            if let known = userVA(va, size) {
                user = known
            } else {
                let name = "va\(regions.count + 1)"
                regions.append((va, size, name))
                note("# VMM memory at \(hex(va)) (trace \(n)): the model places it at its own user VA")
                emit("\(name) = mmap length=\(hex(size))", n)
                user = name
            }
            let flags = readonly ? "fixed_iova|readable" : "fixed_iova|readable|writeable"
            emit("ioas_map ioas_id=\(ioasName) user_va=\(user) iova=\(hex(iova)) length=\(hex(size)) flags=\(flags)\(Self.expectation(ret))", n)
        case .backendUnmapDMA(_, let ioas, let iova, let size, let ret):
            guard let ioasName = object(ioas) else { return skip(record, "IOAS \(ioas) was not allocated in the trace") }
            emit("ioas_unmap ioas_id=\(ioasName) iova=\(hex(iova)) length=\(hex(size))\(Self.expectation(ret))", n)
        case .backendUnmapDMANonExist(_, let ioas, let iova, let size, _):
            guard let ioasName = object(ioas) else { return skip(record, "IOAS \(ioas) was not allocated in the trace") }
            emit("ioas_unmap ioas_id=\(ioasName) iova=\(hex(iova)) length=\(hex(size)) expect=ENOENT", n)
        case .backendAllocHWPT(_, let devID, let ptID, let flags, let hwptType, let len, let dataPtr, let out, let ret):
            guard let dev = object(devID), let pt = object(ptID) else { return skip(record, "dev_id or pt_id was not allocated in the trace") }
            let data: String
            switch hwptType {
            case 0:
                data = ""
            case 2:
                // IOMMU_HWPT_DATA_ARM_SMMUV3: struct iommu_hwpt_arm_smmuv3, 16 bytes.
                let (word0, what) = armVSTE(on: ptID, at: index)
                nestedOnVIOMMU[ptID, default: 0] += 1
                note("# trace \(n): the vSTE (\(len) bytes at \(hex(dataPtr))) is not in the trace; synthesized: ste=\(hex(word0)),0, \(what)")
                data = " data_type=arm_smmuv3 ste=\(hex(word0)),0" + (len == 16 ? "" : " data_len=\(len)")
            case 1:
                // IOMMU_HWPT_DATA_VTD_S1: struct iommu_hwpt_vtd_s1, 24 bytes. Its flags share the
                // scenario's flags= with the ioctl's, told apart by name, so a bit without a
                // name cannot be written.
                guard flags & ~0xf == 0 else { return skip(record, "flags \(hex(UInt64(flags))) has bits no IOMMU_HWPT_ALLOC flag names") }
                note("# trace \(n): the stage-1 data (\(len) bytes at \(hex(dataPtr))) is not in the trace; synthesized: struct iommu_hwpt_vtd_s1 with addr_width=48 (4-level, which intel_pasid_setup_nested accepts), pgtbl_addr 0, no flags")
                data = " data_type=vtd_s1 addr_width=48" + (len == 24 ? "" : " data_len=\(len)")
            default:
                return skip(record, "the driver data of hwpt_type \(hwptType) is not in the trace, and no struct of that type is known")
            }
            let binding = "hwpt\(out)"
            emit("\(binding) = hwpt_alloc dev_id=\(dev) pt_id=\(pt)\(hwptFlags(flags))\(data)\(Self.expectation(ret))", n)
            if ret == 0 { objects[out] = binding; check(binding, out, n) }
        case .backendFreeID(_, let id, let ret):
            guard let name = object(id) else { return skip(record, "id \(id) was not allocated in the trace") }
            if veventqs.contains(id) {
                note("# trace \(n): QEMU closes the vEVENTQ's fd before it frees the queue (not traced; an open fd holds the queue)")
                emit("close fd=\(name).out_veventq_fd expect=ok", n)
                veventqs.remove(id)
            }
            emit("destroy id=\(name)\(Self.expectation(ret))", n)
            if ret == 0 { objects[id] = nil }
        case .backendAllocVIOMMU(_, let devID, let type, let hwpt, let viommu, let ret, let swapped):
            guard let dev = object(devID), let parent = object(hwpt) else { return skip(record, "dev_id or hwpt_id was not allocated in the trace") }
            note("# trace \(n): read as dev_id=\(devID) type=\(type) (\(swapped ? "the labels swapped, as the merged caller passes them" : "in label order, matching the bound device ids"))")
            let binding = "viommu\(viommu)"
            emit("\(binding) = viommu_alloc type=\(Self.viommuType(type)) dev_id=\(dev) hwpt_id=\(parent)\(Self.expectation(ret))", n)
            if ret == 0 { objects[viommu] = binding; check(binding, viommu, n) }
        case .backendAllocVDev(_, let devID, let viommuID, let virtID, let vdevID, let ret):
            guard let dev = object(devID), let viommu = object(viommuID) else { return skip(record, "dev_id or viommu_id was not allocated in the trace") }
            let binding = "vdevice\(vdevID)"
            emit("\(binding) = vdevice_alloc viommu_id=\(viommu) dev_id=\(dev) virt_id=\(hex(virtID))\(Self.expectation(ret))", n)
            if ret == 0 { objects[vdevID] = binding; vdevices[virtID] = dev; check(binding, vdevID, n) }
        case .viommuAllocEventQ(_, let viommuID, let type, let queue, _, let ret):
            guard let viommu = object(viommuID) else { return skip(record, "viommu_id \(viommuID) was not allocated in the trace") }
            note("# trace \(n): the depth is not in the trace (QEMU passes 1 << the guest queue's log2size); synthesized: 128. The fd is not checked")
            let binding = "veventq\(queue)"
            emit("\(binding) = veventq_alloc viommu_id=\(viommu) type=\(Self.viommuType(type)) veventq_depth=128\(Self.expectation(ret))", n)
            if ret == 0 { objects[queue] = binding; veventqs.insert(queue); check(binding, queue, n) }
        case .backendInvalidateCache(_, let id, let dataType, let entryLen, let entryNum, let doneNum, _, let errno):
            guard let target = object(id) else { return skip(record, "id \(id) was not allocated in the trace") }
            // IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 is 0, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 1.
            let typeName: String, entry: String, what: String
            switch dataType {
            case 0:
                (typeName, entry, what) = ("vtd_s1", "{addr=0 npages=1}", "the 4K page at 0 (struct iommu_hwpt_vtd_s1_invalidate), which intel_nested_cache_invalidate_user accepts")
            case 1:
                (typeName, entry, what) = ("arm_smmuv3", "{cmd=0x10,0}", "CMD_TLBI_NH_ALL, which arm_vsmmu_convert_user_cmd accepts with no vSID")
            default:
                return skip(record, "the entries of data_type \(dataType) are not in the trace, and no entry struct of that type is known")
            }
            guard entryNum <= 1024 else { return skip(record, "\(entryNum) entries are more than this replay synthesizes (1024)") }
            note("# trace \(n): the entries are not in the trace; synthesized: \(entryNum) × \(what)")
            let entries = entryNum == 0 ? "" : " entries=" + Array(repeating: entry, count: Int(entryNum)).joined(separator: ",")
            let binding = "invalidate\(n)"
            emit("\(binding) = hwpt_invalidate hwpt_id=\(target) data_type=\(typeName)\(entries) entry_len=\(entryLen)\(Self.expectation(errno: errno))", n)
            emit("check actual=\(binding).entry_num expected=\(doneNum)", n)
        case .backendSetDirty(_, let hwptID, let enable, let errno):
            guard let hwpt = object(hwptID) else { return skip(record, "hwpt \(hwptID) was not allocated in the trace") }
            emit("hwpt_set_dirty_tracking hwpt_id=\(hwpt)\(enable ? " flags=enable" : "")\(Self.expectation(errno: errno))", n)
        case .backendGetDirtyBitmap(_, let hwptID, let iova, let size, let flags, let pageSize, let errno):
            guard let hwpt = object(hwptID) else { return skip(record, "hwpt \(hwptID) was not allocated in the trace") }
            note("# trace \(n): the bitmap QEMU read is not in the trace; only the result is checked")
            let flagWords = flags.map { $0 == 0 ? "" : $0 == 1 ? " flags=no_clear" : " flags=\(hex($0))" } ?? ""
            emit("hwpt_get_dirty_bitmap hwpt_id=\(hwpt) iova=\(hex(iova)) length=\(hex(size)) page_size=\(hex(pageSize))\(flagWords)\(Self.expectation(errno: errno))", n)
        case .backendMapFileDMA(_, let ioas, let iova, let size, let fd, let start, let readonly, let ret):
            guard let ioasName = object(ioas) else { return skip(record, "IOAS \(ioas) was not allocated in the trace") }
            guard ret == 0, size > 0 else { return skip(record, "IOAS_MAP_FILE is not modelled (the model has no file objects), and this one mapped nothing") }
            // The model has no memfd: anonymous memory of the same length stands for the file's
            // pages, so that the IOAS has the areas and pins the kernel made.
            fileMaps += 1
            let name = "file\(fileMaps)"
            note("# trace \(n): IOAS_MAP_FILE of fd \(fd) from offset \(start) is not modelled (no file objects): anonymous memory of the same length stands for the file's pages")
            emit("\(name) = mmap length=\(hex(size))", n)
            let flags = readonly ? "fixed_iova|readable" : "fixed_iova|readable|writeable"
            emit("ioas_map ioas_id=\(ioasName) user_va=\(name) iova=\(hex(iova)) length=\(hex(size)) flags=\(flags) expect=ok", n)
        case .changeProcess:
            skip(record, "IOMMU_IOAS_CHANGE_PROCESS is not modelled: the model has one process, so there is no other mm to move the pins to")
        case .smmuv3AccelInstallSTE(let vsid, _, let hwpt):
            guard let device = vdevices[UInt64(vsid)] else { return skip(record, "no vDEVICE of the trace has virt_id \(hex(UInt64(vsid)))") }
            reportedAttach(record, device: device, pasid: nil, hwpt: hwpt, ret: 0)
        case .vtdDeviceAttachHWPT(let devID, let pasid, let hwpt, let ret):
            guard let device = object(devID) else { return skip(record, "dev_id \(devID) was not bound in the trace") }
            // PASID 0 is VT-d's RID_PASID, the requests without a PASID; -1 is none.
            reportedAttach(record, device: device, pasid: pasid > 0 ? UInt32(exactly: pasid) : nil, hwpt: hwpt, ret: ret)
        case .observation(let observed):
            let args = record.arguments.isEmpty ? "" : " " + record.arguments
            note(terminalSafe("# trace \(record.line): \(record.name)\(args) (observed: \(observed.summary))"))
        case .other:
            skip(record, "no iommufd state this replay models")
        }
    }
}
