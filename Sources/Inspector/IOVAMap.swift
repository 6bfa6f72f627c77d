import IOMMUCore
import TerminalUI

/// What a stretch of IOVA holds. The raw value is the drawing priority: a bar cell that
/// spans several kinds shows the most important one.
public enum IOVAKind: Int, CaseIterable, Comparable, Sendable {
    case hole, allowed, outside, reserved, direct, msi, swMSI, partlyMapped, mapped

    public static func < (a: IOVAKind, b: IOVAKind) -> Bool { a.rawValue < b.rawValue }

    /// The kind a reservation gives the addresses it covers.
    init(_ owner: ReservationOwner) {
        switch owner {
        case .device(_, let type):
            switch type {
            case .swMSI: self = .swMSI
            case .msi: self = .msi
            case .direct, .directRelaxable: self = .direct
            case .reserved: self = .reserved
            }
        case .domain: self = .outside
        case .test: self = .reserved
        }
    }
}

/// One row of the IOVA map: a window of the address space, its bar (one kind per cell, each
/// cell an equal slice of the window) and a short summary of what is there.
public struct IOVAMapRow: Equatable {
    public var window: IOVARange
    public var cells: [IOVAKind]
    public var summary: String
    /// The most important kind anywhere in the window.
    public var kind: IOVAKind
}

/// The IOVA map of one IOAS at one state of the model: the geometry of rows (zoom-0
/// segments cut at every boundary that matters, power-of-two windows below), and each row's
/// cells and kind. Rows are computed once per state and bar width; a frame that changes
/// nothing (or only the selection) asks the interval tree nothing again. A row asks the tree
/// O(log n) questions per cell, never walking every area.
final class IOVAMap {
    let ioas: IOAS
    /// What the rows depend on: the IOAS, the model's generation and the core's.
    let key: [UInt64]
    /// Zoom 0: the whole space cut at every interesting boundary.
    private(set) lazy var segments = Self.segments(of: ioas)
    private var rows: [IOVARange: IOVAMapRow] = [:]
    private var rowsBarWidth = 0
    /// The owner lines of the selected window, which the strip under the rows redraws every frame.
    private var owners: (window: IOVARange, symbols: Symbols, lines: [DetailLine])?

    /// Rows a zoom level splits a window into (at most, plus one for misalignment).
    static let rowsPerZoom: UInt64 = 32
    /// The finest window: one page.
    static let finest: UInt64 = pageSize
    /// Areas are counted up to this many per row (counting costs what it counts).
    static let countLimit = 500
    /// At most this many clusters of areas become segments at zoom 0.
    static let clusterLimit = 16

    init(ioas: IOAS, model: ModelView) {
        self.ioas = ioas
        key = Self.key(ioas, model: model)
    }

    static func key(_ ioas: IOAS, model: ModelView) -> [UInt64] {
        [UInt64(ioas.id.rawValue), UInt64(model.generation), model.reader.generation]
    }

    /// The row of `window` with a bar of `barWidth` cells, computed at most once.
    func row(_ window: IOVARange, barWidth: Int) -> IOVAMapRow {
        if rowsBarWidth != barWidth || rows.count > 4096 {
            rows = [:]
            rowsBarWidth = barWidth
        }
        if let row = rows[window] { return row }
        let row = Self.row(window, ioas: ioas, barWidth: barWidth)
        rows[window] = row
        return row
    }

    /// Who owns `window` (`IOVAMapNarration.ownerLines`), computed once per window.
    func ownerLines(_ window: IOVARange, symbols: Symbols) -> [DetailLine] {
        if let owners, owners.window == window, owners.symbols == symbols { return owners.lines }
        let lines = IOVAMapNarration.ownerLines(window, ioas: ioas, symbols: symbols)
        owners = (window, symbols, lines)
        return lines
    }

    // MARK: Windows

