/// x86-64 4- and 5-level paging as IOMMUs use it: VT-d first stage (spec §9.7, FSPM 0/1)
/// and AMD-Vi v2 / GCR3 guest tables. Linux builds it in `generic_pt/fmt/x86_64.h` (VT-d and,
/// since the generic_pt conversion, AMD v2); older kernels build AMD v2 in
/// `amd/io_pgtable_v2.c`, which writes A|D on tables and D on every leaf.
///
/// Levels are the spec's: 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E, 5 = PML5E. The index math
/// uses bits 47:12 (56:12). Input addresses are canonical (sign-extended from bit 47 or 56);
/// Linux's domain aperture is the lower half, `0 ... 2^(inputBits-1) - 1` (`apertureEnd`).
public struct X86FirstStage: RadixLevels, Equatable {
    /// Which Linux code writes the descriptors.
    public enum Encoding: String, Sendable {
        /// `generic_pt/fmt/x86_64.h` and the Intel driver's first stage: tables `P|RW|U|A`,
        /// leaves `P|U|A` (+ `RW|D` if writable).
        case iommupt
        /// `amd/io_pgtable_v2.c`: tables `P|RW|U|A|D`, leaves `P|U|A|D` (+ `RW` if writable).
        case amdIOPgtableV2
    }

    public let levelCount: Int
    /// 1 GiB pages: VT-d CAP.FS1GP (bit 56); always on AMD v2 (`AMD_IOMMU_PGSIZES_V2`).
    public let gigabytePages: Bool
    public let encoding: Encoding
    /// The walker's MAXPHYADDR: address bits 51:`physicalAddressBits` of every entry are
    /// reserved (VT-d spec §9.7: bits above the host address width; 52 = none).
    public let physicalAddressBits: Int
    /// Bit 63 is reserved rather than XD (VT-d spec 3.x §9.7: XD is reserved unless the PASID
    /// entry sets NXE, which Linux never does; AMD-Vi v2 tables keep it as NX).
    public let executeDisableReserved: Bool

    public init(levels: Int = 4, gigabytePages: Bool = true, encoding: Encoding = .iommupt, physicalAddressBits: Int = 52,
                executeDisableReserved: Bool = false) {
        precondition(levels == 4 || levels == 5, "x86-64 paging has 4 or 5 levels")
        levelCount = levels
        self.gigabytePages = gigabytePages
        self.encoding = encoding
        self.physicalAddressBits = min(max(physicalAddressBits, 12), 52)
        self.executeDisableReserved = executeDisableReserved
    }

    /// 48 or 57.
    public init(addressWidth: Int, gigabytePages: Bool = true, encoding: Encoding = .iommupt) {
        self.init(levels: (addressWidth - 12) / 9, gigabytePages: gigabytePages, encoding: encoding)
    }

    public var known: KnownFormat { .x86FirstStage(self) }

    public var name: String {
        "x86-64 \(levelCount)-level" + (encoding == .amdIOPgtableV2 ? " amd-v2" : "") + (gigabytePages ? "" : " no-1G")
    }

    public var levels: [Int] { Array((1...levelCount).reversed()) }
    public var rootLevel: Int { levelCount }
    /// 48 or 57: the canonical address width. Only the lower half is Linux's aperture.
    public var inputBits: Int { 12 + 9 * levelCount }
    /// VT-d PASID-entry FSPM: 0 = 4-level, 1 = 5-level.
    public var fspm: Int { levelCount - 4 }

    public var pageSizes: UInt64 { 4096 | 2 << 20 | (gigabytePages ? 1 << 30 : 0) }
    public var rootTableSize: UInt64 { 4096 }

    // MARK: Canonical addresses

    /// The end of Linux's aperture: the lower canonical half.
    public var apertureEnd: UInt64 { (1 << UInt64(inputBits - 1)) - 1 }

    /// Bits 63:(inputBits−1) all equal.
    public func isCanonical(_ address: UInt64) -> Bool {
        let top = address >> UInt64(inputBits - 1)
        return top == 0 || top == (.max >> UInt64(inputBits - 1))
    }

