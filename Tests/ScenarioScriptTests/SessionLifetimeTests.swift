import Foundation
import IOMMUCore
import Testing
@testable import ScenarioScript

/// A session nobody holds is freed with everything in it: the timeline drops a session on
/// every move back and drops checkpoints as it thins them, so a reference cycle anywhere in the
/// model would keep each one alive.
@Suite struct SessionLifetimeTests {
    final class Weak {
        weak var object: AnyObject?
        let name: String
        init(_ object: AnyObject, _ name: String) {
            self.object = object
            self.name = name
        }
    }

    /// Weak references to the session, its machine, drivers, devices and every iommufd object.
    static func references(_ session: Session) -> [Weak] {
        var found = [Weak(session, "session"), Weak(session.machine, "machine"), Weak(session.iommufd, "iommufd"),
                     Weak(session.machine.physical, "physical memory")]
        found += session.machine.iommus.map { Weak($0, "iommu \($0.name)") }
        found += session.machine.devices.map { Weak($0, "device \($0.name)") }
        found += session.iommufd.objects.map { Weak($0, "\($0.type) \($0.id.rawValue)") }
        return found
    }

    /// The names of what is still alive after the session was dropped.
    static func survivors(of file: String, fork: Bool) throws -> [String] {
        let scenario = try SessionForkTests.scenario(file)
        var weak: [Weak] = []
        do {
            let session = Session()
            _ = session.run(scenario)
            let dropped = fork ? session.fork() : session
            weak = references(dropped)
        }
        return weak.filter { $0.object != nil }.map(\.name)
    }

    static let files: [String] = {
        let directory = ScenarioFileTests.scenarioDirectory
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        return ((enumerator?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(".iommu") }.sorted()
    }()

    @Test(arguments: [false, true]) func droppedSessionsAreFreed(fork: Bool) throws {
        #expect(!Self.files.isEmpty)
        for file in Self.files {
            let alive = try Self.survivors(of: file, fork: fork)
            #expect(alive.isEmpty, "\(file)\(fork ? " (a fork)" : ""): still alive: \(alive.prefix(8))")
        }
    }
}