    static func segments(of ioas: IOAS) -> [IOVARange] {
        var cuts: Set<UInt64> = [0]
        func cut(_ range: IOVARange) {
            cuts.insert(range.start)
            if range.last < .max { cuts.insert(range.last + 1) }
        }
        for reservation in ioas.reservations.prefix(256) { cut(reservation.range) }
        for allowed in ioas.allowedRanges.prefix(256) { cut(allowed) }
        for hwpt in ioas.hwpts { cut(hwpt.domain.aperture) }
        for cluster in clusters(of: ioas.areas) { cut(cluster) }
        let starts = cuts.sorted()
        return starts.indices.map { index in
            IOVARange(start: starts[index], last: index + 1 < starts.count ? starts[index + 1] - 1 : .max)
        }
    }

    /// Groups of areas separated by large holes: the holes of at least 2^k, for the smallest
    /// k (down to 64K) that leaves at most `clusterLimit` groups. Each try stops as soon as it
    /// finds too many holes, so this is O(clusters · log n) however many areas there are.
    static func clusters(of areas: IntervalTree<IOASArea>) -> [IOVARange] {
        guard !areas.isEmpty else { return [] }
        var first: UInt64 = 0
        areas.forEach(intersecting: .all) { range, _ in first = range.start; return false }
        // The last area's end: the largest address from which some area still lies above.
        var low: UInt64 = first, high: UInt64 = .max
        while low < high {
            let middle = low + (high - low) / 2 + 1
            if areas.intersects(IOVARange(start: middle, last: .max)) { low = middle } else { high = middle - 1 }
        }
        let extent = IOVARange(start: first, last: low)
        var chosen: [IOVARange] = []
        var exponent: UInt64 = 60
        while exponent >= 16 {
            var holes: [IOVARange] = []
            var tooMany = false
            areas.forEachHole(in: extent, minimumLength: 1 << exponent) { hole in
                holes.append(hole)
                if holes.count >= clusterLimit { tooMany = true; return false }
                return true
            }
            if tooMany { break }
            chosen = holes
            exponent -= 4
        }
        var clusters: [IOVARange] = []
        var start = extent.start
        for hole in chosen {
            if hole.start > start { clusters.append(IOVARange(start: start, last: hole.start - 1)) }
            start = hole.last &+ 1
        }
        if start <= extent.last && start >= extent.start { clusters.append(IOVARange(start: start, last: extent.last)) }
        return clusters
    }

    /// The size of the rows a window splits into: a power of two, at least a page; nil when
    /// the window is a page already.
    static func childSize(of window: IOVARange) -> UInt64? {
        let span = window.last - window.start
        guard span >= finest else { return nil }
        return max(finest, (span / rowsPerZoom + 1).roundedUpToPowerOfTwo)
    }

    /// A window split into aligned children of `childSize`, clipped to the window.
    static func subdivide(_ window: IOVARange) -> [IOVARange] {
        guard let size = childSize(of: window) else { return [window] }
        var children: [IOVARange] = []
        var start = window.start.alignedDown(to: size)
        while true {
            let last = start.checkedAdd(size - 1) ?? .max
            children.append(IOVARange(start: max(start, window.start), last: min(last, window.last)))
            guard last < window.last, let next = start.checkedAdd(size) else { break }
            start = next
        }
        return children
    }

    // MARK: Rows

    /// The row of one window, with a bar of `barWidth` cells.
    static func row(_ window: IOVARange, ioas: IOAS, barWidth: Int) -> IOVAMapRow {
        let areas = ioas.areas
        let hasArea = areas.intersects(window)
        let reservations = ioas.reservations.filter { $0.range.intersects(window) }
        let allowed = ioas.allowedRanges.filter { $0.intersects(window) }
        let cells = (0..<max(0, barWidth)).map { index in
            classify(slice(window, index, of: barWidth), areas: hasArea ? areas : nil, reservations: reservations, allowed: allowed)
        }
        var kind = cells.max() ?? .hole
        if hasArea { kind = max(kind, .partlyMapped) }
        for reservation in reservations { kind = max(kind, IOVAKind(reservation.owner)) }
        if !hasArea && reservations.isEmpty && !allowed.isEmpty { kind = max(kind, .allowed) }
        let summary = IOVAMapNarration.summary(window, ioas: ioas, hasArea: hasArea, reservations: reservations, allowed: allowed)
        return IOVAMapRow(window: window, cells: cells, summary: summary, kind: kind)
    }

