/// A read of a configuration structure the IOMMU makes before any table walk, in hardware
/// order: what a translation read besides its descriptors (none when the configuration cache
/// answered).
public struct ConfigurationFetch: Sendable, Equatable {
    /// The structures, named as the specifications name them.
    public enum Structure: String, Sendable, CaseIterable {
        case streamTableEntry = "STE"
        case contextDescriptor = "CD"
        /// An SMMUv3 level-1 context descriptor of a two-level CD table (IHI0070 5.5).
        case contextDescriptorL1 = "L1CD"
        case rootEntry = "root entry"
        case contextEntry = "context entry"
        case pasidDirectoryEntry = "PASID directory entry"
        case pasidEntry = "PASID entry"
        case deviceTableEntry = "DTE"
        case gcr3Entry = "GCR3 entry"
    }

    public var structure: Structure
    /// The host physical address read.
    public var address: UInt64
    public var words: [UInt64]
}

extension PhysicalMemory {
    /// Reads `count` words of a configuration structure at `address`, logging the fetch in
    /// `fetches`; `fault` is the event for the first word that cannot be read.
    func fetch(_ structure: ConfigurationFetch.Structure, at address: UInt64, count: Int, into fetches: inout [ConfigurationFetch],
               fault: (UInt64) -> TranslationFault) throws(TranslationFault) -> [UInt64] {
        var words: [UInt64] = []
        for index in 0..<count {
            let word = address &+ UInt64(index) * 8
            do { words.append(try read64(word)) } catch { throw fault(word) }
        }
        fetches.append(ConfigurationFetch(structure: structure, address: address, words: words))
        return words
    }
}
