import Foundation
import TerminalUI

/// What a global key of the inspector does (the panes' own keys stay theirs). Its name is
/// the key of `keys.toml`.
public enum InspectorAction: Hashable, Sendable {
    case quit, help, switchFocus, maximise, narrowTree, widenTree
    /// Show and focus a pane by its number.
    case pane(PaneKind)
    case command, search, searchNext, searchPrevious
    case stepBack, stepForward, stepFirst, stepLast
    /// Mark the timeline position the diff pane compares with (again on it: clear the mark).
    case mark
    case copy, saveCommands, saveWalk, mouseCapture

    /// In the order the help and `--dump-keymap` list them.
    public static let allCases: [InspectorAction] = [.quit, .help, .switchFocus] + PaneKind.allCases.map(Self.pane)
        + [.maximise, .narrowTree, .widenTree, .command, .search, .searchNext, .searchPrevious,
           .stepBack, .stepForward, .stepFirst, .stepLast, .mark, .copy, .saveCommands, .saveWalk, .mouseCapture]

    /// The name in `keys.toml`.
    public var name: String {
        switch self {
        case .quit: "quit"
        case .help: "help"
        case .switchFocus: "switch_focus"
        case .maximise: "maximise"
        case .narrowTree: "narrow_tree"
        case .widenTree: "widen_tree"
        case .pane(let kind): "pane_\(kind.rawValue)"
        case .command: "command"
        case .search: "search"
        case .searchNext: "search_next"
        case .searchPrevious: "search_previous"
        case .stepBack: "step_back"
        case .stepForward: "step_forward"
        case .stepFirst: "step_first"
        case .stepLast: "step_last"
        case .mark: "mark"
        case .copy: "copy"
        case .saveCommands: "save_commands"
        case .saveWalk: "save_walk"
        case .mouseCapture: "mouse_capture"
        }
    }

    public init?(name: String) {
        guard let action = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = action
    }

    /// The keys it has unless `keys.toml` says otherwise.
    var defaultKeys: [Key] {
        switch self {
        case .quit: [.character("q"), .function(10), .control("c")]
        case .help: [.character("?"), .function(1)]
        case .switchFocus: [.tab, .backTab]
        case .maximise: [.character("z")]
        case .narrowTree: [.character("<")]
        case .widenTree: [.character(">")]
        case .pane(let kind): [.character(Character(String(kind.rawValue)))]
        case .command: [.character(":")]
        case .search: [.character("/")]
        case .searchNext: [.character("n")]
        case .searchPrevious: [.character("N")]
        case .stepBack: [.character("[")]
        case .stepForward: [.character("]")]
        case .stepFirst: [.character("{")]
        case .stepLast: [.character("}")]
        case .mark: [.character("m")]
        case .copy: [.character("y")]
        case .saveCommands: [.character("W")]
        case .saveWalk: [.character("S")]
        case .mouseCapture: [.control("t")]
        }
    }
}

/// The inspector's global keys: each action's keys, the defaults unless the user's
/// `keys.toml` (`$XDG_CONFIG_HOME/iommuscope/keys.toml`) rebinds them. One key does one
/// thing: two actions on a key is an error naming both.
public struct KeyMap: Equatable, Sendable {
    private var bindings: [InspectorAction: [Key]]
    private var actions: [Key: InspectorAction]

    public static let defaults = KeyMap(Dictionary(uniqueKeysWithValues: InspectorAction.allCases.map { ($0, $0.defaultKeys) }))

    private init(_ bindings: [InspectorAction: [Key]]) {
        self.bindings = bindings
        actions = [:]
        for (action, keys) in bindings { for key in keys { actions[key] = action } }
    }

    /// An action's keys, the first the one hints show.
    public func keys(_ action: InspectorAction) -> [Key] { bindings[action] ?? [] }

    /// What a key does, if it is a global key.
    public func action(for key: Key) -> InspectorAction? { actions[key] }

    /// An action's keys as the help shows them (`q / F10 / Ctrl-C`), arrows drawn with `symbols`.
    public func label(_ action: InspectorAction, symbols: Symbols) -> String {
        keys(action).map { $0.label(symbols) }.joined(separator: " / ")
    }

    /// An action's first key, for the status line.
    public func hint(_ action: InspectorAction, symbols: Symbols) -> String { keys(action).first.map { $0.label(symbols) } ?? "" }

    /// Keys the loop itself handles (redraw and suspend): no action may take them.
    static let reserved: [Key: String] = [.control("l"): "redraws the screen", .control("z"): "suspends the inspector"]

