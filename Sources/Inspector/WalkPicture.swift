import IOMMUCore
import Presentation
import TerminalUI

/// One DMA transaction's walk as `iommuscope export walk` draws it: the grid of descriptor
/// fetches (for a nested walk, stage-1 levels down and the stage-2 levels that serve each
/// across; for a single stage, one row), each cell numbered in the order the hardware
/// fetched it, then the fetch list. Text for a bug report, or a standalone SVG for a slide.
/// Everything comes from the walk pane's model (`WalkModel`) and words (`WalkNarration`): the
/// picture and the pane say the same thing.
public struct WalkPicture {
    let walk: WalkModel

    /// A row of the grid: its label, the address it resolves, and per column the step fetched
    /// there (nil where none is); `result` replaces the last column (the PA the walk ends at).
    struct Row {
        var name: String
        var input: String?
        var cells: [Int?]
        var result: String?
    }

    /// The walk of `device` at `iova` past the IOMMU's caches (a cold walk, as the pane's
    /// default): a probe that fills and flushes nothing.
    public init(device: Device, reader: ModelReader, iova: UInt64, pasid: UInt32?, write: Bool) {
        let request = WalkModel.Request(generation: 0, device: device.id.rawValue, iova: iova, pasid: pasid, write: write, cold: true)
        walk = WalkModel(request, device: device, reader: reader)
    }

    /// Why the walk could not be made (the IOMMU's walk is not modelled for the request, or
    /// translate returned an errno); nil when there is a walk or a fault to draw.
    public var failure: String? {
        switch walk.outcome {
        case .unsupported, .failed: WalkNarration.outcomeLines(walk, symbols: .ascii).first?.text
        default: nil
        }
    }

    /// The index of the fetch that faulted, if the walk faulted in a table.
    var faultingStep: Int? {
        guard case .fault(let fault) = walk.outcome, fault.stage != .configuration, let last = walk.steps.last,
              last.stage == fault.stage else { return nil }
        return walk.steps.count - 1
    }

    var isNested: Bool { !walk.grid.isEmpty }

    /// "PA 0x40100234" in the last row when the walk translated.
    private var resultText: String? {
        if case .translation(let translation) = walk.outcome { "PA \(translation.output.hex)" } else { nil }
    }

    /// The grid's column headers and rows.
    var grid: (columns: [String], rows: [Row]) {
        guard isNested else {
            guard let first = walk.steps.first else { return ([], []) }
            let columns = walk.steps.map { "L\($0.level)" } + ["output"]
            // The fetches, then the output column.
            let row = Row(name: StepText.stage(first), input: "IOVA \(walk.request.iova.hex)",
                          cells: walk.steps.indices.map { Optional($0) } + [nil], result: resultText)
            return (columns, [row])
        }
        let columns = walk.stage2Levels.map { "S2 L\($0)" } + ["S1 entry"]
        let rows = walk.grid.map { row in
            let cells = walk.stage2Levels.map { level in row.cells.first { $0.level == level }?.step }
            let result = row.role == .output && row.cells.last?.step == walk.steps.count - 1 ? resultText : nil
            return Row(name: row.name, input: row.input.map { "\(walk.intermediate) \($0.hex)" }, cells: cells + [row.stage1Step],
                       result: result)
        }
        return (columns, rows)
    }

    /// The title: "Nested walk: DEVICE 1 nic0, IOVA 0x12345234, write".
    var title: String {
        let parts = WalkNarration.requestParts(walk)
        return (isNested ? "Nested walk: " : "Walk: ") + parts.prefix(4).joined(separator: ", ")
    }

    /// "stage 1: arm-lpae-s1 4K ias=48 oas=48 over stage 2: arm-lpae-s2 4K ias=48 oas=48".
    var formatLine: String {
        [TranslationStage.stage1, .stage2].compactMap { stage in walk.formats[stage].map { "stage \(stage.number): \($0.name)" } }
            .joined(separator: " over ")
    }

    /// The fetch list: the walk pane's step rows, each with its decoded fields under it
    /// (`fields` true for those lines); none when nothing was fetched.
    var fetchLines: [(text: String, step: Int?, fields: Bool)] {
        guard !walk.steps.isEmpty else { return [] }
        var lines: [(text: String, step: Int?, fields: Bool)] = [(WalkNarration.stepHeader, nil, false)]
        for (index, step) in walk.steps.enumerated() {
            lines.append((WalkNarration.stepText(index, walk, symbols: .ascii), index, false))
            guard let format = walk.formats[step.stage] else { continue }
            let fields = format.fields(of: step.descriptor, level: step.level).map(TableText.field)
            for line in TableText.wrap(fields, width: 96, separator: " ") { lines.append(("     " + line, index, true)) }
        }
        return lines
    }

    // MARK: Text

