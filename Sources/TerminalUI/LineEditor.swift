/// A one-line text field (the inspector's `:` and `/` lines) that edits like a shell line:
/// a cursor, Left/Right, Home/End, Ctrl-A/E/U/W/K, Backspace and Delete. The text is kept as
/// characters, so a key or a paste costs what it inserts or removes, not the line's length;
/// `window` shows the part around the cursor, so drawing costs the width on screen.
public struct LineEditor: Hashable, Sendable {
    public private(set) var characters: [Character]
    /// Where the next character goes: 0 ... characters.count.
    public private(set) var cursor: Int

    public init(_ text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    public var text: String { String(characters) }

    /// Inserts text (a typed character or a whole paste) at the cursor.
    public mutating func insert<S: Sequence>(_ text: S) where S.Element == Character {
        if cursor == characters.count {
            characters.append(contentsOf: text)
            cursor = characters.count
        } else {
            let inserted = Array(text)
            characters.insert(contentsOf: inserted, at: cursor)
            cursor += inserted.count
        }
    }

    /// Replaces the characters `range` (clamped to the line) with `text` and puts the cursor
    /// after it, as completing the word before the cursor does.
    public mutating func replaceSubrange(_ range: Range<Int>, with text: String) {
        let lower = min(max(0, range.lowerBound), characters.count), upper = min(max(lower, range.upperBound), characters.count)
        let inserted = Array(text)
        characters.replaceSubrange(lower..<upper, with: inserted)
        cursor = lower + inserted.count
    }

    /// Applies an editing key; false when the key is not one (the caller handles it).
    @discardableResult
    public mutating func edit(_ key: Key) -> Bool {
        switch key {
        case .character(let character): insert(CollectionOfOne(character))
        case .left, .control("b"): cursor = max(0, cursor - 1)
        case .right, .control("f"): cursor = min(characters.count, cursor + 1)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = characters.count
        case .backspace, .control("h"):
            guard cursor > 0 else { break }
            cursor -= 1
            characters.remove(at: cursor)
        case .delete, .control("d"):
            if cursor < characters.count { characters.remove(at: cursor) }
        case .control("u"):
            characters.removeSubrange(0..<cursor)
            cursor = 0
        case .control("k"):
            characters.removeSubrange(cursor...)
        case .control("w"):
            // The word before the cursor and the blanks after it, as a shell's Ctrl-W.
            var start = cursor
            while start > 0, characters[start - 1] == " " { start -= 1 }
            while start > 0, characters[start - 1] != " " { start -= 1 }
            characters.removeSubrange(start..<cursor)
            cursor = start
        default: return false
        }
        return true
    }

    /// The part of the line to show in `width` columns with the cursor on screen: each
    /// character as `display` draws it (escaped), and the cursor's column in that text. Only
    /// the characters that fit are looked at.
    public func window(width: Int, display: (Character) -> String) -> (text: String, cursorColumn: Int) {
        guard width > 1 else { return ("", 0) }
        // Back from the cursor while the text before it leaves a column for the cursor.
        var before: [String] = []
        var used = 0
        var index = cursor
        while index > 0 {
            let shown = display(characters[index - 1])
            let cells = CellBuffer.width(of: shown)
            if used + cells > width - 1 { break }
            before.append(shown)
            used += cells
            index -= 1
        }
        var text = before.reversed().joined()
        let cursorColumn = used
        index = cursor
        while index < characters.count {
            let shown = display(characters[index])
            let cells = CellBuffer.width(of: shown)
            if used + cells > width { break }
            text += shown
            used += cells
            index += 1
        }
        return (text, cursorColumn)
    }
}
