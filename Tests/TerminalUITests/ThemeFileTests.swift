import Testing
@testable import TerminalUI

/// A theme file's errors name the file, the line of the key, the bad value and the valid
/// ones, for every key and value the format has; the line is found in either TOML spelling
/// (an inline table under `[styles]`, or a `[styles.ROLE]` table).
@Suite struct ThemeFileTests {
    static let roles = ["text", "border", "heading"]

    static func error(_ text: String, roles: [String]? = roles) -> ConfigError? {
        do {
            _ = try Theme(toml: text, file: "theme.toml", roles: roles)
            return nil
        } catch {
            return error
        }
    }

    @Test func anUnknownColourNamesItsLineAndTheColours() throws {
        let error = try #require(Self.error("""
            name = "mine"
            # a comment with = in it

            [styles]
            text = { fg = "white" }
            border = { fg = "purpel", bold = true }
            """))
        #expect(error.file == "theme.toml" && error.line == 6)
        #expect(error.description.hasPrefix("theme.toml:6: 'fg = \"purpel\"': unknown colour 'purpel' (valid: default, black, red,"))
        #expect(error.message.contains("bright-white, or #rrggbb / 0-255)"))
    }

    @Test func aStyleTableOfItsOwnIsLocatedToo() throws {
        let error = try #require(Self.error("""
            [styles.text]
            fg = "white"

            [styles.border]
            bold = true
            blink = true
            """))
        #expect(error.line == 6)
        #expect(error.message == "'blink = true': unknown attribute 'blink' (valid: fg, bg, bold, dim, underline, reverse)")
    }

    @Test func anUnknownStyleListsTheStyles() throws {
        let error = try #require(Self.error("""
            [styles]
            text = {}
            boarder = { fg = "red" }
            """))
        #expect(error.line == 3)
        #expect(error.message == "'boarder = { fg = \"red\" }': unknown style 'boarder' (valid: text, border, heading)")
        // Without a list of roles every name is a style (TerminalUI knows none of its own).
        #expect(Self.error("[styles]\nboarder = { fg = \"red\" }", roles: nil) == nil)
    }

    @Test func aBadAttributeValueSaysWhatItTakes() throws {
        let bold = try #require(Self.error("[styles]\nheading = { bold = \"yes\" }"))
        #expect(bold.line == 2 && bold.message == "'bold = \"yes\"': 'bold' is true or false")
        let colour = try #require(Self.error("[styles]\n\nheading = { bg = 3.5 }"))
        #expect(colour.line == 3 && colour.message.hasPrefix("'bg = 3.5': a colour is a string (valid: default, black"))
        let notATable = try #require(Self.error("[styles]\ntext = \"red\""))
        #expect(notATable.line == 2 && notATable.message.hasPrefix("'text = \"red\"': a style is a table"))
    }

    @Test func theFileItselfIsChecked() throws {
        let key = try #require(Self.error("nmae = \"x\"\n[styles]\n"))
        #expect(key.line == 1 && key.message == "'nmae = \"x\"': unknown key 'nmae' (valid: name, styles)")
        let none = try #require(Self.error("name = \"x\"\n"))
        #expect(none.line == nil && none.description == "theme.toml: no [styles] table")
        // Not TOML: TOMLKit's own position.
        let broken = try #require(Self.error("[styles]\ntext = { fg = \"red\"\n"))
        #expect(broken.line == 2 && broken.message.hasPrefix("not TOML: "))
        // A control character in a value is escaped in the message, so it cannot reach the terminal.
        let control = try #require(Self.error("[styles]\ntext = { fg = \"\\u001b[2J\" }"))
        #expect(!control.description.contains("\u{1b}") && control.description.contains("\\u001b[2J"))
    }

    @Test func goodFilesLoad() throws {
        let theme = try Theme(toml: """
            name = "mine"
            [styles]
            text = { fg = "#ff8000", bg = "17", bold = true, dim = false, underline = true, reverse = false }
            """, file: "theme.toml", roles: Self.roles)
        #expect(theme.name == "mine")
        #expect(theme["text"] == Style(foreground: .rgb(255, 128, 0), background: .indexed(17), bold: true, underline: true))
    }

    /// A theme that paints every cell its own background (high-contrast's black) keeps its text
    /// plain without colours; only what stands apart from that background turns to reverse video.
    @Test func monochromeIgnoresTheThemesOwnBackground() throws {
        let theme = try Theme(toml: """
            [styles]
            background = { fg = "#ffffff", bg = "#000000" }
            text = { fg = "#ffffff", bg = "#000000" }
            status_bar = { fg = "#000000", bg = "#ffffff" }
            """, file: "theme.toml").monochrome
        #expect(theme["text"] == Style())
        #expect(theme["status_bar"] == Style(reverse: true))
    }
}
