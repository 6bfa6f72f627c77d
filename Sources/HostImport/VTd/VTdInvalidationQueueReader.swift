/// `invalidation_queue` (host-inputs §3.4), printed by `invalidation_queue_show()` and
/// `invalidation_queue_entry_show()` for units with queued invalidation:
/// `"Invalidation queue on IOMMU: %s\n"`, `" Base: 0x%llx\tHead: %lld\tTail: %lld\n"`, the
/// `Index qw0 qw1 [qw2 qw3] status` header and all `QI_LENGTH` slots as
/// `"%5d\t%016llx\t%016llx[\t%016llx\t%016llx]\t%016x\n"`. v5.2 printed no status column.
/// The ABI docs split the 256-bit rows (`qw3 status` under its own header): zipped by position.
enum VTdInvalidationQueueReader: VTdDebugfsFileReader {
    private static let columns: Set<Substring> = ["Index", "qw0", "qw1", "qw2", "qw3", "status"]

    static func parse(_ text: String, file: String, into dump: inout VTdDebugfs, warnings: inout [ImportWarning]) {
        let lines = PastedLine.split(text)
        var current: Int?
        /// What the header promised: words per descriptor and a status column (nil: no header yet).
        var shape: (words: Int, status: Bool)?
        /// Fields of the rows of the block being read, before decoding (the ABI docs' second block extends them).
        var pending: [(line: PastedLine, fields: [Substring])] = []
        var zipping: ColumnBlock?
        func endZip() {
            zipping?.end(rows: pending.count, file: file, warnings: &warnings)
            zipping = nil
        }
        func flush() {
            endZip()
            if let current {
                for (line, fields) in pending {
                    if let entry = decode(fields, shape: shape, wide: dump.invalidationQueues[current].wideDescriptors) {
                        dump.invalidationQueues[current].entries.append(entry)
                    } else {
                        warnings.append(ImportWarning(file, line, "not an `%5d %016llx ... %016x` descriptor row: \(line.excerpt)"))
                    }
                }
            } else if let first = pending.first {
                warnings.append(ImportWarning(file, first.line, "descriptor rows before any `Invalidation queue on IOMMU:` heading"))
            }
            pending = []
        }
        var headerLine: Int?
        for line in lines {
            let tokens = line.tokens
            if line.isBlank || line.isElision { continue }
            if line.starts(with: ["Invalidation", "queue", "on", "IOMMU:"]) {
                flush()
                current = nil
                shape = nil
                guard tokens.count == 5 else {
                    warnings.append(ImportWarning(file, line, "not an `Invalidation queue on IOMMU: %s` heading: \(line.excerpt)"))
                    continue
                }
                dump.invalidationQueues.append(VTdInvalidationQueue(unit: String(tokens[4]), base: 0, head: 0, tail: 0, wideDescriptors: false))
                current = dump.invalidationQueues.count - 1
                continue
            }
            if tokens.first == "Base:" {
                guard let current, tokens.count == 6, tokens[2] == "Head:", tokens[4] == "Tail:", let base = parseHexWord(tokens[1]),
                      let head = parseDecimal(tokens[3], digits: 19), let tail = parseDecimal(tokens[5], digits: 19) else {
                    warnings.append(ImportWarning(file, line, "not a ` Base: 0x%llx Head: %lld Tail: %lld` line: \(line.excerpt)"))
                    continue
                }
                dump.invalidationQueues[current].base = base
                dump.invalidationQueues[current].head = UInt64(head)
                dump.invalidationQueues[current].tail = UInt64(tail)
                continue
            }
            if tokens.allSatisfy(columns.contains) {
                defer { headerLine = line.number }
                let wrapped = headerLine == line.number - 1
                if tokens.first == "Index" {
                    flush()
                    let words = tokens.filter { $0.hasPrefix("qw") }.count
                    shape = (words, tokens.contains("status"))
                    if let current { dump.invalidationQueues[current].wideDescriptors = tokens.contains("qw3") || tokens.contains("qw2") }
                } else if pending.isEmpty, wrapped, let known = shape {
                    // The rest of a hard-wrapped header.
                    shape = (known.words + tokens.filter { $0.hasPrefix("qw") }.count, known.status || tokens.contains("status"))
                    if tokens.contains("qw3") || tokens.contains("qw2"), let current { dump.invalidationQueues[current].wideDescriptors = true }
                } else if zipping?.isEmpty == true, wrapped {
                    continue  // the rest of a hard-wrapped block header
                } else {
                    endZip()
                    zipping = ColumnBlock(header: line, first: 0)
                    // The split-off columns say what the full header had.
                    if tokens.contains("qw3"), let current {
                        dump.invalidationQueues[current].wideDescriptors = true
                        shape = (4, tokens.contains("status") || shape?.status == true)
                    } else if tokens.contains("status") {
                        shape = (shape?.words ?? 2, true)
                    }
                }
                continue
            }
            guard tokens.allSatisfy({ parseBareHex($0) != nil }) else { continue }  // not understood
            if var zip = zipping {
                let target = zip.row(for: tokens.count, rows: pending.count, file: file, line: line, warnings: &warnings)
                zipping = zip
                if let target { pending[target].fields += tokens }
            } else if let last = pending.last, let expected = shape.map({ 1 + $0.words + ($0.status ? 1 : 0) }),
                      last.fields.count < expected, last.fields.count + tokens.count <= expected, tokens.count < expected - 1 {
                // A hard-wrapped row continues on this line.
                pending[pending.count - 1].fields += tokens
            } else {
                pending.append((line, tokens))
            }
        }
        flush()
    }

