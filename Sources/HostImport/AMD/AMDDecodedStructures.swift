import IOMMUCore

/// `irqtbl` for one device: its valid IRTEs (`iommu_irqtbl_show` prints no others).
public struct AMDInterruptRemapTable: Sendable, Equatable {
    public var device: PCIAddress
    public var entries: [AMDInterruptRemapEntry] = []

    public init(device: PCIAddress) { self.device = device }
}

/// One `IRT[%04d]` row: the 32-bit IRTE (one word), or the 128-bit guest-APIC IRTE as
/// `[lo, hi]` (the file prints hi first).
public struct AMDInterruptRemapEntry: Sendable, Equatable {
    public var index: Int
    public var words: [UInt64]

    public init(index: Int, words: [UInt64]) {
        self.index = index
        self.words = words
    }
}

extension AMDDeviceTableEntry {
    /// The DTE as the IOMMU decodes it (V, TV, Mode, root, IR/IW, DomainID, IV, IntTabLen,
    /// IRT root, IntCtl, GV/GLX/GCR3 ...); the fault log's `DTE[0..3]` words decode the same way
    /// through `AMDViDeviceTable.Entry(words:)`.
    public var decoded: AMDViDeviceTable.Entry { AMDViDeviceTable.Entry(words: words) }

    /// The unit's sysfs name, `ivhd%d`.
    public var unitName: String { "ivhd\(unitIndex)" }
}

/// One command buffer slot decoded (AMD IOMMU spec 48882 "Commands"; `CMD_*` and
/// `build_*` in `drivers/iommu/amd/iommu.c`): the opcode is data[1] bits 31:28.
public struct AMDCommand: Sendable, Equatable {
    /// `CMD_*` in `amd_iommu_types.h`.
    public enum Opcode: UInt32, Sendable, CaseIterable {
        case COMPLETION_WAIT = 1
        case INVALIDATE_DEVTAB_ENTRY = 2
        case INVALIDATE_IOMMU_PAGES = 3
        case INVALIDATE_IOTLB_PAGES = 4
        case INVALIDATE_INTERRUPT_TABLE = 5
        case COMPLETE_PPR = 7
        case INVALIDATE_IOMMU_ALL = 8
    }

    /// data[0..3] as `cmdbuf` prints them.
    public var words: [UInt32]

    /// Missing dwords read as zero, extra ones are dropped.
    public init(words: [UInt32]) {
        self.words = Array((words + [UInt32](repeating: 0, count: max(0, 4 - words.count))).prefix(4))
    }

    public var rawOpcode: UInt32 { words[1] >> 28 }
    public var opcode: Opcode? { Opcode(rawValue: rawOpcode) }

    /// data[1]:data[0] and data[3]:data[2], the command's low and high 64 bits.
    var low: UInt64 { UInt64(words[1]) << 32 | UInt64(words[0]) }
    var high: UInt64 { UInt64(words[3]) << 32 | UInt64(words[2]) }
    /// The high half with its low 12 bits cleared: the address of INVALIDATE_*_PAGES.
    var pageAddress: UInt64 { high & ~0xfff }

    /// A field within one half, its bits numbered across the 128-bit command.
    private func field(_ name: String, _ bits: ClosedRange<Int>) -> DescriptorField {
        let low = bits.lowerBound % 64
        return DescriptorField(name, bits, DescriptorField(name, low...(low + bits.count - 1), of: bits.lowerBound < 64 ? self.low : high).value)
    }

    /// The command's fields, bits numbered across the 128-bit command.
    public var fields: [DescriptorField] {
        var fields = [field("Opcode", 60...63)]
        switch opcode {
        case .COMPLETION_WAIT?:
            // build_completion_wait: the store address's bits 51:3 in data[0] 31:3 and data[1] 19:0.
            fields += [
                field("S", 0...0), field("I", 1...1), field("F", 2...2),
                DescriptorField("StoreAddress", 3...51, low & 0x000F_FFFF_FFFF_FFF8), DescriptorField("StoreData", 64...127, high),
            ]
        case .INVALIDATE_DEVTAB_ENTRY?, .INVALIDATE_INTERRUPT_TABLE?:
            fields.append(field("DeviceID", 0...15))
        case .INVALIDATE_IOMMU_PAGES?:
            // build_inv_iommu_pages: PASID in data[0] 19:0, DomainID in data[1] 15:0, S/PDE/GN in data[2].
            fields += [
                field("PASID", 0...19), field("DomainID", 32...47), field("S", 64...64), field("PDE", 65...65), field("GN", 66...66),
                DescriptorField("Address", 76...127, pageAddress),
            ]
        case .INVALIDATE_IOTLB_PAGES?:
            fields += [
                field("DeviceID", 0...15), field("MaxPend", 24...31), field("S", 64...64), field("GN", 66...66),
                DescriptorField("Address", 76...127, pageAddress),
            ]
        case .COMPLETE_PPR?:
            fields += [field("DeviceID", 0...15), field("PASID", 32...51), field("GN", 66...66), field("Status", 76...79), field("Tag", 96...104)]
        case .INVALIDATE_IOMMU_ALL?, nil:
            break
        }
        return fields
    }

