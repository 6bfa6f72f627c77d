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
        let model = InspectorModel(scenario: try Scenario(source: try Self.staleScenario(example)), title: example)
        let app = InspectorApp(model: model, theme: try InspectorThemes.load("mono"), symbols: .unicode)
        let fd = app.model.session.iommufd
        let device = try #require(fd.devices.first).id.rawValue
        guard case .success(let before)?? = try? fd.translate(deviceID: device, iova: 0x1001_2345, pasid: nil, access: .read,
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

        guard case .success(let after)?? = try? fd.translate(deviceID: device, iova: 0x1001_2345, pasid: nil, access: .read) else {
            Issue.record("the stale entry is gone after the panes were drawn")
            return
        }
        #expect(after.iotlbHit)
        #expect(after.output == before.output)
    }
}
