import CReference
import IOMMUCore

/// The C reference's simulated physical memory (`cref_memory`): flat 4K frames behind a
/// direct map of frame numbers. It owns its C allocations.
final class ReferenceMemory {
    let memory = UnsafeMutablePointer<cref_memory>.allocate(capacity: 1)

    /// Memory covering `frames` frames from `base`, with room for `poolFrames` of them.
    init(base: UInt64, frames: UInt64, poolFrames: UInt64) throws(RigFailure) {
        guard cref_memory_init(memory, base, frames, poolFrames) == 0 else {
            memory.deallocate()
            throw RigFailure(description: "the C reference has no memory for \(poolFrames) frames")
        }
    }

    /// A copy of every frame `physical` holds, at the same addresses: the C walks read the
    /// model's own descriptor words.
    convenience init(copying physical: PhysicalMemory) throws {
        let frames = physical.residentFrames
        let base = frames.first ?? PhysicalMemory.base
        let span = ((frames.last ?? base) - base) / PhysicalMemory.frameSize + 1
        try self.init(base: base, frames: span, poolFrames: UInt64(frames.count))
        for frame in frames {
            let words = physical.peek64(frame, count: Int(PhysicalMemory.frameSize / 8))
            guard words.withUnsafeBufferPointer({ cref_memory_load_frame(memory, frame, $0.baseAddress) }) == 0 else {
                throw RigFailure(description: "the C reference could not copy the frame at \(frame.hex)")
            }
        }
    }

    deinit {
        cref_memory_free(memory)
        memory.deallocate()
    }

    /// The output of one walk of `input`, or nil on a fault.
    func translate(_ input: UInt64, _ walk: ReferenceWalk) -> UInt64? {
        var output: UInt64 = 0
        let result = switch walk {
        case .stage2(let root): cref_walk(memory, root, input, &output)
        case .nested(let stage1Root, let stage2Root): cref_walk_nested(memory, stage1Root, stage2Root, input, &output)
        }
        return Int(result) == CREF_OK ? output : nil
    }

    /// One walk per IOVA in one C loop (`cref_walk_all`, `cref_walk_nested_all`): the sum of
    /// the outputs (wrapping), or nil when any walk faulted.
    func translateAll(_ iovas: [UInt64], _ walk: ReferenceWalk) -> UInt64? {
        var faults = 0
        let sum = iovas.withUnsafeBufferPointer { buffer in
            switch walk {
            case .stage2(let root): cref_walk_all(memory, root, buffer.baseAddress, buffer.count, &faults)
            case .nested(let stage1Root, let stage2Root):
                cref_walk_nested_all(memory, stage1Root, stage2Root, buffer.baseAddress, buffer.count, &faults)
            }
        }
        return faults == 0 ? sum : nil
    }

    /// `cref_map_4k`: maps `pages` 4K pages from `iova` to `output` under `root`, writing
    /// `output | attributes` leaves; false when the pool runs out.
    func map4K(root: UInt64, iova: UInt64, output: UInt64, pages: UInt64, attributes: UInt64) -> Bool {
        cref_map_4k(memory, root, iova, output, pages, attributes) == 0
    }

    /// A zeroed frame (a table root), or nil when the pool is full.
    func allocateFrame() -> UInt64? {
        let frame = cref_memory_allocate_frame(memory)
        return frame == 0 ? nil : frame
    }

    /// Bytes of the frames handed out or copied in.
    var residentBytes: UInt64 { memory.pointee.pool_used * PhysicalMemory.frameSize }
}

/// What a C walk starts from: the root of a stage-2 table, or a guest's stage-1 root (an
/// IPA) over a stage 2.
enum ReferenceWalk {
    case stage2(root: UInt64)
    case nested(stage1Root: UInt64, stage2Root: UInt64)
}

/// The C reference's translations as the model makes them (`cref_translate_all`): one
/// stream's STE (and CD) from a configuration cache, an IOTLB probe, and on a miss the walk
/// over `memory` and an IOTLB fill.
final class ReferenceTranslator {
    let memory: ReferenceMemory
    private let cache = UnsafeMutablePointer<cref_configuration_cache>.allocate(capacity: 1)
    private let iotlb = UnsafeMutablePointer<cref_iotlb>.allocate(capacity: 1)
    static let streamID: UInt32 = 1

    /// The configuration of a stream walking `walk`, with an IOTLB of room for `entries`.
    init(memory: ReferenceMemory, walk: ReferenceWalk, entries: Int) throws(RigFailure) {
        self.memory = memory
        cache.initialize(to: cref_configuration_cache())
        guard cref_iotlb_init(iotlb, entries) == 0 else {
            cache.deallocate()
            iotlb.deallocate()
            throw RigFailure(description: "the C reference has no memory for \(entries) IOTLB entries")
        }
        switch walk {
        case .stage2(let root): cref_configuration_add_ste(cache, Self.streamID, root, 1, 0)
        case .nested(let stage1Root, let stage2Root):
            cref_configuration_add_ste(cache, Self.streamID, stage2Root, 1, 1)
            cref_configuration_add_cd(cache, Self.streamID, stage1Root, 1)
        }
    }

    deinit {
        cref_iotlb_free(iotlb)
        iotlb.deallocate()
        cache.deallocate()
    }

    /// Empties the IOTLB, so that every translation walks again.
    func invalidateAll() { cref_iotlb_clear(iotlb) }

    /// One translation per IOVA in one C loop: the sum of the outputs (wrapping), or nil
    /// when any translation faulted. `serial`: each translation waits for the one before.
    func translateAll(_ iovas: [UInt64], serial: Bool = false) -> UInt64? {
        var faults = 0
        let sum = iovas.withUnsafeBufferPointer {
            cref_translate_all(memory.memory, cache, iotlb, Self.streamID, $0.baseAddress, $0.count, &faults, serial ? 1 : 0)
        }
        return faults == 0 ? sum : nil
    }
}

/// The C reference's IOTLB (`cref_iotlb`), one tag, filled with given translations.
final class ReferenceIOTLB {
    let iotlb = UnsafeMutablePointer<cref_iotlb>.allocate(capacity: 1)
    static let tag: UInt16 = 1

    init(translations: [(iova: UInt64, output: UInt64)]) throws(RigFailure) {
        guard cref_iotlb_init(iotlb, translations.count) == 0 else {
            iotlb.deallocate()
            throw RigFailure(description: "the C reference has no memory for \(translations.count) IOTLB entries")
        }
        for (iova, output) in translations { cref_iotlb_insert(iotlb, Self.tag, iova, output) }
    }

    deinit {
        cref_iotlb_free(iotlb)
        iotlb.deallocate()
    }

    /// `cref_iotlb_lookup`: the output of a hit, or nil on a miss.
    func lookup(_ iova: UInt64) -> UInt64? {
        var output: UInt64 = 0
        return cref_iotlb_lookup(iotlb, Self.tag, iova, &output) == 1 ? output : nil
    }

    /// One probe per IOVA in one C loop (`cref_iotlb_lookup_all`): the sum of the outputs
    /// (wrapping), or nil when any probe missed. `serial`: each probe waits for the one before.
    func lookupAll(_ iovas: [UInt64], serial: Bool = false) -> UInt64? {
        var misses = 0
        let sum = iovas.withUnsafeBufferPointer {
            cref_iotlb_lookup_all(iotlb, Self.tag, $0.baseAddress, $0.count, &misses, serial ? 1 : 0)
        }
        return misses == 0 ? sum : nil
    }
}