    /// One line for a view: `COMPLETION_WAIT store 0x3c00 at 0x100835000`.
    public var summary: String {
        func field(_ name: String) -> UInt64 { fields.first { $0.name == name }?.value ?? 0 }
        let hex = RegisterText.hex
        switch opcode {
        case .COMPLETION_WAIT?:
            return "COMPLETION_WAIT" + (field("S") == 1 ? " store \(hex(field("StoreData"))) at \(hex(field("StoreAddress")))" : "")
                + (field("I") == 1 ? " interrupt" : "")
        case .INVALIDATE_DEVTAB_ENTRY?, .INVALIDATE_INTERRUPT_TABLE?:
            return "\(opcode.map { "\($0)" } ?? "") DeviceID \(hex(field("DeviceID")))"
        case .INVALIDATE_IOMMU_PAGES?:
            let scope = pageAddress == 0x7fff_ffff_ffff_f000 && field("S") == 1 ? "all pages" : "\(hex(pageAddress))"
                + (field("S") == 1 ? " (sized)" : "")
            let space = field("GN") == 1 ? "PASID \(hex(field("PASID")))" : "domain \(field("DomainID"))"
            return "INVALIDATE_IOMMU_PAGES \(scope) of \(space)" + (field("PDE") == 1 ? " with PDEs" : "")
        case .INVALIDATE_IOTLB_PAGES?:
            return "INVALIDATE_IOTLB_PAGES DeviceID \(hex(field("DeviceID"))) at \(hex(pageAddress))"
        case .COMPLETE_PPR?:
            return "COMPLETE_PPR DeviceID \(hex(field("DeviceID"))) tag \(field("Tag")) status \(field("Status"))"
        case .INVALIDATE_IOMMU_ALL?:
            return "INVALIDATE_IOMMU_ALL"
        case nil:
            return "opcode \(rawOpcode)"
        }
    }
}

extension AMDCommandBuffer {
    /// Every slot decoded, in slot order.
    public var commands: [AMDCommand] { entries.map(AMDCommand.init(words:)) }
}

extension AMDRegisterRead {
    /// The register at `offset` as `amd_iommu_types.h` names it (`MMIO_*_OFFSET`, and the PCI
    /// capability's words: AMD IOMMU spec 48882 "IOMMU Capability Block"); nil for one it
    /// does not name.
    public var registerName: String? {
        switch space {
        case .mmio:
            Self.mmioNames[offset]
        case .capability:
            [0x00: "Capability Header", 0x04: "Base Address Low", 0x08: "Base Address High", 0x0c: "Range",
             0x10: "Miscellaneous Information 0", 0x14: "Miscellaneous Information 1"][offset]
        }
    }

    static let mmioNames: [UInt32: String] = [
        0x0000: "Device Table Base Address", 0x0008: "Command Buffer Base Address", 0x0010: "Event Log Base Address",
        0x0018: "Control", 0x0020: "Exclusion Base", 0x0028: "Exclusion Range Limit", 0x0030: "Extended Feature",
        0x0038: "PPR Log Base Address", 0x00e0: "GA Log Base Address", 0x00e8: "GA Log Tail Address",
        0x015c: "MSI Address Low", 0x0160: "MSI Address High", 0x0164: "MSI Data", 0x0170: "XT Event Interrupt Control",
        0x0178: "XT PPR Interrupt Control", 0x0180: "XT GA Log Interrupt Control", 0x01a0: "Extended Feature 2",
        0x2000: "Command Buffer Head", 0x2008: "Command Buffer Tail", 0x2010: "Event Log Head", 0x2018: "Event Log Tail",
        0x2020: "Status", 0x2030: "PPR Log Head", 0x2038: "PPR Log Tail", 0x2040: "GA Log Head", 0x2048: "GA Log Tail",
    ]
}
