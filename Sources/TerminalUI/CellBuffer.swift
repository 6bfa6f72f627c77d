/// A rectangle of cells: `x`, `y` of the top-left corner, `width` x `height`.
public struct Rect: Hashable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var isEmpty: Bool { width == 0 || height == 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The rectangle shrunk by `amount` on every side (inside a border).
    public func inset(by amount: Int) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }

    /// Splits off `size` columns on the left; returns (left, rest).
    public func splitColumns(_ size: Int) -> (Rect, Rect) {
        let left = min(max(0, size), width)
        return (Rect(x: x, y: y, width: left, height: height), Rect(x: x + left, y: y, width: width - left, height: height))
    }

    /// Splits off `size` rows at the top; returns (top, rest).
    public func splitRows(_ size: Int) -> (Rect, Rect) {
        let top = min(max(0, size), height)
        return (Rect(x: x, y: y, width: width, height: top), Rect(x: x, y: y + top, width: width, height: height - top))
    }
}

/// One screen cell: a grapheme (empty for the right half of a wide character) and its style.
public struct Cell: Hashable, Sendable {
    public var text: String
    public var style: Style

    public init(_ text: String = " ", _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

/// The frame every view draws into (ratatui's Buffer). Writes are clipped to the buffer and
/// to an optional clip rectangle, so no view can draw out of bounds whatever the size.
public struct CellBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public var area: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Fills a rectangle with blanks in `style`.
    public mutating func fill(_ rect: Rect, style: Style) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { self[x, y] = Cell(" ", style) }
        }
    }

    /// Writes `text` from (x, y), not past `clip` (the whole buffer by default); returns the
    /// column after the last cell written. Wide characters take two cells.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style, clip: Rect? = nil) -> Int {
        let bounds = clip ?? area
        guard y >= max(0, bounds.y), y < min(height, bounds.maxY) else { return x }
        let limit = min(width, bounds.maxX)
        var column = x
        for character in text {
            let cellWidth = Self.cellWidth(of: character)
            if cellWidth == 0 { continue }
            if column + cellWidth > limit { break }
            if column >= max(0, bounds.x) {
                self[column, y] = Cell(String(character), style)
                if cellWidth == 2 { self[column + 1, y] = Cell("", style) }
            }
            column += cellWidth
        }
        return column
    }

    /// Sets only the style of the cells of a rectangle (highlighting a selection).
    public mutating func restyle(_ rect: Rect, _ transform: (inout Style) -> Void) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { transform(&cells[y * width + x].style) }
        }
    }

    /// The frame as text, one line per row with trailing blanks trimmed, as `tmux capture-pane -p` shows it.
    public var text: String {
        (0..<height).map { row in
            var line = ""
            for column in 0..<width { line += self[column, row].text }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Terminal columns a character takes: 2 for East Asian wide and emoji, 0 for combining
    /// marks and controls, else 1 (pure Swift: Glibc's wcwidth is locale-bound and not exported).
    public static func cellWidth(of character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let value = scalar.value
        if value < 0x20 || (0x7f..<0xa0).contains(value) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        let wide: [ClosedRange<UInt32>] = [
            0x1100...0x115f, 0x2e80...0x303e, 0x3041...0x33ff, 0x3400...0x4dbf, 0x4e00...0x9fff, 0xa000...0xa4cf,
            0xac00...0xd7a3, 0xf900...0xfaff, 0xfe30...0xfe4f, 0xff00...0xff60, 0xffe0...0xffe6,
            0x1f300...0x1f64f, 0x1f900...0x1f9ff, 0x20000...0x3fffd,
        ]
        return wide.contains { $0.contains(value) } ? 2 : 1
    }

    /// The width of a string in cells.
    public static func width(of text: String) -> Int { text.reduce(0) { $0 + cellWidth(of: $1) } }
}
