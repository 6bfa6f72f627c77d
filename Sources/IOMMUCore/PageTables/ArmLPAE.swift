/// The Arm VMSAv8-64 long-descriptor format as `io-pgtable-arm.c` builds it for the SMMUv3:
/// stage 1 (`ARM_64_LPAE_S1`) and stage 2 (`ARM_64_LPAE_S2`), 4K/16K/64K granules, every
/// IAS/OAS the kernel accepts, concatenated stage-2 root tables by the current rule, and
/// 52-bit output addresses packed into bits 15:12 with the 64K granule.
public struct ArmLPAE: PageTableFormat, Equatable {
    public enum Stage: Int, Sendable { case stage1 = 1, stage2 = 2 }

    public let stage: Stage
    /// `IO_PGTABLE_QUIRK_ARM_S2FWB`: stage-2 leaves use the FWB write-back attribute.
    public let s2fwb: Bool
    /// `IO_PGTABLE_QUIRK_ARM_HD`: writable stage-1 leaves carry DBM (dirty tracking).
    public let hardwareDirty: Bool
    // The geometry in bytes, so the format stays small: a walk step holds it by value
    // (`KnownFormat`), and a nested walk records 24 steps.
    private let storedIAS: Int8, storedOAS: Int8, storedStartLevel: Int8, storedPGDBits: Int8
    private let storedConcatenatedTables: Int8, storedPageShift: Int8
    /// 52-bit output addresses with the 64K granule: bits 51:48 sit in 15:12 (`OA[51:48]`).
    private let packsHighAddressBits: Bool

    public var granule: UInt64 {
        // A masking shift: the page shift is 12, 14 or 16.
        @inline(__always) get { 1 &<< UInt64(truncatingIfNeeded: storedPageShift) }
    }
    /// Input and output address sizes after Linux's clamping (48 bits, 52 with 64K).
    public var ias: Int { Int(storedIAS) }
    public var oas: Int { Int(storedOAS) }
    public var startLevel: Int { Int(storedStartLevel) }
    /// log2 of the root table's entry count (concatenation included).
    public var pgdBits: Int { Int(storedPGDBits) }
    /// How many tables the stage-2 root concatenates (1 when it does not).
    public var concatenatedTables: Int { Int(storedConcatenatedTables) }
    var pageShift: Int { Int(storedPageShift) }
    var bitsPerLevel: Int { pageShift &- 3 }

    public init(stage: Stage, granule: UInt64, ias requestedIAS: Int, oas requestedOAS: Int,
                s2fwb: Bool = false, hardwareDirty: Bool = false) {
        precondition([4096, 16384, 65536].contains(granule))
        self.stage = stage
        self.s2fwb = s2fwb
        self.hardwareDirty = hardwareDirty
        let limit = granule == 65536 ? 52 : 48
        let ias = min(requestedIAS, limit), oas = min(requestedOAS, limit)
        let pageShift = granule.trailingZeroBitCount
        let bitsPerLevel = pageShift - 3
        let vaBits = ias - pageShift
        let levelCount = (vaBits + bitsPerLevel - 1) / bitsPerLevel
        var start = 4 - levelCount
        var pgd = vaBits - bitsPerLevel * (levelCount - 1)
        var tables = 1
        // arm_lpae_concat_mandatory (Arm DDI0487 K.a R_DXBSH/R_SRKBC).
        if stage == .stage2 {
            let concatenate: Bool
            if granule == 16384 && start == 0 { concatenate = oas == 48 || ias == 48 }
            else if granule == 4096 && start == 0 { concatenate = oas == 40 || oas == 42 }
            else { concatenate = granule == 16384 && start == 1 && oas == 40 }
            if concatenate {
                tables = 1 << pgd
                pgd += bitsPerLevel
                start += 1
            }
        }
        storedIAS = Int8(clamping: ias)
        storedOAS = Int8(clamping: oas)
        storedPageShift = Int8(pageShift)
        storedStartLevel = Int8(clamping: start)
        storedPGDBits = Int8(clamping: pgd)
        storedConcatenatedTables = Int8(clamping: tables)
        packsHighAddressBits = granule == 65536 && oas > 48
    }