    /// The defaults with `keys.toml`'s bindings over them: `quit = ["q", "F10"]`, `help = "?"`.
    /// An action named replaces all of its default keys.
    public init(toml text: String, file: String) throws(ConfigError) {
        let config = try ConfigFile(path: file, text: text)
        var bindings = Self.defaults.bindings
        var set: [InspectorAction: ConfigEntry] = [:]
        for entry in config.entries {
            guard let action = InspectorAction(name: entry.key) else {
                throw config.error(entry, "unknown action '\(ConfigValue.escaped(entry.key))' (valid: \(InspectorAction.allCases.map(\.name).joined(separator: ", ")))")
            }
            let names: [ConfigValue]
            switch entry.value {
            case .string: names = [entry.value]
            case .array(let values): names = values
            default: throw config.error(entry, "an action takes a key name or a list of them, such as [\"q\", \"F10\"]")
            }
            var keys: [Key] = []
            for value in names {
                guard case .string(let name) = value, let key = Key(name: name) else {
                    throw config.error(entry, "unknown key name \(value.toml) (valid: \(Key.validNames))")
                }
                if let what = Self.reserved[key] { throw config.error(entry, "\(name) \(what): it cannot be rebound") }
                if !keys.contains(key) { keys.append(key) }
            }
            guard !keys.isEmpty else { throw config.error(entry, "no key: every action keeps at least one") }
            bindings[action] = keys
            set[action] = entry
        }
        self.init(bindings)
        // One key, one action: the conflict is reported at the later of the two lines the file has.
        for action in InspectorAction.allCases {
            for key in keys(action) {
                guard let other = InspectorAction.allCases.first(where: { $0 != action && self.keys($0).contains(key) }) else { continue }
                let entries = [set[action], set[other]].compactMap { $0 }
                guard let entry = entries.max(by: { ($0.line ?? 0) < ($1.line ?? 0) }) else { continue }
                let both = InspectorAction.allCases.filter { $0 == action || $0 == other }.map(\.name)
                throw config.error(entry, "\(key.name) is bound to both \(both.joined(separator: " and ")) (each key does one thing)")
            }
        }
    }

    /// The user's `keys.toml` in the config directory when there is one, else the defaults.
    public static func load(environment: [String: String]) throws(ConfigError) -> KeyMap {
        guard let url = UserDirectories.config(environment)?.appendingPathComponent("keys.toml"),
              FileManager.default.fileExists(atPath: url.path) else { return .defaults }
        return try KeyMap(toml: try UserDirectories.text(of: url, named: url.path), file: url.path)
    }

    /// The map as a `keys.toml` that reads back as this map (`tui --dump-keymap`).
    public var toml: String {
        "# iommuscope key map: copy to $XDG_CONFIG_HOME/iommuscope/keys.toml (~/.config/iommuscope/keys.toml) and edit.\n"
            + "# Keys: a character, Tab, Shift-Tab, Enter, Esc, Space, Backspace, Delete, Up, Down, Left, Right,\n"
            + "# PgUp, PgDn, Home, End, F1-F12, Ctrl-A..Ctrl-Z. The panes' own keys are not in it.\n"
            + InspectorAction.allCases.map { action in
                "\(action.name) = [" + keys(action).map { ConfigValue.quoted($0.name) }.joined(separator: ", ") + "]\n"
            }.joined()
    }
}

extension Key {
    private static let named: [(name: String, key: Key)] = [
        ("Tab", .tab), ("Shift-Tab", .backTab), ("Enter", .enter), ("Esc", .escape), ("Space", .character(" ")),
        ("Backspace", .backspace), ("Delete", .delete), ("Up", .up), ("Down", .down), ("Left", .left), ("Right", .right),
        ("PgUp", .pageUp), ("PgDn", .pageDown), ("Home", .home), ("End", .end),
    ]

    /// Control letters the terminal sends as other keys (Backspace, Tab, Enter).
    private static let notControls: Set<Character> = ["h", "i", "j", "m"]

    /// The key names `keys.toml` takes, for messages.
    static let validNames = "a single character, " + named.map(\.name).joined(separator: ", ")
        + ", F1-F12, Ctrl-A..Ctrl-Z (not Ctrl-H, I, J, M: the terminal sends Backspace, Tab, Enter)"

    /// Reads a key name of `keys.toml`: `q`, `?`, `Tab`, `F10`, `Ctrl-T` (any case after `Ctrl-`), `PgUp`.
    public init?(name: String) {
        if let named = Self.named.first(where: { $0.name == name }) { self = named.key; return }
        if name.count == 1, let character = name.first, !character.isWhitespace, character.unicodeScalars.allSatisfy({ $0.value >= 0x20 && !(0x7f...0x9f).contains($0.value) }) {
            self = .character(character)
            return
        }
        if name.hasPrefix("F"), let number = Int(name.dropFirst()), (1...12).contains(number), name.dropFirst().first != "0" {
            self = .function(number)
            return
        }
        if name.lowercased().hasPrefix("ctrl-"), name.count == 6, let letter = name.last?.lowercased().first,
           letter.isASCII, letter.isLetter, !Self.notControls.contains(letter) {
            self = .control(letter)
            return
        }
        return nil
    }

    /// The key's name in `keys.toml` (what `init(name:)` reads back).
    public var name: String {
        switch self {
        case .character(" "), .up, .down, .left, .right, .pageUp, .pageDown, .home, .end, .enter, .backspace, .tab, .backTab,
             .escape, .delete:
            Self.named.first { $0.key == self }?.name ?? ""
        case .character(let character): String(character)
        case .control(let letter): "Ctrl-" + letter.uppercased()
        case .function(let number): "F\(number)"
        }
    }

    /// A printable character: what a pane typing text takes as text.
    public var isCharacter: Bool { if case .character = self { true } else { false } }

    /// The key as the help and the status line show it: arrows as `symbols` draws them.
    public func label(_ symbols: Symbols) -> String {
        switch self {
        case .up: symbols.upKey
        case .down: symbols.downKey
        case .left: symbols.leftKey
        case .right: symbols.rightKey
        default: name
        }
    }
}
