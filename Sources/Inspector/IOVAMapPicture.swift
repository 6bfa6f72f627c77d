import IOMMUCore
import Presentation

/// One IOAS's address space as `iommuscope export iovamap` draws it: the IOVA map pane's
/// zoom-0 rows (the 64-bit space cut at every boundary that matters), each with its bar of
/// kinds and its summary, then every area, reserved range (with its owner: SW_MSI and MSI
/// windows, outside an aperture) and allowed range. The rows and their words are the pane's
/// own (`IOVAMap`, `IOVAMapNarration`), so the picture and the pane agree.
public struct IOVAMapPicture {
    let ioas: IOAS
    /// What the title says the state is: "Examples/quickstart.iommu after line 12".
    let source: String

    /// Cells of a row's bar.
    static let barCells = 64
    /// At most this many areas are listed one by one under the map (the rest counted).
    static let listedAreas = 32

    public init(ioas: IOAS, source: String) {
        self.ioas = ioas
        self.source = source
    }

    /// The map's rows, as the pane shows them at zoom 0.
    var rows: [IOVAMapRow] {
        IOVAMap.segments(of: ioas).map { IOVAMap.row($0, ioas: ioas, barWidth: Self.barCells) }
    }

    /// The ranges under the map: each as its text and kind.
    var ranges: [(text: String, kind: IOVAKind)] {
        var lines: [(text: String, kind: IOVAKind)] = []
        ioas.areas.forEach(intersecting: .all) { range, area in
            lines.append(("area \(range)  \(Units.size(of: range))  \(area.prot.shortDescription)  user_va \(area.userVA.hex)", .mapped))
            return lines.count < Self.listedAreas
        }
        let count = ioas.areas.count
        if count > lines.count { lines.append(("and \(count - lines.count) more areas", .mapped)) }
        for reservation in ioas.reservations {
            lines.append(("reserved \(reservation.range)  \(Units.size(of: reservation.range))  \(ObjectText.owner(reservation.owner))",
                          IOVAKind(reservation.owner)))
        }
        for allowed in ioas.allowedRanges { lines.append(("allowed \(allowed)  \(Units.size(of: allowed))", .allowed)) }
        return lines
    }

    /// The map as text: a row per segment (range, size, what is there), then the ranges.
    public var text: String {
        var table = TextTable(columns: [.init("first"), .init("last"), .init("size", .right), .init("kind"), .init("summary")])
        for row in rows { table.append([row.window.start.hex, row.window.last.hex, Units.size(of: row.window), row.kind.label, row.summary]) }
        let lines = ["IOVA map: IOAS \(ioas.id) (\(source))"] + table.lines(indent: "  ") + ["", "ranges:"] + ranges.map { "  " + $0.text }
        return lines.map { terminalSafe($0) + "\n" }.joined()
    }

    static let style = """
        text { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; fill: #1b1b1b; }
        .title { font-size: 26px; font-weight: bold; }
        .subtitle { font-size: 16px; fill: #444444; }
        .heading { font-size: 16px; font-weight: bold; }
        .mono { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 14px; white-space: pre; }
        .label { font-size: 14px; }
        .frame { fill: none; stroke: #888888; stroke-width: 1; }
        .page { fill: #ffffff; stroke: none; }
        .mapped { fill: #2e7d32; }
        .partlyMapped { fill: #81c784; }
        .swMSI { fill: #c2185b; }
        .msi { fill: #f48fb1; }
        .direct { fill: #7b1fa2; }
        .reserved { fill: #757575; }
        .outside { fill: #cfcfcf; }
        .allowed { fill: #bbdefb; }
        .hole { fill: #ffffff; }
        """

    /// The CSS class of a kind: its case name (`swMSI`, `partlyMapped`), one colour each.
    static func cssClass(_ kind: IOVAKind) -> String { String(describing: kind) }

