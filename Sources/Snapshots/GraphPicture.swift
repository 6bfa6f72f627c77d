import Presentation

/// The iommufd object graph of a snapshot as `iommuscope export graph` draws it: Graphviz
/// DOT, or an SVG laid out without Graphviz, by rank from left to right (IOMMU units,
/// devices, vDEVICEs and event queues, nested HWPTs and vIOMMUs, paging HWPTs and faults,
/// IOASes), each edge the snapshot's (`ioas`, `nest_parent`, `viommu`, `attachment`,
/// `device`, `fault`, `file`) plus each bound device's IOMMU unit. Nodes and edges come from
/// the snapshot alone: the picture shows what `iommuscope snapshot` writes.
public struct GraphPicture {
    struct Node {
        /// The DOT node id: `obj4`, `iommu:smmu0`.
        var key: String
        /// `HWPT_PAGING 4`, `IOMMU smmu0`.
        var label: String
        /// A property or two: `dev=nic0`, `arm-smmu-v3`.
        var detail: String
        var rank: Int
        /// The CSS class: the uAPI type name in lower case, or `iommu`.
        var style: String
    }

    struct Link {
        var from: String
        var to: String
        /// `attach`, `attach pasid 1`, `ioas`, `nest_parent`, `iommu`…
        var label: String
    }

    let title: String
    let nodes: [Node]
    let links: [Link]

    /// The column of each uAPI object type, left to right.
    static func rank(ofType type: String) -> Int {
        switch type {
        case "DEVICE", "ACCESS", "SELFTEST": 1
        case "VDEVICE", "VEVENTQ", "HW_QUEUE": 2
        case "HWPT_NESTED", "VIOMMU": 3
        case "HWPT_PAGING", "FAULT": 4
        case "IOAS": 5
        default: 2
        }
    }

    /// The properties a node shows under its label, by type.
    static let shownProperties: [String: [String]] = [
        "DEVICE": ["dev"], "HWPT_PAGING": ["stage", "nest_parent"], "HWPT_NESTED": ["ste", "pgtbl_addr", "iotlb"],
        "IOAS": ["areas"], "VIOMMU": ["type"], "VDEVICE": ["virt_id"], "FAULT": ["answers"], "VEVENTQ": ["state"], "ACCESS": ["pins"],
    ]

    /// At most this many characters of detail under a label.
    static let detailLength = 30

    public init(snapshot: ModelSnapshot, title: String) {
        self.title = title
        var nodes = snapshot.platform.iommus.map { unit in
            Node(key: "iommu:" + unit.name, label: "IOMMU " + unit.name, detail: unit.architecture, rank: 0, style: "iommu")
        }
        for object in snapshot.objects {
            let shown = Self.shownProperties[object.type] ?? []
            // A yes/no property by its name when yes (`nest_parent`), others as name=value.
            var detail = object.properties.filter { shown.contains($0.name) && !$0.value.isEmpty && $0.value != "no" }
                .map { $0.value == "yes" ? $0.name : "\($0.name)=\($0.value)" }.joined(separator: " ")
            if detail.count > Self.detailLength { detail = String(detail.prefix(Self.detailLength - 1)) + "…" }
            nodes.append(Node(key: "obj\(object.id)", label: object.label, detail: detail, rank: Self.rank(ofType: object.type),
                              style: object.type.lowercased()))
        }
        var links = snapshot.platform.devices.compactMap { device in
            device.bound.map { Link(from: "obj\($0)", to: "iommu:" + device.iommu, label: "iommu") }
        }
        for edge in snapshot.edges {
            let label = edge.role == "attachment" ? "attach" + (edge.pasid.map { " pasid \($0)" } ?? "") : edge.role
            links.append(Link(from: "obj\(edge.from)", to: "obj\(edge.to)", label: label))
        }
        let keys = Set(nodes.map(\.key))
        self.nodes = nodes
        self.links = links.filter { keys.contains($0.from) && keys.contains($0.to) }
    }

    // MARK: DOT

