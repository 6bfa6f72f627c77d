/// The AMD-Vi device table as `drivers/iommu/amd/iommu.c` (v6.17) writes it, the GCR3 table
/// of v2 domains, the IO_PAGE_FAULT flags, and the rules of a walk through the v1 (host) and
/// v2 (guest, x86-64 format) tables (AMD IOMMU spec 48882 §2.2; field names from
/// `amd_iommu_types.h`).
public enum AMDViDeviceTable {
    /// A DTE is 256 bits (`struct dev_table_entry`, four u64, written whole by `update_dte256`).
    public static let entrySize: UInt64 = 32
    /// DeviceIDs are 16-bit PCI requester IDs: a table of 64K DTEs (2 MiB), as Linux sizes it
    /// for a segment with `last_bdf = 0xffff`.
    public static let deviceIDBits = 16

    // MARK: DTE[0]

    /// `DTE_FLAG_V`.
    public static let valid: UInt64 = 1 << 0
    /// `DTE_FLAG_TV`: bits 127:2 hold translation information.
    public static let translationValid: UInt64 = 1 << 1
    /// `DTE_FLAG_HAD`: host access / dirty update (set only while dirty tracking is enabled).
    public static let hostAccessDirty: UInt64 = 3 << 7
    /// `DEV_ENTRY_MODE_SHIFT`: Mode (bits 11:9), the number of host table levels; 0 = no
    /// host translation, 7 reserved.
    public static let modeShift: UInt64 = 9
    /// `DTE_HOST_TRP`: the host page-table root pointer, bits 51:12.
    public static let rootMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// `DTE_FLAG_GIOV`: requests without a PASID are translated by the guest table of PASID 0.
    public static let guestIOProtection: UInt64 = 1 << 54
    /// `DTE_FLAG_GV`: the GCR3 table fields are valid.
    public static let guestValid: UInt64 = 1 << 55
    /// `DTE_GLX` (bits 57:56): GCR3 table levels − 1.
    public static let glxShift: UInt64 = 56
    /// `DTE_GCR3_14_12` (bits 60:58).
    public static let gcr3LowShift: UInt64 = 58
    /// `DTE_FLAG_IR`, `DTE_FLAG_IW`: the root of the permission AND.
    public static let readPermission: UInt64 = 1 << 61
    public static let writePermission: UInt64 = 1 << 62

    // MARK: DTE[1], DTE[2]

    /// `DEV_DOMID_MASK`.
    public static let domainIDMask: UInt64 = 0xffff
    /// `DTE_GCR3_30_15` (DTE[1] bits 31:16) and `DTE_GCR3_51_31` (DTE[1] bits 63:43).
    public static let gcr3MiddleShift: UInt64 = 16
    public static let gcr3HighShift: UInt64 = 43
    /// `DTE_GPT_LEVEL_SHIFT` (DTE[2] bits 55:54): 0 = 4-level guest tables, 1 = 5-level.
    public static let guestLevelShift: UInt64 = 54

    /// `GCR3_VALID`: bit 0 of a GCR3 table entry (each 8 bytes: guest CR3 in 51:12).
    public static let gcr3Valid: UInt64 = 1

    // MARK: What Linux writes

    /// `clear_dte_entry` / `make_clear_dte` (the blocked domain and every detach since v6.13):
    /// `data128[0] = DTE_FLAG_V`, `data128[1] = 0`. TV = 0 and DomainID 0: a request needing
    /// a walk ends in an IO_PAGE_FAULT (spec Table 8 and the IO_PAGE_FAULT event table).
    public static let blockedWords: [UInt64] = [valid, 0, 0, 0]

    /// `set_dte_entry` for a v1 domain: root | Mode << 9 | IR | IW | V | TV in DTE[0], the
    /// DomainID in DTE[1] (no PPR, no ATS, no IVHD flags, dirty tracking not enabled).
    public static func hostWords(root: UInt64, mode: Int, domainID: UInt16) -> [UInt64] {
        [withHostTable(readPermission | writePermission | valid | translationValid, root: root, mode: mode), UInt64(domainID), 0, 0]
    }

    /// DTE[0] with the host table root pointer and Mode replaced (`set_dte_entry` after the
    /// table's top changed).
    public static func withHostTable(_ word0: UInt64, root: UInt64, mode: Int) -> UInt64 {
        word0 & ~(rootMask | 7 << modeShift) | (root & rootMask) | (UInt64(mode) & 7) << modeShift
    }

