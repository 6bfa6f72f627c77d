import TerminalUI

/// The `?` overlay: sections of keys (the focused pane's first, then the global ones) and a
/// legend of the glyphs, as wide as the terminal allows, each action wrapped under its key so
/// nothing is cut, scrolled with the list keys when it is taller than the screen.
struct HelpOverlay {
    struct Section {
        var title: String
        var rows: [(key: String, action: String)]
    }

    /// The first line shown.
    private(set) var offset = 0
    /// The lines there were and the lines shown, last frame: scrolling clamps to them.
    private var lineCount = 0
    private var height = 0

    /// One drawn line: a section's heading, or a key's column and its action's text.
    struct Line: Equatable {
        var text: String
        var heading = false
    }

    /// The sections as lines `width` cells wide: the key column as wide as the widest key up
    /// to `keyLimit` (a longer key has its own line, the action under it), actions wrapped at
    /// words, a blank line between sections.
    static func lines(_ sections: [Section], width: Int, keyLimit: Int = 24) -> [Line] {
        let keyWidth = min(keyLimit, sections.flatMap(\.rows).map { CellBuffer.width(of: $0.key) }.max() ?? 0, width / 3)
        let textWidth = max(8, width - keyWidth - 1)
        let indent = String(repeating: " ", count: keyWidth + 1)
        var lines: [Line] = []
        for section in sections {
            if !lines.isEmpty { lines.append(Line(text: "")) }
            lines.append(Line(text: section.title, heading: true))
            for row in section.rows {
                let wrapped = TableText.wrap(row.action.split(separator: " ").map(String.init), width: textWidth, separator: " ")
                if CellBuffer.width(of: row.key) > keyWidth {
                    lines.append(Line(text: row.key))
                    lines += wrapped.map { Line(text: indent + $0) }
                } else {
                    lines.append(Line(text: row.key.cellPadded(to: keyWidth + 1) + (wrapped.first ?? "")))
                    lines += wrapped.dropFirst().map { Line(text: indent + $0) }
                }
            }
        }
        return lines
    }

    /// Draws the overlay over `buffer`, centred, leaving a margin of two columns and a row.
    mutating func render(into buffer: inout CellBuffer, sections: [Section], title: String, theme: Theme, symbols: Symbols) {
        let width = max(0, buffer.width - 4)
        let all = Self.lines(sections, width: max(0, width - 2))
        let boxHeight = min(buffer.height - 2, all.count + 2)
        let box = Rect(x: (buffer.width - width) / 2, y: (buffer.height - boxHeight) / 2, width: width, height: boxHeight)
        buffer.fill(box, style: theme["overlay"])
        let inner = Widgets.panel(&buffer, box, title: title, focused: true, theme: theme, symbols: symbols)
        lineCount = all.count
        height = inner.height
        offset = min(offset, max(0, all.count - inner.height))
        // Headings in the heading style on the overlay's background.
        var heading = theme["heading"]
        heading.background = theme["overlay"].background
        for (row, line) in all.dropFirst(offset).prefix(inner.height).enumerated() {
            buffer.put(Widgets.fit(line.text, width: inner.width, symbols: symbols), x: inner.x, y: inner.y + row,
                       style: line.heading ? heading : theme["overlay"])
        }
        // Where the view is, in the bottom border, when there is more than fits.
        if all.count > inner.height {
            let last = min(all.count, offset + inner.height)
            let arrows = symbols == .ascii ? "" : (offset > 0 ? "↑" : "") + (last < all.count ? "↓" : "") + " "
            let note = " \(offset + 1)-\(last) of \(all.count)  \(arrows)j k scroll "
            buffer.put(note, x: max(box.x + 1, box.maxX - 2 - CellBuffer.width(of: note)), y: box.maxY - 1,
                       style: theme["title_focused"], clip: Rect(x: box.x + 1, y: box.maxY - 1, width: box.width - 2, height: 1))
        }
    }

    /// Back to the top (the overlay opens there).
    mutating func reset() { offset = 0 }

    /// Scrolls on the list keys and returns true; false for any other key (the overlay closes).
    mutating func handle(_ key: Key) -> Bool {
        let page = max(1, height - 1), last = max(0, lineCount - height)
        switch key {
        case .down, .character("j"): offset = min(offset + 1, last)
        case .up, .character("k"): offset = max(offset - 1, 0)
        case .pageDown, .character(" "), .control("d"): offset = min(offset + page, last)
        case .pageUp, .control("u"): offset = max(offset - page, 0)
        case .home, .character("g"): offset = 0
        case .end, .character("G"): offset = last
        default: return false
        }
        return true
    }
}
