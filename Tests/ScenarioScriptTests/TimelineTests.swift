@testable import IOMMUCore
import ScenarioScript
import TestSupport
import Testing

/// The timeline with checkpoints: wherever it moves from and to, it lands on exactly the
/// state a straight replay of the lines before the target builds (the last line's reports,
/// the object graph), across checkpoints, after typed commands dropped the future, and with
/// the checkpoints thinned to their limit; marks are indexed; bad commands are located errors.
@Suite struct TimelineTests {
    /// What a position shows: the reports of the line just applied and the object graph.
    struct State: Equatable, CustomStringConvertible {
        struct Node: Equatable {
            var id: ObjectID
            var serial: UInt64
            var users: Int
            var references: [ObjectReference]
            var referrers: [ObjectReference]
            var fields: ObjectGraph.Fields
        }

        var reports: [String]
        var nodes: [Node]
        var tombstones: [ObjectID]

        init(reports: [LineReport], session: Session) {
            self.reports = reports.map(\.json)
            let graph = session.iommufd.graph
            nodes = graph.nodes.map {
                Node(id: $0.id, serial: $0.serial, users: $0.users, references: $0.references, referrers: $0.referrers, fields: $0.fields)
            }
            tombstones = graph.tombstones
        }

        var description: String { "\(reports) \(nodes.map { "\($0.id.rawValue):\($0.fields)" })" }
    }

    /// A VT-d device on an IOAS with a rolling set of maps, names bound and used far apart
    /// (so a replay from a checkpoint needs the names bound before it), and every 97th line an
    /// unmap of nothing that expects `ok`: the kernel says ENOENT, a mark.
    static func scenario(lines count: Int) -> [String] {
        var lines = [
            "iommu iommu0 type=intel-vtd",
            "device 0000:00:03.0 iommu=iommu0",
            "dev = device_bind dev=0000:00:03.0",
            "ioas = ioas_alloc",
            "device_attach dev_id=dev pt_id=ioas expect=ok",
            "buf = mmap length=0x100000",
        ]
        // Maps of one page in 64 slots, the oldest unmapped once more than 16 are in.
        var mapped: [UInt64] = [], next: UInt64 = 0
        while lines.count < count {
            let index = lines.count
            if index % 97 == 0 {
                lines.append("ioas_unmap ioas_id=ioas iova=0x7000000 length=0x1000 expect=ok")
            } else if index % 41 == 0 {
                lines.append("h\(index) = ioas_alloc")
            } else if index % 41 == 20 && index > 82 {
                lines.append("destroy id=h\(index - 20 - 41) expect=ok")
            } else if index % 2 == 1 && mapped.count > 16 {
                lines.append("ioas_unmap ioas_id=ioas iova=\(hex(0x100000 + mapped.removeFirst() * 0x1000)) length=0x1000 expect=ok")
            } else {
                let slot = next % 64
                next += 1
                mapped.append(slot)
                lines.append("ioas_map ioas_id=ioas user_va=buf+\(hex(slot * 0x1000)) iova=\(hex(0x100000 + slot * 0x1000)) length=0x1000 flags=fixed_iova|readable|writeable expect=ok")
            }
        }
        return lines
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// The state after each number of lines, 0 to all, replayed straight on one session.
    static func straightReplay(_ lines: [String]) throws -> [State] {
        let session = Session()
        var states = [State(reports: [], session: session)]
        for line in try Scenario(source: lines.joined(separator: "\n")).lines {
            states.append(State(reports: [session.run(line)], session: session))
        }
        #expect(states.count == lines.count + 1)
        return states
    }

    static func sources(_ lines: [String]) -> [TimelineSource] {
        lines.enumerated().map { TimelineSource(line: $0 + 1, text: $1, commands: [TimelineCommand(number: $0 + 1, text: $1)]) }
    }

    static func expectAt(_ timeline: Timeline, _ target: Int, _ states: [State], sourceLocation: SourceLocation = #_sourceLocation) {
        timeline.move(to: target)
        let expected = max(0, min(target, states.count - 1))
        #expect(timeline.position == expected, sourceLocation: sourceLocation)
        #expect(State(reports: timeline.reports, session: timeline.session) == states[expected], "at \(target)",
                sourceLocation: sourceLocation)
    }