    /// The upper half is sign-extended addresses, which the root's upper entries translate.
    public func translates(_ input: UInt64) -> Bool { isCanonical(input) }

    /// Sign-extends from bit `inputBits − 1`.
    public func canonical(_ address: UInt64) -> UInt64 {
        let unused = UInt64(64 - inputBits)
        return UInt64(bitPattern: Int64(bitPattern: address << unused) >> Int64(unused))
    }

    // MARK: Bits (x86_64.h, io_pgtable_v2.c)

    public static let present: UInt64 = 1 << 0
    public static let readWrite: UInt64 = 1 << 1
    public static let user: UInt64 = 1 << 2
    public static let writeThrough: UInt64 = 1 << 3
    public static let cacheDisable: UInt64 = 1 << 4
    public static let accessed: UInt64 = 1 << 5
    public static let dirty: UInt64 = 1 << 6
    /// PS at the PDPTE and PDE; PAT at the PTE.
    public static let pageSize: UInt64 = 1 << 7
    public static let global: UInt64 = 1 << 8
    public static let executeDisable: UInt64 = 1 << 63
    /// `X86_64_FMT_OA`: bits 51:12.
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000


    public func leafSizes(level: Int) -> [UInt64] {
        switch level {
        case 1: [4096]
        case 2: [2 << 20]
        case 3: gigabytePages ? [1 << 30] : []
        default: []
        }
    }

    /// P clear: invalid. A present entry with a reserved bit set (`reservedBits`), or PS at
    /// levels 4 and 5 or at level 3 without 1 GiB pages, is a reserved-bit error and reads as
    /// invalid; the walker's driver names the fault (VT-d 0x72, AMD-Vi IO_PAGE_FAULT RZ).
    public func kind(of descriptor: UInt64, level: Int) -> DescriptorKind {
        guard descriptor & Self.present != 0 else { return .invalid }
        let leaf = level == 1 || descriptor & Self.pageSize != 0
        if descriptor & reservedBits(level: level, leaf: leaf) != 0 { return .invalid }
        if level == 1 { return .page }
        if leaf { return leafSizes(level: level).isEmpty ? .invalid : .block }
        return .table
    }

    /// The bits a present entry must leave clear (Intel SDM vol. 3A §4.5, tables 4-15 to
    /// 4-20; VT-d spec §9.7; QEMU `vtd_fpte_rsvd`): 51:MAXPHYADDR at every level, bit 63
    /// where XD is reserved, and the low frame bits of a large page, 20:13 of a 2 MiB PDE and
    /// 29:13 of a 1 GiB PDPTE (bit 12 is their PAT). Bits 62:52 are ignored.
    public func reservedBits(level: Int, leaf: Bool) -> UInt64 {
        var bits = Self.addressMask & ~((1 << UInt64(physicalAddressBits)) - 1)
        if executeDisableReserved { bits |= Self.executeDisable }
        if leaf && level == 2 { bits |= 0x1f_e000 }
        if leaf && level == 3 { bits |= 0x3fff_e000 }
        return bits
    }

    public func fields(of descriptor: UInt64, level: Int) -> [DescriptorField] {
        let catalogue = Field(encoding: encoding)
        let kind = kind(of: descriptor, level: level)
        guard kind != .invalid else { return [DescriptorField(catalogue.p, of: descriptor)] }
        var fields = [catalogue.p, catalogue.rw, catalogue.us, catalogue.pwt, catalogue.pcd, catalogue.a].map {
            DescriptorField($0, of: descriptor)
        }
        let address = outputAddress(of: descriptor, level: level, kind: kind)
        switch kind {
        case .table:
            if encoding == .amdIOPgtableV2 { fields.append(DescriptorField(catalogue.tableD, of: descriptor)) }
            fields += [
                DescriptorField(catalogue.tablePS, of: descriptor),
                DescriptorField(catalogue.nextLevelTable, address),
            ]
        case .page:
            fields += [catalogue.d, catalogue.pat, catalogue.g].map { DescriptorField($0, of: descriptor) }
            fields.append(DescriptorField(catalogue.outputAddress, address))
        default:
            fields += [catalogue.d, catalogue.ps, catalogue.g, catalogue.largePAT].map { DescriptorField($0, of: descriptor) }
            fields.append(DescriptorField(catalogue.outputAddress.at(shift(level: level)...51), address))
        }
        fields.append(DescriptorField(catalogue.xd, of: descriptor))
        return fields
    }

