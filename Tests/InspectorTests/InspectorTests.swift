import Foundation
import IOMMUCore
import Testing
import ScenarioScript
import TerminalUI
@testable import Inspector

/// The command line and the timeline: a typed command runs on the live model, its status
/// and errno show, what changed is marked; `[` and `]` replay the scenario line by line.
struct CommandAndTimelineTests {
    static func app() throws -> InspectorApp {
        let source = try String(contentsOf: GoldenFrameTests.repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu"),
                                encoding: .utf8)
        return InspectorApp(model: try InspectorModel(scenario: source, title: "default"),
                            theme: try InspectorThemes.load("mono"), symbols: .unicode)
    }

    static func type(_ app: InspectorApp, _ text: String) {
        for character in text { _ = app.handle(.key(.character(character))) }
    }

    @Test func commandRunsAndMarksWhatChanged() throws {
        let app = try Self.app()
        _ = app.handle(.key(.character(":")))
        Self.type(app, "ioas_unmap ioas_id=3 iova=0 length=u64max")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("ioas_unmap: ok length=0x4000000"))
        let frame = app.render(width: 120, height: 40).text
        // The changed mark stands before the expander, not over it.
        #expect(frame.contains(" +▾ IOAS 3  0 areas"))
        #expect(app.model.position == app.model.view.timeline.count)
        // An errno is a result: the same unmap again finds nothing.
        _ = app.handle(.key(.character(":")))
        Self.type(app, "destroy id=3")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("destroy: EBUSY"))
        // A malformed command is reported, not run.
        _ = app.handle(.key(.character(":")))
        Self.type(app, "ioas_map ioas_id=zz")
        _ = app.handle(.key(.enter))
        #expect(app.message.hasPrefix("error:"))
    }

    @Test func timelineStepsBackAndForward() throws {
        let app = try Self.app()
        let total = app.model.view.timeline.count
        _ = app.handle(.key(.character("{")))
        #expect(app.model.position == 0)
        #expect(!app.render(width: 120, height: 40).text.contains("IOAS 3"))
        for _ in 0..<8 { _ = app.handle(.key(.character("]"))) }
        #expect(app.model.position == 8)
        #expect(app.render(width: 120, height: 40).text.contains("IOAS 3  1 area "))
        _ = app.handle(.key(.character("}")))
        #expect(app.model.position == total)
        #expect(app.render(width: 120, height: 40).text.contains("HWPT_NESTED 8"))
    }
}

/// The model's object graph against a recount over the live objects after every line of the
/// default scenario and of every test scenario (the kernel selftest replays among them), and
/// the diff that marks changed objects in the tree.
struct ObjectGraphModelTests {
    /// `obj->users` recounted by filtering every object, as the file did before it kept edges.
    /// `isOpen` says whether an event queue's file still holds it.
    static func recountedUsers(of object: IOMMUFDObject, in all: [IOMMUFDObject], isOpen: (Int32) -> Bool) -> Int {
        let devices = all.compactMap { $0 as? Device }
        let attachments = { (hwpt: HWPT) in devices.reduce(0) { $0 + $1.attachments.values.filter { $0 === hwpt }.count } }
        switch object {
        case let ioas as IOAS:
            return 1 + all.filter { ($0 as? HWPTPaging)?.ioas === ioas }.count + all.filter { ($0 as? Access)?.ioas === ioas }.count
        case let hwpt as HWPTPaging:
            let nested = all.filter { if case .hwpt(let parent)? = ($0 as? HWPTNested)?.parent { return parent === hwpt }; return false }
            return 1 + attachments(hwpt) + nested.count + all.filter { ($0 as? VIOMMU)?.parent === hwpt }.count
        case let hwpt as HWPTNested:
            return 1 + attachments(hwpt)
        case let viommu as VIOMMU:
            let nested = all.filter { if case .viommu(let parent)? = ($0 as? HWPTNested)?.parent { return parent === viommu }; return false }
            return 1 + all.filter { ($0 as? VDevice)?.viommu === viommu }.count + nested.count
                + all.filter { ($0 as? VEventQueue)?.viommu === viommu }.count
        case let fault as FaultQueue:
            return 1 + (isOpen(fault.fd) ? 1 : 0) + all.filter { ($0 as? HWPT)?.fault === fault }.count
        case let veventq as VEventQueue:
            return 1 + (isOpen(veventq.fd) ? 1 : 0)
        case is Access:
            // The table's, and the driver's until it destroys the access.
            return 2
        case let device as Device:
            return 2 + device.attachments.count
        default:
            return 1
        }
    }

