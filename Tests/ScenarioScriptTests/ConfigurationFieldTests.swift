import Foundation
import Testing
import IOMMUCore
@testable import ScenarioScript

/// The configuration structures every driver decodes for a device of a shipped example
/// (STE and CD, root/context/PASID entries, DTE): each field has a meaning and a spec
/// section, no two overlap, and a field read at its bits (numbered across the words) is
/// the value the driver decoded.
struct ConfigurationFieldTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(arguments: ["Examples/arm_nested_guest.iommu", "Examples/vtd_nested_guest.iommu", "Examples/quickstart.iommu",
                      "Tests/ScenarioScriptTests/Scenarios/arm/substreams_disabled.iommu",
                      "Tests/ScenarioScriptTests/Scenarios/amd/gcr3_pasid_walk.iommu"])
    func fieldsAreCatalogued(_ example: String) throws {
        let session = Session()
        _ = session.run(try Scenario(source: try String(contentsOf: Self.repository.appendingPathComponent(example), encoding: .utf8)))
        let reader = ModelReader(session.iommufd)
        var seen = 0
        for device in session.iommufd.devices {
            for structure in reader.configurationStructures(of: device, pasid: nil) + reader.configurationStructures(of: device, pasid: 1) {
                for (i, field) in structure.fields.enumerated() {
                    seen += 1
                    #expect(!(field.meaning ?? "").isEmpty && field.reference != nil, "\(structure.name) \(field.name)")
                    for other in structure.fields[(i + 1)...] {
                        #expect(!field.bits.overlaps(other.bits), "\(structure.name): \(field.name) and \(other.name)")
                    }
                    let word = field.bits.lowerBound / 64
                    guard structure.words.indices.contains(word), field.bits.upperBound / 64 == word else { continue }
                    let low = UInt64(field.bits.lowerBound % 64), width = UInt64(field.bits.count)
                    let raw = (structure.words[word] >> low) & (width >= 64 ? .max : (1 << width) - 1)
                    #expect(field.value == raw || field.value == raw << low, "\(structure.name) \(field.name)[\(field.bits)]")
                }
            }
        }
        #expect(seen > 0)
    }
}
