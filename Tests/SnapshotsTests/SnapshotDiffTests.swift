import Foundation
import ScenarioScript
import Snapshots
import Testing

@Suite struct SnapshotDiffTests {
    static let scenario = """
        iommu mock0 type=mock
        device dev0 iommu=mock0
        ram = mmap length=1M
        dev = device_bind dev=dev0
        ioas = ioas_alloc
        ioas_map ioas_id=ioas user_va=ram length=1M iova=0x10000000 flags=fixed_iova|readable|writeable
        hwpt = hwpt_alloc dev_id=dev pt_id=ioas
        # unmap the whole area
        ioas_unmap ioas_id=ioas iova=0x10000000 length=1M
        """

    @Test func objectsAddedByIdentity() throws {
        let timeline = try Timeline(scenario: Self.scenario)
        let diff = SnapshotDiff(from: try timeline.snapshot(afterLine: 5, file: "t"), to: try timeline.snapshot(afterLine: 7, file: "t"))
        #expect(diff.added.map(\.label) == ["HWPT_PAGING 3"])
        #expect(diff.removed.isEmpty)
        // The IOAS gained an area and a user (the HWPT's edge).
        let ioas = diff.changed.first { $0.object.label == "IOAS 2" }
        #expect(ioas?.changes.contains("areas: 0 -> 1") == true)
        #expect(ioas?.changes.contains("users: 1 -> 2") == true)
        #expect(diff.ranges.contains { $0.space == "IOAS 2 areas" && $0.change == .added })
        #expect(diff.ranges.contains { $0.space == "HWPT 3 mappings" && $0.change == .added })
        #expect(diff.text.hasPrefix("objects: 1 added, 0 removed, 1 changed\n  added    HWPT_PAGING 3\n  changed  IOAS 2"))
    }

    @Test func anUnmapRemovesTheAreaAndItsMappings() throws {
        let timeline = try Timeline(scenario: Self.scenario)
        let diff = SnapshotDiff(from: try timeline.snapshot(afterLine: 7, file: "t"), to: try timeline.snapshot(afterLine: 9, file: "t"))
        #expect(diff.ranges.filter { $0.space == "IOAS 2 areas" }.map(\.change) == [.removed])
        #expect(diff.ranges.contains { $0.space == "HWPT 3 mappings" } && diff.ranges.allSatisfy { $0.change == .removed })
        // The human output shows a few of each space's changes and counts the rest.
        #expect(diff.text.contains("HWPT 3 mappings: \(diff.ranges.count - 1 - SnapshotDiff.textRangeLimit) more (see --json)"))
    }

    /// Unmapping 4K from the middle of a guest's 2M block leaves 4K pages either side: the
    /// block's range was split in two.
    @Test func anUnmapInTheMiddleOfABlockSplitsIt() throws {
        var text = try Shipped.text("Examples/arm_nested_guest.iommu")
        text = String(text[..<text.range(of: "# Unmapping in the guest")!.lowerBound])
        text += "guest_unmap root=pt iova=0x10100000 length=4K\n"
        let timeline = try Timeline(scenario: text)
        let diff = SnapshotDiff(from: try timeline.snapshot(afterLine: 31, file: "t"), to: try timeline.snapshot(afterLine: nil, file: "t"))
        let split = diff.ranges.first { $0.space == "HWPT 6 guest stage 1 mappings" }
        #expect(split?.change == .split)
        #expect(split?.before.map { [$0.start, $0.last] } == [[0x1000_0000, 0x101f_ffff]])
        #expect(split?.after.map { [$0.start, $0.last] } == [[0x1000_0000, 0x100f_ffff], [0x1010_1000, 0x101f_ffff]])
        #expect(split?.after.allSatisfy { $0.detail.contains(" 4K rw") } == true)
        #expect(diff.text.contains("HWPT 6 guest stage 1 mappings  split  0x10000000-0x101fffff -> 0x40200000 2M rw into "))
        // The block became a table of pages: the entry changed kind.
        #expect(diff.entries.contains { $0.before?.kind == "block" && $0.after?.kind == "table" })
    }

