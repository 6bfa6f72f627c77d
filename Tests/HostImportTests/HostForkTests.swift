import IOMMUCore
import ScenarioScript
import Testing
import TestSupport
@testable import HostImport

/// A session on a real host's platform, with the host's tables rebuilt at the addresses its
/// dumps showed (`HostPlatform.rebuildTables`), forks with those adopted tables: the fork
/// reads the same configuration and page-table words, walks the same, and writes apart.
@Suite struct HostForkTests {
    static func session(_ tree: String) throws -> (Session, TableRebuildReport) {
        let snapshot = HostReader.read(from: DirectorySource(root: tree)).snapshot
        let session = try Session(platform: HostPlatform.description(of: snapshot).platform)
        return (session, HostPlatform.rebuildTables(snapshot, into: session.machine))
    }

    /// What the IOMMUs read for every device, and what a walk of each rebuilt table gives.
    static func answers(_ session: Session, _ report: TableRebuildReport) -> [String] {
        let machine = session.machine
        var answers = machine.devices.flatMap { device in
            device.iommu.configurationStructures(for: device, pasid: nil, memory: machine.physical).map {
                "\(device.name) \($0.name) \($0.address.hex) \($0.words.map(\.hex))"
            }
        }
        for table in report.tables {
            let cursor = TableCursor(format: table.format, root: table.root, stage: .stage2, read: { try? machine.physical.read64($0) })
            for iova: UInt64 in [0, 0x1000, 0x8d80_0000, 0xfee0_0000] { answers.append("\(table.device) \(cursor.steps(to: iova))") }
            if let device = machine.device(named: table.device) {
                for iova: UInt64 in [0, 0x1000, 0x8d80_0000] {
                    let walk = device.iommu.translate(device, iova: iova, pasid: table.pasid, access: .read, caches: .bypass,
                                                      memory: machine.physical)
                    answers.append("\(table.device) \(iova.hex) \(String(describing: walk))")
                }
            }
        }
        return answers
    }

    /// The Kaby Lake tree: VT-d units whose root, context and page tables
    /// are placed where the host had them (the other trees dump no tables to rebuild).
    @Test func hostSessionForksWithItsAdoptedTables() throws {
        let (original, report) = try Self.session(HostTrees.intel)
        let root = try #require(report.tables.first).root
        #expect(original.machine.physical.isAdopted(root))
        let before = Self.answers(original, report)
        let fork = original.fork()
        #expect(fork.machine.physical.isAdopted(root))
        #expect(fork.machine.physical.residentFrames == original.machine.physical.residentFrames)
        for frame in original.machine.physical.residentFrames {
            #expect(fork.machine.physical.peek64(frame, count: 512) == original.machine.physical.peek64(frame, count: 512))
        }
        #expect(Self.answers(fork, report) == before)

        // Clearing the root table in the fork leaves the original's tables and walks alone.
        let word = original.machine.physical.peek64(root)
        try fork.machine.physical.write64(root, words: Array(repeating: 0, count: 512))
        #expect(original.machine.physical.peek64(root) == word)
        #expect(Self.answers(original, report) == before)
    }
}
