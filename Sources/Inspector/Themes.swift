import Foundation
import TerminalUI

/// The themes that ship in `Themes/`, and theme files given by path.
public enum InspectorThemes {
    public static let names = ["dark", "light", "mono"]

    /// Loads a shipped theme by name, or a theme file by path.
    public static func load(_ nameOrPath: String) throws -> Theme {
        let url: URL
        if names.contains(nameOrPath), let bundled = Bundle.module.url(forResource: nameOrPath, withExtension: "toml", subdirectory: "Themes") {
            url = bundled
        } else {
            url = URL(fileURLWithPath: nameOrPath)
        }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw Theme.LoadError(description: "no theme '\(nameOrPath)' (shipped: \(names.joined(separator: ", ")), or a .toml path)")
        }
        return try Theme(toml: text)
    }
}