    /// `set_dte_entry` + `set_dte_gcr3_table` for a v2 domain: `iop.mode` is PAGE_MODE_NONE
    /// (no host table), GV, GLX and the GCR3 table pointer split over DTE[0] and DTE[1],
    /// GIOV (v2 page-table mode), the guest table level in DTE[2]; the DomainID is the
    /// device's own (`gcr3_info.domid`).
    public static func guestWords(gcr3Table: UInt64, glx: Int, guestLevels: Int, domainID: UInt16) -> [UInt64] {
        var word0 = readPermission | writePermission | valid | translationValid
        word0 |= guestValid | guestIOProtection | (UInt64(glx) & 3) << glxShift
        word0 |= ((gcr3Table >> 12) & 0x7) << gcr3LowShift
        var word1 = UInt64(domainID)
        word1 |= ((gcr3Table >> 15) & 0xffff) << gcr3MiddleShift
        word1 |= ((gcr3Table >> 31) & 0x1f_ffff) << gcr3HighShift
        let word2 = UInt64(guestLevels == 5 ? 1 : 0) << guestLevelShift
        return [word0, word1, word2, 0]
    }

    /// `__get_gcr3_pte`: the GCR3 table index of `pasid` at `level` (GLX down to 0), 9 bits
    /// per level.
    public static func gcr3Index(_ pasid: UInt32, level: Int) -> UInt64 { UInt64(pasid >> UInt32(9 * level)) & 0x1ff }

    /// `get_gcr3_levels`: GLX for a GCR3 table holding `pasids` PASIDs (9 bits per level).
    public static func gcr3Levels(pasids: UInt64) -> Int {
        let order = pasids <= 1 ? 0 : 64 - (pasids - 1).leadingZeroBitCount
        return order == 0 ? 0 : (order + 8) / 9 - 1
    }

    // MARK: DTE[2] (interrupt remapping)

    /// `DTE_IRQ_REMAP_ENABLE`: IV, the interrupt fields are valid.
    public static let interruptValid: UInt64 = 1
    /// `DTE_INTTABLEN_MASK` (bits 4:1): the table holds 2^IntTabLen IRTEs.
    public static let interruptTableLengthShift: UInt64 = 1
    /// `DTE_IRQ_PHYS_ADDR_MASK`: the interrupt remapping table root, bits 51:6.
    public static let interruptTableMask: UInt64 = 0x000F_FFFF_FFFF_FFC0
    /// `DTE_IRQ_REMAP_INTCTL_MASK` (bits 61:60): 0 abort, 1 forward unmapped, 2 remap, 3 reserved.
    public static let interruptControlShift: UInt64 = 60

    /// The 256-bit DTE as the IOMMU decodes it.
    public struct Entry: Sendable, Equatable {
        public var words: [UInt64]

        /// Missing words read as zero and extra ones are dropped, so a DTE dumped short
        /// (a truncated log) decodes without trapping.
        public init(words: [UInt64]) {
            self.words = Array((words + [UInt64](repeating: 0, count: max(0, 4 - words.count))).prefix(4))
        }

        public var valid: Bool { words[0] & AMDViDeviceTable.valid != 0 }
        public var translationValid: Bool { words[0] & AMDViDeviceTable.translationValid != 0 }
        public var mode: Int { Int((words[0] >> AMDViDeviceTable.modeShift) & 7) }
        public var root: UInt64 { words[0] & AMDViDeviceTable.rootMask }
        /// HAD (bits 8:7): host-table Access/Dirty update enable.
        public var hostAccessDirty: UInt64 { (words[0] >> 7) & 3 }
        /// IR and IW: the rights every walk starts from.
        public var rights: AccessRights {
            var rights: AccessRights = []
            if words[0] & AMDViDeviceTable.readPermission != 0 { rights.insert(.read) }
            if words[0] & AMDViDeviceTable.writePermission != 0 { rights.insert(.write) }
            return rights
        }
        public var guestValid: Bool { words[0] & AMDViDeviceTable.guestValid != 0 }
        public var guestIOProtection: Bool { words[0] & AMDViDeviceTable.guestIOProtection != 0 }
        public var glx: Int { Int((words[0] >> AMDViDeviceTable.glxShift) & 3) }
        public var gcr3Table: UInt64 {
            ((words[0] >> AMDViDeviceTable.gcr3LowShift) & 0x7) << 12
                | ((words[1] >> AMDViDeviceTable.gcr3MiddleShift) & 0xffff) << 15
                | ((words[1] >> AMDViDeviceTable.gcr3HighShift) & 0x1f_ffff) << 31
        }
        public var domainID: UInt16 { UInt16(words[1] & AMDViDeviceTable.domainIDMask) }
        public var guestLevels: Int { (words[2] >> AMDViDeviceTable.guestLevelShift) & 3 == 1 ? 5 : 4 }
        /// IV: interrupts are remapped through the table below.
        public var interruptValid: Bool { words[2] & AMDViDeviceTable.interruptValid != 0 }
        /// IntTabLen: log2 of the table's IRTE count (Linux writes 9, 512 entries; 11 with 2K support).
        public var interruptTableLength: Int { Int((words[2] >> AMDViDeviceTable.interruptTableLengthShift) & 0xf) }
        public var interruptTable: UInt64 { words[2] & AMDViDeviceTable.interruptTableMask }
        public var interruptControl: Int { Int((words[2] >> AMDViDeviceTable.interruptControlShift) & 3) }

