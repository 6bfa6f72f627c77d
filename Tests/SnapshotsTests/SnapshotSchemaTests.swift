import Foundation
import ScenarioScript
import Snapshots
import Testing

@Suite struct SnapshotSchemaTests {
    @Test func theShippedScenariosAreFound() {
        #expect(Shipped.scenarios.count > 90)
        #expect(Shipped.scenarios.contains("Examples/stale_iotlb_vtd.iommu"))
        #expect(Shipped.scenarios.contains("Sources/iommuscope/Scenarios/default.iommu"))
    }

    /// Every shipped scenario's end state validates against docs/snapshot.schema.json, and
    /// reads back as the same snapshot.
    @Test(arguments: Shipped.scenarios)
    func snapshotValidatesAndReadsBack(_ path: String) throws {
        let snapshot = try Shipped.snapshot(path)
        let text = snapshot.json.text
        let errors = Shipped.schema.errors(in: try JSONValue.parse(text))
        #expect(errors.isEmpty, "\(path): \(errors.prefix(5))")
        #expect(try ModelSnapshot(json: text) == snapshot)
    }

    /// A state with stale IOTLB and cached configuration entries validates too.
    @Test func aStaleStateValidates() throws {
        let snapshot = try Shipped.snapshot("Examples/stale_iotlb_arm_nested.iommu")
        #expect(snapshot.iotlb.count == 2 && !snapshot.configurationCache.isEmpty)
        #expect(Shipped.schema.errors(in: try JSONValue.parse(snapshot.json.text)).isEmpty)
    }

    /// The format and the version come first, as the issue writes them.
    @Test func theDocumentStartsWithItsFormatAndVersion() throws {
        let text = try Shipped.snapshot("Examples/quickstart.iommu").json.text
        #expect(text.hasPrefix("{\n  \"format\": \"iommuscope-snapshot\",\n  \"version\": 0,\n  \"source\": "))
    }

    /// The schema has every member the writer writes (and no more): a member renamed on one
    /// side only fails here.
    @Test func theSchemaFixesEveryMember() throws {
        guard case .object(let members)? = Shipped.schema.schema["properties"] else {
            Issue.record("the schema has no properties")
            return
        }
        guard case .object(let written) = try JSONValue.parse(try Shipped.snapshot("Examples/quickstart.iommu").json.text) else {
            Issue.record("a snapshot is not an object")
            return
        }
        #expect(Set(members.keys) == Set(written.keys))
    }

    /// Broken documents fail, each for its own reason.
    @Test(arguments: [
        ("\"format\": \"iommuscope-snapshot\"", "\"format\": \"something-else\"", "constant"),
        ("\"version\": 0,", "\"version\": \"0\",", "constant"),
        ("\"rights\": \"rw\"", "\"rights\": \"rwx\"", "enum"),
        ("\"stale\": true", "\"stale\": true, \"extra\": 1", "'extra' is not a member"),
        ("\"input\": \"0x", "\"input\": \"1x", "does not match"),
        ("\"global\": false,", "", "'global' is missing"),
        ("\"group\":0", "\"group\":-1", "below the minimum"),
        ("\"stale\": true", "\"stale\": \"yes\"", "string where the schema wants boolean"),
    ])
    func aBrokenDocumentFails(_ original: String, _ broken: String, _ reason: String) throws {
        let text = try Shipped.snapshot("Examples/stale_iotlb_vtd.iommu").json.text
        #expect(text.contains(original), "the mutation's anchor is gone")
        let errors = Shipped.schema.errors(in: try JSONValue.parse(text.replacingOccurrences(of: original, with: broken)))
        #expect(errors.contains { $0.contains(reason) }, "\(errors)")
    }

    /// The validator refuses a schema keyword it does not implement.
    @Test func anUnknownKeywordIsAnError() throws {
        let validator = SchemaValidator(schema: try JSONValue.parse(#"{"type":"object","maxProperties":1}"#))
        #expect(validator.errors(in: try JSONValue.parse("{}")).contains { $0.contains("maxProperties") })
    }
}
