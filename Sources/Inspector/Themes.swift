import Foundation
import TerminalUI

/// The themes that ship in the repository's `Themes/` (compiled into the binary:
/// EmbeddedThemes.swift is generated from them, so an installed copy needs no resource
/// bundle), theme files given by path, and the user's own `theme.toml`.
public enum InspectorThemes {
    public static let names = ["dark", "light", "mono", "high-contrast"]

    /// Every style the inspector draws with: what a theme's `[styles]` may name (each
    /// shipped theme names them all; a user's theme may leave some out: those are dark's).
    public static let roles = [
        "background", "text", "dim", "heading", "link", "match", "selection", "selection_unfocused",
        "border", "border_focused", "title", "title_focused", "title_bar", "status_bar", "overlay",
        "warning", "fault", "stale", "changed", "stage1", "stage2",
        "mapped", "reserved", "sw_msi", "msi", "direct", "outside", "allowed", "hole",
    ]

    /// Loads a shipped theme by name, or a theme file by path.
    public static func load(_ nameOrPath: String) throws(ConfigError) -> Theme {
        if let text = shipped[nameOrPath] { return try Theme(toml: text, file: "\(nameOrPath) (shipped)", roles: roles) }
        let url = URL(fileURLWithPath: nameOrPath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ConfigError(file: nameOrPath, message: "no such theme (valid: \(names.joined(separator: ", ")), or a .toml file's path)")
        }
        return try load(file: url, named: nameOrPath)
    }

    /// The theme to open with: `--theme` when given; else the user's
    /// `$XDG_CONFIG_HOME/iommuscope/theme.toml` (`~/.config/…` without it) when there is one;
    /// else dark. A broken file is an error, never a silent fallback.
    public static func resolve(_ option: String?, environment: [String: String]) throws(ConfigError) -> Theme {
        if let option { return try load(option) }
        if let url = UserDirectories.config(environment)?.appendingPathComponent("theme.toml"),
           FileManager.default.fileExists(atPath: url.path) {
            return try load(file: url, named: url.path)
        }
        return try load("dark")
    }

    private static func load(file url: URL, named name: String) throws(ConfigError) -> Theme {
        var theme = try Theme(toml: try UserDirectories.text(of: url, named: name), file: name, roles: roles)
        // A user's theme that changes a few styles keeps dark's for the rest.
        theme.styles.merge(try load("dark").styles) { own, _ in own }
        return theme
    }
}

/// Where the user's files are, by the XDG base directory rules (a relative `$XDG_…` is
/// ignored, as the specification says).
public enum UserDirectories {
    /// `$XDG_CONFIG_HOME/iommuscope`, else `~/.config/iommuscope`: `theme.toml`, `keys.toml`.
    public static func config(_ environment: [String: String]) -> URL? {
        directory("XDG_CONFIG_HOME", else: ".config", environment)
    }

    /// `$XDG_STATE_HOME/iommuscope`, else `~/.local/state/iommuscope`: the `:` history.
    public static func state(_ environment: [String: String]) -> URL? {
        directory("XDG_STATE_HOME", else: ".local/state", environment)
    }

    /// A user's file's text; a file that cannot be read is an error naming it.
    static func text(of url: URL, named name: String) throws(ConfigError) -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError(file: name, message: "cannot read it: \(error.localizedDescription)")
        }
    }

    private static func directory(_ variable: String, else home: String, _ environment: [String: String]) -> URL? {
        if let base = environment[variable], base.hasPrefix("/") {
            return URL(fileURLWithPath: base).appendingPathComponent("iommuscope")
        }
        guard let user = environment["HOME"], user.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: user).appendingPathComponent(home).appendingPathComponent("iommuscope")
    }
}