    /// Cell `index` of `count` equal slices of `window` (128-bit arithmetic: a window may be 2^64).
    static func slice(_ window: IOVARange, _ index: Int, of count: Int) -> IOVARange {
        let length = UInt128(window.last - window.start) + 1
        let start = window.start + UInt64(length * UInt128(index) / UInt128(count))
        let end = UInt128(window.start) + length * UInt128(index + 1) / UInt128(count)
        let last = end == 0 ? start : UInt64(end - 1)
        return IOVARange(start: start, last: max(start, last))
    }

    /// The most important kind inside `cell`: O(log n) tree questions, whatever it holds.
    static func classify(_ cell: IOVARange, areas: IntervalTree<IOASArea>?, reservations: [Reservation], allowed: [IOVARange]) -> IOVAKind {
        if let areas, areas.intersects(cell) {
            if let entry = areas.entry(containing: cell.start), entry.range.last >= cell.last { return .mapped }
            var hole = false
            areas.forEachHole(in: cell, minimumLength: 1) { _ in hole = true; return false }
            return hole ? .partlyMapped : .mapped
        }
        var best = IOVAKind.hole
        for reservation in reservations where reservation.range.intersects(cell) { best = max(best, IOVAKind(reservation.owner)) }
        if best != .hole { return best }
        return allowed.contains { $0.intersects(cell) } ? .allowed : .hole
    }

    /// The first attached domain with real descriptors.
    static func descriptorDomain(_ ioas: IOAS) -> (hwpt: HWPTPaging, table: DescriptorPageTable)? {
        for hwpt in ioas.hwpts { if let table = hwpt.domain.table as? DescriptorPageTable { return (hwpt, table) } }
        return nil
    }

    /// The leaf size that maps `iova`, read by walking the descriptors.
    static func leafSize(_ table: DescriptorPageTable, at iova: UInt64) -> UInt64? {
        guard let step = table.path(to: iova).last, step.kind == .block || step.kind == .page else { return nil }
        return table.format.leafSize(of: step.descriptor, level: step.level)
    }

    /// The leaf sizes a domain uses for the first `areaLimit` areas of a window, at most
    /// `leafLimit` leaves in all; `complete` is false when the sample stopped early.
    static func leafSizes(_ table: DescriptorPageTable, areas: IntervalTree<IOASArea>, in window: IOVARange,
                          areaLimit: Int, leafLimit: Int) -> (sizes: [UInt64: Int], complete: Bool) {
        var sizes: [UInt64: Int] = [:]
        var complete = true, seen = 0, leaves = 0
        areas.forEach(intersecting: window) { range, _ in
            if seen >= areaLimit { complete = false; return false }
            seen += 1
            var address = max(range.start, window.start)
            let end = min(range.last, window.last)
            while true {
                if leaves >= leafLimit { complete = false; return false }
                guard let size = leafSize(table, at: address) else { break }
                sizes[size, default: 0] += 1
                leaves += 1
                guard let next = address.alignedDown(to: size).checkedAdd(size), next <= end else { break }
                address = next
            }
            return true
        }
        return (sizes, complete)
    }

    // MARK: Moving

    /// The window moved by its own length, clamped to the 64-bit space.
    static func pan(_ window: IOVARange, forward: Bool) -> IOVARange {
        let span = window.last - window.start
        guard span < .max else { return window }
        let length = span + 1
        if forward {
            guard window.last < .max else { return window }
            if let last = window.last.checkedAdd(length) { return IOVARange(start: window.start + length, last: last) }
            return IOVARange(start: .max - span, last: .max)
        }
        guard window.start > 0 else { return window }
        if window.start >= length { return IOVARange(start: window.start - length, last: window.last - length) }
        return IOVARange(start: 0, last: span)
    }

    /// `window` moved by whole multiples of its length until it holds `address`.
    static func shift(_ window: IOVARange, toContain address: UInt64) -> IOVARange {
        let span = window.last - window.start
        guard span < .max else { return window }
        let length = span + 1
        let start: UInt64
        if address > window.last {
            start = window.start + (address - window.start) / length * length
        } else {
            let steps = (window.start - address + length - 1) / length
            start = window.start - steps * length
        }
        return IOVARange(start: start, last: start.checkedAdd(span) ?? .max)
    }
}
