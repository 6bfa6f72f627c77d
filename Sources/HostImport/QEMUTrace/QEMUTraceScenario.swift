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

    private enum Binding { case device(String), access(devid: UInt32) }

    /// The scenario for a trace's records.
    public static func make(_ records: [QEMUTraceRecord], file: String) -> String {
        replay(records, file: file).scenario
    }

    /// The scenario for a trace's records, and its lines grouped by trace line. The lines that
    /// replay no trace line (the platform's) are the first source, at line 0.
    public static func replay(_ records: [QEMUTraceRecord], file: String) -> ImportedReplay {
        var writer = QEMUTraceScenario()
        writer.note("# Replay of the QEMU trace \(terminalSafe(file)) (iommuscope import qemu-trace).")
        writer.declarePlatform(records)
        var sources: [TimelineSource] = []
        let platform = writer.commands(from: 0)
        if !platform.isEmpty {
            sources.append(TimelineSource(line: 0, text: "(the platform the trace runs on)", commands: platform))
        }
        for record in records {
            let first = writer.lines.count
            writer.write(record)
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
        for record in records {
            if case .vfioMdev(let name, true) = record.event { mdevs.insert(name) }
            if case .cdevBind(_, let name, _, _) = record.event, PCIAddress(parsing: name) != nil, !pci.contains(name) { pci.append(name) }
        }
        guard !pci.isEmpty else { return }
        // Not `mock`: the selftest's mock domain has an aperture from 16M, which a guest's low
        // RAM maps (iova 0) would miss.
        note("# The trace does not name the host's IOMMU: a VT-d unit stands for it (change the type to match).")
        note("iommu iommu0 type=intel-vtd")
        for name in pci { note("device \(name) iommu=iommu0") }
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

    private mutating func write(_ record: QEMUTraceRecord) {
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
            case .access(let devid):
                emit("access\(devid) = test_create_access ioas_id=\(pt) expect=ok", n)
            case nil:
                skip(record, "the device was not bound in the trace")
            }
        case .cdevDetach(_, let name, let pasid):
            switch devices[name] {
            case .device(let binding):
                emit("device_detach dev_id=\(binding)\(pasid.map { " pasid=\($0)" } ?? "") expect=ok", n)
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
        case .backendAllocHWPT(_, let devID, let ptID, let flags, let hwptType, _, _, let out, let ret):
            guard hwptType == 0 else { return skip(record, "the nested hwpt data (type \(hwptType)) is not in the trace") }
            guard let dev = object(devID), let pt = object(ptID) else { return skip(record, "dev_id or pt_id was not allocated in the trace") }
            let binding = "hwpt\(out)"
            emit("\(binding) = hwpt_alloc dev_id=\(dev) pt_id=\(pt) flags=\(hex(UInt64(flags)))\(Self.expectation(ret))", n)
            if ret == 0 { objects[out] = binding; check(binding, out, n) }
        case .backendFreeID(_, let id, let ret):
            guard let name = object(id) else { return skip(record, "id \(id) was not allocated in the trace") }
            emit("destroy id=\(name)\(Self.expectation(ret))", n)
            if ret == 0 { objects[id] = nil }
        case .backendAllocVIOMMU(_, let devID, let type, let hwpt, let viommu, _, let swapped):
            skip(record, "vIOMMU allocation is not replayed yet; read as dev_id=\(devID) type=\(type) hwpt_id=\(hwpt) viommu_id=\(viommu) (\(swapped ? "labels swapped, as the merged caller passes them" : "label order, matching the bound device ids"))")
        case .observation(let observed):
            let args = record.arguments.isEmpty ? "" : " " + record.arguments
            note(terminalSafe("# trace \(record.line): \(record.name)\(args) (observed: \(observed.summary))"))
        case .other:
            skip(record, "no iommufd state this replay models")
        }
    }
}
