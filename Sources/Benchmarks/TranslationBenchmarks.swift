import Foundation
import IOMMUCore

/// A rig's setup failed (a model error, not a bad parameter).
struct RigFailure: Error, CustomStringConvertible {
    let description: String
}

/// Two Arm SMMUv3 devices, one on a stage 2 and one nested, and the IOMMU they sit behind,
/// described as a platform.
private func armPlatform(devices: Int) throws -> Machine {
    let unit = IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(ArmSMMUv3.Configuration()))
    let platform = PlatformDescription(
        units: [unit], groups: (0..<devices).map { IOMMUGroup(id: UInt32($0)) },
        devices: (0..<devices).map { DeviceDescription(name: "dev\($0)", requesterID: .streamID(UInt32($0 + 1)), unit: "smmu0", group: UInt32($0)) })
    return try Machine(platform: platform, limits: .unlimited)
}

/// Translations per second on an Arm SMMUv3, cold (every translation walks: `cold` without a
/// step list, `cold_steps` with every step recorded, as the walk views ask) and warm (every
/// translation hits the IOTLB): a 4-level stage-2 walk, and a 4-level over 4-level nested walk;
/// each beside the C reference doing the same work over a copy of the same descriptors: for
/// the cold figures the stream's STE (and CD) from a configuration cache, an IOTLB probe, the
/// walk and the IOTLB fill (and the walks alone, `cold.c_walk_only_ns_per_op`); for the warm
/// figures a probe of a plain hash table. The Swift side goes through `IOMMUFD.answer` for
/// the figures without a step list and `IOMMUFD.translate` for `cold_steps` (the device's
/// STE from the configuration cache, its CD for the nested device).
public struct TranslationBenchmark {
    /// Up to 16 GiB of 4K-backed guest RAM, as `bench map`'s largest rig.
    public static let pageRange = 1...(1 << 22)
    /// Rounds of each figure, Swift and C interleaved; the medians are printed.
    static let rounds = 5

    public let pages: Int

    public init(pages: Int) throws(BenchmarkError) {
        self.pages = try Self.pageRange.check(pages, option: "--pages")
    }

    public func run(_ output: BenchmarkOutput) throws {
        let rig = try NestedRig(pages: pages)
        let reference = try ReferenceMemory(copying: rig.fd.machine.physical)
        let stage2Root = try rig.stage2Root()
        try measure("translate.stage2_4level", rig: rig, device: rig.stage2Device,
                    reference: reference, walk: .stage2(root: stage2Root), output)
        try measure("translate.nested_4x4", rig: rig, device: rig.nestedDevice,
                    reference: reference, walk: .nested(stage1Root: NestedRig.stage1Root, stage2Root: stage2Root), output)
        try measureLookup(rig.iovas(for: rig.stage2Device), output)
    }

    /// `IOTLB.lookup` alone: one 4K entry per IOVA under one tag, each probed once, beside
    /// the C reference probing its table of the same translations.
    private func measureLookup(_ iovas: [UInt64], _ output: BenchmarkOutput) throws {
        let iotlb = IOTLB(), tag = IOTLB.Tag(domain: UInt64(ReferenceIOTLB.tag), addressSpace: nil)
        for iova in iovas { iotlb.insert(IOTLB.Entry(tag: tag, input: iova, size: pageSize, output: iova, rights: .read)) }
        let reference = try ReferenceIOTLB(translations: iovas.map { ($0, $0) })
        var outputs: UInt64 = 0
        let probes = { (serial: Bool) throws(RigFailure) -> Double in
            var sum: UInt64?
            let elapsed = timed { sum = reference.lookupAll(iovas, serial: serial) }
            guard sum == outputs else { throw RigFailure(description: "translate.iotlb_lookup: the C reference's outputs differ from the model's") }
            return elapsed
        }
        try compareToC("translate.iotlb_lookup", operations: iovas.count, rounds: Self.rounds, swift: { _ in
            outputs = 0
            return timed {
                for iova in iovas { outputs &+= iotlb.lookup(tag, iova)?.output ?? 0 }
            }
        }, c: { _ in try probes(false) }, cSerial: { _ in try probes(true) }, to: output)
    }

