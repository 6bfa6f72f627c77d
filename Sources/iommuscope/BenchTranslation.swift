import ArgumentParser
import Foundation
import IOMMUCore

/// Translations per second on an Arm SMMUv3, cold (every translation walks) and warm (every
/// translation hits the IOTLB): a 4-level stage-2 walk, and a 4-level over 4-level nested walk.
struct BenchTranslate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "translate", abstract: "Translations per second, cold and warm IOTLB.")

    @Option(help: "Distinct 4K pages translated.") var pages: Int = 4096

    func run() throws {
        let rig = try NestedRig(pages: pages)
        try measure("translate.stage2_4level", rig: rig, device: rig.stage2Device)
        try measure("translate.nested_4x4", rig: rig, device: rig.nestedDevice)
    }

    private func measure(_ name: String, rig: NestedRig, device: UInt32) throws {
        let iovas = (0..<pages).map { UInt64($0) * pageSize + rig.base(for: device) }
        var clock = ContinuousClock.now
        var fetches = 0
        for iova in iovas {
            rig.smmu.iotlb.invalidate { _ in true }
            guard case .success(let translation)? = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) else {
                throw ValidationError("\(name): translation of \(iova.hex) failed")
            }
            fetches += translation.steps.count
        }
        report("\(name).cold", since: clock, operations: pages)
        print("\(name).cold.fetches_per_translation: \(fetches / pages) reads")
        _ = try iovas.map { try rig.fd.translate(deviceID: device, iova: $0, pasid: nil, access: .read) }
        clock = ContinuousClock.now
        for iova in iovas { _ = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) }
        report("\(name).warm", since: clock, operations: pages)
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

    func base(for device: UInt32) -> UInt64 { device == stage2Device ? Self.guestRAM + 64 * pageSize : 0 }

    init(pages: Int) throws {
        let machine = Machine()
        smmu = ArmSMMUv3(name: "smmu0")
        machine.add(smmu)
        let plain = PlatformDevice(name: "dev0", iommu: smmu, streamID: 1)
        let guest = PlatformDevice(name: "dev1", iommu: smmu, streamID: 2)
        machine.add(plain)
        machine.add(guest)
        fd = IOMMUFD(machine: machine)
        stage2Device = try fd.bind(plain).rawValue
        nestedDevice = try fd.bind(guest).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        // Guest RAM backed by 4K pages: stage 2 walks all four levels.
        let tablePages = 64, length = UInt64(pages + tablePages) * pageSize
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
        precondition(4 + l3Tables <= tablePages, "--pages is limited to \((tablePages - 4) * 512)")
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
struct BenchMap: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "map", abstract: "Page mappings per second and memory per page.")

    @Option(help: "4K pages to map (1048576 = 4 GiB); blocks map 16 times as much.") var pages: Int = 1 << 20

    func run() throws {
        try measure("map.4k_pages", bytes: UInt64(pages) * pageSize, alignment: pageSize)
        try measure("map.2m_blocks", bytes: UInt64(pages) * pageSize * 16, alignment: hugePageSize)
    }

    private func measure(_ name: String, bytes: UInt64, alignment: UInt64) throws {
        let machine = Machine()
        let smmu = ArmSMMUv3(name: "smmu0")
        machine.add(smmu)
        let device = PlatformDevice(name: "dev0", iommu: smmu, streamID: 1)
        machine.add(device)
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
        report("\(name)", since: clock, operations: leaves)
        print("\(name).gib_mapped: \(bytes >> 30) GiB")
        print("\(name).pagetable_bytes_per_4k_page: \(String(format: "%.3f", Double(machine.physical.residentBytes) / Double(mappedPages))) B")
        print("\(name).resident_bytes_per_4k_page: \(String(format: "%.1f", Double(residentBytes() - before) / Double(mappedPages))) B")
    }

    /// The process's resident set (`/proc/self/statm`), in bytes.
    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(pageSize) : 0
    }
}