        /// The fields the translation walk reads (DTE[0] and the DomainID), as the DTE view shows them.
        public var translationFields: [DescriptorField] {
            typealias F = Field
            return [F.v, F.tv, F.had, F.mode].map { DescriptorField($0, words: words) } + [
                DescriptorField(F.pageTableRoot, words[0] & AMDViDeviceTable.rootMask),
            ] + [F.gv, F.glx, F.ir, F.iw, F.domainID].map { DescriptorField($0, words: words) }
        }

        /// The DTE fields the translation reads (AMD IOMMU spec §2.2.2), bits numbered across
        /// the four words, as `amd_iommu_types.h` names them.
        public enum Field {
            private static let ref = SpecReference.amdDTE
            public static let v = FieldDefinition("V", 0...0, "valid: 0 passes the device's DMA through untranslated", ref)
            public static let tv = FieldDefinition("TV", 1...1, "translation information valid: 0 passes DMA untranslated", ref)
            public static let had = FieldDefinition("HAD", 7...8, "host access/dirty updates: 00 off, 01 A, 11 A and D", ref)
            public static let mode = FieldDefinition("Mode", 9...11, "host page table levels (0: no translation, 1-6)", ref)
            public static let pageTableRoot = FieldDefinition("PageTableRoot", 12...51, "address of the host (v1) page table's root", ref)
            public static let gv = FieldDefinition("GV", 55...55, "guest translation valid: the GCR3 table is used", ref)
            public static let glx = FieldDefinition("GLX", 56...57, "GCR3 table levels: 00 one, 01 two, 10 three", ref)
            public static let ir = FieldDefinition("IR", 61...61, "read permission for the device", ref)
            public static let iw = FieldDefinition("IW", 62...62, "write permission for the device", ref)
            public static let domainID = FieldDefinition("DomainID", 64...79, "domain ID tagging the IOTLB entries", ref)
            /// A GCR3 table entry (guest translation, §2.2.6).
            public static let gcr3V = FieldDefinition("V", 0...0, "valid: the PASID's guest CR3 or next GCR3 level exists", .amdGuestPageTables)
            public static let gcr3 = FieldDefinition("GCR3", 12...51, "guest CR3: the PASID's guest page table (or next GCR3 level)", .amdGuestPageTables)
        }

        /// Every field of the 256-bit DTE (AMD IOMMU spec 48882 "Device Table Entry Format";
        /// `DEV_ENTRY_*` and `DTE_*` in `amd_iommu_types.h`), bits numbered across the four
        /// words: the translation fields, then the guest, ATS, exclusion and interrupt ones.
        public var fields: [DescriptorField] {
            translationFields + [
                field("PPR", 52...52), field("GPRP", 53...53), field("GIOV", 54...54),
                DescriptorField("GCR3TableRoot", 58...127, gcr3Table),
                field("I", 96...96), field("SE", 97...97), field("SA", 98...98), field("IoCtl", 99...100),
                field("Cache", 101...101), field("SD", 102...102), field("EX", 103...103), field("SysMgt", 104...105),
                field("IV", 128...128), field("IntTabLen", 129...132), field("IG", 133...133),
                DescriptorField("InterruptTableRoot", 134...179, interruptTable),
                field("GuestPagingMode", 182...183), field("InitPass", 184...184), field("EIntPass", 185...185),
                field("NMIPass", 186...186), field("IntCtl", 188...189), field("Lint0Pass", 190...190),
                field("Lint1Pass", 191...191),
            ]
        }