    @Test func movesLandOnAStraightReplay() throws {
        let lines = Self.scenario(lines: 1500)
        let states = try Self.straightReplay(lines)
        let timeline = try Timeline(sources: Self.sources(lines), start: Session.init, interval: 16)
        #expect(timeline.count == 1500)
        #expect(timeline.checkpointCount == 94)
        #expect(State(reports: timeline.reports, session: timeline.session) == states[1500])
        // Either side of checkpoints, back and forth, one step and far.
        for target in [0, 1, 15, 16, 17, 31, 32, 33, 1499, 1500, 1484, 1485, 2, 0, 1500, 800, 799, 798, 801, 816, 815] {
            Self.expectAt(timeline, target, states)
        }
        // Clamped.
        Self.expectAt(timeline, -5, states)
        Self.expectAt(timeline, Int.max, states)
        var random = SplitMix64(seed: 10)
        for _ in 0..<150 {
            let from = random.below(1501)
            Self.expectAt(timeline, from, states)
            let step = random.below(3) == 0 ? random.below(40) - 20 : random.below(1501) - from
            Self.expectAt(timeline, from + step, states)
        }
    }

    @Test func typedCommandsDropTheFutureAndKeepCheckpointsValid() throws {
        let lines = Self.scenario(lines: 400)
        let timeline = try Timeline(sources: Self.sources(lines), start: Session.init, interval: 16)
        timeline.move(to: 203)
        // More typed lines than an interval, binding and using names, one failing.
        var typed = ["extra = ioas_alloc", "ioas_unmap ioas_id=extra iova=0 length=0x1000 expect=ok"]
        for index in 0..<40 {
            typed.append("ioas_map ioas_id=extra user_va=buf iova=\(Self.hex(UInt64(index) * 0x1000)) length=0x1000 flags=fixed_iova|readable expect=ok")
        }
        typed.append("destroy id=extra expect=ok")
        for text in typed {
            let report = try #require(timeline.run(command: text)).get()
            #expect(report.passed == !text.hasPrefix("ioas_unmap"))
        }
        #expect(timeline.count == 203 + typed.count)
        #expect(timeline.position == timeline.count)
        #expect(timeline.outcome(203 + 1).mark == .expectationFailed)
        #expect(timeline.source(203).text == "extra = ioas_alloc")
        // A typed line that does not parse is an error and changes nothing.
        let failure = try #require(timeline.run(command: "ioas_map ioas_id=nothing"))
        guard case .failure(let errors) = failure else { Issue.record("a bad typed line ran"); return }
        #expect(errors.errors.first?.line == 1)
        #expect(timeline.count == 203 + typed.count)
        #expect(timeline.run(command: "# a comment") == nil)

        let states = try Self.straightReplay(Array(lines[0..<203]) + typed)
        // Typed lines carry line 1 in their reports; the straight replay numbers them in order.
        func typedState(_ state: State, at position: Int) -> State {
            guard position > 203 else { return state }
            var state = state
            state.reports = state.reports.map { $0.replacingOccurrences(of: "\"line\":\(position),", with: "\"line\":1,") }
            return state
        }
        let relined = states.enumerated().map { typedState($1, at: $0) }
        var random = SplitMix64(seed: 11)
        for target in [timeline.count, 203, 204, 202, 208, 224, 225, 0, timeline.count, 192, 191] + (0..<80).map({ _ in random.below(timeline.count + 1) }) {
            Self.expectAt(timeline, target, relined)
        }
    }

    @Test func checkpointsThinToTheirLimit() throws {
        let lines = Self.scenario(lines: 300)
        let states = try Self.straightReplay(lines)
        let timeline = try Timeline(sources: Self.sources(lines), start: Session.init, interval: 4, checkpointLimit: 8)
        #expect(timeline.checkpointCount <= 8)
        #expect(timeline.interval == 64)
        for target in [0, 1, 63, 64, 65, 300, 299, 150, 10, 290] { Self.expectAt(timeline, target, states) }
    }

    @Test func marksAreIndexed() throws {
        let lines = Self.scenario(lines: 1000)
        let timeline = try Timeline(sources: Self.sources(lines), start: Session.init, interval: 32)
        // Every 97th line unmaps nothing; no other line fails.
        let marked = (0..<1000).filter { timeline.outcome($0).mark != nil }
        #expect(marked == (1...10).map { $0 * 97 })
        #expect(timeline.markCount == 10)
        #expect(timeline.nextMark(after: -1) == 97)
        #expect(timeline.nextMark(after: Int.min) == 97)
        #expect(timeline.nextMark(after: 97) == 194)
        #expect(timeline.nextMark(after: 96) == 97)
        #expect(timeline.nextMark(after: 970) == nil)
        #expect(timeline.nextMark(after: Int.max) == nil)
        #expect(timeline.nextMark(after: 97, forward: false) == nil)
        #expect(timeline.nextMark(after: 98, forward: false) == 97)
        #expect(timeline.nextMark(after: 1000, forward: false) == 970)
        #expect(timeline.nextMark(after: Int.max, forward: false) == 970)
        #expect(timeline.nextMark(after: Int.min, forward: false) == nil)
        // Typing after line 300 drops the marks after it; a failing typed line is marked.
        timeline.move(to: 300)
        _ = timeline.run(command: "ioas_unmap ioas_id=ioas iova=0x7000000 length=0x1000 expect=ok")
        #expect(timeline.markCount == 4)
        #expect(timeline.nextMark(after: 291) == 300)
        #expect(timeline.nextMark(after: 300) == nil)
        #expect(timeline.nextMark(after: 300, forward: false) == 291)
    }

