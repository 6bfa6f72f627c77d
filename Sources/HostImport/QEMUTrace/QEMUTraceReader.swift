import Foundation
import IOMMUCore

/// Reads the output of QEMU's `log` trace backend (`scripts/tracetool/backend/log.py`, which
/// prints `name` + one space + the event's format): lines with or without the
/// `%d@%zu.%06zu:` prefix and the 2025 `YYYY-MM-DDTHH:MM:SS.ffffffZ (PID) ` prefix. Pasted-text
/// damage (CRLF, mail quoting, runs of spaces) is undone by `LogNormalizer`; other stderr
/// lines (`qemu-kvm: ...`, their wrapped tails) have no event name and are skipped.
public struct QEMUTraceReader {
    public private(set) var records: [QEMUTraceRecord] = []
    public private(set) var warnings: [ImportWarning] = []
    /// Device ids bound so far (`output devid=`), to decide the alloc_viommu reading.
    private var boundDevids: Set<UInt32> = []
    public let file: String

    public init(file: String) { self.file = file }

    /// Reads a whole trace.
    public static func read<C: Collection<UInt8>>(_ bytes: C, file: String) -> QEMUTraceReader {
        var reader = QEMUTraceReader(file: file)
        var normalizer = LogNormalizer(file: file, continuation: QEMUTraceContinuation())
        var lines: [LogLine] = []
        normalizer.feed(bytes) { lines.append($0) }
        normalizer.finish { lines.append($0) }
        reader.warnings += normalizer.warnings
        for line in lines { reader.take(line) }
        reader.records = QEMUTraceObservation.withShadowedMemory(reader.records)
        return reader
    }

    private mutating func take(_ line: LogLine) {
        let text = Self.withoutTracePrefix(mailUnquoted(line.text[...]).trimmingBlanks)
        guard let space = text.firstIndex(of: " ") ?? (text.isEmpty ? nil : text.endIndex) else { return }
        let name = String(text[..<space])
        guard Self.isEventName(name) else { return }
        let arguments = String(text[space...].trimmingBlanks)
        let event = parse(name: name, arguments: arguments, line: line.sourceLine)
        records.append(QEMUTraceRecord(line: line.sourceLine, name: name, arguments: arguments, event: event))
    }

