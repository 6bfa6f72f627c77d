import Foundation
import IOMMUCore
import Testing
@testable import ScenarioScript

/// Everything a session's answers come from, written out so that two sessions can be compared:
/// the reports of its bindings, the object table (ids, kinds, users, tombstones, the summary
/// views print), every device's configuration structures as the IOMMU reads them, the IOTLBs,
/// the process's mappings and pinned pages, and every word of host memory.
struct ModelState: Equatable {
    var bindings: [String]
    var objects: [String]
    var summary: String
    var configurations: [String]
    var iotlbs: [String]
    var counters: [UInt64]
    var memory: [UInt64: [UInt64]]

    init(_ session: Session) {
        let machine = session.machine, iommufd = session.iommufd
        bindings = session.bindings.map { "\($0.key) = \($0.value.command) \($0.value.result.json)" }.sorted()
        objects = iommufd.objects.map { "\($0.id.rawValue) \($0.type) users=\(iommufd.users(of: $0))" }
            + iommufd.tombstones.map { "tombstone \($0.rawValue)" } + ["generation \(iommufd.generation)"]
        summary = SessionSummary(session: session).text
        var devices = machine.devices
        for device in iommufd.devices where !devices.contains(where: { $0 === device.platform }) { devices.append(device.platform) }
        configurations = devices.flatMap { device -> [String] in
            let pasids = iommufd.device(boundTo: device).map { $0.attachments.keys.filter { $0 != noPASID }.sorted() } ?? []
            return ([nil] + pasids).flatMap { pasid in
                device.iommu.configurationStructures(for: device, pasid: pasid, memory: machine.physical).map {
                    "\(device.name) \(pasid.map(String.init) ?? "rid") \($0.name) \($0.address.hex) \($0.words.map(\.hex))"
                }
            }
        }
        iotlbs = machine.iommus.flatMap { iommu -> [String] in
            let iotlb = (iommu as? ArmSMMUv3)?.iotlb ?? (iommu as? IntelVTd)?.iotlb ?? (iommu as? AMDVi)?.iotlb
            return (iotlb?.allEntries ?? []).map { "\(iommu.name) \($0)" }.sorted()
        }
        counters = [machine.physical.allocatedBytes, machine.physical.writeCount, UInt64(machine.physical.residentBytes),
                    UInt64(machine.memory.mappings.count), machine.pinned.pinnedVM, machine.pinned.userLockedVM, machine.pinned.mmLockedVM]
        memory = Dictionary(uniqueKeysWithValues: machine.physical.residentFrames.map {
            ($0, machine.physical.peek64($0, count: Int(PhysicalMemory.frameSize / 8)))
        })
    }

    /// What differs from `other`, briefly (the first differing entry of each part).
    func differences(from other: ModelState) -> [String] {
        func first<T: Equatable>(_ name: String, _ a: [T], _ b: [T]) -> String? {
            guard a != b else { return nil }
            guard let index = a.indices.first(where: { $0 < b.count && a[$0] != b[$0] }) else { return "\(name): \(a.count) entries, not \(b.count)" }
            return "\(name): \(a[index]) is \(b[index])"
        }
        var found = [first("bindings", bindings, other.bindings), first("objects", objects, other.objects),
                     first("summary", summary.split(separator: "\n"), other.summary.split(separator: "\n")),
                     first("configurations", configurations, other.configurations), first("iotlbs", iotlbs, other.iotlbs),
                     first("counters", counters, other.counters)].compactMap { $0 }
        if memory != other.memory {
            let frames = Set(memory.keys).symmetricDifference(other.memory.keys).sorted()
            let words = memory.keys.sorted().filter { memory[$0] != other.memory[$0] }
            found.append("memory: frames \((frames.isEmpty ? words : frames).prefix(4).map(\.hex)) differ")
        }
        return found
    }
}

/// `Session.fork()`: a copy of the whole model that continues exactly as the original would,
/// and that the original never sees change (nor the fork the original).
@Suite struct SessionForkTests {
    static func scenario(_ file: String) throws -> Scenario {
        try Scenario(source: String(contentsOf: ScenarioFileTests.scenarioDirectory.appendingPathComponent(file), encoding: .utf8))
    }