    /// Intermediate physical addresses (VMSAv8-64).
    public var intermediateAddressName: String { "IPA" }

    public var known: KnownFormat { .armLPAE(self) }

    public var name: String {
        "arm-lpae-s\(stage.rawValue) \(granule / 1024)K ias=\(ias) oas=\(oas)"
    }

    public var levels: [Int] { Array(startLevel...3) }
    public var rootLevel: Int { startLevel }
    public var leafLevel: Int { 3 }

    /// Arm's levels count up to 3, where a walk stops: the next never wraps.
    @inline(__always)
    public func nextLevel(after level: Int, descriptor: UInt64) -> Int { level &+ 1 }
    public var inputBits: Int { ias }

    public var pageSizes: UInt64 {
        switch granule {
        case 4096: 4096 | 2 << 20 | 1 << 30
        case 16384: 16384 | 32 << 20
        default: 65536 | 512 << 20 | (oas > 48 ? 4 << 40 : 0)
        }
    }

    /// `ARM_LPAE_PGD_SIZE`, allocated as whole pages.
    public var rootTableSize: UInt64 { 8 << UInt64(pgdBits) }
    public var tableSize: UInt64 { granule }

    /// `ARM_LPAE_LVL_SHIFT`.
    /// The input bit a level's index starts at. Levels run from the start level to 3 and the
    /// geometry is a few bits wide, so the arithmetic cannot wrap.
    @inline(__always)
    func shift(level: Int) -> Int { pageShift &+ (3 &- level) &* bitsPerLevel }

    @inline(__always)
    public func index(of address: UInt64, level: Int) -> Int {
        let bits = level == startLevel ? pgdBits : bitsPerLevel
        // Masking shifts: a level of the walk (start level to 3) starts at bit 48 at most, and
        // takes 16 bits at most (a concatenated root).
        return Int(truncatingIfNeeded: (address &>> UInt64(truncatingIfNeeded: shift(level: level)))
            & ((1 &<< UInt64(truncatingIfNeeded: bits)) &- 1))
    }

    @inline(__always)
    public func entrySpan(level: Int) -> UInt64 { 1 << UInt64(truncatingIfNeeded: shift(level: level)) }

    /// A leaf maps its level's span (the protocol's rule, here where the walk inlines it).
    @inline(__always)
    public func leafSize(of descriptor: UInt64, level: Int) -> UInt64 { entrySpan(level: level) }

    public func leafSizes(level: Int) -> [UInt64] {
        guard level >= startLevel else { return [] }
        let size = entrySpan(level: level)
        return pageSizes & size != 0 ? [size] : []
    }

    @inline(__always)
    public func kind(of descriptor: UInt64, level: Int) -> DescriptorKind {
        switch descriptor & 0b11 {
        case 0b11: return level == 3 ? .page : .table
        case 0b01: return level == 3 || level < startLevel || pageSizes & entrySpan(level: level) == 0 ? .invalid : .block
        default: return .invalid
        }
    }

    /// `iopte_to_paddr`, masked to the leaf's alignment.
    @inline(__always)
    public func outputAddress(of descriptor: UInt64, level: Int, kind: DescriptorKind) -> UInt64 {
        var address = descriptor & Self.addressMask
        if packsHighAddressBits {
            address = (address | (address << 36)) & 0x000F_FFFF_FFFF_0000
        }
        // Both alignments are powers of two by construction: masks, without the checks.
        return address & ~((kind == .table ? granule : entrySpan(level: level)) &- 1)
    }

    /// `ARM_LPAE_PTE_ADDR_MASK`: bits 47:12.
    static let addressMask: UInt64 = 0x0000_FFFF_FFFF_F000

    /// `paddr_to_iopte`: 52-bit addresses fold bits 51:48 into 15:12.
    func encodeAddress(_ address: UInt64) -> UInt64 {
        if packsHighAddressBits { return (address | (address >> 36)) & Self.addressMask }
        return address & Self.addressMask
    }

