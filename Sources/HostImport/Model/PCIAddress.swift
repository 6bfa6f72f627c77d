/// A PCI function's address: segment, bus, device (slot) and function.
///
/// Printed as `%04x:%02x:%02x.%d` (sysfs names, `dev_printk` prefixes). Logs print it in
/// several other forms (host-inputs: a DMAR fault's `[%02x:%02x.%d]`, v5.14's
/// `[0x%02x:0x%02x.%d]`, AMD-Vi's pre-v5.19 `%02x:%02x.%x`, QEMU's two-digit function);
/// `init?(parsing:)` accepts them all and gives segment 0 where the text has none.
public struct PCIAddress: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var segment: UInt16
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    public init(segment: UInt16 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        self.segment = segment
        self.bus = bus
        self.device = device & 0x1f
        self.function = function & 0x7
    }

    /// A VT-d source-id or an AMD devid: `bus << 8 | devfn`, devfn = `slot << 3 | func`.
    public init(segment: UInt16 = 0, requesterID: UInt16) {
        self.init(segment: segment, bus: UInt8(requesterID >> 8), device: UInt8((requesterID >> 3) & 0x1f),
                  function: UInt8(requesterID & 0x7))
    }

    /// Parses `SSSS:BB:DD.F` or `BB:DD.F`, each number optionally `0x`-prefixed, the function
    /// one or two hex digits (QEMU's `%02x`); nil for anything else or a value out of range.
    public init?<S: StringProtocol>(parsing text: S) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let last = parts.last else { return nil }
        let slotFunction = last.split(separator: ".", omittingEmptySubsequences: false)
        guard slotFunction.count == 2 else { return nil }
        func number<T: StringProtocol>(_ s: T, maxDigits: Int) -> UInt64? {
            var digits = Substring(s)
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
            guard !digits.isEmpty, digits.count <= maxDigits else { return nil }
            return UInt64(digits, radix: 16)
        }
        let segment = parts.count == 3 ? number(parts[0], maxDigits: 4) : 0
        guard let segment, let bus = number(parts[parts.count - 2], maxDigits: 2),
              let slot = number(slotFunction[0], maxDigits: 2), slot < 32,
              let function = number(slotFunction[1], maxDigits: 2), function < 8 else { return nil }
        self.init(segment: UInt16(segment), bus: UInt8(bus), device: UInt8(slot), function: UInt8(function))
    }

    /// `devfn`: slot << 3 | function.
    public var devfn: UInt8 { device << 3 | function }
    /// The requester id the IOMMU sees (a VT-d source-id, an AMD devid): bus << 8 | devfn.
    public var requesterID: UInt16 { UInt16(bus) << 8 | UInt16(devfn) }

    /// `%04x:%02x:%02x.%d`, the sysfs name.
    public var description: String {
        func hex(_ value: UInt64, _ width: Int) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(hex(UInt64(segment), 4)):\(hex(UInt64(bus), 2)):\(hex(UInt64(device), 2)).\(function)"
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool {
        (a.segment, a.bus, a.devfn) < (b.segment, b.bus, b.devfn)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = PCIAddress(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a PCI address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
