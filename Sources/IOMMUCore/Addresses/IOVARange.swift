/// An inclusive range of 64-bit addresses, `[start, last]`, like `struct iommu_iova_range`.
///
/// Inclusive bounds are how the kernel's interval trees and the uAPI describe ranges: a
/// range that ends at `u64max` has a length of up to 2^64, which no `UInt64` can hold.
public struct IOVARange: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var start: UInt64
    public var last: UInt64

    public init(start: UInt64, last: UInt64) {
        precondition(start <= last, "IOVARange start past last")
        self.start = start
        self.last = last
    }

    /// `[start, start + length - 1]`, or nil when `length` is zero or the end overflows.
    public init?(start: UInt64, length: UInt64) {
        guard length > 0, let last = start.checkedAdd(length - 1) else { return nil }
        self.init(start: start, last: last)
    }

    /// The whole 64-bit space.
    public static let all = IOVARange(start: 0, last: .max)

    /// Length in bytes, or nil for the full 2^64 range.
    public var length: UInt64? { (last - start).checkedAdd(1) }

    public func contains(_ address: UInt64) -> Bool { start <= address && address <= last }
    public func contains(_ other: IOVARange) -> Bool { start <= other.start && other.last <= last }
    public func intersects(_ other: IOVARange) -> Bool { start <= other.last && other.start <= last }

    public static func < (a: IOVARange, b: IOVARange) -> Bool {
        a.start != b.start ? a.start < b.start : a.last < b.last
    }

    public var description: String { "\(start.hex)-\(last.hex)" }
}

extension UInt64 {
    /// `self + other`, or nil when the sum does not fit (the kernel's `check_add_overflow`).
    @inlinable public func checkedAdd(_ other: UInt64) -> UInt64? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }

    /// `self * other`, or nil on overflow.
    @inlinable public func checkedMultiply(_ other: UInt64) -> UInt64? {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : product
    }

    /// Rounds up to a power-of-two `alignment`, or nil when that passes `u64max` (`ALIGN` with overflow check).
    @inlinable public func alignedUp(to alignment: UInt64) -> UInt64? {
        precondition(alignment.nonzeroBitCount == 1)
        guard let bumped = checkedAdd(alignment - 1) else { return nil }
        return bumped & ~(alignment - 1)
    }

    @inlinable public func alignedDown(to alignment: UInt64) -> UInt64 {
        precondition(alignment.nonzeroBitCount == 1)
        return self & ~(alignment - 1)
    }

    @inlinable public func isAligned(to alignment: UInt64) -> Bool {
        precondition(alignment.nonzeroBitCount == 1)
        return self & (alignment - 1) == 0
    }

    /// `roundup_pow_of_two`, saturating at 2^63 (the kernel only calls it below `ULONG_MAX / 2`).
    @inlinable public var roundedUpToPowerOfTwo: UInt64 {
        if self <= 1 { return 1 }
        let shift = 64 - (self - 1).leadingZeroBitCount
        return shift >= 64 ? 1 << 63 : 1 << UInt64(shift)
    }

    /// Lowercase hex with `0x`, as every 64-bit quantity is printed.
    public var hex: String { "0x" + String(self, radix: 16) }
}
