/// The AMD-Vi v1 host page table (AMD IOMMU spec §2.2.3) as Linux builds it
/// (`amd/io_pgtable.c`, now `generic_pt/fmt/amdv1.h`): DTE mode 1-6, every power-of-two
/// page size from 4 KiB to 2^51 but 512 GiB, non-default sizes (NextLevel = 7) encoded in
/// the address and replicated across consecutive entries.
///
/// Levels are the spec's: 1 holds the 4 KiB PTEs, the root is level `mode`. Linux numbers
/// them from 0 (`PM_LEVEL_*`, generic_pt `pts->level`): Linux level = spec level − 1.
/// Linux v1 starts at mode 3 and grows the table one level at a time when an IOVA above its
/// reach is mapped (`v1_alloc_pgtable` and `increase_address_space` in `amd/io_pgtable.c`;
/// generic_pt's amdv1 with `PT_FEAT_DYNAMIC_TOP` and `starting_level = 2`, whose
/// `change_top` rewrites the DTEs); one value of this type describes one mode, `grownTop`
/// the next.
public struct AMDv1: RadixLevels, Equatable {
    /// The DTE Mode field: how many levels (1-6).
    public let mode: Int
    /// FC on every PTE: always in `io_pgtable.c`; in generic_pt only with
    /// `PT_FEAT_AMDV1_FORCE_COHERENCE`.
    public let forceCoherent: Bool
    /// The mode the table may grow to: the IOMMU's host levels (`amd_iommu_hpt_level`,
    /// EFR.HATS); equal to `mode` for a table that does not grow.
    public let maximumMode: Int

    public init(mode: Int = 3, forceCoherent: Bool = true, maximumMode: Int? = nil) {
        precondition((1...6).contains(mode), "AMD-Vi v1 modes are 1-6")
        self.mode = mode
        self.forceCoherent = forceCoherent
        self.maximumMode = min(max(maximumMode ?? mode, mode), 6)
    }

    /// `increase_address_space`: one more level (the old root becomes entry 0 of the new one).
    public func grownTop() -> (any PageTableFormat)? {
        mode < maximumMode ? AMDv1(mode: mode + 1, forceCoherent: forceCoherent, maximumMode: maximumMode) : nil
    }

    /// The Linux level (`PM_LEVEL_*`, generic_pt) of a spec level.
    public static func linuxLevel(_ level: Int) -> Int { level - 1 }

    public var known: KnownFormat { .amdV1(self) }

    public var name: String { "amd-v1 mode=\(mode)" + (forceCoherent ? "" : " no-fc") }

    public var levels: [Int] { Array((1...mode).reversed()) }
    public var rootLevel: Int { mode }
    /// `PM_LEVEL_SIZE(mode)`: 21/30/39/48/57/64 bits.
    public var inputBits: Int { min(64, 12 + 9 * mode) }

    /// `AMD_IOMMU_PGSIZES` (`GENMASK_ULL(51, 12) ^ SZ_512G`) restricted to what the mode
    /// addresses: `alloc_pte` grows the table until `mode - 1 >= PAGE_SIZE_LEVEL(size)`.
    public var pageSizes: UInt64 {
        let top = min(51, inputBits - 1)
        let mask: UInt64 = (top >= 63 ? .max : (1 << UInt64(top + 1)) - 1) & ~0xFFF
        return mask & ~Self.size512G
    }

    static let size512G: UInt64 = 1 << 39

    /// Level 6 (mode 6) indexes bits 63:57 only: 128 entries.
    public var rootTableSize: UInt64 { mode == 6 ? 128 * 8 : 4096 }

    // MARK: Bits (amd_iommu_types.h, amdv1.h)

    public static let present: UInt64 = 1 << 0
    public static let accessed: UInt64 = 1 << 5
    /// `IOMMU_PTE_HD_BIT`.
    public static let dirty: UInt64 = 1 << 6
    public static let nextLevelShift: UInt64 = 9
    /// NextLevel 7 in a PTE: the page size is encoded in the address.
    public static let nextLevelSize: UInt64 = 7
    public static let user: UInt64 = 1 << 59
    public static let forceCoherentBit: UInt64 = 1 << 60
    public static let readPermission: UInt64 = 1 << 61
    public static let writePermission: UInt64 = 1 << 62
    /// `PM_ADDR_MASK`: bits 51:12.
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000

