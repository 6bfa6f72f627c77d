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

    /// The keys of a style's table.
    public static let attributes = ["fg", "bg", "bold", "dim", "underline", "reverse"]

    /// Parses a theme file named `file` (in messages). Colours are names (`red`,
    /// `bright-cyan`, `default`), palette indices or `#rrggbb`; attributes are `bold`, `dim`,
    /// `underline`, `reverse`. With `roles`, a style of any other name is an error. Every
    /// error names the file, the line, the bad value and the valid ones.
    public init(toml text: String, file: String, roles: [String]? = nil) throws(ConfigError) {
        let config = try ConfigFile(path: file, text: text)
        name = "unnamed"
        styles = [:]
        var found = false
        for entry in config.entries {
            switch (entry.key, entry.value) {
            case ("name", .string(let text)): name = text
            case ("name", _): throw config.error(entry, "a theme's name is a string")
            case ("styles", .table(let entries)):
                found = true
                for entry in entries {
                    if let roles, !roles.contains(entry.key) {
                        throw config.error(entry, "unknown style '\(ConfigValue.escaped(entry.key))' (valid: \(roles.joined(separator: ", ")))")
                    }
                    styles[entry.key] = try Self.style(entry, in: config)
                }
            case ("styles", _): throw config.error(entry, "styles is a table: [styles]")
            default: throw config.error(entry, "unknown key '\(ConfigValue.escaped(entry.key))' (valid: name, styles)")
            }
        }
        guard found else { throw config.error("no [styles] table") }
    }

    /// One style's table: `{ fg = "red", bold = true }`.
    private static func style(_ entry: ConfigEntry, in config: ConfigFile) throws(ConfigError) -> Style {
        guard case .table(let fields) = entry.value else {
            throw config.error(entry, "a style is a table such as { fg = \"red\", bold = true } (attributes: \(attributes.joined(separator: ", ")))")
        }
        var style = Style()
        for field in fields {
            switch (field.key, field.value) {
            case ("fg", .string(let name)), ("bg", .string(let name)):
                guard let color = Color(name: name) else {
                    throw config.error(field, "unknown colour '\(ConfigValue.escaped(name))' (valid: \(Color.validNames))")
                }
                if field.key == "fg" { style.foreground = color } else { style.background = color }
            case ("fg", _), ("bg", _):
                throw config.error(field, "a colour is a string (valid: \(Color.validNames))")
            case ("bold", .bool(let on)): style.bold = on
            case ("dim", .bool(let on)): style.dim = on
            case ("underline", .bool(let on)): style.underline = on
            case ("reverse", .bool(let on)): style.reverse = on
            case ("bold", _), ("dim", _), ("underline", _), ("reverse", _):
                throw config.error(field, "'\(field.key)' is true or false")
            default:
                throw config.error(field, "unknown attribute '\(ConfigValue.escaped(field.key))' (valid: \(attributes.joined(separator: ", ")))")
            }
        }
        return style
    }

    /// The same theme without colours: what `NO_COLOR` and `--colors=none` show. A style
    /// on the theme's own background (high-contrast paints every cell black) is not set apart
    /// by it, so it does not turn into reverse video.
    public var monochrome: Theme {
        let base = styles["background"]?.background ?? .default
        return Theme(name: name + " (monochrome)", styles: styles.mapValues { style in
            var style = style
            if style.background == base { style.background = .default }
            return style.withoutColor
        })
    }
}