    static var shippedDefault: Scenario {
        get throws {
            try Scenario(source: String(contentsOf: ShippedScenarioTests.repository.appendingPathComponent(ShippedScenarioTests.files[0]),
                                        encoding: .utf8))
        }
    }

    /// Split points spread over the scenario: after the first line, a third, two thirds, before the last.
    static func splits(_ count: Int) -> [Int] {
        Array(Set([1, count / 3, 2 * count / 3, count - 1].filter { $0 > 0 && $0 < count })).sorted()
    }

    /// Runs `lines[0..<k]`, forks, and runs the rest on both the fork and the original: each
    /// gives the reports and the final model of one straight run.
    static func checkEquivalence(_ scenario: Scenario, name: String) {
        let lines = scenario.lines
        let straight = Session()
        let reports = lines.map { straight.run($0).json }
        let final = ModelState(straight)
        for split in splits(lines.count) {
            let original = Session()
            let before = lines[..<split].map { original.run($0).json }
            let fork = original.fork()
            #expect(ModelState(fork).differences(from: ModelState(original)) == [], "\(name): the fork at line \(split) is not the original")
            let forkAfter = lines[split...].map { fork.run($0).json }
            let originalAfter = lines[split...].map { original.run($0).json }
            #expect(before + forkAfter == reports, "\(name): the fork at line \(split) reports differently")
            #expect(before + originalAfter == reports, "\(name): the original forked at line \(split) reports differently")
            #expect(ModelState(fork).differences(from: final) == [], "\(name): the fork at line \(split) ends in another model")
            #expect(ModelState(original).differences(from: final) == [], "\(name): the original forked at line \(split) ends in another model")
        }
    }