    private func measure(_ name: String, rig: NestedRig, device: UInt32, reference: ReferenceMemory, walk: ReferenceWalk,
                         _ output: BenchmarkOutput) throws {
        let iovas = rig.iovas(for: device)
        let disagreement = RigFailure(description: "\(name): the C reference's outputs differ from the model's")
        var fetches = 0
        var outputs: UInt64 = 0
        // The C side translates as the model does: the stream's STE (and CD) from its
        // configuration cache, an IOTLB miss, the walk and the fill.
        let translator = try ReferenceTranslator(memory: reference, walk: walk, entries: pages)
        let cWalks = { (serial: Bool) throws(RigFailure) -> Double in
            var sum: UInt64?
            translator.invalidateAll()
            let elapsed = timed { sum = translator.translateAll(iovas, serial: serial) }
            guard sum == outputs else { throw disagreement }
            return elapsed
        }
        // Each cold figure's translation: its output and the descriptor reads it recorded.
        let coldFigures: [(suffix: String, translate: (UInt64) throws -> (output: UInt64, steps: Int))] = [
            ("cold", { iova in (try rig.answer(device: device, iova: iova).output, 0) }),
            ("cold_steps", { iova in
                let translation = try rig.translate(device: device, iova: iova, detail: .steps)
                return (translation.output, translation.steps.count)
            }),
        ]
        for (suffix, translate) in coldFigures {
            let figure = "\(name).\(suffix)"
            try compareToC(figure, operations: pages, rounds: Self.rounds, swift: { _ in
                fetches = 0
                outputs = 0
                // Every IOVA is a page of its own, translated once a round: each one misses.
                rig.smmu.iotlb.invalidateAll()
                return try timed {
                    for iova in iovas {
                        let translation = try translate(iova)
                        fetches += translation.steps
                        outputs &+= translation.output
                    }
                }
            }, c: { _ in try cWalks(false) }, cSerial: { _ in try cWalks(true) }, to: output)
            rig.smmu.iotlb.invalidateAll()
            try reportAllocations(figure, iovas, output) { _ = try translate($0) }
        }
        output("\(name).cold.fetches_per_translation: \(fetches / pages) reads")
        // The walks alone, without the configuration cache and the IOTLB: what the C side
        // spends on the descriptors themselves.
        let walkTimes = (0..<Self.rounds).map { _ in timed { _ = reference.translateAll(iovas, walk) } }
        output("\(name).cold.c_walk_only_ns_per_op: \(String(format: "%.1f", median(walkTimes) * 1e9 / Double(pages))) ns")
        let iotlb = try ReferenceIOTLB(translations: iovas.map { ($0, reference.translate($0, walk) ?? 0) })
        let probes = { (serial: Bool) throws(RigFailure) -> Double in
            var sum: UInt64?
            let elapsed = timed { sum = iotlb.lookupAll(iovas, serial: serial) }
            guard sum == outputs else { throw disagreement }
            return elapsed
        }
        try compareToC("\(name).warm", operations: pages, rounds: Self.rounds, swift: { _ in
            for iova in iovas { _ = try rig.translate(device: device, iova: iova) }
            return try timed {
                for iova in iovas { _ = try rig.answer(device: device, iova: iova) }
            }
        }, c: { _ in try probes(false) }, cSerial: { _ in try probes(true) }, to: output)
        try reportAllocations("\(name).warm", iovas, output) { _ = try rig.answer(device: device, iova: $0) }
    }

    /// `name.allocations_per_op`: the heap allocations of `translate` per IOVA, over all of them.
    private func reportAllocations(_ name: String, _ iovas: [UInt64], _ output: BenchmarkOutput,
                                   translate: (UInt64) throws -> Void) throws {
        let (allocations, _) = try countingAllocations { for iova in iovas { try translate(iova) } }
        output("\(name).allocations_per_op: \(String(format: "%.2f", Double(allocations) / Double(max(iovas.count, 1))))")
    }
}

