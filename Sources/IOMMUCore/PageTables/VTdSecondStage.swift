/// Intel VT-d second-stage ("second-level") paging entries (VT-d spec §9.8) as Linux builds
/// them (`generic_pt/fmt/vtdss.h`, earlier `intel/iommu.c`): 3, 4 or 5 levels for an AGAW of
/// 39, 48 or 57 bits, 2 MiB and 1 GiB superpages as CAP.SLLPS allows.
///
/// Levels are the spec's: 1 = SS-PTE, 2 = SS-PDE, 3 = SS-PDPTE, 4 = SS-PML4E, 5 = SS-PML5E
/// (`vtdss.h` numbers them from 0). There is no present bit: an entry is present iff R or W.
public struct VTdSecondStage: RadixLevels, Equatable {
    /// CAP.SLLPS (CAP bits 37:34) as far as Linux uses it: bit 0 = 21-bit (2 MiB) pages,
    /// bit 1 = 30-bit (1 GiB) pages.
    public struct Superpages: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let twoMiB = Superpages(rawValue: 1 << 0)
        public static let oneGiB = Superpages(rawValue: 1 << 1)
        public static let all: Superpages = [.twoMiB, .oneGiB]

        /// From the CAP register value (bits 37:34).
        public init(capability: UInt64) { self.init(rawValue: UInt8((capability >> 34) & 0b11)) }
    }

    /// The adjusted guest address width: 39, 48 or 57.
    public let addressWidth: Int
    public let superpages: Superpages
    /// `PT_FEAT_VTDSS_FORCE_COHERENCE` (the domain enforces cache coherency): leaves carry SNP.
    public let snoop: Bool
    /// `PT_FEAT_VTDSS_FORCE_WRITEABLE`: the table of a nest parent, which may hold no
    /// read-only mapping (ERRATA_772415_SPR17).
    public let forceWriteable: Bool
    /// The walker's host address width: address bits 51:`hostAddressBits` of every entry are
    /// reserved (VT-d spec §9.8; 52 = none).
    public let hostAddressBits: Int

    public init(addressWidth: Int = 48, superpages: Superpages = .all, snoop: Bool = false, forceWriteable: Bool = false,
                hostAddressBits: Int = 52) {
        precondition([39, 48, 57].contains(addressWidth), "VT-d second stage has 3, 4 or 5 levels (AGAW 39/48/57)")
        self.addressWidth = addressWidth
        self.superpages = superpages
        self.snoop = snoop
        self.forceWriteable = forceWriteable
        self.hostAddressBits = min(max(hostAddressBits, 12), 52)
    }

    /// 3, 4 or 5 levels.
    public init(levels: Int, superpages: Superpages = .all, snoop: Bool = false, hostAddressBits: Int = 52) {
        self.init(addressWidth: 12 + 9 * levels, superpages: superpages, snoop: snoop, hostAddressBits: hostAddressBits)
    }

    public var levelCount: Int { (addressWidth - 12) / 9 }
    /// The context / PASID-entry AW field: levels − 2 (1 = 39-bit, 2 = 48-bit, 3 = 57-bit).
    public var aw: Int { levelCount - 2 }

    public var known: KnownFormat { .vtdSecondStage(self) }

    public var name: String {
        "vtd-ss \(levelCount)-level aw=\(addressWidth)" + (snoop ? " snp" : "")
    }

    public var levels: [Int] { Array((1...levelCount).reversed()) }
    public var rootLevel: Int { levelCount }
    public var inputBits: Int { addressWidth }

    public var pageSizes: UInt64 {
        4096 | (superpages.contains(.twoMiB) ? 2 << 20 : 0) | (superpages.contains(.oneGiB) ? 1 << 30 : 0)
    }

    public var rootTableSize: UInt64 { 4096 }

    // MARK: Bits (vtdss.h)

    public static let read: UInt64 = 1 << 0
    public static let write: UInt64 = 1 << 1
    public static let execute: UInt64 = 1 << 2
    /// PS: a leaf at SS-PDE (2 MiB) or SS-PDPTE (1 GiB).
    public static let pageSize: UInt64 = 1 << 7
    public static let accessed: UInt64 = 1 << 8
    public static let dirty: UInt64 = 1 << 9
    public static let snoopBit: UInt64 = 1 << 11
    public static let transientMapping: UInt64 = 1 << 62
    /// `VTDSS_FMT_OA`: bits 51:12.
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000


    public func leafSizes(level: Int) -> [UInt64] {
        switch level {
        case 1: [4096]
        case 2: superpages.contains(.twoMiB) ? [2 << 20] : []
        case 3: superpages.contains(.oneGiB) ? [1 << 30] : []
        default: []
        }
    }

    /// Present iff R|W. PS marks a leaf at levels 2 and 3; PS where no superpage is
    /// supported (or at levels 4 and 5, where it is reserved), or another reserved bit
    /// (`reservedBits`), reads as invalid: the walker reports 0x7A for it.
    public func kind(of descriptor: UInt64, level: Int) -> DescriptorKind {
        guard descriptor & (Self.read | Self.write) != 0 else { return .invalid }
        let leaf = level == 1 || descriptor & Self.pageSize != 0
        if descriptor & reservedBits(level: level, leaf: leaf) != 0 { return .invalid }
        if level == 1 { return .page }
        if leaf { return leafSizes(level: level).isEmpty ? .invalid : .block }
        return .table
    }

    /// The bits a present entry must leave clear (VT-d spec §9.8; QEMU
    /// `VTD_SPTE_PAGE_L*_RSVD_MASK` / `VTD_SPTE_LPAGE_L*_RSVD_MASK`): 51:HAW at every level and
    /// the low frame bits of a superpage, 20:12 of a 2 MiB SS-PDE and 29:12 of a 1 GiB
    /// SS-PDPTE.
    public func reservedBits(level: Int, leaf: Bool) -> UInt64 {
        var bits = Self.addressMask & ~((1 << UInt64(hostAddressBits)) - 1)
        if leaf && level == 2 { bits |= 0x1f_f000 }
        if leaf && level == 3 { bits |= 0x3fff_f000 }
        return bits
    }

    public func fields(of descriptor: UInt64, level: Int) -> [DescriptorField] {
        typealias F = Field
        let kind = kind(of: descriptor, level: level)
        var fields = [F.r, F.w].map { DescriptorField($0, of: descriptor) }
        let address = outputAddress(of: descriptor, level: level, kind: kind)
        switch kind {
        case .invalid:
            return fields
        case .table:
            fields += [F.x, F.tablePS, F.a].map { DescriptorField($0, of: descriptor) }
            fields.append(DescriptorField(F.nextLevelTable, address))
        case .block, .page:
            fields += [F.x, F.emt, F.ipat].map { DescriptorField($0, of: descriptor) }
            if level > 1 { fields.append(DescriptorField(F.ps, of: descriptor)) }
            fields += [F.a, F.d, F.snp].map { DescriptorField($0, of: descriptor) }
            fields += [DescriptorField(F.outputAddress.at(shift(level: level)...51), address), DescriptorField(F.tm, of: descriptor)]
        }
        return fields
    }

    /// The second-stage entry fields (VT-d spec §9.8), as `vtdss.h` names them.
    public enum Field {
        private static let ref = SpecReference.vtdSecondStage
        public static let r = FieldDefinition("R", 0...0, "read permission (an entry with neither R nor W is not present)", ref)
        public static let w = FieldDefinition("W", 1...1, "write permission", ref)
        public static let x = FieldDefinition("X", 2...2, "execute permission (used only with SSEE)", ref)
        public static let emt = FieldDefinition("EMT", 3...5, "extended memory type (used only with snoop control off)", ref)
        public static let ipat = FieldDefinition("IPAT", 6...6, "ignore PAT: EMT alone gives the memory type", ref)
        public static let ps = FieldDefinition("PS", 7...7, "page size: 1 maps a 2 MiB (SS-PDE) or 1 GiB (SS-PDPTE) page", ref)
        public static let tablePS = FieldDefinition("PS", 7...7, "page size: 0, this entry points to a table", ref)
        public static let a = FieldDefinition("A", 8...8, "accessed: set by the IOMMU when it uses the entry (SSADE)", ref)
        public static let d = FieldDefinition("D", 9...9, "dirty: set by the IOMMU on a write through this leaf (SSADE)", ref)
        public static let snp = FieldDefinition("SNP", 11...11, "snoop: the access snoops the processor caches", ref)
        public static let nextLevelTable = FieldDefinition("next-level table", 12...51, "address of the next-level paging structure", ref)
        public static let outputAddress = FieldDefinition("output address", 12...51, "base of the page the input address lands in", ref)
        public static let tm = FieldDefinition("TM", 62...62, "transient mapping: a device-TLB hint", ref)
    }

    /// `vtdss_pt_install_table`: `pa | R | W`.
    public func encodeTable(_ tableAddress: UInt64, level: Int) -> UInt64 {
        (tableAddress & Self.addressMask) | Self.read | Self.write
    }

    /// `vtdss_pt_iommu_set_prot`: a mapping with neither R nor W would read as not present,
    /// and a read-only one in a `forceWriteable` table hits ERRATA_772415_SPR17 ("Read-only
    /// mapping is disallowed on the domain which serves as the parent in a nested
    /// configuration"): both EINVAL.
    public func checkProt(_ prot: IOMMUProt) throws(Refusal) {
        guard !prot.isDisjoint(with: [.read, .write]) else { throw .noAccess(prot) }
        if forceWriteable && !prot.contains(.write) {
            throw Refusal(.EINVAL, .pageTableReadOnlyNestParent, values: [Refusal.InvolvedValue("prot", UInt64(prot.rawValue), .requested),
                                                                          Refusal.InvolvedValue("PT_FEAT_VTDSS_FORCE_WRITEABLE", nil, .flag)])
        }
    }

    /// `vtdss_pt_iommu_set_prot` + `vtdss_pt_install_leaf_entry`: `pa | R? | W? | SNP? | PS`
    /// above level 1.
    public func encodeLeaf(_ output: UInt64, size: UInt64, level: Int, prot: IOMMUProt) -> UInt64 {
        var pte = output & Self.addressMask
        if prot.contains(.read) { pte |= Self.read }
        if prot.contains(.write) { pte |= Self.write }
        if snoop { pte |= Self.snoopBit }
        if level != 1 { pte |= Self.pageSize }
        return pte
    }
}
