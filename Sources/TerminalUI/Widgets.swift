/// Immediate-mode widgets: each draws into a buffer area and returns nothing but what the
/// caller needs next (the inner area of a panel).
public enum Widgets {
    /// A bordered panel with a title in the top border; focus shows as a bold, highlighted
    /// border and a marker, so it reads without colour. Returns the area inside the border.
    @discardableResult
    public static func panel(_ buffer: inout CellBuffer, _ rect: Rect, title: String, focused: Bool,
                             theme: Theme, symbols: Symbols) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let border = theme[focused ? "border_focused" : "border"]
        let horizontal = String(repeating: focused ? "═" : symbols.horizontal, count: rect.width - 2)
        let line = symbols == .ascii ? String(repeating: focused ? "=" : "-", count: rect.width - 2) : horizontal
        let (topLeft, topRight, bottomLeft, bottomRight, vertical): (String, String, String, String, String) =
            focused && symbols != .ascii ? ("╔", "╗", "╚", "╝", "║") : (symbols.topLeft, symbols.topRight, symbols.bottomLeft, symbols.bottomRight, symbols.vertical)
        buffer.put(topLeft + line + topRight, x: rect.x, y: rect.y, style: border)
        buffer.put(bottomLeft + line + bottomRight, x: rect.x, y: rect.maxY - 1, style: border)
        for y in rect.y + 1..<rect.maxY - 1 {
            buffer.put(vertical, x: rect.x, y: y, style: border)
            buffer.put(vertical, x: rect.maxX - 1, y: y, style: border)
        }
        let label = " " + (focused ? "* " : "") + title + " "
        buffer.put(label, x: rect.x + panelTitleInset(focused: focused) - CellBuffer.width(of: focused ? " * " : " "), y: rect.y, style: theme[focused ? "title_focused" : "title"],
                   clip: Rect(x: rect.x + 1, y: rect.y, width: rect.width - 2, height: 1))
        return rect.inset(by: 1)
    }

    /// The column, from a panel's left edge, where its title's text begins (after the border,
    /// a blank and the focus marker): titles made of parts (tabs) place clicks with it.
    public static func panelTitleInset(focused: Bool) -> Int { focused ? 5 : 3 }

    /// Writes `text` padded or cut (with an ellipsis) to exactly `width` cells.
    public static func fit(_ text: String, width: Int, symbols: Symbols) -> String {
        guard width > 0 else { return "" }
        let textWidth = CellBuffer.width(of: text)
        if textWidth <= width { return text + String(repeating: " ", count: width - textWidth) }
        var result = ""
        var used = 0
        for character in text {
            let cell = CellBuffer.cellWidth(of: character)
            if used + cell > width - 1 { break }
            result.append(character)
            used += cell
        }
        return result + symbols.ellipsis + String(repeating: " ", count: max(0, width - used - 1))
    }
}

/// Selection and scroll position of a list of `count` rows shown `height` at a time.
public struct ListState: Sendable, Equatable {
    public var selected = 0
    public var offset = 0

    public init(selected: Int = 0, offset: Int = 0) {
        self.selected = selected
        self.offset = offset
    }

    /// Moves the selection by `delta` rows, clamped, keeping it on screen.
    public mutating func move(by delta: Int, count: Int, height: Int) {
        guard count > 0 else { selected = 0; offset = 0; return }
        selected = min(max(0, selected + delta), count - 1)
        reveal(height: height)
    }

    public mutating func select(_ row: Int, count: Int, height: Int) {
        move(by: row - selected, count: count, height: height)
    }

    /// Scrolls so the selection is visible in `height` rows.
    public mutating func reveal(height: Int) {
        guard height > 0 else { return }
        if selected < offset { offset = selected }
        if selected >= offset + height { offset = selected - height + 1 }
        offset = max(0, offset)
    }

    /// Applies the common list keys (arrows, hjkl's j/k, PgUp/PgDn, g/G, Home/End); returns
    /// false when the key is not a list key.
    public mutating func handle(_ key: Key, count: Int, height: Int) -> Bool {
        switch key {
        case .down, .character("j"): move(by: 1, count: count, height: height)
        case .up, .character("k"): move(by: -1, count: count, height: height)
        case .pageDown, .control("d"): move(by: max(1, height - 1), count: count, height: height)
        case .pageUp, .control("u"): move(by: -max(1, height - 1), count: count, height: height)
        case .home, .character("g"): select(0, count: count, height: height)
        case .end, .character("G"): select(count - 1, count: count, height: height)
        default: return false
        }
        return true
    }
}
