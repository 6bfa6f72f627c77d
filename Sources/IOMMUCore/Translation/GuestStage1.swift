/// Where a nested domain's guest stage-1 table lives, found as the IOMMU finds it (VT-d:
/// the PASID entry's FSPTPTR, which is `pgtbl_addr`; SMMUv3: TTB0 of the guest CD, read at
/// the vSTE's S1ContextPtr through stage 2).
public struct GuestStage1Table {
    /// The root as the guest addresses it: an IPA (Arm) or a GPA (x86).
    public var root: UInt64
    public var format: any PageTableFormat
    /// The stage 2 that resolves the root and every table address below it.
    public var stage2: PagingDomain
    /// The guest CD the root comes from (Arm): its IPA and ASID.
    public var contextDescriptor: (address: UInt64, asid: UInt64)?
    /// CD.EPD0: TTB0 walks are disabled, so the table is never read.
    public var walksDisabled = false
}

/// Why a nested domain has no guest stage-1 table to show.
public enum GuestStage1Absence: Error, Sendable, Equatable {
    /// A selftest nested domain: an IOTLB array, no table.
    case selftest
    /// The vSTE has V = 0: DMA aborts.
    case streamTableEntryInvalid
    /// The vSTE's Config (bits 3:1) is not stage 1; 4 is bypass (stage 2 alone).
    case notStage1(config: UInt64)
    /// The guest CD at this IPA is not in guest RAM.
    case contextDescriptorUnreadable(address: UInt64)
    /// The guest CD at this IPA fails V, AA64, TG0 or T0SZ: C_BAD_CD.
    case contextDescriptorInvalid(address: UInt64)
}

extension NestedDomain {
    /// The guest's stage-1 table: `readGuest(address, count)` reads `count` words of guest RAM
    /// (through the parent's IOAS), nil where the guest has none.
    public func guestStage1Table(readGuest: (UInt64, Int) -> [UInt64]?) -> Result<GuestStage1Table, GuestStage1Absence> {
        switch configuration {
        case .selftest:
            return .failure(.selftest)
        case .vtdS1(_, let root, let width):
            return .success(GuestStage1Table(root: root, format: X86FirstStage(levels: width >= 57 ? 5 : 4), stage2: parent))
        case .armSMMUv3(let words):
            let ste = SMMUv3.StreamTableEntry(words: words + [UInt64](repeating: 0, count: max(0, 4 - words.count)))
            guard ste.valid else { return .failure(.streamTableEntryInvalid) }
            guard ste.config == .stage1 else { return .failure(.notStage1(config: (ste.words[0] >> 1) & 0x7)) }
            let address = ste.contextPointer
            guard let cdWords = readGuest(address, 2), cdWords.count == 2 else {
                return .failure(.contextDescriptorUnreadable(address: address))
            }
            let cd = SMMUv3.ContextDescriptor(words: cdWords)
            guard cd.valid, cd.aa64, let format = cd.stage1Format else { return .failure(.contextDescriptorInvalid(address: address)) }
            return .success(GuestStage1Table(root: cd.ttb0, format: format, stage2: parent, contextDescriptor: (address, cd.asid),
                                             walksDisabled: cd.epd0))
        }
    }
}

/// A range of a guest's stage-1 address space: the guest IOVAs one or more stage-1 leaves map,
/// the IPA/GPA the first of them maps to, and that address's host PA through stage 2.
public struct GuestMapping: Sendable, Equatable {
    public var iova: IOVARange
    /// The IPA (Arm) or GPA (x86) of `iova.start`.
    public var intermediate: UInt64
    /// The host physical address stage 2 gives `intermediate`; nil where it maps nothing.
    public var output: UInt64?

    public init(iova: IOVARange, intermediate: UInt64, output: UInt64?) {
        self.iova = iova
        self.intermediate = intermediate
        self.output = output
    }

    /// Whether `next` starts where this range's IPA/GPA and PA end, so both read as one range.
    func continues(into next: GuestMapping) -> Bool {
        let length = iova.last &- iova.start &+ 1
        guard next.intermediate == intermediate &+ length else { return false }
        switch (output, next.output) {
        case (let output?, let nextOutput?): return nextOutput == output &+ length
        case (nil, nil): return true
        default: return false
        }
    }
}
