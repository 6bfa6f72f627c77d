import ScenarioScript

/// A record of a real VMM's iommufd use (a QEMU trace, a syzkaller program) as a replay: the
/// scenario's text (what `import` writes) and the same lines grouped by the record's line each
/// replays, with what the record observed, for a `Timeline`.
public struct ImportedReplay: Sendable {
    public var scenario: String
    public var sources: [TimelineSource]

    public init(scenario: String, sources: [TimelineSource]) {
        self.scenario = scenario
        self.sources = sources
    }
}