    public static func nextLevelField(_ descriptor: UInt64) -> UInt64 { (descriptor >> nextLevelShift) & 7 }

    /// `PM_LEVEL_SHIFT(level − 1)`.

    /// `PTE_LEVEL_PAGE_SIZE(level − 1)`.

    /// Every power of two a PTE at `level` can map: the default size (NextLevel 0) first,
    /// then the non-default sizes (NextLevel 7, `entrySpan × 2 ... entrySpan × 256`), largest
    /// first. 512 GiB (the default size of level 4) and sizes above 2^51 are excluded.
    public func leafSizes(level: Int) -> [UInt64] {
        guard (1...mode).contains(level) else { return [] }
        let span = entrySpan(level: level)
        let sizes = pageSizes
        var result: [UInt64] = sizes & span != 0 ? [span] : []
        for power in stride(from: 8, through: 1, by: -1) {
            let shift = shift(level: level) + power
            if shift < 64, sizes & (1 << UInt64(shift)) != 0 { result.append(1 << UInt64(shift)) }
        }
        return result
    }

    /// PR clear: invalid. NextLevel 0 or 7: a PTE (`.page` at level 1, `.block` above,
    /// invalid where the level holds no leaf). NextLevel 1...level−1: a PDE (level skipping
    /// is allowed by the spec, though Linux never writes it). Anything else is invalid.
    public func kind(of descriptor: UInt64, level: Int) -> DescriptorKind {
        guard descriptor & Self.present != 0 else { return .invalid }
        let nextLevel = Self.nextLevelField(descriptor)
        switch nextLevel {
        case 0, Self.nextLevelSize:
            if level == 1 { return .page }
            return leafSizes(level: level).isEmpty ? .invalid : .block
        default:
            return Int(nextLevel) < level ? .table : .invalid
        }
    }

    /// A table's address, or a leaf's base with the size encoding cleared.
    public func outputAddress(of descriptor: UInt64, level: Int, kind: DescriptorKind) -> UInt64 {
        let address = descriptor & Self.addressMask
        switch kind {
        case .block, .page: return address & ~(leafSize(of: descriptor, level: level) - 1)
        case .table, .invalid: return address
        }
    }

    /// `PTE_PAGE_SIZE` for NextLevel 7 (`1 << (1 + ffz(pte | 0xfff))`), else the level's
    /// default size.
    public func leafSize(of descriptor: UInt64, level: Int) -> UInt64 {
        guard Self.nextLevelField(descriptor) == Self.nextLevelSize else { return entrySpan(level: level) }
        let firstZero = (~(descriptor | 0xFFF)).trailingZeroBitCount
        return 1 << UInt64(min(firstZero + 1, 63))
    }

    /// PDEs name the level they point to; Linux never skips, so an empty slot leads one down.
    public func nextLevel(after level: Int, descriptor: UInt64) -> Int {
        let field = Int(Self.nextLevelField(descriptor))
        return (1..<level).contains(field) ? field : level - 1
    }

    /// `PAGE_SIZE_PTE_COUNT`: a non-default size fills `size / entrySpan` consecutive entries.
    public func entriesPerLeaf(size: UInt64, level: Int) -> Int {
        let span = entrySpan(level: level)
        return size > span ? Int(size / span) : 1
    }

