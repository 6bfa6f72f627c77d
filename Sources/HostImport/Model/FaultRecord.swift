/// One IOMMU fault event read from a kernel log (IMPORT.md §1): however many lines the kernel
/// printed it over, one record, with the fields the log gave and nothing invented.
public struct FaultRecord: Sendable, Equatable {
    public enum Architecture: String, Sendable, Equatable, Codable, CaseIterable {
        case armSMMUv3 = "arm-smmu-v3"
        case intelVTd = "intel-vtd"
        case amdVi = "amd-vi"
        /// The generic `iommu:io_page_fault` tracepoint.
        case iommu
    }

    /// The requester as logged: a PCI function, or a platform device's name.
    public enum Requester: Sendable, Hashable, CustomStringConvertible {
        case pci(PCIAddress)
        case named(String)

        public var description: String {
            switch self {
            case .pci(let address): address.description
            case .named(let name): name
            }
        }
    }

    public enum Access: String, Sendable, Equatable, Codable {
        case read, write
    }

    /// 1-based line of the input where the record starts.
    public var sourceLine: Int
    public var architecture: Architecture
    /// The unit as logged (`fc900000.iommu`, `ivhd0`, `dmar0`).
    public var iommu: String?
    public var device: Requester?
    /// SMMUv3 StreamID.
    public var sid: UInt32?
    /// PASID / SubstreamID; nil for `NO_PASID`, `ffffffff` or SSV = 0.
    public var pasid: UInt32?
    /// The faulting input address.
    public var address: UInt64?
    /// SMMUv3 stage-2 fault IPA.
    public var ipa: UInt64?
    public var access: Access?
    /// The event name (`F_TRANSLATION`), VT-d reason code as `0x06`, AMD-Vi event type, or
    /// `io_page_fault`.
    public var reason: String
    /// The kernel's own words for the reason.
    public var reasonText: String?
    /// AMD-Vi event flags.
    public var flags: UInt64?
    /// SMMUv3: 1 or 2.
    public var stage: Int?
    /// Raw words as logged (SMMU event dwords, AMD-Vi DTE words).
    public var raw: [UInt64] = []
    /// The log's timestamp in seconds (`[ 12.345678]`, ftrace's `secs.usecs`), when it had one.
    public var timestamp: Double?
    /// VT-d: the `dmar_fault_dump_ptes()` lines that followed the fault (CONFIG_DMAR_DEBUG).
    public var tableDump: [DMARDumpEntry] = []

    public init(sourceLine: Int, architecture: Architecture, reason: String) {
        self.sourceLine = sourceLine
        self.architecture = architecture
        self.reason = reason
    }
}
