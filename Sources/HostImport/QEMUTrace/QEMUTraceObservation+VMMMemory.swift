import IOMMUCore

/// What the trace itself says about the VMM memory behind a shadowed translation: which VMM
/// VA each IOAS maps at the IOVA (the `map_dma` lines so far) and which GPA that VA holds
/// (guest RAM as `vfio_listener_region_add_ram` lays it out). The model's user VAs are its
/// own, so the GPA a model mapping stands for is known only through these lines.
public struct ShadowedMemory: Sendable, Equatable {
    /// One IOAS's mapping of the IOVA in the trace.
    public struct Mapping: Sendable, Equatable {
        public var ioas: UInt32
        /// The VMM VA the IOAS's `map_dma` gave the IOVA.
        public var vmmVA: UInt64
        /// The GPA that VMM VA holds; nil for memory that is no guest RAM the layout shows.
        public var gpa: UInt64?
    }

    /// Whether the trace showed any guest RAM layout before the translation.
    public var layoutKnown: Bool
    /// The IOASes that map the IOVA, by id (an array: most traces have one IOAS, and a
    /// timeline of a million translations holds one of these each).
    public var mappings: [Mapping]

    public func mapping(in ioas: UInt32) -> Mapping? { mappings.first { $0.ioas == ioas } }
}

extension QEMUTraceObservation {
    /// The records with each translation given the VMM memory the trace showed before it
    /// (none while the trace has shown no map_dma and no guest RAM).
    /// Successful `map_dma`/`unmap_dma` lines keep each IOAS's IOVA → VMM VA areas;
    /// `vfio_listener_region_add_ram` (`"region_add [ram] 0x%"PRIx64" - 0x%"PRIx64" [%p]"`,
    /// traced while the device's address space is guest RAM itself, so its IOVAs are GPAs)
    /// gives GPA → VMM VA. A `region_del` does not remove RAM from the layout: the memory
    /// still holds those GPAs when the vIOMMU takes over the address space.
    static func withShadowedMemory(_ records: [QEMUTraceRecord]) -> [QEMUTraceRecord] {
        var records = records
        var areas: [UInt32: IntervalTree<UInt64>] = [:]
        var ram: [(range: IOVARange, va: UInt64)] = []
        for index in records.indices {
            switch records[index].event {
            case .backendMapDMA(_, let ioas, let iova, let size, let va, _, 0):
                guard size > 0, let last = iova.checkedAdd(size - 1) else { continue }
                let range = IOVARange(start: iova, last: last)
                if areas[ioas, default: IntervalTree()].intersects(range) { continue }
                areas[ioas, default: IntervalTree()].insert(range, va)
            case .backendUnmapDMA(_, let ioas, let iova, let size, 0):
                guard size > 0, let last = iova.checkedAdd(size - 1), var tree = areas[ioas] else { continue }
                let range = IOVARange(start: iova, last: last)
                var doomed: [UInt64] = []
                tree.forEach(intersecting: range) { area, _ in
                    if range.contains(area) { doomed.append(area.start) }
                    return true
                }
                for start in doomed { _ = tree.remove(startingAt: start) }
                areas[ioas] = tree
            case .other("vfio_listener_region_add_ram", let arguments):
                let words = ObservationWords(arguments)
                guard let start = words.after("[ram]").flatMap(parseHexWord), let last = words.after("-").flatMap(parseHexWord),
                      start <= last, let pointer = words.words.last, pointer.hasPrefix("["), pointer.hasSuffix("]"),
                      let va = parseHexWord(pointer.dropFirst().dropLast()) else { continue }
                let range = IOVARange(start: start, last: last)
                ram.removeAll { $0.range.intersects(range) }
                ram.append((range, va))
            case .observation(.translation(var translation)) where !areas.isEmpty || !ram.isEmpty:
                var view = ShadowedMemory(layoutKnown: !ram.isEmpty, mappings: [])
                for (ioas, tree) in areas.sorted(by: { $0.key < $1.key }) {
                    guard let (range, va) = tree.entry(containing: translation.iova) else { continue }
                    let mapped = va &+ (translation.iova - range.start)
                    let holder = ram.first { mapped >= $0.va && mapped - $0.va <= $0.range.last - $0.range.start }
                    view.mappings.append(ShadowedMemory.Mapping(ioas: ioas, vmmVA: mapped, gpa: holder.map { $0.range.start &+ (mapped - $0.va) }))
                }
                translation.shadow = view
                records[index].event = .observation(.translation(translation))
            default:
                continue
            }
        }
        return records
    }
}
