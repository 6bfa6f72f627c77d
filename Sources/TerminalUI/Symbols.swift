/// The glyphs views draw with: Unicode box drawing, or ASCII when the locale is not UTF-8.
/// Each meaning has its own glyph in either set, so the ASCII frame reads without guessing:
/// `~` stays the text's "approximately" (`~256T`), `+` the border's corner, `-` its line,
/// `>` the tree's collapsed row (a path's parts are parted by `/`, as a file path's are).
public struct Symbols: Sendable, Equatable {
    public var horizontal: String
    public var vertical: String
    public var topLeft: String, topRight: String, bottomLeft: String, bottomRight: String
    /// Parts a path's parts: the title bar's, the page table's, the walk's request.
    public var breadcrumb: String
    public var expanded: String, collapsed: String, leaf: String
    /// Marks a row the last step or command changed (beside its expander, never over it).
    public var changed: String
    /// Ends a line cut to fit (nano's `$` in ASCII).
    public var ellipsis: String
    /// Flags a cached translation a fresh walk contradicts: a stale IOTLB entry.
    public var stale: String
    public var full: String, shade: String, light: String
    /// `arrow` points along an edge (`DEVICE 1 → HWPT 8`), `backArrow` against one (`HWPT 8 ← DEVICE 1`).
    public var arrow: String, backArrow: String, cursor: String
    /// The arrow keys, as the help and the status line name them (`Up` in ASCII).
    public var upKey: String, downKey: String, leftKey: String, rightKey: String

    public static let unicode = Symbols(horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐",
                                        bottomLeft: "└", bottomRight: "┘", breadcrumb: " ▸ ", expanded: "▾",
                                        collapsed: "▸", leaf: "·", changed: "+", ellipsis: "…", stale: "≢", full: "█", shade: "▒", light: "░",
                                        arrow: "→", backArrow: "←", cursor: "▏",
                                        upKey: "↑", downKey: "↓", leftKey: "←", rightKey: "→")
    public static let ascii = Symbols(horizontal: "-", vertical: "|", topLeft: "+", topRight: "+",
                                      bottomLeft: "+", bottomRight: "+", breadcrumb: " / ", expanded: "v",
                                      collapsed: ">", leaf: ".", changed: "*", ellipsis: "$", stale: "^", full: "#", shade: "%", light: ":",
                                      arrow: "->", backArrow: "<-", cursor: "_",
                                      upKey: "Up", downKey: "Down", leftKey: "Left", rightKey: "Right")
}