    /// An event name is a C identifier with an underscore (`iommufd_backend_connect`); an
    /// `error_report` line starts with `qemu-kvm:` or similar and never is one.
    static func isEventName(_ name: String) -> Bool {
        guard name.contains("_"), name.count <= 128, let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f }
    }

    /// Drops `PID@SEC.USEC:` (QEMU up to about 6.0, later with `-msg timestamp=on`) or the
    /// 2025 `ISO-time (PID) ` prefix.
    static func withoutTracePrefix(_ text: Substring) -> Substring {
        if let at = text.firstIndex(of: "@"), let colon = text[at...].firstIndex(of: ":"),
           !text[..<at].isEmpty, text[..<at].allSatisfy(\.isNumber),
           text[text.index(after: at)..<colon].allSatisfy({ $0.isNumber || $0 == "." }) {
            return text[text.index(after: colon)...].trimmingBlanks
        }
        guard let space = text.firstIndex(of: " "), text[..<space].hasSuffix("Z"), text[..<space].contains("T"),
              text.first?.isNumber == true else { return text }
        let rest = text[text.index(after: space)...]
        if rest.first == "(", let close = rest.firstIndex(of: ")"), close > rest.index(after: rest.startIndex),
           rest[rest.index(after: rest.startIndex)..<close].allSatisfy(\.isNumber) {
            return rest[rest.index(after: close)...].trimmingBlanks
        }
        return rest
    }

    private mutating func parse(name: String, arguments: String, line: Int) -> QEMUTraceEvent {
        let fields = TraceFields(arguments)
        func warn(_ what: String) -> QEMUTraceEvent {
            warnings.append(ImportWarning(file: file, line: line, reason: "\(name): \(what); kept as a comment"))
            return .other(name: name, arguments: arguments)
        }
        switch name {
        case "iommufd_backend_connect":
            guard let fd = fields.int("fd"), let owned = fields.int("owned"), let users = fields.u32("users") else { return warn("no fd/owned/users") }
            return .backendConnect(fd: fd, owned: owned != 0, users: users, ret: fields.ret)
        case "iommufd_backend_disconnect":
            guard let fd = fields.int("fd"), let users = fields.u32("users") else { return warn("no fd/users") }
            return .backendDisconnect(fd: fd, users: users)
        case "iommufd_backend_map_dma":
            guard let fd = fields.int("iommufd"), let ioas = fields.u32("ioas"), let iova = fields.hex("iova"),
                  let size = fields.hex("size"), let va = fields.pointer("addr"), let ro = fields.int("readonly"), let ret = fields.ret
            else { return warn("not the map_dma format") }
            return .backendMapDMA(iommufd: fd, ioas: ioas, iova: iova, size: size, vaddr: va, readonly: ro != 0, ret: ret)
        case "iommufd_backend_unmap_dma", "iommufd_backend_unmap_dma_non_exist":
            guard let fd = fields.int("iommufd"), let ioas = fields.u32("ioas"), let iova = fields.hex("iova"),
                  let size = fields.hex("size"), let ret = fields.ret
            else { return warn("not the unmap_dma format") }
            return name.hasSuffix("non_exist")
                ? .backendUnmapDMANonExist(iommufd: fd, ioas: ioas, iova: iova, size: size, ret: ret)
                : .backendUnmapDMA(iommufd: fd, ioas: ioas, iova: iova, size: size, ret: ret)
        case "iommufd_backend_alloc_ioas":
            guard let fd = fields.int("iommufd"), let ioas = fields.u32("ioas") else { return warn("no iommufd/ioas") }
            return .backendAllocIOAS(iommufd: fd, ioas: ioas, ret: fields.ret)
        case "iommufd_backend_alloc_hwpt":
            guard let fd = fields.int("iommufd"), let dev = fields.u32("dev_id"), let pt = fields.u32("pt_id"),
                  let flags = fields.hex("flags").flatMap(UInt32.init(exactly:)), let type = fields.u32("hwpt_type"),
                  let len = fields.u32("len"), let data = fields.hex("data_ptr"), let out = fields.u32("out_hwpt"), let ret = fields.ret
            else { return warn("not the alloc_hwpt format") }
            return .backendAllocHWPT(iommufd: fd, devID: dev, ptID: pt, flags: flags, hwptType: type, len: len, dataPtr: data, outHWPT: out, ret: ret)
        case "iommufd_backend_free_id":
            guard let fd = fields.int("iommufd"), let id = fields.u32("id"), let ret = fields.ret else { return warn("no iommufd/id/result") }
            return .backendFreeID(iommufd: fd, id: id, ret: ret)
        case "iommufd_backend_alloc_viommu":
            // " iommufd=%d type=%u dev_id=%u hwpt_id=%u viommu_id=%u (%d)": by position, the
            // merged caller passes dev_id as the 2nd value and the type as the 3rd.
            let values = fields.pairs.map(\.value)
            guard values.count >= 5, let fd = Int64(values[0]), let second = UInt32(values[1]), let third = UInt32(values[2]),
                  let hwpt = UInt32(values[3]), let viommu = UInt32(values[4]), let ret = fields.ret
            else { return warn("not the alloc_viommu format") }
            let labelOrder = boundDevids.contains(third) && !boundDevids.contains(second)
            return .backendAllocVIOMMU(iommufd: fd, devID: labelOrder ? third : second, type: labelOrder ? second : third,
                                       hwptID: hwpt, viommuID: viommu, ret: ret, labelsSwapped: !labelOrder)
        case "iommufd_backend_alloc_vdev":
            guard let fd = fields.int("iommufd"), let dev = fields.u32("dev_id"), let viommu = fields.u32("viommu_id"),
                  let virt = fields.hex("virt_id"), let vdev = fields.u32("vdev_id"), let ret = fields.ret
            else { return warn("not the alloc_vdev format") }
            return .backendAllocVDev(iommufd: fd, devID: dev, viommuID: viommu, virtID: virt, vdevID: vdev, ret: ret)
        case "iommufd_viommu_alloc_eventq":
            guard let fd = fields.int("iommufd"), let viommu = fields.u32("viommu_id"), let type = fields.u32("type"),
                  let queue = fields.u32("veventq_id"), let queueFD = fields.int("veventq_fd"), let ret = fields.ret
            else { return warn("not the viommu_alloc_eventq format") }
            return .viommuAllocEventQ(iommufd: fd, viommuID: viommu, type: type, veventqID: queue, veventqFD: queueFD, ret: ret)
        case "iommufd_backend_invalidate_cache":
            guard let fd = fields.int("iommufd"), let id = fields.u32("id"), let type = fields.u32("data_type"),
                  let len = fields.u32("entry_len"), let num = fields.u32("entry_num"), let done = fields.u32("done_num"),
                  let data = fields.hex("data_ptr"), let errno = fields.ret
            else { return warn("not the invalidate_cache format") }
            return .backendInvalidateCache(iommufd: fd, id: id, dataType: type, entryLen: len, entryNum: num, doneNum: done, dataPtr: data, errno: errno)
        case "iommufd_backend_set_dirty":
            guard let fd = fields.int("iommufd"), let hwpt = fields.u32("hwpt"), let enable = fields.int("enable"), let errno = fields.ret
            else { return warn("not the set_dirty format") }
            return .backendSetDirty(iommufd: fd, hwptID: hwpt, enable: enable != 0, errno: errno)
        case "iommufd_backend_get_dirty_bitmap":
            guard let fd = fields.int("iommufd"), let hwpt = fields.u32("hwpt"), let iova = fields.hex("iova"),
                  let size = fields.hex("size"), let pageSize = fields.hex("page_size"), let errno = fields.ret,
                  fields.value("flags") == nil || fields.hex("flags") != nil
            else { return warn("not the get_dirty_bitmap format") }
            return .backendGetDirtyBitmap(iommufd: fd, hwptID: hwpt, iova: iova, size: size, flags: fields.hex("flags"), pageSize: pageSize, errno: errno)
        case "iommufd_backend_map_file_dma":
            guard let fd = fields.int("iommufd"), let ioas = fields.u32("ioas"), let iova = fields.hex("iova"),
                  let size = fields.hex("size"), let file = fields.int("fd"), let start = fields.int("start").flatMap(UInt64.init(exactly:)),
                  let ro = fields.int("readonly"), let ret = fields.ret
            else { return warn("not the map_file_dma format") }
            return .backendMapFileDMA(iommufd: fd, ioas: ioas, iova: iova, size: size, fd: file, start: start, readonly: ro != 0, ret: ret)
        case "iommufd_change_process":
            guard let fd = fields.int("fd"), let ret = fields.ret, ret == 0 || ret == 1 else { return warn("not the change_process format") }
            return .changeProcess(fd: fd, succeeded: ret == 1)
        case "smmuv3_accel_install_ste":
            guard let vsid = fields.hex("vSID").flatMap(UInt32.init(exactly:)), let type = fields.value("type"),
                  let hwpt = fields.hex("hwpt_id").flatMap(UInt32.init(exactly:))
            else { return warn("not the install_ste format") }
            return .smmuv3AccelInstallSTE(vsid: vsid, type: String(type), hwptID: hwpt)
        case "vtd_device_attach_hwpt":
            // "dev_id %d pasid %d hwpt_id %d, ret: %d": words, not key=value pairs.
            let words = arguments.split(separator: " ")
            guard words.count == 8, words[0] == "dev_id", words[2] == "pasid", words[4] == "hwpt_id", words[6] == "ret:",
                  words[5].hasSuffix(","), words[1].count <= 10, let dev = UInt32(words[1]), words[3].count <= 11, let pasid = Int64(words[3]),
                  words[5].count <= 11, let hwpt = UInt32(words[5].dropLast()), words[7].count <= 11, let ret = Int32(words[7])
            else { return warn("not the vtd_device_attach_hwpt format") }
            return .vtdDeviceAttachHWPT(devID: dev, pasid: pasid, hwptID: hwpt, ret: ret)
        case "iommufd_cdev_getfd":
            guard let open = arguments.range(of: " (fd=", options: .backwards), arguments.hasSuffix(")"),
                  let fd = Int64(arguments[open.upperBound..<arguments.index(before: arguments.endIndex)])
            else { return warn("not the getfd format") }
            return .cdevGetFD(path: String(arguments[..<open.lowerBound]), fd: fd)
        case "iommufd_cdev_connect_and_bind":
            guard let (fd, rest) = Self.bracketedIOMMUFD(arguments), rest.hasPrefix("Successfully bound device ") else {
                return warn("not the connect_and_bind format")
            }
            let tail = rest.dropFirst(26)
            guard let open = tail.range(of: " (fd=", options: .backwards), let mid = tail.range(of: "): output devid=", options: .backwards),
                  open.upperBound <= mid.lowerBound,
                  let devfd = Int64(tail[open.upperBound..<mid.lowerBound]), let devid = UInt32(tail[mid.upperBound...])
            else { return warn("not the connect_and_bind format") }
            let name = tail[..<open.lowerBound]
            boundDevids.insert(devid)
            return .cdevBind(iommufd: fd, name: String(name), devfd: devfd, devid: devid)
        case "iommufd_cdev_attach_ioas_hwpt", "iommufd_cdev_pasid_attach_ioas_hwpt":
            guard let (fd, rest) = Self.bracketedIOMMUFD(arguments), rest.hasPrefix("Successfully attached device ") else {
                return warn("not the attach format")
            }
            let tail = rest.dropFirst(29)
            guard let to = tail.range(of: " to id=", options: .backwards), let id = UInt32(tail[to.upperBound...])
            else { return warn("not the attach format") }
            var head = tail[..<to.lowerBound]
            var pasid: UInt32?
            if let p = head.range(of: " pasid ", options: .backwards), let value = UInt32(head[p.upperBound...]) {
                pasid = value
                head = head[..<p.lowerBound]
            }
            guard let open = head.range(of: " (", options: .backwards), head.hasSuffix(")"),
                  let devfd = Int64(head[open.upperBound..<head.index(before: head.endIndex)])
            else { return warn("not the attach format") }
            return .cdevAttach(iommufd: fd, name: String(head[..<open.lowerBound]), devfd: devfd, pasid: pasid, id: id)
        case "iommufd_cdev_detach_ioas_hwpt", "iommufd_cdev_pasid_detach_ioas_hwpt":
            guard let (fd, rest) = Self.bracketedIOMMUFD(arguments), rest.hasPrefix("Successfully detached ") else { return warn("not the detach format") }
            var name = rest.dropFirst(22)
            var pasid: UInt32?
            if let p = name.range(of: " pasid ", options: .backwards), let value = UInt32(name[p.upperBound...]) {
                pasid = value
                name = name[..<p.lowerBound]
            }
            return .cdevDetach(iommufd: fd, name: String(name), pasid: pasid)
        case "iommufd_cdev_alloc_ioas":
            guard let (fd, rest) = Self.bracketedIOMMUFD(arguments), let eq = rest.range(of: "ioasid=", options: .backwards),
                  let ioas = UInt32(rest[eq.upperBound...])
            else { return warn("not the cdev alloc_ioas format") }
            return .cdevAllocIOAS(iommufd: fd, ioas: ioas)
        case "vfio_mdev":
            guard arguments.hasPrefix("("), let close = arguments.range(of: ") is_mdev ", options: .backwards),
                  let flag = Int(arguments[close.upperBound...])
            else { return warn("not the vfio_mdev format") }
            return .vfioMdev(name: String(arguments[arguments.index(after: arguments.startIndex)..<close.lowerBound]), isMdev: flag != 0)
        default:
            switch QEMUTraceObservation.read(name: name, arguments: arguments) {
            case .success(let observed)?: return .observation(observed)
            case .failure(let error)?: return warn(error.description)
            case nil: return .other(name: name, arguments: arguments)
            }
        }
    }

    /// `[iommufd=%d] rest` of the `hw/vfio` iommufd formats.
    static func bracketedIOMMUFD(_ text: String) -> (Int64, Substring)? {
        guard text.hasPrefix("[iommufd="), let close = text.firstIndex(of: "]"),
              let fd = Int64(text[text.index(text.startIndex, offsetBy: 9)..<close]) else { return nil }
        return (fd, text[text.index(after: close)...].trimmingBlanks)
    }
}

