import ScenarioScript

/// A line number that names no state of a timeline, with the lines that do.
public struct LinePositionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    /// The last source line's number (0 for a timeline without any).
    public var last: Int

    public init(line: Int, last: Int) {
        self.line = line
        self.last = last
    }

    public var description: String {
        last == 0 ? "no line \(line): the scenario has no command lines (only 0, before the first, exists)"
            : "no line \(line): the command lines are 1 to \(last) (0 is before the first)"
    }
}

extension Timeline {
    /// The position just after source line `line`, as the inspector's `#LINE` moves: the
    /// first source line numbered `line` or later (a blank or comment line means the next
    /// command line) and every line before it applied; 0 is the state before the first.
    public func position(afterLine line: Int) throws(LinePositionError) -> Int {
        if line == 0 { return 0 }
        guard line > 0, let index = index(ofLine: line) else {
            throw LinePositionError(line: line, last: count > 0 ? source(count - 1).line : 0)
        }
        return index + 1
    }

    /// The snapshot of the state after source line `line` (the end when nil) of the scenario
    /// `file` names; the timeline stays there.
    public func snapshot(afterLine line: Int?, file: String) throws(LinePositionError) -> ModelSnapshot {
        let position = try line.map { line throws(LinePositionError) in try self.position(afterLine: line) } ?? count
        move(to: position)
        let reached = line ?? (count > 0 ? source(count - 1).line : 0)
        return ModelSnapshot(session: session, source: ModelSnapshot.Source(file: file, line: reached, position: position, lines: count))
    }
}
