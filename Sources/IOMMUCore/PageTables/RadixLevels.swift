/// The x86-style table geometry VT-d, x86-64 and AMD-Vi share: 512 eight-byte entries per 4K
/// table, level 1 mapping 4K pages, each level above covering 9 more address bits.
public protocol RadixLevels: PageTableFormat {}

extension RadixLevels {
    /// Address bits below a `level` entry: 12 + 9 * (level - 1).
    func shift(level: Int) -> Int { 12 + 9 * (level - 1) }

    /// Bits 9 wide from `shift(level)` (a level-6 AMD root has only 7 of them to index).
    public func index(of address: UInt64, level: Int) -> Int {
        let shift = UInt64(shift(level: level))
        return shift >= 64 ? 0 : Int((address >> shift) & 0x1ff)
    }

    public func entrySpan(level: Int) -> UInt64 { 1 << UInt64(shift(level: level)) }

    public var tableSize: UInt64 { 4096 }

    /// Level 1 maps the 4K pages.
    public var leafLevel: Int { 1 }

    /// Bits 51:12 hold the next table or the page; a leaf's base is aligned to its size.
    public func outputAddress(of descriptor: UInt64, level: Int, kind: DescriptorKind) -> UInt64 {
        let address = descriptor & 0x000F_FFFF_FFFF_F000
        switch kind {
        case .block, .page: return address.alignedDown(to: entrySpan(level: level))
        case .table, .invalid: return address
        }
    }
}