    @Test func unparsableCommandsAreLocatedErrors() {
        let text = "iommu iommu0 type=intel-vtd\nioas = ioas_alloc\n\nioas_map ioas_id=zz user_va=0 iova=0 length=0x1000\nioas_unmap ioas_id=ioas iova=0 lenght=1\n"
        let errors = #expect(throws: ScenarioParseErrors.self) { try Timeline(scenario: text) }?.errors ?? []
        #expect(errors.map(\.line) == [4, 5])
        #expect(errors.map(\.column) == [18, 32])
        // A trace's source line reports the scenario line its command came from.
        let sources = [TimelineSource(line: 7, text: "event", commands: [TimelineCommand(number: 12, text: "destroy id=nothing")])]
        let traced = #expect(throws: ScenarioParseErrors.self) { try Timeline(sources: sources, start: Session.init) }
        #expect(traced?.errors.map(\.line) == [12])
    }

    /// Counts the model's objects and says whether the count is what the source saw.
    struct ObjectCount: TimelineObservation {
        var expected: Int
        var summary: String { "\(expected) objects" }
        func compare(with model: ModelReader) -> ObservationVerdict {
            let count = model.graph.nodes.count
            return count == expected ? .agrees("\(count) objects") : .disagrees("\(count) objects, not \(expected)")
        }
    }

    @Test func outcomesOfFailedExpectationsAndObservations() throws {
        let commands = [
            "iommu iommu0 type=intel-vtd", "ioas = ioas_alloc", "destroy id=ioas expect=EBUSY",
            "ioas_unmap ioas_id=ioas iova=0 length=0x1000 expect=ENOENT", "x = ioas_alloc",
        ]
        var sources = [TimelineSource(line: 1, text: "platform", commands: [TimelineCommand(number: 1, text: commands[0])])]
        // One trace line, two commands: the second fails its expectation.
        sources.append(TimelineSource(line: 2, text: "alloc and destroy",
                                      commands: [TimelineCommand(number: 2, text: commands[1]), TimelineCommand(number: 3, text: commands[2])]))
        sources.append(TimelineSource(line: 3, text: "kept as a comment", note: "# not replayed", observation: ObjectCount(expected: 0)))
        sources.append(TimelineSource(line: 4, text: "unmap", commands: [TimelineCommand(number: 4, text: commands[3])],
                                      observation: ObjectCount(expected: 0)))
        sources.append(TimelineSource(line: 5, text: "alloc", commands: [TimelineCommand(number: 5, text: commands[4])],
                                      observation: ObjectCount(expected: 2)))
        let timeline = try Timeline(sources: sources, start: Session.init, interval: 2)
        #expect(timeline.outcome(0) == TimelineOutcome(status: .ok))
        // destroy of an IOAS nothing holds is ok: `expect=EBUSY` fails.
        #expect(timeline.outcome(1) == TimelineOutcome(status: .ok, failedCommand: 3))
        #expect(timeline.outcome(1).mark == .expectationFailed)
        // The verdict is of the model after the line: the IOAS is gone.
        #expect(timeline.outcome(2) == TimelineOutcome(verdict: .agrees("0 objects")))
        #expect(timeline.outcome(2).mark == nil)
        #expect(timeline.outcome(3).status?.errno == .ENOENT)
        #expect(timeline.outcome(3).failedCommand == nil)
        #expect(timeline.outcome(3).mark == nil)
        #expect(timeline.outcome(4) == TimelineOutcome(status: .ok, verdict: .disagrees("1 objects, not 2")))
        #expect(timeline.outcome(4).mark == .disagreement)
        #expect(timeline.markCount == 2)
        #expect(timeline.nextMark(after: 1) == 4)
        // A line without commands applies nothing: its reports are none.
        timeline.move(to: 3)
        #expect(timeline.reports.isEmpty)
        timeline.move(to: 2)
        #expect(timeline.reports.map(\.line) == [2, 3])
    }
}
