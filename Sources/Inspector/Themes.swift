import Foundation
import TerminalUI

/// The themes that ship in `Themes/` (compiled into the binary: EmbeddedThemes.swift is
/// generated from them, so an installed copy needs no resource bundle), and theme files given by path.
public enum InspectorThemes {
    public static let names = ["dark", "light", "mono"]

    /// Loads a shipped theme by name, or a theme file by path.
    public static func load(_ nameOrPath: String) throws -> Theme {
        guard let text = shipped[nameOrPath] ?? (try? String(contentsOf: URL(fileURLWithPath: nameOrPath), encoding: .utf8)) else {
            throw Theme.LoadError(description: "no theme '\(nameOrPath)' (shipped: \(names.joined(separator: ", ")), or a .toml path)")
        }
        return try Theme(toml: text)
    }
}