    /// `%5d` index, 2 or 4 `%016llx` words, an optional `%016x` status.
    private static func decode(_ fields: [Substring], shape: (words: Int, status: Bool)?, wide: Bool) -> VTdInvalidationQueue.Entry? {
        guard let first = fields.first, let index = parseDecimal(first, digits: 5) else { return nil }
        let values = fields.dropFirst().compactMap { parseBareHex($0) }
        guard values.count == fields.count - 1 else { return nil }
        let words = shape?.words ?? (wide ? 4 : 2)
        let status = shape?.status ?? (values.count == words + 1)
        guard values.count == words + (status ? 1 : 0) else { return nil }
        var statusValue: UInt32?
        if status {
            guard let last = values.last, let value = UInt32(exactly: last) else { return nil }
            statusValue = value
        }
        return VTdInvalidationQueue.Entry(index: index, words: Array(values.prefix(words)), status: statusValue)
    }
}

/// A queued-invalidation descriptor decoded for display (VT-d spec 6.5.2; `QI_*` in
/// `drivers/iommu/intel/iommu.h`): the type is qw0 bits 3:0.
public enum VTdInvalidationDescriptor: Sendable, Equatable, CustomStringConvertible {
    /// Granularity of the context-cache, IOTLB and PASID invalidations (bits 5:4).
    public enum Granularity: UInt64, Sendable {
        case reserved = 0, global = 1, domain = 2, selective = 3
    }

    case contextCache(Granularity, domainID: UInt64, sourceID: UInt64)
    /// `QI_IOTLB_*`: page-selective ones name the address and the address mask (2^AM pages).
    case iotlb(Granularity, domainID: UInt64, address: UInt64, addressMask: UInt64)
    case deviceTLB(sourceID: UInt64, address: UInt64)
    /// `QI_IEC_*`: index-selective (bit 4) with IIDX and IM, or global.
    case interruptEntryCache(index: UInt64?, indexMask: UInt64)
    /// `QI_IWD_*`: status write (SW, bit 5) of bits 63:32 to qw1's address, interrupt (IF, bit 4), fence (FN, bit 6).
    case wait(statusData: UInt64?, address: UInt64?, interrupt: Bool, fence: Bool)
    /// PASID-based ones keep their own granularity codes (`QI_PC_*`, `QI_EIOTLB_*`), as printed bits 5:4.
    case pasidIOTLB(granularity: UInt64, domainID: UInt64, pasid: UInt64)
    case pasidCache(granularity: UInt64, domainID: UInt64, pasid: UInt64)
    case pasidDeviceTLB(sourceID: UInt64, pasid: UInt64)
    case pageGroupResponse
    /// A type this table does not know (or a free slot's zero).
    case other(type: UInt64)