    /// The walk for a bug report: the request and outcome, the grid of fetch numbers (the
    /// faulting one marked `!`), and the fetch list with decoded fields.
    public var text: String {
        var lines = [WalkNarration.requestParts(walk).joined(separator: Symbols.ascii.breadcrumb)]
        lines += WalkNarration.outcomeLines(walk, symbols: .ascii).map(\.text)
        if !formatLine.isEmpty { lines.append(formatLine) }
        let (columns, rows) = grid
        if !rows.isEmpty {
            lines.append("")
            lines.append(isNested ? "fetches in hardware order: stage-1 levels down, the stage-2 walk serving each across"
                         : "fetches in hardware order")
            var table = TextTable(columns: [TextTable.Column("")] + columns.map { TextTable.Column($0, .right) } + [TextTable.Column("resolves")])
            for row in rows {
                let numbers = row.cells.map { step in step.map { String($0 + 1) + ($0 == faultingStep ? "!" : "") } ?? "" }
                var cells = [row.name] + numbers
                if let result = row.result { cells[cells.count - 1] = result }
                table.append(cells + [row.input ?? ""])
            }
            lines += table.lines(indent: "  ")
        }
        let fetches = fetchLines
        if !fetches.isEmpty { lines += [""] + fetches.map(\.text) }
        return lines.map { $0 + "\n" }.joined()
    }

    // MARK: SVG

    static let style = """
        text { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; fill: #1b1b1b; }
        .title { font-size: 26px; font-weight: bold; }
        .subtitle { font-size: 17px; }
        .result { font-size: 17px; font-weight: bold; fill: #1e6b2e; }
        .fault-text { font-size: 17px; font-weight: bold; fill: #b71c1c; }
        .heading { font-size: 16px; font-weight: bold; }
        .address { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 13px; fill: #555555; }
        .number { font-size: 22px; font-weight: bold; }
        .word { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 11px; fill: #333333; }
        .mono { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 14px; white-space: pre; }
        .mono-fault { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 14px; white-space: pre; fill: #b71c1c; font-weight: bold; }
        .stage1 { fill: #e2f1df; stroke: #3c8a3c; stroke-width: 1.5; }
        .stage2 { fill: #dfe9f6; stroke: #3a6ea5; stroke-width: 1.5; }
        .fault { fill: #fbdada; stroke: #c62828; stroke-width: 4; }
        .output { fill: #fff2cc; stroke: #b8860b; stroke-width: 1.5; }
        .empty { fill: #f7f7f7; stroke: #dddddd; stroke-width: 1; }
        .page { fill: #ffffff; }
        .mono-dim { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 13px; white-space: pre; fill: #666666; }
        .legend { font-size: 14px; fill: #444444; }
        """

    /// The walk as a standalone picture: the title (device, IOVA, access, PASID), the formats
    /// and the outcome, the grid of numbered fetches (stage 2 blue, stage 1 green, the leaf's
    /// PA gold, the faulting fetch red and marked FAULT), and the fetch list.
    public var svg: String {
        let margin = 32, labelWidth = 230, cellWidth = 150, cellHeight = 62, resultWidth = 210, gap = 6
        let lineHeight = 20, monoSize = 14
        let (columns, rows) = grid
        let outcome = WalkNarration.outcomeLines(walk, symbols: .unicode)
        let fetches = fetchLines
        let gridWidth = columns.isEmpty ? 0 : labelWidth + (columns.count - 1) * (cellWidth + gap) + resultWidth
        let listWidth = fetches.map { SVGWriter.monospaceWidth($0.text, size: monoSize) }.max() ?? 0
        let headWidth = ([title].map { $0.count * 15 } + ([formatLine] + outcome.map(\.text)).map { $0.count * 9 }).max() ?? 0
        let width = max(gridWidth, listWidth, headWidth, 600) + 2 * margin
        let headTop = margin + 26
        let gridTop = headTop + 8 + (2 + outcome.count) * 24
        let gridHeight = rows.isEmpty ? 0 : 30 + rows.count * (cellHeight + gap) + 34
        let listTop = gridTop + gridHeight + 10
        let height = listTop + fetches.count * lineHeight + margin

        var svg = SVGWriter(width: width, height: height, title: title, style: Self.style)
        svg.rect(x: 0, y: 0, width: width, height: height, class: "page")
        svg.text(title, x: margin, y: headTop, class: "title")
        var y = headTop + 30
        if !formatLine.isEmpty { svg.text(formatLine, x: margin, y: y, class: "subtitle"); y += 24 }
        for line in outcome {
            svg.text(line.text, x: margin, y: y, class: line.role == "fault" ? "fault-text" : line.role == "mapped" ? "result" : "subtitle")
            y += 24
        }

        if !rows.isEmpty {
            y = gridTop
            svg.group(class: "grid") { svg in
                for (column, name) in columns.enumerated() {
                    let x = margin + labelWidth + column * (cellWidth + gap)
                    let w = column == columns.count - 1 ? resultWidth : cellWidth
                    svg.text(name, x: x + w / 2, y: y + 18, class: "heading", anchor: "middle")
                }
                for (index, row) in rows.enumerated() {
                    let top = y + 30 + index * (cellHeight + gap)
                    svg.group(class: "grid-row", title: row.name) { svg in
                        svg.text(row.name, x: margin, y: top + 26, class: "heading")
                        if let input = row.input { svg.text(input, x: margin, y: top + 46, class: "address") }
                        for (column, step) in row.cells.enumerated() {
                            let x = margin + labelWidth + column * (cellWidth + gap)
                            let w = column == row.cells.count - 1 ? resultWidth : cellWidth
                            if column == row.cells.count - 1, let result = row.result {
                                svg.rect(x: x, y: top, width: w, height: cellHeight, class: "output")
                                svg.text(result, x: x + w / 2, y: top + 37, class: "heading", anchor: "middle")
                                continue
                            }
                            guard let step else {
                                svg.rect(x: x, y: top, width: w, height: cellHeight, class: "empty")
                                continue
                            }
                            cell(&svg, step: step, x: x, y: top, width: w, height: cellHeight)
                        }
                    }
                }
                let legendY = y + 30 + rows.count * (cellHeight + gap) + 20
                svg.text("Each cell is one descriptor fetch, numbered in the order the IOMMU reads them: stage 2 blue, stage 1 green"
                         + (faultingStep != nil ? ", the faulting fetch red." : "."), x: margin, y: legendY, class: "legend")
            }
        }

        svg.begin("g", ["class": "fetch-list", "xml:space": "preserve"])
        for (index, line) in fetches.enumerated() {
            let fault = line.step != nil && line.step == faultingStep
            svg.text(line.text, x: margin, y: listTop + (index + 1) * lineHeight, class: fault ? "mono-fault" : line.fields ? "mono-dim" : "mono")
        }
        svg.end()
        return svg.document
    }

