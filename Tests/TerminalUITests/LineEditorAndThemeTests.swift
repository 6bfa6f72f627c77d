import Testing
@testable import TerminalUI

/// The `:` line's editor: shell keys, pastes, and a window that keeps the cursor on screen.
struct LineEditorTests {
    @Test func editsLikeAShellLine() {
        var line = LineEditor()
        for character in "map iova=0x1000" { line.edit(.character(character)) }
        line.edit(.control("a"))
        line.edit(.character("i"))
        line.edit(.character("o"))
        line.edit(.character("a"))
        line.edit(.character("s"))
        line.edit(.character("_"))
        #expect(line.text == "ioas_map iova=0x1000")
        line.edit(.control("e"))
        line.edit(.control("w"))
        #expect(line.text == "ioas_map ")
        line.edit(.left)
        line.edit(.left)
        line.edit(.backspace)
        #expect(line.text == "ioas_mp " && line.cursor == 6)
        line.edit(.delete)
        #expect(line.text == "ioas_m ")
        line.edit(.control("u"))
        #expect(line.text == " " && line.cursor == 0)
        let edited = line.edit(.tab)
        #expect(!edited)
    }

    @Test func aPasteGoesInAtTheCursor() {
        var line = LineEditor("ioas_map  length=4K")
        for _ in 0..<10 { line.edit(.left) }
        line.insert("iova=0x2000")
        #expect(line.text == "ioas_map iova=0x2000 length=4K")
        #expect(line.cursor == 20)
    }

    @Test func aRangeIsReplacedAndTheCursorFollowsIt() {
        var line = LineEditor("ioas_m ioas_id=1")
        line.replaceSubrange(0..<6, with: "ioas_map")
        #expect(line.text == "ioas_map ioas_id=1" && line.cursor == 8)
        // A range past the end is clamped, never a trap.
        line.replaceSubrange(17..<99, with: "ioas")
        #expect(line.text == "ioas_map ioas_id=ioas" && line.cursor == 21)
        line.replaceSubrange(-3..<0, with: ":")
        #expect(line.text == ":ioas_map ioas_id=ioas" && line.cursor == 1)
    }

    @Test func theWindowFollowsTheCursor() {
        let long = String(repeating: "a", count: 10_000) + "END"
        var line = LineEditor(long)
        let end = line.window(width: 20) { String($0) }
        #expect(end.text.hasSuffix("aEND") && end.cursorColumn == 19 && end.text.count == 19)
        line.edit(.home)
        let start = line.window(width: 20) { String($0) }
        #expect(start.text == String(repeating: "a", count: 20) && start.cursorColumn == 0)
        // Escaped characters are measured as drawn.
        let escaped = LineEditor("x\u{1}").window(width: 20) { $0 == "\u{1}" ? "\\x01" : String($0) }
        #expect(escaped.text == "x\\x01" && escaped.cursorColumn == 5)
    }
}

/// Without colours a theme keeps its bars apart from the text: reverse video.
struct MonochromeThemeTests {
    @Test func backgroundColoursBecomeReverseVideo() throws {
        let theme = try Theme(toml: """
            [styles]
            title_bar = { fg = "black", bg = "cyan", bold = true }
            status_bar = { fg = "black", bg = "white" }
            heading = { fg = "cyan", bold = true }
            selection = { reverse = true }
            """, file: "test.toml").monochrome
        #expect(theme["title_bar"] == Style(bold: true, reverse: true))
        #expect(theme["status_bar"] == Style(reverse: true))
        #expect(theme["heading"] == Style(bold: true))
        #expect(theme["selection"] == Style(reverse: true))
    }
}
