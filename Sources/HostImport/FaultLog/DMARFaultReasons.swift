import IOMMUCore

/// The reason strings `dmar_get_fault_reason()` (`drivers/iommu/intel/dmar.c`) prints after
/// `[fault reason %02x]`: `dma_remap_fault_reasons[]` for 0x00–0x0D, `irq_remap_fault_reasons[]`
/// for 0x20–0x26, `dma_remap_sm_fault_reasons[]` for 0x30–0x90, else `Unknown`. The reader
/// takes `reason_text` from the line; the text tells a complete line from one a hard wrap
/// cut inside its reason.
enum DMARFaultReasons {
    static let interruptRemapping = [
        "Detected reserved fields in the decoded interrupt-remapped request",
        "Interrupt index exceeded the interrupt-remapping table size", "Present field in the IRTE entry is clear",
        "Error accessing interrupt-remapping table pointed by IRTA_REG", "Detected reserved fields in the IRTE entry",
        "Blocked a compatibility format interrupt request",
        "Blocked an interrupt request due to source-id verification failure",
    ]
    /// The text the current kernel prints for `code`.
    /// The DMA-remapping codes (legacy and scalable mode) are the core's `VTd.FaultReason`
    /// with its `linuxString`; only the interrupt-remapping ones are this table's.
    static func text(for code: UInt8) -> String {
        if code >= 0x20, Int(code) - 0x20 < interruptRemapping.count { return interruptRemapping[Int(code) - 0x20] }
        return VTd.FaultReason(rawValue: code)?.linuxString ?? "Unknown"
    }

    /// `[fault reason %02d]` (before v5.14) or `[fault reason 0x%02x]`, without the brackets.
    static func code<S: StringProtocol>(_ text: S) -> UInt8? {
        let value: UInt64?
        if text.hasPrefix("0x") {
            value = parseHexWord(text)
        } else if (1...3).contains(text.count), text.allSatisfy(\.isLogDecimalDigit) {
            value = UInt64(text)
        } else {
            value = nil
        }
        guard let value, value <= 0xff else { return nil }
        return UInt8(value)
    }
}
