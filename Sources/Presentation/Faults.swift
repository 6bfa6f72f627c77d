import IOMMUCore

/// The text of a translation fault, rendered from its typed record: the fields `translate`
/// prints, the explanation views show, and the kernel log line Linux would print for it.
/// Every front end takes fault text from here.
public enum FaultText {
    /// The reason as the architecture names it: the SMMUv3 event name, the VT-d fault reason
    /// code (`0x06`), the AMD-Vi event type, or `ABORT` / `UR` for a transaction ended
    /// without a record.
    public static func reason(_ fault: TranslationFault) -> String {
        switch fault.record {
        case .smmuv3(let event): event.id.name
        case .vtd(let record): code(record.reason)
        case .amdVi(let event): event.type.name
        case .terminated(.streamAborted): "ABORT"
        case .terminated(.interruptRangeRead): "UR"
        }
    }

    /// A member of a fault's record: text (a name, an address), a one-bit field of the record
    /// (SMMUv3 RnW), or a number Linux prints in hex with a fixed count of digits (AMD-Vi's
    /// `domain=0x0012`); JSON prints a bit and a number as integers, as it does ids and flags.
    public enum Value: Equatable, Sendable, CustomStringConvertible {
        case text(String)
        case bit(Bool)
        case hex(UInt64, digits: Int)

        public var description: String {
            switch self {
            case .text(let text): text
            case .bit(let set): set ? "1" : "0"
            case .hex(let value, let digits): "0x" + FaultText.hex(value, width: digits)
            }
        }
    }

    /// `reason` then the architecture's details, in the order `translate` prints them after
    /// the stage and level: SMMUv3 CLASS, RnW of a walk, the fetch address and IPA, an IOTLB
    /// hit; VT-d the reason's Linux string, fetch address, GPA and the `DMAR:` line; AMD-Vi
    /// the DomainID, address and flags of Linux's log line, and an IOTLB hit.
    public static func fields(_ fault: TranslationFault) -> [(name: String, value: Value)] {
        var fields: [(name: String, value: Value)] = [("reason", .text(reason(fault)))]
        switch fault.record {
        case .smmuv3(let event):
            if event.id.isTranslationFault { fields.append(("class", .text(event.eventClass.name))) }
            if fault.origin == .walk { fields.append(("rnw", .bit(event.read))) }
            if let address = event.fetchAddress { fields.append(("fetch_addr", .text(address.hex))) }
            if let ipa = event.ipa { fields.append(("ipa", .text(ipa.hex))) }
        case .vtd(let record):
            fields.append(("string", .text(record.reason.linuxString)))
            if let address = record.fetchAddress { fields.append(("fetch_addr", .text(address.hex))) }
            if let gpa = record.gpa { fields.append(("gpa", .text(gpa.hex))) }
            fields.append(("log", .text(dmarLine(record))))
        case .amdVi(let event):
            if let domain = event.domainID { fields.append(("domain", .hex(UInt64(domain), digits: 4))) }
            if let pasid = event.pasid { fields.append(("pasid", .hex(UInt64(pasid), digits: 5))) }
            fields += [("address", .text(event.address.hex)), ("flags", .hex(UInt64(event.flags.rawValue), digits: 4))]
        case .terminated(.interruptRangeRead):
            fields.append(("detail", .text("read of the interrupt address range: Unsupported Request, no fault recorded")))
        case .terminated(.streamAborted):
            break
        }
        if fault.origin == .iotlb { fields.append(("iotlb", .text("hit"))) }
        return fields
    }

    /// The details after the reason as `name=value` pairs, for one-line summaries; `quoted`
    /// puts a value with blanks in quotes (`FieldText.pair`), as the command line prints fields.
    public static func details(_ fault: TranslationFault, quoted: Bool = false) -> String {
        fields(fault).dropFirst().map { quoted ? FieldText.pair($0.name, $0.value.description) : "\($0.name)=\($0.value)" }
            .joined(separator: " ")
    }

    /// The kernel log lines the details do not already hold (VT-d's `log` field is its
    /// `DMAR:` line), for a front end that prints both.
    public static func kernelLogBeyondDetails(_ fault: TranslationFault, client: String = "(unassigned sid)") -> [String] {
        let values = Set(fields(fault).map(\.value.description))
        return kernelLog(fault, client: client).filter { !values.contains($0) }
    }

    /// What the reason means, in a few words (for the views), where the details do not say it.
    public static func gloss(_ fault: TranslationFault) -> String? {
        switch fault.record {
        case .smmuv3(let event):
            switch event.id {
            case .F_TRANSLATION: "no valid descriptor for the address"
            case .F_PERMISSION: "the descriptors do not grant this access"
            case .F_ACCESS: "the leaf's Access flag is clear"
            case .F_ADDR_SIZE: "an address beyond the configured size"
            case .F_WALK_EABT: "a descriptor fetch hit no memory"
            case .C_BAD_STE: "the STE is invalid"
            case .C_BAD_CD: "the context descriptor is invalid"
            default: nil
            }
        case .terminated(.streamAborted): "STE.Config = abort: the transaction is terminated"
        // VT-d's details carry Linux's string for the reason.
        case .vtd, .amdVi, .terminated(.interruptRangeRead): nil
        }
    }

