/// Where a specification defines something: a document and a section number, printed the
/// same way everywhere (`SMMUv3 spec 5.2 (STE)`).
public struct SpecReference: Sendable, Hashable, CustomStringConvertible {
    public enum Document: String, Sendable, CaseIterable {
        /// Arm Architecture Reference Manual for A-profile, DDI 0487 K.a.
        case armARM = "Arm ARM"
        /// Arm System Memory Management Unit Architecture Specification, SMMU v3, IHI 0070.
        case smmuV3 = "SMMUv3 spec"
        /// Intel Virtualization Technology for Directed I/O Architecture Specification.
        case vtd = "VT-d spec"
        /// AMD I/O Virtualization Technology (IOMMU) Specification, 48882.
        case amdIOMMU = "AMD IOMMU spec"
    }

    public var document: Document
    /// The section number (`D8.3`, `5.2`, `9.7`, `2.2.3`).
    public var section: String
    /// What the section describes, when the number alone does not say (`STE`).
    public var topic: String?

    public init(_ document: Document, _ section: String, _ topic: String? = nil) {
        self.document = document
        self.section = section
        self.topic = topic
    }

    public var description: String {
        "\(document.rawValue) \(section)" + (topic.map { " (\($0))" } ?? "")
    }

    /// Arm ARM K.a D8.3: VMSAv8-64 translation table descriptor formats.
    public static let armDescriptors = SpecReference(.armARM, "D8.3")
    public static let smmuSTE = SpecReference(.smmuV3, "5.2", "STE")
    public static let smmuL1CD = SpecReference(.smmuV3, "5.3", "L1CD")
    public static let smmuCD = SpecReference(.smmuV3, "5.4", "CD")
    public static let vtdRootEntry = SpecReference(.vtd, "9.1", "root entry")
    public static let vtdScalableRootEntry = SpecReference(.vtd, "9.2", "scalable-mode root entry")
    public static let vtdContextEntry = SpecReference(.vtd, "9.3", "context entry")
    public static let vtdScalableContextEntry = SpecReference(.vtd, "9.4", "scalable-mode context entry")
    public static let vtdPASIDDirectoryEntry = SpecReference(.vtd, "9.5", "PASID directory entry")
    public static let vtdPASIDEntry = SpecReference(.vtd, "9.6", "PASID table entry")
    public static let vtdFirstStage = SpecReference(.vtd, "9.7", "first-stage paging entries")
    public static let vtdSecondStage = SpecReference(.vtd, "9.8", "second-stage paging entries")
    public static let amdDTE = SpecReference(.amdIOMMU, "2.2.2", "DTE")
    public static let amdHostPageTables = SpecReference(.amdIOMMU, "2.2.3", "host page tables")
    public static let amdGuestPageTables = SpecReference(.amdIOMMU, "2.2.6", "guest page tables")
}

/// A field as a specification defines it: its name, its bits (numbered across all of the
/// structure's words), one line on what it means, and the section that defines it. The
/// formats and drivers keep their catalogues of these beside the code that decodes them.
public struct FieldDefinition: Sendable, Hashable {
    public var name: String
    public var bits: ClosedRange<Int>
    public var meaning: String
    public var reference: SpecReference

    public init(_ name: String, _ bits: ClosedRange<Int>, _ meaning: String, _ reference: SpecReference) {
        self.name = name
        self.bits = bits
        self.meaning = meaning
        self.reference = reference
    }

    /// The same field at other bits (an address field whose low bit depends on the level).
    public func at(_ bits: ClosedRange<Int>) -> FieldDefinition {
        FieldDefinition(name, bits, meaning, reference)
    }
}

/// One field of an input address as a table format splits it: the index into the table at a
/// level, or the offset into the page.
public struct AddressIndexField: Sendable, Equatable {
    public enum Role: Sendable, Equatable {
        /// Indexes the table at this (architecture-numbered) level.
        case index(level: Int)
        /// The offset into a granule-sized page.
        case offset
    }

    public var role: Role
    /// The input address bits, low to high.
    public var bits: ClosedRange<Int>
    public var value: UInt64
}

extension PageTableFormat {
    /// The input bits that index a table at `level`: from the level's entry span up by the
    /// table's entry count (the root's counts all of a concatenated stage-2 root), no higher
    /// than the input bits.
    public func indexBits(level: Int) -> ClosedRange<Int> {
        let low = entrySpan(level: level).trailingZeroBitCount
        let entries = (level == rootLevel ? rootTableSize : tableSize) / 8
        return low...min(low + max(1, entries.trailingZeroBitCount) - 1, max(low, min(inputBits, 64) - 1))
    }

    /// `address` split into the index of each level, root first, and the page offset of the
    /// format's granule, computed from the format's levels, entry spans and table sizes
    /// (`indexBits`); the values are `index(of:level:)`'s.
    public func indexFields(of address: UInt64) -> [AddressIndexField] {
        var fields = levels.map { level in
            AddressIndexField(role: .index(level: level), bits: indexBits(level: level), value: UInt64(index(of: address, level: level)))
        }
        let offsetBits = granule.trailingZeroBitCount
        if offsetBits > 0 {
            fields.append(AddressIndexField(role: .offset, bits: 0...(offsetBits - 1), value: address & (granule - 1)))
        }
        return fields
    }
}
