import Foundation
import Testing
import TerminalUI
@testable import Inspector

/// The user's key map (`keys.toml`): key names, located errors, one action per key, a dump
/// that reads back as the same map; a rebound key acts and the help and the hints show it.
@Suite struct KeyMapTests {
    static func error(_ text: String) -> ConfigError? {
        do {
            _ = try KeyMap(toml: text, file: "keys.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func rebindingReplacesAnActionsKeys() throws {
        let map = try KeyMap(toml: """
            # my keys
            quit = ["x", "F9", "Ctrl-Q"]
            help = "F2"
            step_back = "Left"
            pane_4 = "w"
            """, file: "keys.toml")
        #expect(map.keys(.quit) == [.character("x"), .function(9), .control("q")])
        #expect(map.action(for: .character("q")) == nil)
        #expect(map.action(for: .function(2)) == .help && map.action(for: .character("?")) == nil)
        #expect(map.action(for: .left) == .stepBack)
        #expect(map.action(for: .character("w")) == .pane(.walk))
        // The rest keep their defaults.
        #expect(map.keys(.maximise) == [.character("z")])
        #expect(map.keys(.mouseCapture) == [.control("t")])
    }

    @Test func keyNamesReadBack() {
        let keys: [Key] = [.character("q"), .character("?"), .character("<"), .character(" "), .tab, .backTab, .enter, .escape,
                           .backspace, .delete, .up, .down, .left, .right, .pageUp, .pageDown, .home, .end,
                           .function(1), .function(12), .control("a"), .control("t")]
        for key in keys { #expect(Key(name: key.name) == key, "\(key.name)") }
        #expect(Key(name: "ctrl-x") == .control("x"))
        for bad in ["", "qq", "F0", "F13", "F01", "Ctrl-", "Ctrl-1", "Ctrl-M", "Ctrl-I", "tab", "\u{1b}", " "] {
            #expect(Key(name: bad) == nil, "\(bad)")
        }
    }

    @Test func anUnknownActionListsTheActions() throws {
        let error = try #require(Self.error("help = \"?\"\n\nquitt = \"x\"\n"))
        #expect(error.description.hasPrefix("keys.toml:3: 'quitt = \"x\"': unknown action 'quitt' (valid: quit, help, switch_focus, pane_1,"))
        #expect(error.message.contains("save_walk, mouse_capture)"))
    }

    @Test func anUnknownKeyNameListsTheNames() throws {
        let error = try #require(Self.error("quit = [\"q\",\n  \"Ctrl-\"]\n"))
        #expect(error.line == 1)
        #expect(error.message.hasPrefix("'quit = [\"q\", \"Ctrl-\"]': unknown key name \"Ctrl-\" (valid: a single character, Tab, Shift-Tab,"))
        #expect(error.message.contains("F1-F12, Ctrl-A..Ctrl-Z"))
        let number = try #require(Self.error("help = 1"))
        #expect(number.line == 1 && number.message.hasPrefix("'help = 1': an action takes a key name or a list of them"))
        let none = try #require(Self.error("help = []"))
        #expect(none.message == "'help = []': no key: every action keeps at least one")
        let reserved = try #require(Self.error("copy = \"Ctrl-Z\""))
        #expect(reserved.message == "'copy = \"Ctrl-Z\"': Ctrl-Z suspends the inspector: it cannot be rebound")
    }

    /// Two actions on one key is an error naming both, at the line that made it.
    @Test func aKeyDoesOneThing() throws {
        // With a default: `?` is still help's.
        let withDefault = try #require(Self.error("\nquit = [\"q\", \"?\"]\n"))
        #expect(withDefault.line == 2 && withDefault.message.hasSuffix("? is bound to both quit and help (each key does one thing)"))
        // Both in the file: the later line.
        let both = try #require(Self.error("help = \"x\"\ncopy = \"Y\"\nmaximise = \"x\"\n"))
        #expect(both.line == 3 && both.message == "'maximise = \"x\"': x is bound to both help and maximise (each key does one thing)")
        // Moving a key away first frees it.
        #expect(Self.error("quit = \"Q\"\nhelp = [\"q\", \"?\"]\n") == nil)
    }

    /// `--dump-keymap` prints a keys.toml that reads back as the same map: the defaults, and a
    /// rebound map.
    @Test func theDumpReadsBackAsTheSameMap() throws {
        let defaults = KeyMap.defaults.toml
        #expect(defaults.contains("quit = [\"q\", \"F10\", \"Ctrl-C\"]\n"))
        #expect(defaults.contains("switch_focus = [\"Tab\", \"Shift-Tab\"]\n"))
        #expect(defaults.contains("step_back = [\"[\"]\n"))
        #expect(try KeyMap(toml: defaults, file: "dump") == .defaults)
        let rebound = try KeyMap(toml: "quit = [\"x\", \"Ctrl-Q\"]\nsearch = \"\\\\\"\nhelp = [\"Space\", \"F1\"]\n", file: "keys.toml")
        #expect(rebound.keys(.search) == [.character("\\")])
        #expect(try KeyMap(toml: rebound.toml, file: "dump") == rebound)
    }

    // MARK: The inspector with a key map

    static func app(_ keys: String, symbols: Symbols = .unicode) throws -> InspectorApp {
        let app = try CommandAndTimelineTests.app()
        app.symbols = symbols
        app.keyMap = try KeyMap(toml: keys, file: "keys.toml")
        return app
    }

    @Test func aReboundKeyActsAndTheHelpShowsIt() throws {
        let app = try Self.app("quit = [\"x\", \"F10\"]\nhelp = [\"F2\", \"F1\"]\nmaximise = \"M\"\n")
        #expect(app.handle(.key(.character("q"))))  // no longer quits: the tree's key now (nothing)
        #expect(app.handle(.key(.character("M"))))
        #expect(app.layout.zoomed)
        app.press(.character("M"))
        let status = LayoutTests.status(app)
        #expect(status.hasPrefix(" F2 help  M maximise"))
        app.press(.function(2))
        #expect(app.mode == .help)
        let help = app.screen(width: 120, height: 60)
        #expect(help.contains("x / F10              quit (the terminal is restored)"))
        #expect(help.contains("F2 / F1") && help.contains("M                    maximise") && !help.contains("q / F10"))
        _ = app.handle(.key(.escape))
        #expect(!app.handle(.key(.character("x"))))
    }

    @Test func movedPaneKeysAreListedOneByOne() throws {
        let app = try Self.app("pane_4 = \"w\"\npane_2 = \"D\"\n")
        app.press(.character("w"))
        #expect(app.focus == .walk)
        let status = LayoutTests.status(app, width: 200)
        #expect(status.contains("1 D 3 w 5 7 8 9 panes"))
    }

    /// `m` marks the position from any pane (a global key `keys.toml` can move); `e` / `E`,
    /// the timeline's own keys, jump between its marks (failed expectations, disagreements).
    @Test func mMarksAndEJumpsBetweenMarks() throws {
        #expect(KeyMap.defaults.action(for: .character("m")) == .mark)
        #expect(KeyMap.defaults.action(for: .character("e")) == nil && KeyMap.defaults.action(for: .character("E")) == nil)
        #expect(KeyMap.defaults.toml.contains("mark = [\"m\"]\n"))
        let app = try Self.app("mark = \"b\"\n")
        app.press(.character("m"))
        #expect(app.model.mark == nil)
        app.press(.character("b"))
        #expect(app.model.mark?.position == app.model.position)
        #expect(LayoutTests.status(app, width: 400).contains("b unmark"))
        let corrupted = try TimelinePaneTests.corruptedApp()
        TimelinePaneTests.press(corrupted, [.character("{"), .character("e")])
        #expect(corrupted.model.position == 9 && corrupted.model.mark == nil)
        TimelinePaneTests.press(corrupted, [.character("e"), .character("E")])
        #expect(corrupted.model.position == 9)
        TimelinePaneTests.press(corrupted, [.character("m")])
        #expect(corrupted.model.mark?.position == 9)
        let screen = corrupted.render(width: 120, height: 40).text
        #expect(screen.contains("m: trace line 12 (9/11)") && screen.contains("← mark"))
    }

    // MARK: Hints

    @Test func theWalksHintsFollowItsState() throws {
        let app = try LayoutTests.walk()
        let plain = LayoutTests.status(app, width: 200)
        #expect(plain.contains("s step  b bits  y copy  S save walk  Tab focus"))
        #expect(plain.contains("W save  q quit"))
        app.press(.character("s"))
        let stepping = LayoutTests.status(app, width: 200)
        #expect(stepping.contains("Space l next access  h previous  g G first last  s leave step"))
        #expect(!stepping.contains("i IOVA"))
        app.press(.character("s"), .character("i"))
        let typing = LayoutTests.status(app, width: 200)
        #expect(typing.contains("0-9 a-f hex IOVA  Enter walk it  Esc cancel  F10 quit"))
        // Typing, the global keys are text: none is offered.
        #expect(!typing.contains("? help") && !typing.contains("Tab focus"))
        app.press(.escape)
        #expect(LayoutTests.status(app, width: 200).contains("i IOVA"))
    }

    @Test func copyAndSaveHintsOutsideTheWalk() throws {
        let app = try CommandAndTimelineTests.app()
        let status = LayoutTests.status(app, width: 200)
        #expect(status.contains("y copy") && status.contains("W save") && !status.contains("S save walk"))
        app.press(.character("7"), .character("#"))
        #expect(LayoutTests.status(app, width: 200).contains("0-9 line number  Enter jump  Esc cancel"))
    }

    /// Without UTF-8 no pane's help, the global keys nor the legend draws a Unicode glyph
    /// (an arrow, a check mark); the legend's changed mark is the one the ASCII tree draws.
    @Test(arguments: ["1", "2", "3", "4", "5", "7", "8", "9"])
    func asciiHelpNamesTheArrowKeys(_ pane: Character) throws {
        let app = try CommandAndTimelineTests.app()
        app.symbols = .ascii
        app.press(.character(pane))
        let legend = try #require(app.helpSections.last)
        #expect(legend.rows.contains { $0.key == Symbols.ascii.changed && $0.action.hasPrefix("tree: changed") })
        for section in app.helpSections {
            for row in section.rows {
                let text = row.key + row.action
                #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
            }
        }
    }

    // MARK: The user's files

    /// A config directory of its own, as XDG_CONFIG_HOME names it.
    static func configHome(theme: String? = nil, keys: String? = nil) throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-config-\(UUID().uuidString)")
        let directory = home.appendingPathComponent("iommuscope")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let theme { try theme.write(to: directory.appendingPathComponent("theme.toml"), atomically: true, encoding: .utf8) }
        if let keys { try keys.write(to: directory.appendingPathComponent("keys.toml"), atomically: true, encoding: .utf8) }
        return home
    }

    @Test func theUsersFilesComeFromTheConfigDirectory() throws {
        let home = try Self.configHome(theme: "name = \"mine\"\n[styles]\ntext = { fg = \"red\" }\n", keys: "quit = \"x\"\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["XDG_CONFIG_HOME": home.path, "HOME": "/nonexistent"]
        let mine = try InspectorThemes.resolve(nil, environment: environment)
        #expect(mine.name == "mine" && mine["text"] == Style(foreground: .ansi(1)))
        // The styles it leaves out are dark's.
        #expect(mine["status_bar"] == (try InspectorThemes.load("dark"))["status_bar"])
        // --theme wins over the file.
        #expect(try InspectorThemes.resolve("light", environment: environment).name == "light")
        #expect(try KeyMap.load(environment: environment).keys(.quit) == [.character("x")])
        // Without XDG_CONFIG_HOME: ~/.config; a relative XDG_CONFIG_HOME is ignored.
        #expect(UserDirectories.config(["HOME": "/home/u"])?.path == "/home/u/.config/iommuscope")
        #expect(UserDirectories.config(["HOME": "/home/u", "XDG_CONFIG_HOME": "rel"])?.path == "/home/u/.config/iommuscope")
        #expect(UserDirectories.state(["HOME": "/home/u"])?.path == "/home/u/.local/state/iommuscope")
        // No file: dark and the defaults.
        let empty = ["XDG_CONFIG_HOME": home.appendingPathComponent("none").path]
        #expect(try InspectorThemes.resolve(nil, environment: empty).name == "dark")
        #expect(try KeyMap.load(environment: empty) == .defaults)
    }

    @Test func aBrokenUserFileIsALocatedError() throws {
        let home = try Self.configHome(theme: "[styles]\ntext = { fg = \"purpel\" }\n", keys: "\nquit = \"?\"\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["XDG_CONFIG_HOME": home.path]
        let file = home.appendingPathComponent("iommuscope/theme.toml").path
        #expect(throws: ConfigError(file: file, line: 2, message: "'fg = \"purpel\"': unknown colour 'purpel' (valid: \(Color.validNames))")) {
            try InspectorThemes.resolve(nil, environment: environment)
        }
        do {
            _ = try KeyMap.load(environment: environment)
            Issue.record("a conflicting keys.toml loaded")
        } catch {
            #expect(error.description == home.appendingPathComponent("iommuscope/keys.toml").path
                    + ":2: 'quit = \"?\"': ? is bound to both quit and help (each key does one thing)")
        }
        #expect(throws: ConfigError.self) { try InspectorThemes.resolve("nope", environment: [:]) }
        // A file there that cannot be read (a directory) is an error naming it, not the default.
        let unreadable = try Self.configHome()
        defer { try? FileManager.default.removeItem(at: unreadable) }
        let directory = unreadable.appendingPathComponent("iommuscope/keys.toml")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            _ = try KeyMap.load(environment: ["XDG_CONFIG_HOME": unreadable.path])
            Issue.record("an unreadable keys.toml loaded")
        } catch {
            #expect(error.file == directory.path && error.message.hasPrefix("cannot read it"))
        }
    }

    /// Every shipped theme, high-contrast included, styles every role the inspector draws.
    @Test(arguments: InspectorThemes.names)
    func shippedThemesStyleEveryRole(_ name: String) throws {
        let theme = try InspectorThemes.load(name)
        #expect(Set(theme.styles.keys) == Set(InspectorThemes.roles))
    }

    /// High contrast: black and white bases, no dim text, no grey.
    @Test func highContrastIsBlackAndWhite() throws {
        let theme = try InspectorThemes.load("high-contrast")
        #expect(theme["background"] == Style(foreground: .rgb(255, 255, 255), background: .rgb(0, 0, 0)))
        #expect(theme.styles.values.allSatisfy { !$0.dim && $0.foreground != .ansi(8) })
        #expect(theme["status_bar"].background == .rgb(255, 255, 255))
    }
}