    /// The entry fields (Intel SDM vol. 3A §4.5 as VT-d spec §9.7 and AMD IOMMU spec §2.2.6
    /// use them), cited from the IOMMU spec of the encoding's driver.
    public struct Field: Sendable {
        public let p, rw, us, pwt, pcd, a, d, tableD, ps, tablePS, pat, largePAT, g, nextLevelTable, outputAddress, xd: FieldDefinition

        public init(encoding: Encoding) {
            let ref: SpecReference = encoding == .amdIOPgtableV2 ? .amdGuestPageTables : .vtdFirstStage
            p = FieldDefinition("P", 0...0, "present: 0 faults any access", ref)
            rw = FieldDefinition("R/W", 1...1, "1: writes allowed through this entry (reads need only P)", ref)
            us = FieldDefinition("U/S", 2...2, "1: user-mode (unprivileged) requests allowed", ref)
            pwt = FieldDefinition("PWT", 3...3, "page-level write-through (with PCD and PAT: the memory type)", ref)
            pcd = FieldDefinition("PCD", 4...4, "page-level cache disable", ref)
            a = FieldDefinition("A", 5...5, "accessed: set by the IOMMU when it uses the entry", ref)
            d = FieldDefinition("D", 6...6, "dirty: set by the IOMMU on a write through this leaf", ref)
            tableD = FieldDefinition("D", 6...6, "ignored in a table entry (io_pgtable_v2 writes it)", ref)
            ps = FieldDefinition("PS", 7...7, "page size: 1 maps a 2 MiB (PDE) or 1 GiB (PDPTE) page", ref)
            tablePS = FieldDefinition("PS", 7...7, "page size: 0, this entry points to a table", ref)
            pat = FieldDefinition("PAT", 7...7, "page attribute table index bit of a 4 KiB page", ref)
            largePAT = FieldDefinition("PAT", 12...12, "page attribute table index bit of a large page", ref)
            g = FieldDefinition("G", 8...8, "global: the IOTLB entry survives non-global invalidations", ref)
            nextLevelTable = FieldDefinition("next-level table", 12...51, "address of the next-level paging structure", ref)
            outputAddress = FieldDefinition("output address", 12...51, "base of the page the input address lands in", ref)
            xd = FieldDefinition("XD", 63...63, "execute disable (reserved unless the PASID entry enables it)", ref)
        }
    }

    /// `x86_64_pt_install_table` / `set_pgtable_attr`.
    public func encodeTable(_ tableAddress: UInt64, level: Int) -> UInt64 {
        var entry = (tableAddress & Self.addressMask) | Self.present | Self.readWrite | Self.user | Self.accessed
        if encoding == .amdIOPgtableV2 { entry |= Self.dirty }
        return entry
    }

    /// `x86_64_pt_iommu_set_prot` + `x86_64_pt_install_leaf_entry` / `set_pte_attr`. Read
    /// access is implied by P; XD is not set (VT-d deprecated it).
    public func encodeLeaf(_ output: UInt64, size: UInt64, level: Int, prot: IOMMUProt) -> UInt64 {
        var pte = (output & Self.addressMask) | Self.present | Self.user | Self.accessed
        switch encoding {
        case .iommupt:
            if prot.contains(.write) { pte |= Self.readWrite | Self.dirty }
        case .amdIOPgtableV2:
            pte |= Self.dirty
            if prot.contains(.write) { pte |= Self.readWrite }
        }
        if level != 1 { pte |= Self.pageSize }
        return pte
    }
}
