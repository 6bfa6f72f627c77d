import Testing
import IOMMUCore
import ScenarioScript
@testable import Inspector

/// A device's details list what its attached PASIDs add to the RID's configuration
/// structures, each structure once: the GCR3 entry on AMD-Vi, the PASID directory and
/// PASID entry on VT-d (as `config dev_id= pasid=` reads them).
struct PASIDDetailsTests {
    static let source = """
    iommu amd0 type=amd-vi mode=v2
    iommu vt0 type=intel-vtd
    device a iommu=amd0 rid=0x800 max_pasid_log2=8
    device v iommu=vt0 rid=0x300 max_pasid_log2=8
    buf = mmap length=64K
    ioas = ioas_alloc
    ioas_map ioas_id=ioas user_va=buf length=64K iova=0x1000000 flags=fixed_iova|readable|writeable
    da = device_bind dev=a
    dv = device_bind dev=v
    ha = hwpt_alloc dev_id=da pt_id=ioas flags=pasid
    hv = hwpt_alloc dev_id=dv pt_id=ioas flags=pasid
    device_attach dev_id=da pt_id=ha
    device_attach dev_id=da pt_id=ha pasid=3
    device_attach dev_id=dv pt_id=hv pasid=5
    """

    static func details(_ id: UInt32) throws -> [String] {
        let model = try InspectorModel(scenario: source, title: "pasid")
        model.step(to: model.view.timeline.count)
        return DetailsPane().lines(try IOVAMapTests.context(model, selection: ObjectID(id))).map(\.text)
    }

    @Test func amdViShowsTheGCR3EntryOfEachPASID() throws {
        let lines = try Self.details(2)
        #expect(lines.filter { $0.hasPrefix("DTE @") }.count == 1)
        #expect(lines.contains { $0.hasPrefix("GCR3 entry @ ") })
    }

    @Test func vtdShowsThePASIDEntryBesideRIDPASID() throws {
        let lines = try Self.details(3)
        #expect(lines.filter { $0.hasPrefix("root entry @") }.count == 1)
        #expect(lines.contains { $0.hasPrefix("PASID entry 0 @ ") })
        #expect(lines.contains { $0.hasPrefix("PASID directory entry @ ") })
        #expect(lines.contains { $0.hasPrefix("PASID entry 5 @ ") })
    }
}