    public init(words: [UInt64]) {
        let qw0 = words.first ?? 0, qw1 = words.count > 1 ? words[1] : 0
        let granularity = Granularity(rawValue: (qw0 >> 4) & 3) ?? .reserved
        let did = (qw0 >> 16) & 0xffff, pasid = (qw0 >> 32) & 0xf_ffff
        switch qw0 & 0xf {
        case 1: self = .contextCache(granularity, domainID: did, sourceID: (qw0 >> 32) & 0xffff)
        case 2: self = .iotlb(granularity, domainID: did, address: qw1 & ~0xfff, addressMask: qw1 & 0x3f)
        case 3: self = .deviceTLB(sourceID: (qw0 >> 16) & 0xffff, address: qw1 & ~0xfff)
        case 4: self = .interruptEntryCache(index: (qw0 >> 4) & 1 != 0 ? (qw0 >> 32) & 0xffff : nil, indexMask: (qw0 >> 27) & 0x1f)
        case 5:
            let write = (qw0 >> 5) & 1 != 0
            self = .wait(statusData: write ? qw0 >> 32 : nil, address: write ? qw1 & ~0x3 : nil,
                         interrupt: (qw0 >> 4) & 1 != 0, fence: (qw0 >> 6) & 1 != 0)
        case 6: self = .pasidIOTLB(granularity: (qw0 >> 4) & 3, domainID: did, pasid: pasid)
        case 7: self = .pasidCache(granularity: (qw0 >> 4) & 3, domainID: did, pasid: pasid)
        case 8: self = .pasidDeviceTLB(sourceID: (qw0 >> 16) & 0xffff, pasid: pasid)
        case 9: self = .pageGroupResponse
        default: self = .other(type: qw0 & 0xf)
        }
    }

    public var description: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        switch self {
        case .contextCache(let g, let did, let sid):
            switch g {
            case .global: return "context-cache: global"
            case .domain: return "context-cache: domain \(did)"
            case .selective: return "context-cache: device \(PCIAddress(requesterID: UInt16(sid))) in domain \(did)"
            case .reserved: return "context-cache: reserved granularity"
            }
        case .iotlb(let g, let did, let address, let mask):
            switch g {
            case .global: return "IOTLB: global"
            case .domain: return "IOTLB: domain \(did)"
            case .selective: return "IOTLB: domain \(did), \(1 << mask) page(s) at \(hex(address))"
            case .reserved: return "IOTLB: reserved granularity"
            }
        case .deviceTLB(let sid, let address): return "device-TLB: \(PCIAddress(requesterID: UInt16(sid))) at \(hex(address))"
        case .interruptEntryCache(let index, let mask):
            return index.map { "interrupt-entry cache: \(1 << mask) entr(ies) from index \($0)" } ?? "interrupt-entry cache: global"
        case .wait(let data, let address, let interrupt, let fence):
            var text = "invalidation wait"
            if let data, let address { text += ": write \(hex(data)) to \(hex(address))" }
            if interrupt { text += ", interrupt" }
            if fence { text += ", fence" }
            return text
        case .pasidIOTLB(let g, let did, let pasid): return "PASID-IOTLB: domain \(did), PASID \(pasid), granularity \(g)"
        case .pasidCache(let g, let did, let pasid): return "PASID cache: domain \(did), PASID \(pasid), granularity \(g)"
        case .pasidDeviceTLB(let sid, let pasid): return "PASID device-TLB: \(PCIAddress(requesterID: UInt16(sid))), PASID \(pasid)"
        case .pageGroupResponse: return "page group response"
        case .other(let type): return type == 0 ? "free" : "descriptor type \(type)"
        }
    }
}

extension VTdInvalidationQueue.Entry {
    public var descriptor: VTdInvalidationDescriptor { VTdInvalidationDescriptor(words: words) }
}