    public func fields(of descriptor: UInt64, level: Int) -> [DescriptorField] {
        typealias F = Field
        let kind = kind(of: descriptor, level: level)
        var fields = [DescriptorField(F.pr, of: descriptor)]
        let address = outputAddress(of: descriptor, level: level, kind: kind)
        switch kind {
        case .invalid:
            return fields
        case .table:
            fields += [DescriptorField(F.a, of: descriptor), DescriptorField(F.tableNextLevel, of: descriptor),
                       DescriptorField(F.nextLevelTable, address)]
        case .block, .page:
            let size = leafSize(of: descriptor, level: level)
            let sizeShift = size.trailingZeroBitCount
            fields += [F.a, F.d, F.nextLevel].map { DescriptorField($0, of: descriptor) }
            if Self.nextLevelField(descriptor) == Self.nextLevelSize, sizeShift > 12 {
                // The run of ones in bits 12...(log2 size − 2), terminated by a zero.
                fields.append(DescriptorField(F.pageSize.at(12...(sizeShift - 1)), size))
            }
            fields += [
                DescriptorField(F.outputAddress.at(min(sizeShift, 51)...51), address),
                DescriptorField(F.u, of: descriptor), DescriptorField(F.fc, of: descriptor),
            ]
        }
        fields += [DescriptorField(F.ir, of: descriptor), DescriptorField(F.iw, of: descriptor)]
        return fields
    }

    /// The v1 PDE and PTE fields (AMD IOMMU spec §2.2.3), as `amd_iommu_types.h` names them.
    public enum Field {
        private static let ref = SpecReference.amdHostPageTables
        public static let pr = FieldDefinition("PR", 0...0, "present: 0 faults any access", ref)
        public static let a = FieldDefinition("A", 5...5, "accessed: set by the IOMMU when it uses the entry (HAD)", ref)
        public static let d = FieldDefinition("D", 6...6, "dirty: set by the IOMMU on a write through this leaf (HAD)", ref)
        public static let tableNextLevel = FieldDefinition("NextLevel", 9...11, "level of the table this PDE points to (skipping allowed)", ref)
        public static let nextLevel = FieldDefinition("NextLevel", 9...11, "0: a PTE of the level's size; 7: size encoded in the address", ref)
        public static let pageSize = FieldDefinition("page size", 12...12, "NextLevel 7: ones up to bit log2(size)-2 then a zero give the size", ref)
        public static let nextLevelTable = FieldDefinition("next-level table", 12...51, "address of the next-level page table", ref)
        public static let outputAddress = FieldDefinition("output address", 12...51, "base of the page the input address lands in", ref)
        public static let u = FieldDefinition("U", 59...59, "untranslated access only (no ATS translation)", ref)
        public static let fc = FieldDefinition("FC", 60...60, "force coherent: the access snoops the processor caches", ref)
        public static let ir = FieldDefinition("IR", 61...61, "read permission (ANDed down the walk)", ref)
        public static let iw = FieldDefinition("IW", 62...62, "write permission (ANDed down the walk)", ref)
    }

    /// `PM_LEVEL_PDE` / `amdv1pt_install_table`: `pa | NextLevel << 9 | PR | IR | IW`, with
    /// NextLevel the (spec) level of the table pointed to.
    public func encodeTable(_ tableAddress: UInt64, level: Int) -> UInt64 {
        (tableAddress & Self.addressMask) | UInt64(level - 1) << Self.nextLevelShift
            | Self.present | Self.readPermission | Self.writePermission
    }

    /// `iommu_v1_map_pages`: a mapping with neither IR nor IW is EINVAL
    /// (`!(prot & IOMMU_PROT_MASK)`).
    public func checkProt(_ prot: IOMMUProt) throws(Refusal) {
        guard !prot.isDisjoint(with: [.read, .write]) else { throw .noAccess(prot) }
    }

    /// `iommu_v1_map_pages` / `amdv1pt_install_leaf_entry`: `pa | PR | FC | IR? | IW?`; a
    /// non-default size gets NextLevel 7 and `PAGE_SIZE_PTE(pa, size)`.
    public func encodeLeaf(_ output: UInt64, size: UInt64, level: Int, prot: IOMMUProt) -> UInt64 {
        var pte = Self.present
        if size == entrySpan(level: level) {
            pte |= output & Self.addressMask
        } else {
            pte |= ((output | (size - 1)) & ~(size >> 1)) & Self.addressMask
            pte |= Self.nextLevelSize << Self.nextLevelShift
        }
        if forceCoherent { pte |= Self.forceCoherentBit }
        if prot.contains(.read) { pte |= Self.readPermission }
        if prot.contains(.write) { pte |= Self.writePermission }
        return pte
    }
}