    /// Forks at `split`, then runs the rest on one side only: the other side's model stays as it was.
    static func checkIndependence(_ scenario: Scenario, name: String) {
        let lines = scenario.lines
        for split in splits(lines.count) {
            for runOnFork in [true, false] {
                let original = Session()
                for line in lines[..<split] { _ = original.run(line) }
                let fork = original.fork()
                let untouched = ModelState(original)
                let (changed, watched) = runOnFork ? (fork, original) : (original, fork)
                for line in lines[split...] { _ = changed.run(line) }
                #expect(ModelState(watched).differences(from: untouched) == [],
                        "\(name): running the rest on the \(runOnFork ? "fork" : "original") at line \(split) changed the other")
            }
        }
    }

    @Test(arguments: ScenarioFileTests.files)
    func forkContinuesAsTheOriginal(_ file: String) throws {
        Self.checkEquivalence(try Self.scenario(file), name: file)
    }

    @Test func forkOfTheShippedScenarioContinuesAsTheOriginal() throws {
        Self.checkEquivalence(try Self.shippedDefault, name: "default.iommu")
    }

    /// A representative set across the architectures, the mock's selftest ports, IOPF, vEVENTQ
    /// and dirty tracking: what one side runs never shows in the other.
    @Test(arguments: [
        "pagetables/arm_nested_walk.iommu", "pagetables/arm_nested_vevent.iommu", "pagetables/arm_nested_stall_iopf.iommu",
        "pagetables/vtd_nested_walk.iommu", "pagetables/vtd_pasid_walk.iommu", "pagetables/vtd_dirty_tracking.iommu",
        "pagetables/amd_v1_walk.iommu", "amd/v1_table_growth.iommu", "amd/gcr3_pasid_walk.iommu",
        "pagetables/guest_memory.iommu", "platforms/pri_iopf.iommu", "platforms/munmap_pinned.iommu",
        "kernel-selftest/ioas_copy_mock_domain.iommu", "kernel-selftest/viommu_vdevice_tombstone.iommu",
        "kernel-selftest/ioas_access_mock_domain.iommu", "kernel-selftest/dirty_tracking_domain_dirty64k.iommu",
        "kernel-selftest/viommu_alloc_nested_iopf.iommu", "kernel-selftest/viommu_vdevice_cache.iommu",
    ])
    func sidesChangeApart(_ file: String) throws {
        Self.checkIndependence(try Self.scenario(file), name: file)
    }

    /// On the shipped Arm nested setup: a translation on the fork fills only the fork's IOTLB;
    /// a guest write, an unmap and a destroy on the fork leave the original's answers alone.
    @Test func forkChangesLeaveTheOriginalsAnswers() throws {
        let original = Session()
        for report in original.run(try Self.shippedDefault) { #expect(report.passed) }
        let smmu = try #require(original.machine.iommu(named: "smmu0") as? ArmSMMUv3)
        let cached = smmu.iotlb.count
        let fork = original.fork()
        let forkSMMU = try #require(fork.machine.iommu(named: "smmu0") as? ArmSMMUv3)
        #expect(forkSMMU !== smmu && forkSMMU.iotlb !== smmu.iotlb)
        let source = try String(contentsOf: ShippedScenarioTests.repository.appendingPathComponent(ShippedScenarioTests.files[0]),
                                encoding: .utf8)
        // A line after the scenario's, which names its bindings.
        let run = { (session: Session, text: String) throws -> LineReport in
            session.run(try #require(Scenario(source: source + "\n" + text).lines.last))
        }

        #expect(cached > 0)
        forkSMMU.iotlb.invalidate { _ in true }
        #expect(smmu.iotlb.count == cached)
        _ = try run(fork, "translate dev_id=nic iova=0x12345000 access=write")
        #expect(forkSMMU.iotlb.count == cached)
        original.machine.iommus.forEach { ($0 as? ArmSMMUv3)?.iotlb.invalidate { _ in true } }
        #expect(forkSMMU.iotlb.count == cached)

        let read = "guest_read ioas_id=ioas gpa=0x40004a28"
        let word = try run(original, read).result.json
        _ = try run(fork, "guest_write ioas_id=ioas gpa=0x40004a28 value=0")
        #expect(try run(original, read).result.json == word)
        #expect(try run(fork, read).result.json != word)

        _ = try run(fork, "ioas_unmap ioas_id=ioas iova=0x40000000 length=64M")
        #expect(try run(original, "translate dev_id=nic iova=0x12345000 access=write").result.status == .ok)
        let vnvme = try #require(original.bindings["vnvme"]?.result.field("out_vdevice_id")?.scalar)
        #expect(try run(fork, "destroy id=\(vnvme)").result.status == .ok)
        #expect(original.iommufd.objects.contains { UInt64($0.id.rawValue) == vnvme })
        #expect(!fork.iommufd.objects.contains { UInt64($0.id.rawValue) == vnvme })

        // And the other way: the original's destroy does not reach the fork.
        let second = original.fork()
        #expect(try run(original, "destroy id=\(vnvme)").result.status == .ok)
        #expect(second.iommufd.objects.contains { UInt64($0.id.rawValue) == vnvme })
    }

    /// A session changed through the core API directly (no scenario lines) forks with what it
    /// holds: the stub replayed lines and lost it.
    @Test func sessionChangedThroughTheCoreForks() throws {
        let session = Session()
        for line in try Scenario(source: "iommu dmar0 type=intel-vtd\ndevice gpu iommu=dmar0 rid=0x10\n").lines { _ = session.run(line) }
        let device = try #require(session.machine.device(named: "gpu"))
        let domain = try device.iommu.allocatePagingDomain(for: device, flags: [], userData: nil, memory: session.machine.physical)
        try domain.table.map(iova: 0x8000, output: 0x1_2340_0000, length: 0x1000, prot: [.read, .write])
        device.iommu.install(device, .paging(domain), pasid: noPASID, memory: session.machine.physical)
        let walk = device.iommu.translate(device, iova: 0x8000, pasid: nil, access: .read, caches: .bypass, memory: session.machine.physical)
        let fork = session.fork()
        #expect(ModelState(fork).differences(from: ModelState(session)) == [])
        let forkDevice = try #require(fork.machine.device(named: "gpu"))
        #expect(forkDevice !== device)
        let forkWalk = forkDevice.iommu.translate(forkDevice, iova: 0x8000, pasid: nil, access: .read, caches: .bypass,
                                                  memory: fork.machine.physical)
        #expect(try #require(forkWalk).get().output == (try #require(walk).get().output))
    }
}