    /// The lines Linux logs for the record: `dmar_fault_do_one`'s `DMAR:` line, the AMD-Vi
    /// `Event logged [...]` line, the SMMUv3 raw event dump and decoded lines (`client` is
    /// the master's device name); none for a transaction that ends without a record.
    public static func kernelLog(_ fault: TranslationFault, client: String = "(unassigned sid)") -> [String] {
        switch fault.record {
        case .smmuv3(let event):
            return ["event 0x\(hex(event.id.rawValue, width: 2)) received:"] + event.words.map { "\t0x" + hex($0, width: 16) }
                + smmuDecoded(event, client: client)
        case .vtd(let record):
            return [dmarLine(record)]
        case .amdVi(let event):
            return [amdViLine(event)]
        case .terminated:
            return []
        }
    }

    /// `arm_smmu_dump_event` (Linux 6.14 on): the event, its client and addresses, and for a
    /// translation fault the access it describes.
    static func smmuDecoded(_ event: SMMUv3Event, client: String) -> [String] {
        // event_str[] names these ids; any other prints UNKNOWN.
        let named: Set<SMMUv3Event.ID> = [.C_BAD_STREAMID, .F_STE_FETCH, .C_BAD_STE, .F_STREAM_DISABLED, .C_BAD_SUBSTREAMID,
                                          .F_CD_FETCH, .C_BAD_CD, .F_TRANSLATION, .F_ADDR_SIZE, .F_ACCESS, .F_PERMISSION, .F_VMS_FETCH]
        let head = "event: \(named.contains(event.id) ? event.id.name : "UNKNOWN") client: \(client)"
            + " sid: \(UInt64(event.streamID).hex) ssid: \(UInt64(event.substreamID ?? 0).hex)"
        switch event.id {
        case .F_TRANSLATION, .F_ADDR_SIZE, .F_ACCESS, .F_PERMISSION:
            let classes = ["CD fetch", "Stage 1 translation table fetch", "Input address caused fault", "Reserved"]
            let table = event.id == .F_PERMISSION && event.eventClass == .TT ? (event.tableRead ? " ttd_read" : " ttd_write") : ""
            let access = [event.privileged ? "priv" : "unpriv", event.instruction ? "inst" : "data", event.read ? "read" : "write",
                          event.stage2 ? "s2" : "s1"].joined(separator: " ")
            return [head + " iova: \(event.inputAddress.hex) ipa: \((event.stage2 ? event.ipa ?? 0 : 0).hex)",
                    "\(access) \"\(classes[Int(event.eventClass.rawValue)])\"\(table)\(event.stag == nil ? "" : " stall")"
                        + " stag: \(UInt64(event.stag ?? 0).hex)"]
        case .F_STE_FETCH, .F_CD_FETCH, .F_VMS_FETCH:
            return [head + " fetch_addr: \((event.fetchAddress ?? 0).hex)"]
        default:
            return [head]
        }
    }

    /// `[fault reason 0x%02x]` as Linux prints the code.
    public static func code(_ reason: VTd.FaultReason) -> String { "0x" + hex(reason.rawValue, width: 2) }

    /// `DMAR: [DMA Read NO_PASID] Request device [03:00.0] fault addr 0x1000 [fault reason
    /// 0x71] SM: ...`, as `dmar_fault_do_one` prints a DMA-remapping fault.
    public static func dmarLine(_ record: VTdFaultRecord) -> String {
        let kind = (record.write ? "DMA Write" : "DMA Read") + (record.pasid.map { " PASID 0x" + String($0, radix: 16) } ?? " NO_PASID")
        return "DMAR: [\(kind)] Request device [\(bdf(record.sourceID))] fault addr \(record.address.hex)"
            + " [fault reason \(code(record.reason))] \(record.reason.linuxString)"
    }

    /// `AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:01:00.0 domain=0x0001 address=0x1000
    /// flags=0x0000]`, in the form `iommu_print_event` / `amd_iommu_report_page_fault` use
    /// for the type (segment 0; the PASID/DomainID field where the form has one).
    public static func amdViLine(_ event: AMDViEvent) -> String {
        let device = "device=0000:" + bdf(event.deviceID)
        let field = event.pasid ?? UInt32(event.domainID ?? 0)
        let address = "address=" + event.address.hex, flags = "flags=0x" + hex(event.flags.rawValue, width: 4)
        let body: String
        switch event.type {
        case .IO_PAGE_FAULT: body = "\(device) domain=0x\(hex(field, width: 4)) \(address) \(flags)"
        case .ILLEGAL_DEV_TABLE_ENTRY, .INVALID_DEVICE_REQUEST:
            body = "\(device) pasid=0x\(hex(field, width: 5)) \(address) \(flags)"
        case .PAGE_TAB_HARDWARE_ERROR: body = "\(device) pasid=0x\(hex(field, width: 4)) \(address) \(flags)"
        case .IOTLB_INV_TIMEOUT: body = "\(device) \(address)"
        default: body = "\(device) \(address) \(flags)"
        }
        return "AMD-Vi: Event logged [\(event.type.name) \(body)]"
    }

    /// `bus:slot.func` of a requester ID, as `%02x:%02x.%d`.
    public static func bdf(_ id: UInt16) -> String {
        "\(hex(id >> 8, width: 2)):\(hex((id & 0xff) >> 3, width: 2)).\(id & 0x7)"
    }

    static func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
