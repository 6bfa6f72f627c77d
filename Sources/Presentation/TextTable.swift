/// Rows printed in columns under a header, for the command line's tables: each column is as
/// wide as its widest cell or its name, numbers line up on their last digit, the rest on
/// their first character, and no line ends in blanks.
public struct TextTable {
    public enum Alignment: Sendable { case left, right }

    public struct Column: Sendable {
        public var name: String
        public var alignment: Alignment

        public init(_ name: String, _ alignment: Alignment = .left) {
            self.name = name
            self.alignment = alignment
        }
    }

    public var columns: [Column]
    public private(set) var rows: [[String]] = []

    public init(columns: [Column]) { self.columns = columns }

    /// A row of cells, one per column (missing cells are empty, extra ones dropped).
    public mutating func append(_ cells: [String]) {
        rows.append(columns.indices.map { $0 < cells.count ? cells[$0] : "" })
    }

    /// The header and each row as a line, columns two blanks apart after `indent`.
    public func render(indent: String = "") -> (header: String, rows: [String]) {
        let widths = columns.indices.map { column in rows.reduce(columns[column].name.count) { max($0, $1[column].count) } }
        func line(_ cells: [String]) -> String {
            let padded = cells.indices.map { column -> String in
                let blanks = String(repeating: " ", count: widths[column] - cells[column].count)
                return columns[column].alignment == .right ? blanks + cells[column] : cells[column] + blanks
            }
            var text = indent + padded.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        return (line(columns.map(\.name)), rows.map(line))
    }

    /// The header and the rows as lines.
    public func lines(indent: String = "") -> [String] {
        let rendered = render(indent: indent)
        return [rendered.header] + rendered.rows
    }
}