/// Two devices on one SMMU: one on a 4K-backed nest-parent stage 2 alone, one on a nested
/// HWPT whose guest stage-1 tables map IOVA 0... onto the same guest RAM.
struct NestedRig {
    let fd: IOMMUFD
    let smmu: ArmSMMUv3
    let stage2Device: UInt32
    let nestedDevice: UInt32
    let pages: Int
    static let guestRAM: UInt64 = 0x4000_0000
    /// The guest's CD, then its stage-1 L0 and L1 tables.
    static let stage1Root = guestRAM + pageSize
    /// Guest RAM pages at the bottom set aside for the CD and the stage-1 tables: the CD,
    /// L0, L1, an L2 per 512 leaf tables and the leaf tables of 512 entries.
    let tablePages: Int

    /// The IOVAs translated for `device`: one per page, ascending from the bottom of what it maps.
    func iovas(for device: UInt32) -> [UInt64] {
        let base = device == stage2Device ? Self.guestRAM + UInt64(tablePages) * pageSize : 0
        return (0..<pages).map { UInt64($0) * pageSize + base }
    }

    /// A successful read translation of `iova` for `device`, with the steps `detail` asks for.
    func translate(device: UInt32, iova: UInt64, detail: WalkDetail = .steps) throws -> Translation {
        guard case .success(let translation)? = try fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read,
                                                                 detail: detail) else {
            throw failure(device, iova)
        }
        return translation
    }

    /// The answer alone of a successful read translation of `iova` for `device`.
    func answer(device: UInt32, iova: UInt64) throws -> TranslationAnswer {
        guard case .success(let answer)? = try fd.answer(deviceID: device, iova: iova, pasid: nil, access: .read) else {
            throw failure(device, iova)
        }
        return answer
    }

    private func failure(_ device: UInt32, _ iova: UInt64) -> RigFailure {
        RigFailure(description: "translation of \(iova.hex) for device \(device) failed")
    }

    /// The stage-2 table root, where the stage-2 device's walks start.
    func stage2Root() throws -> UInt64 {
        guard let iova = iovas(for: stage2Device).first, let first = try translate(device: stage2Device, iova: iova).steps.first else {
            throw RigFailure(description: "the stage-2 walk read no descriptor")
        }
        return first.table
    }

    init(pages: Int) throws {
        self.pages = pages
        let l3Tables = (pages + 511) / 512, l2Tables = (l3Tables + 511) / 512
        tablePages = 3 + l2Tables + l3Tables
        let machine = try armPlatform(devices: 2)
        guard let smmu = machine.iommus.first as? ArmSMMUv3, let plain = machine.device(named: "dev0"),
              let guest = machine.device(named: "dev1") else { throw RigFailure(description: "the Arm platform is incomplete") }
        self.smmu = smmu
        fd = IOMMUFD(machine: machine)
        stage2Device = try fd.bind(plain).rawValue
        nestedDevice = try fd.bind(guest).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        // Guest RAM backed by 4K pages: stage 2 walks all four levels.
        let length = UInt64(pages + tablePages) * pageSize
        let ram = try machine.mmap(length: length, alignment: pageSize)
        let flags = IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue
        _ = try fd.ioasMap(flags: flags, ioasID: ioas, userVA: ram, length: length, iova: Self.guestRAM)
        let parent = try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: stage2Device, ptID: ioas,
                                      userData: UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 0))).rawValue
        _ = try fd.attach(deviceID: stage2Device, ptID: parent)
        let viommu = try fd.viommuAlloc(flags: 0, type: VIOMMUType.armSMMUv3.rawValue, deviceID: nestedDevice, hwptID: parent).id.rawValue
        _ = try fd.vdeviceAlloc(viommuID: viommu, deviceID: nestedDevice, virtualID: 1)
        // The guest's CD and a 4-level stage 1 mapping IOVA i*4K to the guest RAM page i
        // after the tables (the stage-2 device's IOVAs translate the same pages).
        let cd = Self.guestRAM, l0 = Self.stage1Root, l1 = l0 + pageSize, l2 = l1 + pageSize
        let l3 = l2 + UInt64(l2Tables) * pageSize
        let cdWord0: UInt64 = 16 | 1 << 8 | 1 << 10 | 3 << 12 | 1 << 30 | 1 << 31 | 5 << 32 | 1 << 41 | 1 << 46 | 1 << 48
        try fd.guestWrite(ioasID: ioas, gpa: cd, values: [cdWord0, l0])
        try fd.guestWrite(ioasID: ioas, gpa: l0, values: [l1 | 3])
        try fd.guestWrite(ioasID: ioas, gpa: l1, values: (0..<l2Tables).map { l2 + UInt64($0) * pageSize | 3 })
        // The L2 tables sit side by side, so leaf table t's entry is the t-th word from the first.
        try fd.guestWrite(ioasID: ioas, gpa: l2, values: (0..<l3Tables).map { l3 + UInt64($0) * pageSize | 3 })
        for table in 0..<l3Tables {
            let count = min(512, pages - table * 512)
            let leaves = (0..<count).map { entry in
                (Self.guestRAM + UInt64(tablePages + table * 512 + entry) * pageSize) | 0xf43
            }
            try fd.guestWrite(ioasID: ioas, gpa: l3 + UInt64(table) * pageSize, values: leaves)
        }
        let vste: UInt64 = 1 | 5 << 1 | cd
        let nested = try fd.hwptAlloc(flags: 0, deviceID: nestedDevice, ptID: viommu,
                                      userData: UserData(IOMMUHWPTArmSMMUv3(ste: [vste, 0])))
        _ = try fd.attach(deviceID: nestedDevice, ptID: nested.rawValue)
    }
}

