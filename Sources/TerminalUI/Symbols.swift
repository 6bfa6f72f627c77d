/// The glyphs views draw with: Unicode box drawing, or ASCII when the locale is not UTF-8.
public struct Symbols: Sendable, Equatable {
    public var horizontal: String
    public var vertical: String
    public var topLeft: String, topRight: String, bottomLeft: String, bottomRight: String
    public var breadcrumb: String
    public var expanded: String, collapsed: String, leaf: String
    public var ellipsis: String
    public var full: String, shade: String, light: String
    public var arrow: String, cursor: String

    public static let unicode = Symbols(horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐",
                                        bottomLeft: "└", bottomRight: "┘", breadcrumb: " ▸ ", expanded: "▾",
                                        collapsed: "▸", leaf: "·", ellipsis: "…", full: "█", shade: "▒", light: "░",
                                        arrow: "→", cursor: "▏")
    public static let ascii = Symbols(horizontal: "-", vertical: "|", topLeft: "+", topRight: "+",
                                      bottomLeft: "+", bottomRight: "+", breadcrumb: " > ", expanded: "v",
                                      collapsed: ">", leaf: "-", ellipsis: "~", full: "#", shade: "=", light: ".",
                                      arrow: "->", cursor: "_")
}
