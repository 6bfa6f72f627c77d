import Foundation
import IOMMUCore
import ScenarioScript
import TerminalUI
import Testing
@testable import Inspector

/// The guest's view of a nested HWPT: its stage-1 ranges with the IPA/GPA and the final host
/// PA, which must be what the IOMMU's own nested walk gives the device, in the IOVA map (5)
/// and the page-table browser (3).
@Suite struct GuestViewTests {
    static let repository = IOVAMapTests.scenarioURL.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func model(_ example: String?) throws -> InspectorModel {
        guard let example else { return try IOVAMapTests.defaultModel() }
        let source = try String(contentsOf: repository.appendingPathComponent(example), encoding: .utf8)
        return try InspectorModel(scenario: source, title: example)
    }

    static func nested(_ graph: ObjectGraph) throws -> HWPTNested {
        try #require(graph.nodes.compactMap { node -> HWPTNested? in
            if case .hwptNested(let nested) = node.kind { return nested }
            return nil
        }.first)
    }

    /// Each range's PA is the nested walk's output for its first IOVA and for its last byte.
    @Test(arguments: [nil, "Examples/vtd_nested_guest.iommu"] as [String?])
    func finalAddressesAreTheNestedWalks(_ example: String?) throws {
        let model = try Self.model(example)
        let reader = model.view.reader
        let nested = try Self.nested(model.graph)
        let device = try #require(model.graph.attachments(of: nested.id).first?.device)
        let mappings = reader.guestMappings(of: nested)
        #expect(!mappings.isEmpty)
        for mapping in mappings {
            for (iova, offset) in [(mapping.iova.start, UInt64(0)), (mapping.iova.last, mapping.iova.last - mapping.iova.start)] {
                let walked = try reader.probe(deviceID: device.id, iova: iova, pasid: nil, access: .read, caches: .bypass)
                guard case .success(let translation)? = walked else {
                    Issue.record("no translation at \(iova.hex): \(String(describing: walked))")
                    continue
                }
                #expect(mapping.output.map { $0 + offset } == translation.output, "\(iova.hex)")
            }
        }
    }

    @Test func theDefaultGuestsRangeAndTheKeyBackToTheIOAS() throws {
        let model = try Self.model(nil)
        let nested = try Self.nested(model.graph)
        #expect(model.view.reader.guestMappings(of: nested)
                == [GuestMapping(iova: IOVARange(start: 0x1234_5000, last: 0x1234_5fff), intermediate: 0x4010_0000, output: 0x1_03f0_0000)])
        var pane = IOVAMapPane()
        let context = try IOVAMapTests.context(model, selection: nested.id)
        var text = IOVAMapTests.draw(&pane, context).text
        #expect(text.contains("HWPT_NESTED \(nested.id.rawValue) guest's view"))
        #expect(text.contains("▸ 0x12345000 +4K  → IPA 0x40100000 → PA 0x103f00000"))
        #expect(pane.handle(.character("g"), context: context) == .none)
        text = IOVAMapTests.draw(&pane, context).text
        #expect(!text.contains("guest's view"))
        // g on an object that is not a nested HWPT says what it is for.
        let other = try IOVAMapTests.context(model, selection: IOVAMapTests.firstIOAS(model).id)
        guard case .message(let message) = pane.handle(.character("g"), context: other) else {
            Issue.record("g on an IOAS did nothing")
            return
        }
        #expect(message.contains("HWPT_NESTED"))
    }
}