/// The `key=value` words of a trace format and its trailing `(%d)` result.
struct TraceFields {
    var pairs: [(key: Substring, value: Substring)] = []
    var ret: Int32?

    init(_ text: String) {
        for word in text.split(separator: " ") {
            if word.hasPrefix("("), word.hasSuffix(")"), word.count >= 3, let value = Int32(word.dropFirst().dropLast()) {
                ret = value
            } else if let eq = word.firstIndex(of: "=") {
                pairs.append((word[..<eq], word[word.index(after: eq)...]))
            }
        }
    }

    func value(_ key: String) -> Substring? { pairs.first { $0.key == key }?.value }
    /// `%d` (signed, as fds are).
    func int(_ key: String) -> Int64? { value(key).flatMap { $0.count <= 20 ? Int64($0) : nil } }
    /// `%u`, or `%d` of a `uint32_t`.
    func u32(_ key: String) -> UInt32? { value(key).flatMap { $0.count <= 10 ? UInt32($0) : nil } }
    /// `0x%"PRIx64"` and `0x%x`.
    func hex(_ key: String) -> UInt64? { value(key).flatMap(parseHexWord) }
    /// glibc `%p`: `0x...` or `(nil)`.
    func pointer(_ key: String) -> UInt64? { value(key).flatMap { $0 == "(nil)" ? 0 : parseHexWord($0) } }
}