    public func encodeTable(_ tableAddress: UInt64, level: Int) -> UInt64 {
        encodeAddress(tableAddress) | 0b11
    }

    /// `arm_lpae_prot_to_pte` and `__arm_lpae_init_pte`.
    public func encodeLeaf(_ output: UInt64, size: UInt64, level: Int, prot: IOMMUProt) -> UInt64 {
        var pte: UInt64
        switch stage {
        case .stage1:
            pte = prot.contains(.global) ? 0 : 1 << 11                        // nG
            if !prot.contains(.write) && prot.contains(.read) { pte |= 1 << 7 } // AP_RDONLY
            else if hardwareDirty { pte |= 1 << 51 }                          // DBM
            pte |= 1 << 6                                                     // AP_UNPRIV
            if prot.contains(.mmio) { pte |= 2 << 2 }                         // AttrIndx DEV
            else if prot.contains(.cache) { pte |= 1 << 2 }                   // AttrIndx CACHE
        case .stage2:
            pte = 0
            if prot.contains(.read) { pte |= 1 << 6 }                         // HAP_READ
            if prot.contains(.write) { pte |= 2 << 6 }                        // HAP_WRITE
            if prot.contains(.mmio) { pte |= 0x1 << 2 }                       // MEMATTR_DEV
            else if prot.contains(.cache) { pte |= (s2fwb ? 0x6 : 0xf) << 2 } // FWB_WB or OIWB
            else { pte |= 0x5 << 2 }                                          // MEMATTR_NC
        }
        pte |= prot.contains(.cache) ? 3 << 8 : 2 << 8                        // SH_IS / SH_OS
        if prot.contains(.noExec) { pte |= 3 << 53 }                          // XN
        pte |= 1 << 10                                                        // AF
        pte |= level == 3 ? 0b11 : 0b01
        return pte | encodeAddress(output)
    }

    /// The output or next-table address bits: 47 down to the level's span (the granule for
    /// a table); bits 51:48 of a 52-bit address sit in 15:12 (`OA[51:48]`).
    private func addressBits(level: Int, table: Bool) -> ClosedRange<Int> {
        (table ? pageShift : shift(level: level))...47
    }

    public func fields(of descriptor: UInt64, level: Int) -> [DescriptorField] {
        typealias F = Field
        let kind = kind(of: descriptor, level: level)
        guard kind != .invalid else { return [DescriptorField(F.valid, of: descriptor)] }
        var fields = [DescriptorField(F.valid, of: descriptor), DescriptorField(F.type, of: descriptor)]
        let address = outputAddress(of: descriptor, level: level, kind: kind)
        let wideAddress = packsHighAddressBits
        if kind == .table {
            fields.append(DescriptorField(F.nextLevelTable.at(addressBits(level: level, table: true)), address))
            if wideAddress { fields.append(DescriptorField(F.outputAddressHigh, of: descriptor)) }
            // Stage-2 table descriptors have no attributes (the bits are ignored).
            if stage == .stage1 { fields += [F.pxnTable, F.uxnTable, F.apTable, F.nsTable].map { DescriptorField($0, of: descriptor) } }
            return fields
        }
        let attributes = stage == .stage1 ? [F.attrIndx, F.ns, F.ap] : [F.memAttr, F.s2ap]
        fields += attributes.map { DescriptorField($0, of: descriptor) }
        fields += [DescriptorField(F.sh, of: descriptor), DescriptorField(F.af, of: descriptor)]
        if stage == .stage1 { fields.append(DescriptorField(F.nG, of: descriptor)) }
        if wideAddress { fields.append(DescriptorField(F.outputAddressHigh, of: descriptor)) }
        fields.append(DescriptorField(F.outputAddress.at(addressBits(level: level, table: false)), address))
        let execute = stage == .stage1 ? [F.pxn, F.uxn] : [F.xn0, F.xn1]
        fields += ([F.dbm, F.contiguous] + execute).map { DescriptorField($0, of: descriptor) }
        return fields
    }

