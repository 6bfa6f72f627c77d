import Foundation
import IOMMUCore
import ScenarioScript
import Testing
@testable import Inspector

/// The line between the inspector's controller and its views: only `InspectorModel` holds the
/// session; panes see the core through `ModelReader`, and stepping back rebuilds the state the
/// model was started with.
@Suite struct ModelBoundaryTests {
    /// The file of the inspector that holds and drives the session: the model.
    static let model = "InspectorModel.swift"
    /// The files that may drive the model (`step`, `run(command:)`): the model and the app
    /// that turns keys and the `:` line into calls on it. Panes get a `ModelView`.
    static let controllers: Set<String> = [model, "InspectorApp.swift"]

    static func inspectorSources() throws -> [(name: String, text: String)] {
        let folder = GoldenFrameTests.repository.appendingPathComponent("Sources/Inspector")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }.sorted()
        return try names.map { ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// The IOMMUFD methods that change the model: those that begin a mutation (every ioctl
    /// that may change anything calls `beginMutation()` first), read from the core's sources
    /// so that a new ioctl is covered without editing this test.
    static func mutatingIOMMUFDMethods() throws -> Set<String> {
        let folder = GoldenFrameTests.repository.appendingPathComponent("Sources/IOMMUCore/IOMMUFD")
        var names: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasPrefix("IOMMUFD") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for chunk in text.components(separatedBy: "public func ").dropFirst() {
                let body = chunk.components(separatedBy: "func ").first ?? chunk
                guard body.contains("beginMutation()"), let name = chunk.split(separator: "(").first else { continue }
                names.insert(String(name))
            }
        }
        return names
    }

    /// Every method of the `IOMMUDriver` protocol, read from its declaration: a view asks the
    /// reader, never a driver (whose `translate` with `caches: .use` fills the IOTLB).
    static func driverMethods() throws -> Set<String> {
        let file = GoldenFrameTests.repository.appendingPathComponent("Sources/IOMMUCore/Platform/IOMMUDriver.swift")
        let text = try String(contentsOf: file, encoding: .utf8)
        guard let start = text.range(of: "public protocol IOMMUDriver"),
              let end = text.range(of: "\n}\n", range: start.upperBound..<text.endIndex) else { return [] }
        let declaration = text[start.upperBound..<end.lowerBound]
        return Set(declaration.components(separatedBy: "func ").dropFirst().compactMap { $0.split(separator: "(").first.map(String.init) })
    }

    /// An architecture check besides the type boundary: no file but the model names the session, the
    /// iommufd or machine, an ioctl that mutates, a driver method, or a write to a page table
    /// or its memory; and no pane names the model (its controller) rather than its view.
    @Test func panesNameNoMutatingCoreAPI() throws {
        let ioctls = try Self.mutatingIOMMUFDMethods()
        #expect(ioctls.isSuperset(of: ["ioasMap", "ioasUnmap", "bind", "attach", "destroy", "hwptAlloc"]))
        let driver = try Self.driverMethods()
        #expect(driver.isSuperset(of: ["translate", "install", "flushIOTLB", "invalidate", "configurationStructures"]))
        let forbidden = ["Session", "session", "IOMMUFD", "GuestTableMemory"].map { "\\b\($0)\\b" }
            // `W` saves `session.iommu` by default: a file name, not the core's session.
            .map { $0 == "\\bsession\\b" ? "\\bsession\\b(?!\\.iommu)" : $0 } + ["\\.iommufd\\b", "\\.machine\\b"]
            + (ioctls.sorted() + ["guestWrite", "write64", "allocateTable"]).map { "\\.\($0)\\(" }
            // Every driver method takes arguments (a curses `invalidate()` is not one); the
            // reader's own `configurationStructures(of:)` and `hardwareInfo(of:)` are the view's
            // way to the structures and to what GET_HW_INFO returns.
            + driver.sorted().map { "\\.\($0)\\(" + (["configurationStructures", "hardwareInfo"].contains($0) ? "for:" : "[^)]") }
            + ["\\.map\\(iova:", "\\.unmap\\(iova:", "caches: \\.use"]
        let sources = try Self.inspectorSources()
        #expect(sources.count > 10)
        for (name, text) in sources where name != Self.model {
            let patterns = forbidden + (Self.controllers.contains(name) ? [] : ["\\bInspectorModel\\b"])
            for pattern in patterns {
                #expect(text.range(of: pattern, options: .regularExpression) == nil, "\(name) matches \(pattern)")
            }
        }
    }

    /// A model started from a prepared session (a benchmark's rig) replays onto that same state
    /// when it steps back past a `:` command, not onto an empty session: the timeline keeps a
    /// copy of the starting state (`Session.fork`) and builds it only once.
    @Test func steppingBackReplaysOntoTheStartingState() throws {
        var starts = 0
        let model = try InspectorModel(title: "rig") {
            starts += 1
            let session = Session()
            _ = try session.iommufd.ioasAlloc()
            return session
        }
        #expect(model.graph.ioases.count == 1)
        guard case .success(let report)? = model.run(command: "ioas = ioas_alloc") else {
            Issue.record("the command did not run")
            return
        }
        #expect(report.passed)
        #expect(model.graph.ioases.count == 2 && model.view.timeline.count == 1 && model.position == 1)
        model.step(to: 0)
        #expect(starts == 1)
        #expect(model.graph.ioases.map(\.id) == [ObjectID(1)])
        #expect(model.reader.graph.ioases.count == 1)
        model.step(to: 1)
        #expect(model.graph.ioases.count == 2)
        // The command line's bindings are the replayed session's: `ioas` names the new IOAS.
        guard case .success(let destroyed)? = model.run(command: "destroy id=ioas") else {
            Issue.record("the bound name is unknown after the replay")
            return
        }
        #expect(destroyed.passed)
        #expect(model.graph.ioases.count == 1)
    }

    /// A model of a scenario starts over from an empty session: stepping back to 0 shows no
    /// objects, and forward again shows the scenario's.
    @Test func scenarioModelStepsBackToAnEmptySession() throws {
        let model = try ObjectGraphModelTests.model()
        let objects = model.graph.nodes.count
        #expect(objects > 0)
        model.step(to: 0)
        #expect(model.graph.nodes.isEmpty && model.reader.graph.nodes.isEmpty && model.reader.platform.units.isEmpty)
        model.step(to: model.view.timeline.count)
        #expect(model.graph.nodes.count == objects)
    }
}
