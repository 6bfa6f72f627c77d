import TerminalUI

/// How the body of the inspector is shared between the tree and the right pane: the tree's
/// width (`<` / `>` move it by a step, `<` at the narrowest hides it), and whether the
/// focused pane is maximised (`z`, as tmux's zoom: the maximised pane follows the focus).
public struct PaneLayout: Equatable, Sendable {
    /// Columns added to (or taken from) the tree's default width.
    public private(set) var treeOffset = 0
    public private(set) var treeHidden = false
    /// The focused pane fills the body.
    public var zoomed = false

    /// Columns one `<` or `>` moves the tree's edge by.
    public static let step = 4
    /// The narrowest tree drawn; one `<` more hides it.
    public static let narrowestTree = 16
    /// Columns always left to the right pane.
    public static let narrowestMain = 30

    public init() {}

    /// The tree's width in a body `width` wide before any `<` / `>`: 38 %, at least 28 columns.
    static func defaultTreeWidth(_ width: Int) -> Int { max(28, width * 38 / 100) }

    /// The tree's width in a body `width` wide; 0 when it is hidden.
    public func treeWidth(in width: Int) -> Int {
        guard !treeHidden else { return 0 }
        let widest = max(Self.narrowestTree, width - Self.narrowestMain)
        return min(max(Self.defaultTreeWidth(width) + treeOffset, Self.narrowestTree), widest)
    }

    /// `<`: the tree one step narrower, hidden below its narrowest.
    public mutating func narrow(in width: Int) {
        let current = treeWidth(in: width)
        guard !treeHidden else { return }
        if current <= Self.narrowestTree {
            treeHidden = true
        } else {
            treeOffset = max(current - Self.step, Self.narrowestTree) - Self.defaultTreeWidth(width)
        }
    }

    /// `>`: a hidden tree back at its narrowest, else one step wider.
    public mutating func widen(in width: Int) {
        if treeHidden {
            treeHidden = false
            treeOffset = Self.narrowestTree - Self.defaultTreeWidth(width)
        } else {
            let widest = max(Self.narrowestTree, width - Self.narrowestMain)
            treeOffset = min(treeWidth(in: width) + Self.step, widest) - Self.defaultTreeWidth(width)
        }
    }

    /// Shows a hidden tree again at its narrowest (the tree was focused).
    public mutating func revealTree(in width: Int) {
        if treeHidden { widen(in: width) }
    }

    /// The tree's and the right pane's rectangles in `body` with `focus` focused: nil for one
    /// not drawn (hidden, or another pane maximised).
    public func split(_ body: Rect, focus: PaneKind) -> (tree: Rect?, main: Rect?) {
        if zoomed { return focus == .tree ? (body, nil) : (nil, body) }
        let width = treeWidth(in: body.width)
        guard width > 0 else { return (nil, body) }
        let (left, right) = body.splitColumns(width)
        return (tree: left, main: right)
    }
}
