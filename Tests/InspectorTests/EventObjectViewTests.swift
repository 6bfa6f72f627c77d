import Testing
import IOMMUCore
import ScenarioScript
@testable import Inspector

/// The new iommufd objects in the views: FAULT rows at the root of the tree, VEVENTQ rows
/// under their vIOMMU, ACCESS rows under their IOAS, and details that name what each holds
/// and follow to the objects around it.
struct EventObjectViewTests {
    static let source = """
    iommu mock type=mock
    buf = mmap length=64K align=2M
    ioas = ioas_alloc
    md = test_mock_domain pt_id=ioas
    parent = hwpt_alloc flags=nest_parent dev_id=md.out_idev_id pt_id=ioas
    vi = viommu_alloc type=selftest dev_id=md.out_idev_id hwpt_id=parent
    fq = fault_queue_alloc
    iopf = hwpt_alloc flags=fault_id_valid dev_id=md.out_idev_id pt_id=vi fault_id=fq data_type=selftest iotlb=1
    vd = vdevice_alloc viommu_id=vi dev_id=md.out_idev_id virt_id=0x99
    q = veventq_alloc viommu_id=vi type=selftest veventq_depth=1
    test_mock_domain_replace id=md pt_id=iopf
    test_trigger_iopf dev_id=md.out_idev_id grpid=2 perm=read|write addr=0xdeadbeaf
    test_trigger_vevent dev_id=md.out_idev_id
    test_trigger_vevent dev_id=md.out_idev_id
    ioas_map ioas_id=ioas user_va=buf length=64K iova=0x1000000 flags=fixed_iova|readable|writeable
    a = test_create_access ioas_id=ioas flags=needs_pin_pages
    test_access_pages id=a iova=0x1000000 length=4K
    """

    static func model() throws -> InspectorModel {
        let model = try InspectorModel(scenario: source, title: "events")
        model.step(to: model.view.timeline.count)
        return model
    }

    @Test func treeShowsQueuesAndAccesses() throws {
        let model = try Self.model()
        let labels = ObjectTreePane().rows(model.view).map(\.label)
        #expect(labels.contains("FAULT 7  fd 4  pending 1  awaiting response 0"))
        #expect(labels.contains("VEVENTQ 10  type selftest  fd 5  events 1/1  next sequence 2  LOST_EVENTS"))
        #expect(labels.contains("ACCESS 4  fd 6  needs_pin_pages  pinned ranges 1"))
    }

    @Test func detailsNameWhatEachHolds() throws {
        let model = try Self.model()
        let fault = DetailsPane().lines(try IOVAMapTests.context(model, selection: ObjectID(7))).map(\.text)
        #expect(fault.contains("pending  DEVICE 3 pasid 0 grpid 2 rw 0xdeadbeaf"))
        #expect(fault.contains { $0.hasSuffix("HWPT using it HWPT_NESTED 8") })
        let queue = DetailsPane().lines(try IOVAMapTests.context(model, selection: ObjectID(10))).map(\.text)
        #expect(queue.contains("sequence 0  0x99"))
        #expect(queue.contains("sequence 1  LOST_EVENTS"))
        let access = DetailsPane().lines(try IOVAMapTests.context(model, selection: ObjectID(4)))
        #expect(access.contains { $0.text == "pinned #0  0x1000000-0x1000fff" })
        #expect(access.contains { $0.target == ObjectID(1) })
        // Ids: the access takes 4, which the automatic HWPT freed when the device moved.
        // The IOAS lists the access among what stands on it, and the nested HWPT its FAULT.
        let ioas = DetailsPane().lines(try IOVAMapTests.context(model, selection: ObjectID(1)))
        #expect(ioas.contains { $0.text.hasSuffix(" ACCESS 4") && $0.target == ObjectID(4) })
        let nested = DetailsPane().lines(try IOVAMapTests.context(model, selection: ObjectID(8)))
        #expect(nested.contains { $0.text.hasSuffix("faults to FAULT 7") && $0.target == ObjectID(7) })
    }
}