/// Page mappings per second into an Arm stage-1 domain: N 4K pages of 4K-backed memory
/// (beside the C reference's map loop writing the same leaves), and 16 x N pages of
/// THP-backed memory that map as 2M blocks; with the page-table memory and the process's
/// resident growth per mapped 4K page.
public struct MapBenchmark {
    /// At least one 2M block (32 pages x 16); at most 16 GiB of 4K pages and 256 GiB of
    /// blocks, which fit the process's 1 TiB of mmap space.
    public static let pageRange = 32...(1 << 22)
    /// Rounds of the 4K figure, Swift and C interleaved; the medians are printed.
    static let rounds = 3
    static let iova: UInt64 = 1 << 32

    public let pages: Int

    public init(pages: Int) throws(BenchmarkError) {
        self.pages = try Self.pageRange.check(pages, option: "--pages")
    }

    public func run(_ output: BenchmarkOutput) throws {
        let name = "map.4k_pages", bytes = UInt64(pages) * pageSize
        var leaf: (output: UInt64, attributes: UInt64) = (0, 0)
        var cResidentBytes: UInt64 = 0, swiftResident = 0.0
        try compareToC(name, operations: pages, rounds: Self.rounds, swift: { round in
            let domain = try MappedDomain(bytes: bytes, alignment: pageSize)
            let elapsed = try domain.map()
            if round == 0 {
                swiftResident = try domain.report(name, output)
                leaf = try domain.firstLeaf()
            }
            return elapsed
        }, c: { round in
            // The same tables in the C reference's flat frames: a root, then one table per
            // 512 entries at each level below it.
            let tables = UInt64(pages) / 512 + UInt64(pages) / (512 * 512) + 8
            let reference = try ReferenceMemory(base: PhysicalMemory.base, frames: tables, poolFrames: tables)
            guard let root = reference.allocateFrame() else { throw RigFailure(description: "the C reference has no root table") }
            var mapped = false
            let elapsed = timed {
                mapped = reference.map4K(root: root, iova: Self.iova, output: leaf.output, pages: UInt64(pages), attributes: leaf.attributes)
            }
            let last = Self.iova + bytes - pageSize
            guard mapped, reference.translate(last, .stage2(root: root)) == leaf.output + bytes - pageSize else {
                throw RigFailure(description: "\(name): the C reference's map loop did not map \(last.hex) as the model did")
            }
            cResidentBytes = reference.residentBytes
            return elapsed
        }, to: output)
        let resident = Double(cResidentBytes) / Double(pages)
        output("\(name).c_resident_bytes_per_4k_page: \(String(format: "%.1f", resident)) B")
        reportRatio("\(name).resident_ratio_to_c", swiftResident, to: resident, output)
        let blocks = try MappedDomain(bytes: bytes * 16, alignment: hugePageSize)
        report("map.2m_blocks", elapsed: try blocks.map(), operations: Int(bytes * 16 / hugePageSize), to: output)
        try blocks.report("map.2m_blocks", output)
    }
}