        /// A field within one word, its bits numbered across the DTE.
        private func field(_ name: String, _ bits: ClosedRange<Int>) -> DescriptorField {
            let word = words[bits.lowerBound / 64], low = bits.lowerBound % 64
            return DescriptorField(name, bits, DescriptorField(name, low...(low + bits.count - 1), of: word).value)
        }
    }

    /// What the IOMMU keeps of a DeviceID's DTE (and GCR3[0]) until INVALIDATE_DEVTAB_ENTRY.
    struct CachedConfiguration {
        var dte: Entry
        /// The v1 host table (Mode 1-6).
        var host: AMDv1?
        /// The v2 guest table of PASID 0 and its root (GV and GIOV with a valid GCR3[0]).
        var guest: X86FirstStage?
        var guestRoot: UInt64?
    }
}

/// How AMD-Vi walks name faults and grant rights, for the v1 host table (IR/IW in bits 61 and
/// 62 of every PDE and PTE, ANDed from the DTE down) and the v2 guest table (x86-64 R/W).
///
/// Faults (AMD IOMMU spec 48882 §2.5, the IO_PAGE_FAULT event; `amd_iommu_report_page_fault`): a non-present entry or an input beyond the table
/// is IO_PAGE_FAULT with PR = 0 (flags 0x0000 read, 0x0020 write); a present leaf whose
/// rights refuse the access sets PR|PE (0x0050 read, 0x0070 write); a fetch that hits no
/// memory is a PAGE_TAB_HARDWARE_ERROR whose address is the entry's. A present entry with a
/// reserved encoding (RZ) and skipped-level bits are added after the walk by `AMDVi`, which
/// sees the descriptors.
struct AMDViWalkRules: WalkRules {
    enum Table { case host, guest }
    var table: Table
    /// The requester, reported with the event.
    var deviceID: UInt16
    /// The DTE's DomainID, reported with the event.
    var domainID: UInt16
    /// The request's PASID: the event sets GN and names it instead of the DomainID.
    var pasid: UInt32?
    /// The request's address (the IO_PAGE_FAULT's `address`).
    var address: UInt64

    /// Bits 51:12 hold every address: nothing can exceed the output size.
    var outputBits: Int { 64 }

    func tableRights(_ descriptor: UInt64, level: Int) -> AccessRights {
        switch table {
        case .host:
            var rights: AccessRights = []
            if descriptor & AMDv1.readPermission != 0 { rights.insert(.read) }
            if descriptor & AMDv1.writePermission != 0 { rights.insert(.write) }
            return rights
        case .guest:
            // Present implies read; R/W (bit 1) allows writes below.
            return descriptor & X86FirstStage.readWrite != 0 ? .readWrite : .read
        }
    }

    func leafRights(_ descriptor: UInt64, level: Int) -> AccessRights { tableRights(descriptor, level: level) }

    /// No Access flag fault: the A and D bits are the IOMMU's to set, never a reason to fault.
    func leafFault(_ descriptor: UInt64, level: Int) -> WalkFaultKind? { nil }

    func fault(_ kind: WalkFaultKind, stage: TranslationStage, level: Int, access: AccessRights) -> TranslationFault {
        var flags = AMDViEvent.Flags(access: access)
        switch kind {
        case .externalAbort(let entry):
            return AMDViEvent(.PAGE_TAB_HARDWARE_ERROR, deviceID: deviceID, domainID: domainID, pasid: pasid, address: entry,
                              flags: flags)
                .fault(stage, level: level, origin: .walk)
        case .permission:
            flags.formUnion([.PR, .PE])
        case .addressSize:
            flags.formUnion([.PR, .RZ])
        case .inputRange, .translation, .accessFlag:
            break
        }
        return event(.IO_PAGE_FAULT, flags: flags).fault(stage, level: level, origin: .walk)
    }

    /// An event about this request (its DeviceID, DomainID or PASID, and address).
    func event(_ type: AMDViEvent.EventType, flags: AMDViEvent.Flags) -> AMDViEvent {
        AMDViEvent(type, deviceID: deviceID, domainID: domainID, pasid: pasid, address: address, flags: flags)
    }
}
