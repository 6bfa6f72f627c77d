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

extension PaneKind {
    /// The pane's name in a tab strip too narrow for titles: a word of at most four letters.
    var shortTitle: String {
        switch self {
        case .tree: "obj"
        case .details: "det"
        case .pageTable: "pt"
        case .walk: "walk"
        case .iovaMap: "map"
        case .faults: "flt"
        case .timeline: "time"
        case .results: "res"
        case .diff: "diff"
        case .lesson: "less"
        }
    }
}

/// The right pane's tabs in its border, the shown one in brackets by its full title, each
/// tab's cells kept for clicks. The others are named by the longest form that fits all of them:
/// their titles (`2 Details`), their titles' first words (`3 Page`), their short names
/// (`2 det`); else the tabs nearest the shown one keep their short names and the farther ones
/// shrink to their numbers; else only the numbers nearest the shown tab, an ellipsis for the rest.
struct TabStrip {
    var text = ""
    var tabs: [(kind: PaneKind, columns: Range<Int>)] = []

    enum Form { case title, firstWord, short, number }

    init(kinds: [PaneKind], shown: PaneKind, width: Int, symbols: Symbols) {
        func label(_ kind: PaneKind, _ form: Form) -> String {
            if kind == shown { return "[\(kind.rawValue) \(kind.title)]" }
            switch form {
            case .title: return "\(kind.rawValue) \(kind.title)"
            case .firstWord: return "\(kind.rawValue) " + (kind.title.split(separator: " ").first ?? "")
            case .short: return "\(kind.rawValue) \(kind.shortTitle)"
            case .number: return "\(kind.rawValue)"
            }
        }
        func strip(_ range: Range<Int>, _ forms: [Form]) -> TabStrip {
            var strip = TabStrip(text: range.lowerBound == kinds.startIndex ? "" : symbols.ellipsis + " ")
            for index in range {
                if !strip.tabs.isEmpty { strip.text += " " }
                let start = CellBuffer.width(of: strip.text)
                strip.text += label(kinds[index], forms[index])
                strip.tabs.append((kinds[index], start..<CellBuffer.width(of: strip.text)))
            }
            if range.upperBound != kinds.endIndex { strip.text += " " + symbols.ellipsis }
            return strip
        }
        func fits(_ strip: TabStrip) -> Bool { CellBuffer.width(of: strip.text) <= width }
        let all = kinds.indices
        for form in [Form.title, .firstWord, .short] {
            let uniform = strip(all, Array(repeating: form, count: kinds.count))
            if fits(uniform) { self = uniform; return }
        }
        guard let active = kinds.firstIndex(of: shown) else {
            self = strip(all, Array(repeating: .number, count: kinds.count))
            return
        }
        // The farthest from the shown tab shrink first (of two as far, the one on the right).
        var forms = Array(repeating: Form.short, count: kinds.count)
        for index in all.sorted(by: { (abs($0 - active), $0) > (abs($1 - active), $1) }) where index != active {
            forms[index] = .number
            let mixed = strip(all, forms)
            if fits(mixed) { self = mixed; return }
        }
        // Too narrow for every number: a window around the shown tab, widened while it fits.
        let numbers = Array(repeating: Form.number, count: kinds.count)
        var window = active..<active + 1
        while let wider = [window.lowerBound..<window.upperBound + 1, window.lowerBound - 1..<window.upperBound]
            .filter({ $0.lowerBound >= all.lowerBound && $0.upperBound <= all.upperBound })
            .first(where: { fits(strip($0, numbers)) }) {
            window = wider
        }
        self = strip(window, numbers)
    }

    private init(text: String) { self.text = text }
}
