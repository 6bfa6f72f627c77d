import Foundation
import ScenarioScript
import Snapshots
import Testing

@Suite struct StaleCacheTests {
    /// The guest changes two stage-1 leaves and forgets CMD_TLBI_NH_VA: both cached
    /// translations are stale, with what a fresh walk now gives.
    @Test func theArmGuestThatForgetsItsTLBIHasStaleEntries() throws {
        let path = "Examples/stale_iotlb_arm_nested.iommu"
        let timeline = try Shipped.timeline(path)
        let diff = SnapshotDiff(from: try timeline.snapshot(afterLine: 29, file: path), to: try timeline.snapshot(afterLine: nil, file: path))
        let stale = diff.staleIOTLB.sorted { $0.input < $1.input }
        #expect(stale.map(\.input.value) == [0x1000_0000, 0x2000_0000])
        #expect(stale.allSatisfy { $0.device == 1 && $0.domainTag?.value == 1 && $0.addressSpaceTag?.value == 1 })
        // The block moved: another output. The page became read-only: other rights.
        #expect(stale[0].fresh?.output != stale[0].output && stale[0].fresh?.rights == "rw")
        #expect(stale[1].fresh?.output == stale[1].output && stale[1].rights == "rw" && stale[1].fresh?.rights == "r")
        #expect(diff.text.contains("stale cache entries: 2"))
    }

    /// A view's cheaper question gives the snapshot's cache entries.
    @Test func theCacheEntriesAloneAreTheSnapshots() throws {
        let path = "Examples/stale_iotlb_arm_nested.iommu"
        let timeline = try Shipped.timeline(path)
        let snapshot = try timeline.snapshot(afterLine: nil, file: path)
        let caches = ModelSnapshot.cacheEntries(of: timeline.session)
        #expect(caches.iotlb == snapshot.iotlb && caches.configurationCache == snapshot.configurationCache)
    }

    @Test func theVTdGuestThatForgetsToInvalidateHasAStaleEntry() throws {
        let path = "Examples/stale_iotlb_vtd.iommu"
        let timeline = try Shipped.timeline(path)
        let diff = SnapshotDiff(from: try timeline.snapshot(afterLine: 21, file: path), to: try timeline.snapshot(afterLine: nil, file: path))
        #expect(diff.staleIOTLB.count == 1)
        #expect(diff.staleIOTLB.first?.input.value == 0x1000_0000 && diff.staleIOTLB.first?.size.value == 0x20_0000)
        #expect(diff.staleIOTLB.first?.fresh?.output != diff.staleIOTLB.first?.output)
    }

    /// A guest that unmaps without invalidating: the fresh walk faults.
    @Test func anUnmappedGuestPageIsStaleWithTheFault() throws {
        let snapshot = try Shipped.snapshot("Examples/arm_nested_guest.iommu", afterLine: 33)
        let stale = snapshot.staleIOTLB
        #expect(stale.count == 1)
        #expect(stale.first?.fresh?.fault?.hasPrefix("F_TRANSLATION") == true)
        // ...and the TLBI_NH_ALL on the next line leaves nothing stale.
        #expect(try Shipped.snapshot("Examples/arm_nested_guest.iommu", afterLine: 36).staleIOTLB.isEmpty)
    }

    /// The twins invalidate what they change: no stale entries, but the same changes.
    @Test(arguments: [("Examples/stale_iotlb_arm_nested_invalidated.iommu", 27), ("Examples/stale_iotlb_vtd_invalidated.iommu", 18)])
    func theTwinsThatInvalidateHaveNone(_ path: String, _ from: Int) throws {
        let timeline = try Shipped.timeline(path)
        let before = try timeline.snapshot(afterLine: from, file: path)
        #expect(!before.iotlb.isEmpty, "the twin's translations filled the IOTLB")
        let diff = SnapshotDiff(from: before, to: try timeline.snapshot(afterLine: nil, file: path))
        #expect(diff.staleIOTLB.isEmpty && diff.staleConfiguration.isEmpty)
        #expect(!diff.entries.isEmpty)
        #expect(diff.text.contains("stale cache entries: 0"))
    }

    /// Shipped scenarios that end on purpose with the caches ahead of memory, and how many
    /// IOTLB and configuration-cache entries are stale there.
    static let endingStale: [String: (iotlb: Int, configuration: Int)] = [
        // The narrowed range invalidations (TG, TTL) leave the entries they do not name.
        "Tests/ScenarioScriptTests/Scenarios/arm-invalidation/range_invalidation.iommu": (2, 0),
        // The guest repoints its L0 entry at an IPA stage 2 does not map, without TLBI.
        "Tests/ScenarioScriptTests/Scenarios/pagetables/arm_faults.iommu": (1, 0),
        // The host unmaps all guest RAM: the IOTLB is flushed, but the cached CD lives in the
        // RAM stage 2 no longer maps (a fresh walk cannot fetch it; no CFGI follows).
        "Tests/ScenarioScriptTests/Scenarios/pagetables/arm_nested_walk.iommu": (0, 1),
        // The stale-IOTLB examples themselves.
        "Examples/stale_iotlb_arm_nested.iommu": (2, 0),
        "Examples/stale_iotlb_vtd.iommu": (1, 0),
    ]

    /// Every shipped scenario's end state, compared with itself: nothing changed, and
    /// nothing is stale but in the scenarios that end stale on purpose.
    @Test(arguments: Shipped.scenarios)
    func anEndStateComparedWithItselfHasNothing(_ path: String) throws {
        let snapshot = try Shipped.snapshot(path)
        let diff = SnapshotDiff(from: snapshot, to: snapshot)
        #expect(diff.added.isEmpty && diff.removed.isEmpty && diff.changed.isEmpty && diff.ranges.isEmpty && diff.entries.isEmpty)
        let expected = Self.endingStale[path] ?? (0, 0)
        #expect(diff.staleIOTLB.count == expected.iotlb && diff.staleConfiguration.count == expected.configuration, "\(path):\n\(diff.text)")
    }

    /// The guest rewrites its CD (another ASID) without CMD_CFGI_CD: the SMMU's cached CD is
    /// stale; with the CFGI it is not.
    @Test(arguments: [false, true])
    func aRewrittenContextDescriptor(_ invalidated: Bool) throws {
        var text = try Shipped.text("Examples/arm_nested_guest.iommu")
        text = String(text[..<text.range(of: "# Unmapping in the guest")!.lowerBound])
        text += "guest_write ioas_id=ioas gpa=0x40001000 value=0x2001e205c0003510,pt\n"
        if invalidated { text += "hwpt_invalidate hwpt_id=vi data_type=arm_smmuv3 entries={cmd=0x100000005,0x1} expect=ok\n" }
        let snapshot = try Timeline(scenario: text).snapshot(afterLine: nil, file: "rewritten-cd")
        let stale = snapshot.staleConfiguration
        if invalidated {
            #expect(stale.isEmpty)
        } else {
            #expect(stale.count == 1)
            #expect(stale.first?.structures.map(\.name) == ["STE", "CD"])
            #expect(stale.first?.fresh.last { $0.name == "CD" }?.words.first?.value == 0x2001_e205_c000_3510)
        }
    }
}
