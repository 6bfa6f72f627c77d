import TOMLKit

/// A theme: named styles, read from a TOML file of `[styles]` entries such as
/// `border = { fg = "bright-black" }` or `selection = { reverse = true }`.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var styles: [String: Style]

    public init(name: String, styles: [String: Style]) {
        self.name = name
        self.styles = styles
    }

    /// A style by role; unknown roles are plain.
    public subscript(role: String) -> Style { styles[role] ?? .plain }

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Parses a theme file. Colours are names (`red`, `bright-cyan`, `default`), palette
    /// indices or `#rrggbb`; attributes are `bold`, `dim`, `underline`, `reverse`.
    public init(toml text: String) throws {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch { throw LoadError(description: "not TOML: \(error)") }
        name = table["name"]?.string ?? "unnamed"
        styles = [:]
        guard let entries = table["styles"]?.table else { throw LoadError(description: "no [styles] table") }
        for (role, value) in entries {
            guard let fields = value.table else { throw LoadError(description: "style '\(role)' is not a table") }
            var style = Style()
            for (key, field) in fields {
                switch key {
                case "fg", "bg":
                    guard let name = field.string, let color = Color(name: name) else {
                        throw LoadError(description: "style '\(role)': '\(key)' is not a colour")
                    }
                    if key == "fg" { style.foreground = color } else { style.background = color }
                case "bold": style.bold = field.bool ?? false
                case "dim": style.dim = field.bool ?? false
                case "underline": style.underline = field.bool ?? false
                case "reverse": style.reverse = field.bool ?? false
                default: throw LoadError(description: "style '\(role)': unknown key '\(key)'")
                }
            }
            styles[role] = style
        }
    }

    /// The same theme without colours: what `NO_COLOR` and `--colors=none` show.
    public var monochrome: Theme {
        Theme(name: name + " (monochrome)", styles: styles.mapValues(\.withoutColor))
    }
}
