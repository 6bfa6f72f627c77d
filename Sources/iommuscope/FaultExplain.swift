import HostImport
import IOMMUCore
import ScenarioScript

/// `faults --host P` / `--scenario F`: each record explained on that model, or nil without
/// either option. `--host` alone explains against the host's rebuilt tables; `--scenario`
/// alone against the scenario's own model (its devices by name or requester id), with its
/// unmaps telling a DMA after unmap apart; both run the scenario on the host.
func explainFaults(_ records: [HostImport.FaultRecord], host: OpenedHost?, scenario: ScenarioSource?) throws -> [FaultExplanation]? {
    guard host != nil || scenario != nil else { return nil }
    let opened = try host?.model()
    let session = opened?.session ?? Session()
    let unmapped = try scenario.map { try runScenario($0, on: session) } ?? []
    var explainer: FaultExplainer
    if let opened {
        explainer = FaultExplainer(machine: session.machine, tables: opened.tables)
        explainer.unmapped = unmapped
    } else {
        explainer = FaultExplainer(scenarioMachine: session.machine, unmapped: unmapped)
    }
    return records.map(explainer.explain)
}

/// Runs a scenario on `session` (an empty one unless a host's), reporting failed expectations
/// on stderr, and returns what each `ioas_unmap` line took away: the IOAS areas present
/// before the line and gone after it. The session keeps no history of its own, so the areas
/// are compared around each unmap (and only there: other lines cost nothing).
@discardableResult
func runScenario(_ source: ScenarioSource, on session: Session = Session()) throws -> [UnmappedRange] {
    var unmapped: [UnmappedRange] = []
    for line in try loadScenario(source).lines {
        let before = line.command == "ioas_unmap" ? areas(session) : []
        let report = session.run(line)
        if !report.passed { printError("\(source.name):\(report.line): \(report.command) ended \(report.result.status)") }
        guard line.command == "ioas_unmap" else { continue }
        let after = Set(areas(session).map { AreaKey(ioas: $0.ioas, start: $0.range.start, last: $0.range.last) })
        for area in before where !after.contains(AreaKey(ioas: area.ioas, start: area.range.start, last: area.range.last)) {
            unmapped.append(UnmappedRange(ioas: area.ioas, range: area.range, line: line.number))
        }
    }
    return unmapped
}

private struct AreaKey: Hashable {
    var ioas: UInt32
    var start: UInt64
    var last: UInt64
}

/// Every IOAS area of the session's iommufd, with its IOAS id.
private func areas(_ session: Session) -> [(ioas: UInt32, range: IOVARange)] {
    ModelReader(session.iommufd).graph.nodes.flatMap { node -> [(ioas: UInt32, range: IOVARange)] in
        guard case .ioas(let ioas) = node.kind else { return [] }
        return ioas.areas.entries.map { (ioas.id.rawValue, $0.range) }
    }
}