    /// A DOT quoted string: backslashes and quotes escaped, control characters shown as escapes.
    static func quoted(_ text: String) -> String {
        var quoted = "\""
        for character in terminalSafe(text) {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    /// The graph for Graphviz (`dot -Tsvg`): one rank per column, left to right.
    public var dot: String {
        var lines = ["digraph iommufd {",
                     "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=\(Self.quoted(title))];",
                     "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];",
                     "  edge [fontname=\"Helvetica\", fontsize=10];"]
        for rank in Set(nodes.map(\.rank)).sorted() {
            let members = nodes.filter { $0.rank == rank }.map { Self.quoted($0.key) }
            lines.append("  { rank=same; " + members.joined(separator: "; ") + "; }")
        }
        for node in nodes {
            // The two lines joined by DOT's `\n` between the quoted texts, so it is not escaped.
            let text = node.detail.isEmpty ? Self.quoted(node.label)
                : String(Self.quoted(node.label).dropLast()) + "\\n" + String(Self.quoted(node.detail).dropFirst())
            lines.append("  \(Self.quoted(node.key)) [label=\(text)\(node.style == "iommu" ? ", shape=box3d" : "")];")
        }
        for link in links {
            lines.append("  \(Self.quoted(link.from)) -> \(Self.quoted(link.to)) [label=\(Self.quoted(link.label))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: SVG

    static let style = """
        text { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; fill: #1b1b1b; }
        .title { font-size: 24px; font-weight: bold; }
        .rank { font-size: 14px; fill: #666666; }
        .label { font-size: 15px; font-weight: bold; }
        .detail { font-size: 12px; fill: #444444; }
        .edge { fill: none; stroke: #555555; stroke-width: 1.5; marker-end: url(#arrow); }
        .edge-label { font-size: 12px; fill: #333333; }
        .arrowhead { fill: #555555; }
        .page { fill: #ffffff; }
        .box { fill: #ffffff; stroke: #444444; stroke-width: 1.5; }
        .iommu .box { fill: #eeeeee; }
        .device .box, .access .box, .selftest .box { fill: #fff2cc; }
        .vdevice .box, .veventq .box, .hw_queue .box { fill: #f3e5f5; }
        .hwpt_nested .box, .viommu .box { fill: #e2f1df; }
        .hwpt_paging .box, .fault .box { fill: #dfe9f6; }
        .ioas .box { fill: #fde0dc; }
        """

    /// The layout's sizes, in user units.
    static let boxWidth = 200, boxHeight = 54, columnGap = 110, rowGap = 44

    static let rankNames = ["IOMMU units", "devices", "vDEVICEs, queues", "nested HWPTs, vIOMMUs", "paging HWPTs, faults", "IOASes"]

    /// The graph laid out by rank: a column per rank, nodes stacked in id order, edges as
    /// curves from one box's side to the other's (an arc on the right within a column, a loop
    /// above a box for an object's own open file).
    public var svg: String {
        let margin = 32, top = margin + 70, boxWidth = Self.boxWidth, boxHeight = Self.boxHeight, columnGap = Self.columnGap, rowGap = Self.rowGap
        let ranks = Set(nodes.map(\.rank)).sorted()
        var place: [String: (x: Int, y: Int)] = [:]
        var tallest = 0
        for (column, rank) in ranks.enumerated() {
            let members = nodes.filter { $0.rank == rank }
            for (row, node) in members.enumerated() {
                place[node.key] = (margin + column * (boxWidth + columnGap), top + row * (boxHeight + rowGap))
            }
            tallest = max(tallest, members.count)
        }
        // Wide enough for the columns (and the arcs right of the last) and the title (24px bold).
        let width = max(margin * 2 + ranks.count * (boxWidth + columnGap) - columnGap + 60, margin * 2 + title.count * 14, 640)
        let height = top + tallest * (boxHeight + rowGap) + margin

        var svg = SVGWriter(width: width, height: height, title: title, style: Self.style)
        svg.begin("defs", [:])
        svg.begin("marker", ["id": "arrow", "viewBox": "0 0 10 10", "refX": "10", "refY": "5", "markerWidth": "8", "markerHeight": "8",
                             "orient": "auto-start-reverse"])
        svg.path("M 0 0 L 10 5 L 0 10 z", class: "arrowhead")
        svg.end()
        svg.end()
        svg.rect(x: 0, y: 0, width: width, height: height, class: "page")
        svg.text(title, x: margin, y: margin + 20, class: "title")
        for (column, rank) in ranks.enumerated() where rank < Self.rankNames.count {
            svg.text(Self.rankNames[rank], x: margin + column * (boxWidth + columnGap) + boxWidth / 2, y: top - 18, class: "rank",
                     anchor: "middle")
        }
        let labels = Dictionary(nodes.map { ($0.key, $0.label) }, uniquingKeysWith: { first, _ in first })
        svg.group(class: "edges") { svg in
            for link in links {
                guard let from = place[link.from], let to = place[link.to] else { continue }
                let (d, labelX, labelY) = Self.curve(from: from, to: to)
                svg.group(class: "link", title: "\(labels[link.from] ?? link.from) \(link.label) \(labels[link.to] ?? link.to)") { svg in
                    svg.path(d, class: "edge")
                    svg.text(link.label, x: labelX, y: labelY, class: "edge-label", anchor: "middle")
                }
            }
        }
        for node in nodes {
            guard let at = place[node.key] else { continue }
            svg.group(class: node.style, title: node.detail.isEmpty ? node.label : node.label + ": " + node.detail) { svg in
                svg.element("rect", ["x": "\(at.x)", "y": "\(at.y)", "width": "\(boxWidth)", "height": "\(boxHeight)", "rx": "8",
                                     "class": "box"])
                svg.text(node.label, x: at.x + boxWidth / 2, y: at.y + (node.detail.isEmpty ? 32 : 23), class: "label", anchor: "middle")
                if !node.detail.isEmpty { svg.text(node.detail, x: at.x + boxWidth / 2, y: at.y + 42, class: "detail", anchor: "middle") }
            }
        }
        return svg.document
    }

    /// The path of an edge between two boxes at `from` and `to` (their top-left corners), and
    /// where its label goes.
    static func curve(from: (x: Int, y: Int), to: (x: Int, y: Int)) -> (String, Int, Int) {
        let middle = boxHeight / 2
        if from == to {
            // An object's reference to itself (its open file): a loop above the box.
            let x = from.x + boxWidth / 2, y = from.y
            return ("M \(x - 20) \(y) C \(x - 30) \(y - 34) \(x + 30) \(y - 34) \(x + 20) \(y)", x, y - 30)
        }
        if from.x == to.x {
            // Within a column: an arc out to the right.
            let x = from.x + boxWidth, bulge = x + 50
            let y1 = from.y + middle, y2 = to.y + middle
            return ("M \(x) \(y1) C \(bulge) \(y1) \(bulge) \(y2) \(x) \(y2)", bulge + 4, (y1 + y2) / 2 + 4)
        }
        let rightward = to.x > from.x
        let x1 = rightward ? from.x + boxWidth : from.x, x2 = rightward ? to.x : to.x + boxWidth
        let y1 = from.y + middle, y2 = to.y + middle
        if abs(x2 - x1) <= columnGap {
            // Neighbouring columns: one S curve across the gap.
            let bend = (x2 - x1) / 2
            return ("M \(x1) \(y1) C \(x1 + bend) \(y1) \(x2 - bend) \(y2) \(x2) \(y2)", (x1 + x2) / 2, (y1 + y2) / 2 - 6)
        }
        // Across columns: down into the gap under the lower box's row, along it past the
        // columns between (whose boxes it would cross), and up into the target.
        let lane = max(from.y, to.y) + boxHeight + rowGap / 2
        let step = rightward ? columnGap / 3 : -columnGap / 3
        let d = "M \(x1) \(y1) C \(x1 + step) \(y1) \(x1 + step) \(lane) \(x1 + 2 * step) \(lane) L \(x2 - 2 * step) \(lane) "
            + "C \(x2 - step) \(lane) \(x2 - step) \(y2) \(x2) \(y2)"
        return (d, (x1 + x2) / 2, lane - 5)
    }
}