    /// A read-only leaf's descriptor changed: decoded before and after, the differing field named.
    @Test func aChangedEntryIsDecoded() throws {
        let path = "Examples/stale_iotlb_arm_nested.iommu"
        let timeline = try Shipped.timeline(path)
        let diff = SnapshotDiff(from: try timeline.snapshot(afterLine: 29, file: path), to: try timeline.snapshot(afterLine: nil, file: path))
        let page = diff.entries.first { $0.iova == 0x2000_0000 }
        #expect(page?.table == "HWPT 6 guest stage 1" && page?.level == 3)
        #expect(page?.before?.fields.contains("AP[7:6]=0x1") == true && page?.after?.fields.contains("AP[7:6]=0x3") == true)
        #expect(diff.text.contains("AP[7:6] 0x1 -> 0x3"))
    }

    /// The diff of two JSON files is the diff of the two states.
    @Test func aDiffOfReadBackSnapshotsIsTheSame() throws {
        let path = "Examples/stale_iotlb_vtd.iommu"
        let timeline = try Shipped.timeline(path)
        let a = try timeline.snapshot(afterLine: 21, file: path), b = try timeline.snapshot(afterLine: nil, file: path)
        let read = SnapshotDiff(from: try ModelSnapshot(json: a.json.text), to: try ModelSnapshot(json: b.json.text))
        #expect(read == SnapshotDiff(from: a, to: b))
        #expect(read.json.text.hasPrefix("{\n  \"format\": \"iommuscope-diff\",\n  \"version\": 0,"))
    }

    @Test func theHumanOutputHasNoTrailingBlanks() throws {
        let path = "Examples/stale_iotlb_arm_nested.iommu"
        let timeline = try Shipped.timeline(path)
        let text = SnapshotDiff(from: try timeline.snapshot(afterLine: 0, file: path), to: try timeline.snapshot(afterLine: nil, file: path)).text
        #expect(!text.split(separator: "\n").contains { $0.hasSuffix(" ") })
    }

    // MARK: Positions and reading

    @Test func linesNameTheStatesTheInspectorMovesTo() throws {
        let timeline = try Timeline(scenario: Self.scenario)
        #expect(try timeline.position(afterLine: 0) == 0)
        #expect(try timeline.position(afterLine: 1) == 1)
        // Line 8 is a comment: the next command line, as # does in the inspector.
        #expect(try timeline.position(afterLine: 8) == 8)
        #expect(try timeline.position(afterLine: 9) == 8)
        #expect(throws: LinePositionError(line: 10, last: 9)) { try timeline.position(afterLine: 10) }
        #expect(throws: LinePositionError(line: -1, last: 9)) { try timeline.position(afterLine: -1) }
        #expect(LinePositionError(line: 10, last: 9).description == "no line 10: the command lines are 1 to 9 (0 is before the first)")
    }

    @Test(arguments: [
        ("iommu smmu0 type=arm-smmu-v3\n", "not an iommuscope-snapshot file: it is not a JSON object"),
        (#"{"format":"other","version":0}"#, "not an iommuscope-snapshot file: its \"format\" is 'other', not 'iommuscope-snapshot'"),
        (#"{"version":0}"#, "not an iommuscope-snapshot file: its \"format\" is missing, not 'iommuscope-snapshot'"),
        (#"{"format":"iommuscope-snapshot","version":1}"#, "iommuscope-snapshot version 1 is not supported (this build reads version 0)"),
        (#"{"format":"iommuscope-snapshot","version":0}"#, "a malformed iommuscope-snapshot file: .platform is missing"),
    ])
    func notASnapshotSaysSo(_ text: String, _ message: String) {
        #expect(throws: SnapshotReadError(message)) { try ModelSnapshot(json: text) }
    }

    @Test func aBadAddressIsLocated() throws {
        let text = try Shipped.snapshot("Examples/stale_iotlb_vtd.iommu").json.text
            .replacingOccurrences(of: "\"user_va\":\"0x", with: "\"user_va\":\"x")
        #expect(throws: SnapshotReadError.self) { try ModelSnapshot(json: text) }
        do {
            _ = try ModelSnapshot(json: text)
        } catch {
            #expect(error.description.contains(".ioases[0].areas[0].user_va"), "\(error)")
        }
    }
}