/// Hard wraps in a pasted trace: an event line is cut short when its format's last field is
/// missing (the `(%d)` result, `output devid=%d`, ...); a line that starts with an event name
/// or a trace prefix is a record of its own.
struct QEMUTraceContinuation: LineContinuation {
    func isIncomplete(_ text: Substring) -> Bool {
        let line = QEMUTraceReader.withoutTracePrefix(text.trimmingBlanks)
        guard let space = line.firstIndex(of: " ") else { return false }
        let name = line[..<space]
        let words = line[space...].split(separator: " ")
        let last = words.last ?? ""
        switch name {
        case "iommufd_backend_map_dma", "iommufd_backend_map_file_dma", "iommufd_backend_unmap_dma",
             "iommufd_backend_unmap_dma_non_exist", "iommufd_backend_alloc_hwpt", "iommufd_backend_free_id",
             "iommufd_backend_alloc_viommu", "iommufd_backend_alloc_vdev", "iommufd_backend_set_dirty",
             "iommufd_backend_get_dirty_bitmap", "iommufd_backend_invalidate_cache", "iommufd_cdev_getfd",
             "iommufd_viommu_alloc_eventq", "iommufd_change_process":
            return !(last.hasPrefix("(") && last.hasSuffix(")"))
        case "smmuv3_accel_install_ste":
            return !last.hasPrefix("hwpt_id=")
        case "vtd_device_attach_hwpt":
            return words.dropLast().last != "ret:"
        case "iommufd_cdev_connect_and_bind":
            return !(words.dropLast().last == "output" && last.hasPrefix("devid="))
        case "iommufd_cdev_attach_ioas_hwpt", "iommufd_cdev_pasid_attach_ioas_hwpt":
            return !last.hasPrefix("id=")
        case "iommufd_cdev_detach_ioas_hwpt", "iommufd_cdev_pasid_detach_ioas_hwpt":
            return last == "detached" || last == "pasid"
        case "iommufd_backend_connect":
            return !words.contains { $0.hasPrefix("users=") }
        case "iommufd_backend_alloc_ioas":
            return !words.contains { $0.hasPrefix("ioas=") }
        case "iommufd_cdev_alloc_ioas":
            return !last.hasPrefix("ioasid=")
        case "iommufd_cdev_device_info":
            return !last.hasPrefix("flags=")
        case "vfio_mdev":
            return words.dropLast().last != "is_mdev"
        default:
            return QEMUTraceObservation.isComplete(name: name, words: words).map { !$0 } ?? false
        }
    }

    func opensLine(_ text: Substring) -> Bool {
        let trimmed = text.trimmingBlanks
        let line = QEMUTraceReader.withoutTracePrefix(trimmed)
        if line.startIndex != trimmed.startIndex { return true }
        let first = line.prefix { $0 != " " }
        // A `program:` word opens an stderr line (`qemu-kvm:`), except `ret:`, the label of
        // vtd_device_attach_hwpt's last field.
        return QEMUTraceReader.isEventName(String(first))
            || (first.hasSuffix(":") && first != "ret:" && first.first?.isLetter == true && !first.contains("=") && !first.contains("("))
    }
}
