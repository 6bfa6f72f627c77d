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

/// Translations per second on an Arm SMMUv3, cold (every translation walks) and warm (every
/// translation hits the IOTLB): a 4-level stage-2 walk, and a 4-level over 4-level nested walk.
public struct TranslationBenchmark {
    /// The guest's stage-1 leaf tables fit in the 60 table pages the rig reserves.
    public static let pageRange = 1...NestedRig.maximumPages

    public let pages: Int

    public init(pages: Int) throws(BenchmarkError) {
        self.pages = try Self.pageRange.check(pages, option: "--pages")
    }

    public func run(_ output: BenchmarkOutput) throws {
        let rig = try NestedRig(pages: pages)
        try measure("translate.stage2_4level", rig: rig, device: rig.stage2Device, output)
        try measure("translate.nested_4x4", rig: rig, device: rig.nestedDevice, output)
    }

    private func measure(_ name: String, rig: NestedRig, device: UInt32, _ output: BenchmarkOutput) throws {
        let iovas = (0..<pages).map { UInt64($0) * pageSize + rig.base(for: device) }
        var clock = ContinuousClock.now
        var fetches = 0
        for iova in iovas {
            rig.smmu.iotlb.invalidate { _ in true }
            guard case .success(let translation)? = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) else {
                throw RigFailure(description: "\(name): translation of \(iova.hex) failed")
            }
            fetches += translation.steps.count
        }
        report("\(name).cold", since: clock, operations: pages, to: output)
        output("\(name).cold.fetches_per_translation: \(fetches / pages) reads")
        _ = try iovas.map { try rig.fd.translate(deviceID: device, iova: $0, pasid: nil, access: .read) }
        clock = ContinuousClock.now
        for iova in iovas { _ = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) }
        report("\(name).warm", since: clock, operations: pages, to: output)
    }
}

/// Two devices on one SMMU: one on a 4K-backed nest-parent stage 2 alone, one on a nested
/// HWPT whose guest stage-1 tables map IOVA 0... onto the same guest RAM.
struct NestedRig {
    let fd: IOMMUFD
    let smmu: ArmSMMUv3
    let stage2Device: UInt32
    let nestedDevice: UInt32
    static let guestRAM: UInt64 = 0x4000_0000
    /// Guest RAM pages set aside for the CD and the stage-1 tables.
    static let tablePages = 64
    /// Leaf tables of 512 entries after the CD, L0, L1 and L2 tables.
    static let maximumPages = (tablePages - 4) * 512

    func base(for device: UInt32) -> UInt64 { device == stage2Device ? Self.guestRAM + 64 * pageSize : 0 }