    /// The map as a standalone picture: a legend of kinds, one row per segment (its range and
    /// size, a bar of equal slices coloured by kind, the summary), and the list of ranges.
    public var svg: String {
        let margin = 32, rowHeight = 30, cell = 6, monoSize = 14
        let rows = rows, ranges = ranges
        let rangeTexts = rows.map { "\($0.window.start.hex)-\($0.window.last.hex)" }
        let rangeWidth = (rangeTexts.map { SVGWriter.monospaceWidth($0, size: monoSize) }.max() ?? 0) + 16
        let sizeWidth = 70
        let barX = margin + rangeWidth + sizeWidth, barWidth = Self.barCells * cell
        let summaryX = barX + barWidth + 16
        let summaryWidth = rows.map { $0.summary.count * 8 }.max() ?? 0
        let listWidth = ranges.map { SVGWriter.monospaceWidth($0.text, size: monoSize) + 24 }.max() ?? 0
        let subtitleWidth = (source.count + 80) * 8
        let width = max(summaryX + summaryWidth, margin + listWidth, margin + subtitleWidth, 900) + margin
        let legendTop = margin + 82
        let kinds = IOVAKind.allCases.reversed()
        let rowsTop = legendTop + 40
        let listTop = rowsTop + rows.count * rowHeight + 40
        let height = listTop + 10 + ranges.count * 22 + margin
        let title = "IOVA map: IOAS \(ioas.id)"

        var svg = SVGWriter(width: width, height: height, title: title + " (\(source))", style: Self.style)
        svg.rect(x: 0, y: 0, width: width, height: height, class: "page")
        svg.text(title, x: margin, y: margin + 22, class: "title")
        svg.text("\(source): the 64-bit space cut at every boundary that matters into \(Units.count(rows.count, "segment")),",
                 x: margin, y: margin + 46, class: "subtitle")
        svg.text("one row each, not to scale; each bar is \(Self.barCells) equal slices of its row", x: margin, y: margin + 66, class: "subtitle")
        svg.group(class: "legend") { svg in
            var x = margin
            for kind in kinds {
                svg.rect(x: x, y: legendTop, width: 16, height: 16, class: Self.cssClass(kind))
                svg.rect(x: x, y: legendTop, width: 16, height: 16, class: "frame")
                svg.text(kind.label, x: x + 22, y: legendTop + 13, class: "label")
                x += 22 + kind.label.count * 8 + 18
            }
        }
        for (index, row) in rows.enumerated() {
            let top = rowsTop + index * rowHeight
            svg.group(class: "row " + Self.cssClass(row.kind), title: "\(row.window)  \(Units.size(of: row.window))  \(row.summary)") { svg in
                svg.text(rangeTexts[index], x: margin, y: top + 20, class: "mono")
                svg.text(Units.size(of: row.window), x: margin + rangeWidth + sizeWidth - 12, y: top + 20, class: "label", anchor: "end")
                // Runs of one kind as one rectangle each.
                var start = 0
                while start < row.cells.count {
                    var end = start
                    while end + 1 < row.cells.count && row.cells[end + 1] == row.cells[start] { end += 1 }
                    if row.cells[start] != .hole {
                        svg.rect(x: barX + start * cell, y: top + 5, width: (end - start + 1) * cell, height: rowHeight - 10,
                                 class: Self.cssClass(row.cells[start]))
                    }
                    start = end + 1
                }
                svg.rect(x: barX, y: top + 5, width: barWidth, height: rowHeight - 10, class: "frame")
                svg.text(row.summary, x: summaryX, y: top + 20, class: "label")
            }
        }
        svg.text("Ranges", x: margin, y: listTop, class: "heading")
        svg.begin("g", ["class": "ranges", "xml:space": "preserve"])
        for (index, range) in ranges.enumerated() {
            let y = listTop + 10 + index * 22
            svg.rect(x: margin, y: y + 4, width: 14, height: 14, class: Self.cssClass(range.kind))
            svg.rect(x: margin, y: y + 4, width: 14, height: 14, class: "frame")
            svg.text(range.text, x: margin + 24, y: y + 16, class: "mono")
        }
        svg.end()
        return svg.document
    }
}