    /// The descriptor fields (Arm ARM K.a D8.3), named as the Arm ARM and `io-pgtable-arm.c`
    /// name them; the address fields' low bits are the level's (`at`).
    public enum Field {
        private static let ref = SpecReference.armDescriptors
        public static let valid = FieldDefinition("valid", 0...0, "1: valid; 0: any access faults (translation fault)", ref)
        public static let type = FieldDefinition("type", 1...1, "descriptor type: 1 table (levels 0-2) or page (level 3), 0 block", ref)
        public static let nextLevelTable = FieldDefinition("next-level table", 12...47, "address of the next-level translation table", ref)
        public static let outputAddress = FieldDefinition("output address", 12...47, "base of the block or page the input address lands in", ref)
        public static let outputAddressHigh = FieldDefinition("OA[51:48]", 12...15, "output address bits 51:48 (52-bit OA, 64K granule)", ref)
        public static let pxnTable = FieldDefinition("PXNTable", 59...59, "privileged execute-never for every lookup below", ref)
        public static let uxnTable = FieldDefinition("UXNTable", 60...60, "unprivileged execute-never for every lookup below", ref)
        public static let apTable = FieldDefinition("APTable", 61...62, "limits the access permissions of every lookup below", ref)
        public static let nsTable = FieldDefinition("NSTable", 63...63, "the lookups below are non-secure", ref)
        public static let attrIndx = FieldDefinition("AttrIndx", 2...4, "index into the CD's MAIR: the memory type and cacheability", ref)
        public static let ns = FieldDefinition("NS", 5...5, "non-secure output address (secure streams only)", ref)
        public static let ap = FieldDefinition("AP", 6...7, "AP[2:1]: access permissions - 01 read/write, 11 read-only (bit 6: EL0 too)", ref)
        public static let memAttr = FieldDefinition("MemAttr", 2...5, "stage-2 memory type and cacheability (other encodings with FWB)", ref)
        public static let s2ap = FieldDefinition("S2AP", 6...7, "S2AP: stage-2 access permissions - bit 6 read, bit 7 write", ref)
        public static let sh = FieldDefinition("SH", 8...9, "shareability - 00 non-shareable, 10 outer, 11 inner shareable", ref)
        public static let af = FieldDefinition("AF", 10...10, "access flag: 0 faults on first use, or is set by HTTU", ref)
        public static let nG = FieldDefinition("nG", 11...11, "not global: the TLB entry is tagged with the CD's ASID", ref)
        public static let dbm = FieldDefinition("DBM", 51...51, "dirty bit modifier: a write makes it writable (HTTU dirty state)", ref)
        public static let contiguous = FieldDefinition("Contiguous", 52...52, "one of a run of entries the TLB may cache as one", ref)
        public static let pxn = FieldDefinition("PXN", 53...53, "privileged execute-never", ref)
        public static let uxn = FieldDefinition("UXN", 54...54, "unprivileged execute-never (XN)", ref)
        public static let xn0 = FieldDefinition("XN[0]", 53...53, "stage-2 execute-never, low bit (with FEAT_XNX: EL1 only)", ref)
        public static let xn1 = FieldDefinition("XN[1]", 54...54, "stage-2 execute-never, high bit: 1 no instruction fetch", ref)
    }

    // MARK: Register values

    /// TCR.TG0 / VTCR.TG0: 4K = 0, 64K = 1, 16K = 2.
    public var tg0: UInt64 { granule == 4096 ? 0 : granule == 65536 ? 1 : 2 }
    /// T0SZ / S2T0SZ.
    public var t0sz: UInt64 { UInt64(64 - ias) }
    /// The IPS/PS encoding of the output size.
    public var physicalSizeEncoding: UInt64 {
        UInt64([32, 36, 40, 42, 44, 48, 52].firstIndex(of: oas) ?? 5)
    }
    /// VTCR.SL0: `~sl & 3` with `sl = start_level + (granule == 4K ? 1 : 0)`.
    public var sl0: UInt64 { UInt64(~(startLevel + (granule == 4096 ? 1 : 0)) & 3) }
}