    init(pages: Int) throws {
        let machine = try armPlatform(devices: 2)
        guard let smmu = machine.iommus.first as? ArmSMMUv3, let plain = machine.device(named: "dev0"),
              let guest = machine.device(named: "dev1") else { throw RigFailure(description: "the Arm platform is incomplete") }
        self.smmu = smmu
        fd = IOMMUFD(machine: machine)
        stage2Device = try fd.bind(plain).rawValue
        nestedDevice = try fd.bind(guest).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        // Guest RAM backed by 4K pages: stage 2 walks all four levels.
        let length = UInt64(pages + Self.tablePages) * pageSize
        let ram = try machine.mmap(length: length, alignment: pageSize)
        let flags = IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue
        _ = try fd.ioasMap(flags: flags, ioasID: ioas, userVA: ram, length: length, iova: Self.guestRAM)
        let parent = try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: stage2Device, ptID: ioas,
                                      userData: UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 0))).rawValue
        _ = try fd.attach(deviceID: stage2Device, ptID: parent)
        let viommu = try fd.viommuAlloc(flags: 0, type: VIOMMUType.armSMMUv3.rawValue, deviceID: nestedDevice, hwptID: parent).id.rawValue
        _ = try fd.vdeviceAlloc(viommuID: viommu, deviceID: nestedDevice, virtualID: 1)
        // The guest's CD and a 4-level stage 1 mapping IOVA i*4K to guest RAM page 64+i.
        let cd = Self.guestRAM, l0 = cd + pageSize, l1 = l0 + pageSize, l2 = l1 + pageSize
        let cdWord0: UInt64 = 16 | 1 << 8 | 1 << 10 | 3 << 12 | 1 << 30 | 1 << 31 | 5 << 32 | 1 << 41 | 1 << 46 | 1 << 48
        try fd.guestWrite(ioasID: ioas, gpa: cd, values: [cdWord0, l0])
        try fd.guestWrite(ioasID: ioas, gpa: l0, values: [l1 | 3])
        try fd.guestWrite(ioasID: ioas, gpa: l1, values: [l2 | 3])
        let l3Tables = (pages + 511) / 512
        for table in 0..<l3Tables {
            let l3 = l2 + UInt64(1 + table) * pageSize
            try fd.guestWrite(ioasID: ioas, gpa: l2 + UInt64(table) * 8, values: [l3 | 3])
            let count = min(512, pages - table * 512)
            let leaves = (0..<count).map { entry in
                (Self.guestRAM + UInt64(64 + table * 512 + entry) * pageSize) | 0xf43
            }
            try fd.guestWrite(ioasID: ioas, gpa: l3, values: leaves)
        }
        let vste: UInt64 = 1 | 5 << 1 | cd
        let nested = try fd.hwptAlloc(flags: 0, deviceID: nestedDevice, ptID: viommu,
                                      userData: UserData(IOMMUHWPTArmSMMUv3(ste: [vste, 0])))
        _ = try fd.attach(deviceID: nestedDevice, ptID: nested.rawValue)
    }
}

/// Page mappings per second into an Arm stage-1 domain: N 4K pages of 4K-backed memory, and
/// 16 x N pages of THP-backed memory that map as 2M blocks; with the page-table memory and
/// the process's resident growth per mapped 4K page.
public struct MapBenchmark {
    /// At least one 2M block (32 pages x 16); at most 16 GiB of 4K pages and 256 GiB of
    /// blocks, which fit the process's 1 TiB of mmap space.
    public static let pageRange = 32...(1 << 22)

    public let pages: Int

    public init(pages: Int) throws(BenchmarkError) {
        self.pages = try Self.pageRange.check(pages, option: "--pages")
    }

    public func run(_ output: BenchmarkOutput) throws {
        try measure("map.4k_pages", bytes: UInt64(pages) * pageSize, alignment: pageSize, output)
        try measure("map.2m_blocks", bytes: UInt64(pages) * pageSize * 16, alignment: hugePageSize, output)
    }

    private func measure(_ name: String, bytes: UInt64, alignment: UInt64, _ output: BenchmarkOutput) throws {
        let machine = try armPlatform(devices: 1)
        guard let device = machine.device(named: "dev0") else { throw RigFailure(description: "the Arm platform is incomplete") }
        let fd = IOMMUFD(machine: machine)
        let id = try fd.bind(device).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        _ = try fd.attach(deviceID: id, ptID: ioas)
        let memory = try machine.mmap(length: bytes, alignment: alignment)
        let before = residentBytes()
        let clock = ContinuousClock.now
        _ = try fd.ioasMap(flags: IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue, ioasID: ioas,
                           userVA: memory, length: bytes, iova: 1 << 32)
        let mappedPages = Int(bytes / pageSize)
        let leaves = Int(bytes / alignment)
        report("\(name)", since: clock, operations: leaves, to: output)
        output("\(name).gib_mapped: \(bytes >> 30) GiB")
        output("\(name).pagetable_bytes_per_4k_page: \(String(format: "%.3f", Double(machine.physical.residentBytes) / Double(mappedPages))) B")
        output("\(name).resident_bytes_per_4k_page: \(String(format: "%.1f", Double(residentBytes() - before) / Double(mappedPages))) B")
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
    }

    private func milliseconds(_ duration: Duration) -> String {
        String(format: "%.3f", Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15)
    }

    /// The process's resident set (`/proc/self/statm`), in bytes.
    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(pageSize) : 0
    }
}
