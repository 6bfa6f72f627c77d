/// A terminal colour as a theme names it; the backend degrades it to what the terminal has.
public enum Color: Hashable, Sendable {
    /// The terminal's own foreground or background.
    case `default`
    /// One of the 16 ANSI colours (0-7 normal, 8-15 bright).
    case ansi(UInt8)
    /// An xterm 256-colour palette index.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    /// The ANSI colours' names, 0-7 (`bright-` before each names 8-15).
    public static let ansiNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// What `init(name:)` takes, for messages.
    public static let validNames = (["default"] + ansiNames + ansiNames.map { "bright-" + $0 }).joined(separator: ", ")
        + ", or #rrggbb / 0-255"

    /// Parses `default`, `red`..`white`, `bright-red`.., `#rrggbb` or a palette index `0`..`255`.
    public init?(name: String) {
        let names = Self.ansiNames
        if name == "default" { self = .default; return }
        if let index = names.firstIndex(of: name) { self = .ansi(UInt8(index)); return }
        if name.hasPrefix("bright-"), let index = names.firstIndex(of: String(name.dropFirst(7))) {
            self = .ansi(UInt8(index + 8)); return
        }
        if name.hasPrefix("#"), name.count == 7, let value = UInt32(name.dropFirst(), radix: 16) {
            self = .rgb(UInt8(value >> 16), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)); return
        }
        if let index = UInt8(name) { self = .indexed(index); return }
        return nil
    }
}

/// How a cell looks. Meaning never rests on colour alone: views also use bold, reverse,
/// underline and distinct glyphs.
public struct Style: Hashable, Sendable {
    public var foreground: Color = .default
    public var background: Color = .default
    public var bold = false
    public var dim = false
    public var underline = false
    public var reverse = false

    public init(foreground: Color = .default, background: Color = .default, bold: Bool = false, dim: Bool = false,
                underline: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.dim = dim
        self.underline = underline
        self.reverse = reverse
    }

    public static let plain = Style()

    /// This style with its colours dropped (monochrome), attributes kept. A style set apart
    /// by a background colour (the title and status bars, a search match) keeps that as
    /// reverse video, or it would melt into the text around it.
    public var withoutColor: Style {
        Style(bold: bold, dim: dim, underline: underline, reverse: reverse || background != .default)
    }
}

/// How many colours the terminal gets: `--colors=none|16|256|truecolor`, `NO_COLOR`.
public enum ColorMode: String, Sendable, CaseIterable {
    case none, sixteen = "16", palette = "256", truecolor
}