    static var scenarioFiles: [URL] {
        let root = GoldenFrameTests.repository
        let tests = root.appendingPathComponent("Tests/ScenarioScriptTests/Scenarios")
        let found = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return [root.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu")]
            + found.filter { $0.pathExtension == "iommu" }.sorted { $0.path < $1.path }
    }

    @Test func usersAndEdgesMatchARecountAfterEveryLine() throws {
        let files = Self.scenarioFiles
        #expect(files.count > 40)
        var selftestObjects = 0
        for file in files {
            let scenario = try Scenario(source: try String(contentsOf: file, encoding: .utf8))
            let session = Session()
            for line in scenario.lines {
                _ = session.run(line)
                let fd = session.iommufd, graph = fd.graph
                let all = graph.nodes.map(\.kind.object)
                for node in graph.nodes {
                    let expected = Self.recountedUsers(of: node.kind.object, in: all, isOpen: fd.isOpen(fd:))
                    #expect(node.users == expected, "\(file.lastPathComponent):\(line.number) \(node.kind.object.type) \(node.id)")
                    #expect(fd.users(of: node.kind.object) == expected)
                    for reference in node.referrers { #expect(graph.node(reference.from)?.references.contains(reference) == true) }
                    if case .selftest(let stdev) = node.kind {
                        selftestObjects += 1
                        #expect(node.references.map(\.to) == [stdev.device.id] && node.references.map(\.role) == [.device])
                    }
                }
                // Attachments from the graph are each device's own, seen from the HWPT.
                for device in graph.devices {
                    for (pasid, hwpt) in device.attachments {
                        #expect(graph.attachments(of: hwpt.id).contains { $0.device === device && $0.pasid == pasid })
                    }
                }
            }
        }
        #expect(selftestObjects > 0)
    }

    static func model() throws -> InspectorModel {
        let source = try String(contentsOf: GoldenFrameTests.repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu"),
                                encoding: .utf8)
        return try InspectorModel(scenario: source, title: "default")
    }

    /// The tree's "+" rows are exactly the objects the diff marks.
    static func markedRows(_ model: InspectorModel) -> Set<ObjectID> {
        Set(ObjectTreePane().rows(model.view).filter(\.changed).compactMap(\.object))
    }

    @Test func commandsMarkWhatTheyChanged() throws {
        let model = try Self.model()
        #expect(model.changes.count == 0 && Self.markedRows(model).isEmpty)
        // A new paging HWPT on IOAS 3: it appears, and the IOAS gains a user.
        guard case .success(let report)? = model.run(command: "hwpt_alloc dev_id=1 pt_id=3") else {
            Issue.record("hwpt_alloc did not run")
            return
        }
        #expect(report.result.status == .ok)
        #expect(model.changes.appeared == [ObjectID(9)])
        #expect(model.changes.changed == [ObjectID(3)])
        #expect(Self.markedRows(model) == [ObjectID(3), ObjectID(9)])
        // Destroying it: gone, and the IOAS changed again; nothing else is marked.
        _ = model.run(command: "destroy id=9")
        #expect(model.changes.disappeared == [ObjectID(9)])
        #expect(model.changes.appeared.isEmpty)
        #expect(Self.markedRows(model) == [ObjectID(3)])
        // EBUSY changes nothing.
        _ = model.run(command: "destroy id=3")
        #expect(model.changes.count == 0)
    }

    @Test func stepsDiffAcrossReplays() throws {
        let model = try Self.model()
        let timeline = model.view.timeline
        let attachNVMe = try #require((0..<timeline.count).first { timeline.source($0).text == "device_attach dev_id=nvme pt_id=s1" })
        model.step(to: attachNVMe + 1)
        // Back over that line (a replay from the start): the device, the nested HWPT it is
        // attached to and the IOAS holding its reserved regions differ, by identity.
        model.step(to: attachNVMe)
        #expect(model.changes.disappeared.isEmpty && model.changes.appeared.isEmpty)
        #expect(model.changes.changed == [ObjectID(2), ObjectID(3), ObjectID(8)])
        model.step(to: attachNVMe + 1)
        #expect(model.changes.changed == [ObjectID(2), ObjectID(3), ObjectID(8)])
        #expect(Self.markedRows(model) == [ObjectID(2), ObjectID(3), ObjectID(8)])
        model.step(to: 0)
        #expect(model.changes.disappeared.count == 8 && model.graph.nodes.isEmpty)
    }
}
