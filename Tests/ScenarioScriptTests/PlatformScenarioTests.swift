import Foundation
import IOMMUCore
import Testing
@testable import ScenarioScript

/// Scenarios on a given platform description, the `iommu`/`device`/`limits` lines as entries
/// of it, and their located errors.
@Suite struct PlatformScenarioTests {
    static let platformCommands: Set<String> = ["iommu", "device"]

    /// Scenarios that declare their own platform.
    static var files: [String] {
        ScenarioFileTests.files.filter { $0.hasPrefix("platforms/") || $0.hasPrefix("pagetables/") }
    }

    /// A scenario's `iommu` and `device` lines give a description; a session built on it
    /// (after a trip through JSON, as an importer's file would come) runs the other lines with
    /// exactly the results the whole scenario gives.
    @Test(arguments: files)
    func sameResultsOnTheDescribedPlatform(_ file: String) throws {
        let source = try String(contentsOf: ScenarioFileTests.scenarioDirectory.appendingPathComponent(file), encoding: .utf8)
        let scenario = try Scenario(source: source)
        let whole = Session()
        let expected = scenario.lines.map { whole.run($0) }.filter { !Self.platformCommands.contains($0.command) }.map(\.json)

        let declaring = Session()
        for line in scenario.lines where Self.platformCommands.contains(line.command) { _ = declaring.run(line) }
        let data = try JSONEncoder().encode(declaring.machine.platform)
        let platform = try JSONDecoder().decode(PlatformDescription.self, from: data)
        #expect(platform == declaring.machine.platform)
        let described = try Session(platform: platform)
        let actual = scenario.lines.filter { !Self.platformCommands.contains($0.command) }.map { described.run($0).json }
        #expect(actual == expected)
    }

    private func run(_ text: String) throws -> [LineReport] {
        Session().run(try Scenario(source: text))
    }

    @Test func devicesGetTheirOwnGroupUnlessTheyNameOne() throws {
        let session = Session()
        _ = session.run(try Scenario(source: """
            iommu smmu0 type=arm-smmu-v3
            iommu smmu1 type=arm-smmu-v3
            device a iommu=smmu0
            device b iommu=smmu0 group=7
            device c iommu=smmu0 group=7
            device d iommu=smmu1
            """))
        let platform = session.machine.platform
        #expect(platform.devices.map(\.group) == [0, 7, 7, 8])
        #expect(platform.groups.map(\.id) == [0, 7, 8])
        #expect(platform.groups.allSatisfy { $0.defaultDomain == .dma })
        #expect(platform.devices(in: 7).map(\.name) == ["b", "c"])
        #expect(platform.devices.map(\.requesterID) == [.streamID(0), .streamID(1), .streamID(2), .streamID(3)])
    }

    /// After the last group id is taken, one above it would wrap to 0, a group another device
    /// holds: a device of its own then gets the lowest free id, never a taken one.
    @Test func groupAfterTheLastIDIsTheLowestFree() throws {
        let session = Session()
        let reports = session.run(try Scenario(source: """
            iommu smmu0 type=arm-smmu-v3
            device a iommu=smmu0
            device b iommu=smmu0 group=4294967295
            device c iommu=smmu0 group=2
            device d iommu=smmu0
            device e iommu=smmu0
            """))
        #expect(reports.filter { !$0.passed }.isEmpty)
        let platform = session.machine.platform
        #expect(platform.devices.map(\.group) == [0, 4294967295, 2, 1, 3])
        #expect(Set(platform.groups.map(\.id)).count == platform.groups.count)
    }

    /// Description errors come back at the argument at fault, with the description's words.
    @Test(arguments: [
        ("iommu s type=arm-smmu-v3 oas=47", 30, "oas= is one of 32, 36, 40, 42, 44, 48, 52"),
        ("iommu s type=arm-smmu-v3 ias=31", 30, "ias= is from 32 to 52 bits"),
        ("iommu s type=arm-smmu-v3 granules=8K", 35, "granules= lists 4K, 16K and 64K"),
        ("iommu s type=arm-smmu-v3 stages=3", 33, "stages= lists 1 and 2, not 3"),
        ("iommu s type=intel-vtd aw=39", 27, "aw= is 48 or 57"),
        ("iommu s type=amd-vi levels=7", 28, "levels= is 4, 5 or 6"),
        ("iommu s type=amd-vi aw=48", 24, "aw= is not an option of type=amd-vi"),
    ])
    func unitOptionErrorsAreLocated(_ line: String, _ column: Int, _ reason: String) throws {
        let report = try #require(try run(line).last)
        #expect(report.result.status == .failed("1:\(column): error: \(reason)"))
    }

    @Test func deviceErrorsAreLocated() throws {
        let reports = try run("""
            iommu s0 type=arm-smmu-v3
            iommu s1 type=arm-smmu-v3
            iommu m type=mock
            device a iommu=s0 group=3
            device b iommu=s1 group=3
            device c iommu=s0 dev_flags=pasid
            device d iommu=m dev_flags=8
            device e iommu=nowhere
            """)
        #expect(reports[4].result.status == .failed("5:25: error: iommu group 3 is behind s0: a group's devices share one IOMMU"))
        #expect(reports[5].result.status == .failed("6:29: error: dev_flags= applies to type=mock IOMMUs"))
        #expect(reports[6].result.status == .failed("7:28: error: dev_flags= are no_dirty, huge_iova and pasid"))
        #expect(reports[7].result.status == .failed("8:16: error: no IOMMU named 'nowhere' was declared (declared: m, s0, s1)"))
    }

    /// `mmap length=1T` and a map of all of it end at once with ENOMEM (the host is smaller,
    /// or RLIMIT_MEMLOCK refuses the pin) instead of running for minutes.
    @Test func terabyteMapsEndWithENOMEM() throws {
        let reports = try run("""
            iommu smmu0 type=arm-smmu-v3
            device nic0 iommu=smmu0
            buf = mmap length=1T
            limits host_memory=4T cap_ipc_lock=no
            big = mmap length=1T
            dev = device_bind dev=nic0
            ioas = ioas_alloc
            device_attach dev_id=dev pt_id=ioas
            ioas_map ioas_id=ioas user_va=big length=1T iova=0x100000000 flags=fixed_iova|readable|writeable
            """)
        #expect(reports[2].result.status.errno == .ENOMEM)
        #expect(reports[4].result.status == .ok)
        #expect(reports[8].result.status.errno == .ENOMEM)
    }

    @Test func limitsLineSetsTheMachinesLimits() throws {
        let session = Session()
        #expect(session.machine.limits == MemoryLimits())
        _ = session.run(try Scenario(source: "limits memlock=1M cap_ipc_lock=no host_memory=1G"))
        #expect(session.machine.limits == MemoryLimits(memlock: 1 << 20, capIPCLock: false, hostMemory: 1 << 30))
        #expect(session.machine.physical.capacity == 1 << 30)
    }
}
