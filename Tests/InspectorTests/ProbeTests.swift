import Foundation
import IOMMUCore
import ScenarioScript
import TerminalUI
import Testing
@testable import Inspector

/// Opening a view never changes a later answer of the model: over a scenario whose guest
/// unmapped a page without invalidating (a stale IOTLB entry), every pane is drawn, the walk
/// pane cold and warm and in step mode at the stale IOVA, and the next `translate` still hits
/// the stale entry.
@Suite struct ProbeTests {
    /// The example up to its stale translate (before the invalidation that clears it).
    static func staleScenario(_ example: String) throws -> String {
        let source = try PageTableAndWalkTests.example(example)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let unmap = try #require(lines.firstIndex { $0.hasPrefix("guest_unmap") })
        return lines[...(unmap + 1)].joined(separator: "\n") + "\n"
    }

    @Test(arguments: ["arm_nested_guest.iommu", "vtd_nested_guest.iommu"])
    func everyPaneLeavesTheStaleEntry(_ example: String) throws {
        let model = try InspectorModel(scenario: try Self.staleScenario(example), title: example)
        let app = InspectorApp(model: model, theme: try InspectorThemes.load("mono"), symbols: .unicode)
        let reader = app.model.reader
        let device = try #require(reader.graph.devices.first).id
        guard case .success(let before)? = try? reader.probe(deviceID: device, iova: 0x1001_2345, pasid: nil, access: .read,
                                                                caches: .lookupOnly) else {
            Issue.record("the scenario leaves no stale translation")
            return
        }
        #expect(before.iotlbHit)

        app.selectInTree("DEVICE")
        for pane in ["1", "2", "3", "4", "5"] {
            app.press(.character(Character(pane)))
            _ = app.screen()
        }
        app.press(.character("4"))
        app.search("0x10012345")
        let cold = app.screen()
        // Cold, the probe walks the tables the guest changed: the page is gone.
        #expect(cold.contains("IOVA 0x10012345") && cold.contains("FAULT"))
        app.press(.character("c"))
        #expect(app.screen().contains("IOTLB hit, no descriptor fetched"))
        app.press(.character("w"), .character("s"), .character(" "), .character("G"), .character("c"))
        _ = app.screen()
        app.press(.character("3"))
        _ = app.screen()

        // The next transaction, as the scenario runs it (through the model's controller, with
        // the caches in use), still translates by the stale entry.
        let next = app.model.run(command: "translate dev_id=nic iova=0x10012345 expect=ok")
        guard case .success(let report)? = next else {
            Issue.record("the translate command did not run")
            return
        }
        #expect(report.passed)
        guard case .success(let after)? = try? reader.probe(deviceID: device, iova: 0x1001_2345, pasid: nil, access: .read,
                                                               caches: .lookupOnly) else {
            Issue.record("the stale entry is gone after the panes were drawn")
            return
        }
        #expect(after.iotlbHit)
        #expect(after.output == before.output)
    }

    /// Each fetch of a nested walk says what it is for: (Arm) the CD pointer's stage-2 walk,
    /// then per stage-1 level the stage-2 walk of the entry's IPA/GPA and the stage-1 read,
    /// then the output's stage-2 walk; each stage's steps name their format.
    @Test(arguments: [("arm_nested_guest.iommu", "IPA"), ("vtd_nested_guest.iommu", "GPA")])
    func nestedStepRoles(_ example: String, _ intermediate: String) throws {
        let model = try InspectorModel(scenario: try PageTableAndWalkTests.example(example), title: example)
        let reader = model.reader
        let device = try #require(reader.graph.devices.first).id
        guard case .success(let translation)? = try? reader.probe(deviceID: device, iova: 0x2000_0000, pasid: nil, access: .read,
                                                                     caches: .bypass) else {
            Issue.record("translate failed")
            return
        }
        let roles = translation.steps.map(\.role)
        #expect(roles.first == (intermediate == "IPA" ? .stage2OfConfiguration : .stage2OfStage1Table))
        #expect(roles.last == .stage2OfOutput)
        #expect(roles.filter { $0 == .stage1 }.count == 4)
        for (index, role) in roles.enumerated() where role == .stage1 { #expect(index > 0 && roles[index - 1] == .stage2OfStage1Table) }
        for step in translation.steps {
            #expect(step.stage == (step.role == .stage1 ? .stage1 : .stage2))
            if step.stage == .stage2 { #expect(step.format.intermediateAddressName == intermediate) }
        }
        // The output walk translates what stage 1 produced.
        let output = translation.steps.filter { $0.role == .stage2OfOutput }
        #expect(Set(output.map(\.input)).count == 1)
        // The configuration read before the walk; none where the configuration cache answers.
        let structures = translation.configurationFetches.map(\.structure)
        #expect(structures == (intermediate == "IPA" ? [.streamTableEntry, .contextDescriptor]
                                                     : [.rootEntry, .contextEntry, .pasidDirectoryEntry, .pasidEntry]))
        #expect(translation.configurationFetches.map(\.words.count) == (intermediate == "IPA" ? [4, 2] : [1, 2, 1, 8]))
        guard case .success(let cached)? = try? reader.probe(deviceID: device, iova: 0x2000_0000, pasid: nil, access: .read,
                                                                caches: .lookupOnly) else {
            Issue.record("translate failed")
            return
        }
        #expect(cached.configurationFetches.isEmpty)
    }

    /// The core's answer to where a nested HWPT's guest stage-1 table lives: the guest CD's
    /// TTB0 (an IPA), its format, and the parent that resolves it; or why there is none.
    @Test func guestStage1TableQuery() throws {
        let model = try InspectorModel(scenario: try PageTableAndWalkTests.example("arm_nested_guest.iommu"), title: "arm")
        let reader = model.reader
        let nested = try #require(reader.graph.nodes.lazy.compactMap { node -> HWPTNested? in
            if case .hwptNested(let nested) = node.kind { nested } else { nil }
        }.first)
        let ioas = nested.stage2.ioas
        let read: (UInt64, Int) -> [UInt64]? = { gpa, count in
            let words = (0..<count).compactMap { reader.guestWord(at: gpa &+ UInt64($0) * 8, in: ioas) }
            return words.count == count ? words : nil
        }
        let table = try reader.guestStage1Table(of: nested).get()
        #expect(table.root == 0x4001_0000)
        #expect((table.format as? ArmLPAE)?.stage == .stage1)
        #expect(table.stage2 === nested.stage2.domain)
        #expect(table.contextDescriptor?.address == 0x4000_1000)
        let bypass = NestedDomain(driver: nested.domain.driver, parent: nested.domain.parent, configuration: .armSMMUv3(ste: [0x9, 0, 0, 0]))
        #expect(throws: GuestStage1Absence.notStage1(config: 4)) { try bypass.guestStage1Table(readGuest: read).get() }
        let invalid = NestedDomain(driver: nested.domain.driver, parent: nested.domain.parent, configuration: .armSMMUv3(ste: [0, 0, 0, 0]))
        #expect(throws: GuestStage1Absence.streamTableEntryInvalid) { try invalid.guestStage1Table(readGuest: read).get() }
        let unreadable = NestedDomain(driver: nested.domain.driver, parent: nested.domain.parent,
                                      configuration: .armSMMUv3(ste: [0x7f00_0000_000b, 0, 0, 0]))
        #expect(throws: GuestStage1Absence.contextDescriptorUnreadable(address: 0x7f00_0000_0000)) {
            try unreadable.guestStage1Table(readGuest: read).get()
        }
    }
}