/// One device on an Arm stage-1 domain and `bytes` of memory backed in `alignment` chunks,
/// ready to map at `MapBenchmark.iova`.
private struct MappedDomain {
    let machine: Machine
    let fd: IOMMUFD
    let device: UInt32
    let ioas: UInt32
    let memory: UInt64
    let bytes: UInt64
    let residentBefore: Int

    init(bytes: UInt64, alignment: UInt64) throws {
        machine = try armPlatform(devices: 1)
        guard let device = machine.device(named: "dev0") else { throw RigFailure(description: "the Arm platform is incomplete") }
        fd = IOMMUFD(machine: machine)
        self.device = try fd.bind(device).rawValue
        ioas = try fd.ioasAlloc().rawValue
        _ = try fd.attach(deviceID: self.device, ptID: ioas)
        memory = try machine.mmap(length: bytes, alignment: alignment)
        self.bytes = bytes
        residentBefore = residentBytes()
    }

    /// Maps the memory; the seconds it took.
    func map() throws -> Double {
        try timed {
            _ = try fd.ioasMap(flags: IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue, ioasID: ioas,
                               userVA: memory, length: bytes, iova: MapBenchmark.iova)
        }
    }

    /// The first page's output address and the attribute bits of its leaf descriptor.
    func firstLeaf() throws -> (output: UInt64, attributes: UInt64) {
        guard case .success(let translation)? = try fd.translate(deviceID: device, iova: MapBenchmark.iova, pasid: nil, access: .read),
              let leaf = translation.steps.last else {
            throw RigFailure(description: "the mapped domain does not translate \(MapBenchmark.iova.hex)")
        }
        return (translation.output, leaf.descriptor & ~leaf.format.outputAddress(of: leaf.descriptor, level: leaf.level))
    }

    /// Memory per mapped 4K page and the cost of a fork of the mapped model; the process's
    /// resident growth per mapped 4K page.
    @discardableResult
    func report(_ name: String, _ output: BenchmarkOutput) throws -> Double {
        let mappedPages = Int(bytes / pageSize)
        output("\(name).gib_mapped: \(bytes >> 30) GiB")
        output("\(name).pagetable_bytes_per_4k_page: \(String(format: "%.3f", Double(machine.physical.residentBytes) / Double(mappedPages))) B")
        let resident = Double(residentBytes() - residentBefore) / Double(mappedPages)
        output("\(name).resident_bytes_per_4k_page: \(String(format: "%.1f", resident)) B")
        // A fork of the whole model (what `Session.fork()` copies): the objects, and one
        // shared reference per page-table frame.
        let beforeFork = residentBytes()
        let forkClock = ContinuousClock.now
        let fork = ModelCopy.copying { $0.copy(fd) }
        let forkTime = ContinuousClock.now - forkClock
        output("\(name).fork: \(milliseconds(forkTime)) ms")
        let frames = fork.machine.physical.residentFrames
        output("\(name).fork_resident_bytes: \(residentBytes() - beforeFork) B for \(frames.count) frames")
        // The fork's first write unshares the frame table (one reference per frame) and copies one frame.
        let beforeWrite = residentBytes()
        let writeClock = ContinuousClock.now
        try fork.machine.physical.write64(frames[0], fork.machine.physical.peek64(frames[0]))
        let writeTime = ContinuousClock.now - writeClock
        output("\(name).fork_first_write: \(milliseconds(writeTime)) ms")
        output("\(name).fork_first_write_resident_bytes: \(residentBytes() - beforeWrite) B")
        return resident
    }

    private func milliseconds(_ duration: Duration) -> String {
        String(format: "%.3f", Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15)
    }
}

/// The process's resident set (`/proc/self/statm`), in bytes.
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(pageSize) : 0
}