    /// A fetch's cell: its number, its stage and level, the descriptor word; red and marked
    /// FAULT when it is the faulting fetch.
    private func cell(_ svg: inout SVGWriter, step index: Int, x: Int, y: Int, width: Int, height: Int) {
        let step = walk.steps[index]
        let fault = index == faultingStep
        let tooltip = "fetch \(index + 1): \(StepText.stage(step)) L\(step.level) @ \(step.entryAddress.hex) = \(Units.word(step.descriptor)) (\(step.kind.rawValue))"
        svg.group(class: fault ? "fetch faulting" : "fetch", title: tooltip) { svg in
            svg.rect(x: x, y: y, width: width, height: height, class: fault ? "fault" : step.stage == .stage2 ? "stage2" : "stage1")
            svg.text(String(index + 1), x: x + 12, y: y + 27, class: "number")
            svg.text(fault ? "FAULT" : step.kind.rawValue, x: x + width - 10, y: y + 24, class: fault ? "fault-text" : "legend", anchor: "end")
            svg.text(Units.word(step.descriptor), x: x + width / 2, y: y + height - 12, class: "word", anchor: "middle")
        }
    }
}

/// Numbers three rows tall, for the projector's walk grid: seven-segment digits drawn with
/// box-drawing lines (`_` and `|` in ASCII), three columns each and a blank between two.
enum BigDigits {
    private static let unicode = [
        ["┌─┐", "│ │", "└─┘"], ["  ╷", "  │", "  ╵"], ["╶─┐", "┌─┘", "└─╴"], ["╶─┐", " ─┤", "╶─┘"], ["╷ ╷", "└─┤", "  ╵"],
        ["┌─╴", "└─┐", "╶─┘"], ["┌─╴", "├─┐", "└─┘"], ["╶─┐", "  │", "  ╵"], ["┌─┐", "├─┤", "└─┘"], ["┌─┐", "└─┤", "╶─┘"],
    ]
    private static let ascii = [
        [" _ ", "| |", "|_|"], ["   ", "  |", "  |"], [" _ ", " _|", "|_ "], [" _ ", " _|", " _|"], ["   ", "|_|", "  |"],
        [" _ ", "|_ ", " _|"], [" _ ", "|_ ", "|_|"], [" _ ", "  |", "  |"], [" _ ", "|_|", "|_|"], [" _ ", "|_|", " _|"],
    ]

    /// The three rows of `number` (not negative) in large digits.
    static func rows(_ number: Int, symbols: Symbols) -> [String] {
        let font = symbols == .ascii ? ascii : unicode
        let digits = String(max(0, number)).compactMap(\.wholeNumberValue)
        return (0..<3).map { row in digits.map { font[$0][row] }.joined(separator: " ") }
    }
}
