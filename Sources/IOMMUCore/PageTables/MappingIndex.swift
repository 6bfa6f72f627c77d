/// The side index of the runs a descriptor table maps, for views that list mappings without
/// walking every table.
///
/// A run is what one `map_pages` call mapped (one physically contiguous batch). Runs come in
/// series, as `iopt_area_fill_domain` maps them: consecutive in IOVA, of equal length and
/// protection, their outputs a constant stride apart (top-down 4K chunks: −4K). One tree entry
/// holds a whole series, so an area of a million 4K runs costs one entry, not a million;
/// the answers are the runs, exactly as if each were an entry of its own.
struct MappingIndex {
    /// A series of runs from its entry's start.
    struct Series {
        var runs: PhysicalRunSeries
        var prot: IOMMUProt

        /// The mapping of run `index`, the series starting at `start`.
        func mapping(_ index: UInt64, from start: UInt64) -> DomainMapping {
            let first = start + index * runs.length
            return DomainMapping(iova: IOVARange(start: first, last: first + (runs.length - 1)), output: runs.output(ofRun: index), prot: prot)
        }

        /// The indices of the runs (of the series starting at `start`, ending at `last`) that
        /// intersect `range`, which intersects the series.
        func indices(intersecting range: IOVARange, start: UInt64, last: UInt64) -> ClosedRange<UInt64> {
            ((max(range.start, start) - start) / runs.length)...((min(range.last, last) - start) / runs.length)
        }
    }

    /// What `remove` took out of one series: the IOVAs of the whole runs the range touched,
    /// the bytes of them inside the range, and the parts of the first and last of those runs
    /// that lie outside the range (which stay mapped: the caller maps them again).
    struct Removal {
        var runs: IOVARange
        var unmapped: UInt64
        var head: DomainMapping?
        var tail: DomainMapping?
    }

    private var series = IntervalTree<Series>()
    /// How many runs the index holds (the sum of the series' counts).
    private(set) var count = 0

    /// Adds the `runs.count` runs of `runs` from `iova` (which nothing in the index overlaps).
    mutating func insert(iova: UInt64, _ runs: PhysicalRunSeries, prot: IOMMUProt) {
        series.insert(IOVARange(start: iova, length: runs.bytes)!, Series(runs: runs, prot: prot))
        count += Int(runs.count)
    }

    /// True when some run intersects `range`.
    func intersects(_ range: IOVARange) -> Bool { series.intersects(range) }

    /// The lowest run that intersects `range`.
    func firstMapping(intersecting range: IOVARange) -> DomainMapping? {
        var found: DomainMapping?
        forEach(intersecting: range) { found = $0; return false }
        return found
    }

    /// The protection of the run containing `iova`.
    func prot(at iova: UInt64) -> IOMMUProt? { series.entry(containing: iova)?.value.prot }

    /// Visits the runs that intersect `range`, ascending, until `body` returns false.
    func forEach(intersecting range: IOVARange, _ body: (DomainMapping) -> Bool) {
        series.forEach(intersecting: range) { covered, entry in
            for index in entry.indices(intersecting: range, start: covered.start, last: covered.last)
            where !body(entry.mapping(index, from: covered.start)) { return false }
            return true
        }
    }

    /// Removes every run that intersects `range`, keeping the rest of their series as series
    /// of their own; what went, series by series, ascending.
    mutating func remove(_ range: IOVARange) -> [Removal] {
        var doomed: [(covered: IOVARange, entry: Series)] = []
        series.forEach(intersecting: range) { covered, entry in doomed.append((covered, entry)); return true }
        return doomed.map { covered, entry in
            series.remove(startingAt: covered.start)
            let cut = entry.indices(intersecting: range, start: covered.start, last: covered.last)
            count -= Int(entry.runs.count)
            if cut.lowerBound > 0 { keep(entry, runs: 0..<cut.lowerBound, from: covered.start) }
            if cut.upperBound + 1 < entry.runs.count { keep(entry, runs: (cut.upperBound + 1)..<entry.runs.count, from: covered.start) }
            let first = entry.mapping(cut.lowerBound, from: covered.start), last = entry.mapping(cut.upperBound, from: covered.start)
            let runs = IOVARange(start: first.iova.start, last: last.iova.last)
            let inside = IOVARange(start: max(range.start, runs.start), last: min(range.last, runs.last))
            var head: DomainMapping?, tail: DomainMapping?
            if first.iova.start < range.start {
                head = DomainMapping(iova: IOVARange(start: first.iova.start, last: range.start - 1), output: first.output, prot: entry.prot)
            }
            if last.iova.last > range.last {
                let skip = range.last + 1 - last.iova.start
                tail = DomainMapping(iova: IOVARange(start: range.last + 1, last: last.iova.last), output: last.output + skip, prot: entry.prot)
            }
            return Removal(runs: runs, unmapped: inside.last - inside.start + 1, head: head, tail: tail)
        }
    }

    /// Puts the runs `kept` of `entry` (which started at `start`) back as a series.
    private mutating func keep(_ entry: Series, runs kept: Range<UInt64>, from start: UInt64) {
        let first = entry.mapping(kept.lowerBound, from: start)
        insert(iova: first.iova.start,
               PhysicalRunSeries(output: first.output, length: entry.runs.length, count: UInt64(kept.count), stride: entry.runs.stride),
               prot: entry.prot)
    }
}
