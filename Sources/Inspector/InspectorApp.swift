import Foundation
import IOMMUCore
import Presentation
import ScenarioScript
import TerminalUI

/// The inspector: a tree pane on the left, one main pane on the right (details, page table,
/// walk, IOVA map, faults or timeline), a title bar with the timeline position and a status line. It handles
/// the global keys and routes the rest to the focused pane; it draws only what is on screen.
public final class InspectorApp {
    public enum Mode: Equatable {
        case normal
        case help
        case command(LineEditor)
        case search(LineEditor)
        /// A path typed for `S` (the walk) or `W` (the `:` commands run).
        case save(SaveTarget, LineEditor)
        /// A save's path names a file there already: `y` writes `contents` over it, any other
        /// key keeps the file.
        case overwrite(path: String, contents: String)
    }

    /// What a save prompt writes.
    public enum SaveTarget: Equatable {
        /// The walk pane's walk: text, or JSON when the path ends `.json`.
        case walk
        /// The `:` commands run since the inspector started, as a scenario (`.iommu`).
        case commands

        var prompt: String { self == .walk ? "save walk to: " : "save commands to: " }
    }

    /// What the terminal itself must do, done by the loop (`run`), which holds the backend.
    enum TerminalRequest: Equatable {
        case copy(String)
        case mouseCapture(Bool)
    }

    public let model: InspectorModel
    public var theme: Theme
    public var symbols: Symbols
    public private(set) var mode: Mode = .normal
    public private(set) var focus: PaneKind = .tree
    /// The pane shown on the right.
    public private(set) var main: PaneKind = .details
    public private(set) var message = ""
    public private(set) var lastSearch: String?
    /// The `:` commands run, oldest first; Up and Down on the `:` line recall them. `tui`
    /// keeps them across runs in the user's state directory.
    public var history: [String] = []
    /// The history entry Up/Down showed last; `history.count` is the line being typed.
    private var recalled = 0
    /// The candidates Tab listed on the `:` line, until another key; Tab and Shift-Tab then cycle through them.
    private var completionMenu: CompletionMenu?
    /// The `:` commands that ran since the inspector started, oldest first: what `W` saves.
    public private(set) var typedCommands: [String] = []
    /// Seconds between autoplay's steps (`--autoplay`): each advances the lesson a step, or the
    /// timeline a line, until the end; any key pauses it. Nil without autoplay. Without a
    /// lesson, autoplay starts from before the timeline's first line.
    public var autoplay: Double? {
        didSet {
            playing = autoplay.map { $0 > 0 } ?? false
            if playing, lessonPane == nil { step(to: 0) }
        }
    }
    /// Autoplay is running (not paused by a key, not at the end).
    public private(set) var playing = false
    /// For a projector (`--projector`): the walk's nested grid in large digits and the tree
    /// hidden (`>` brings it back); in a lesson, the lesson pane beside the right pane.
    public var projector = false {
        didSet {
            if var walk = panes[.walk] as? WalkPane {
                walk.largeGrid = projector
                panes[.walk] = walk
            }
            while projector, !layout.treeHidden { layout.narrow(in: bodyWidth) }
        }
    }
    /// Whether the terminal reports the mouse (Ctrl-T toggles it, so its own selection works).
    public var mouseCapture = true
    /// The global keys (the user's `keys.toml` over the defaults); the help and the status
    /// line show them as bound.
    public var keyMap = KeyMap.defaults
    /// Requests for the terminal, sent by the loop after the event that made them.
    private(set) var terminalRequests: [TerminalRequest] = []
    var tree = ObjectTreePane()
    /// A host item a pane other than the tree chose (a fault of the faults pane): the panes
    /// follow it instead of the tree's row until the tree moves again.
    public private(set) var inspected: HostItem?
    var panes: [PaneKind: any InspectorPane]
    /// The tree's width and whether the focused pane is maximised (`<` `>` `z`).
    public private(set) var layout = PaneLayout()
    private var help = HelpOverlay()
    /// The inner areas drawn last frame, for mouse hits.
    private var areas: [PaneKind: Rect] = [:]
    /// The right pane's tabs drawn last frame: the cells of each title in its border, for clicks.
    private var tabHits: [(kind: PaneKind, columns: Range<Int>, row: Int)] = []
    /// The body's width last frame: `<` and `>` step the tree within it.
    private var bodyWidth = 80
    public static let minimumSize = (width: 60, height: 16)

    public init(model: InspectorModel, theme: Theme, symbols: Symbols) {
        self.model = model
        self.theme = theme
        self.symbols = symbols
        var right: [any InspectorPane] = [DetailsPane(), PageTablePane(), WalkPane(), IOVAMapPane(), TimelinePane(), ResultsPane(), DiffPane()]
        if !model.faults.isEmpty { right.append(FaultsPane()) }
        panes = Dictionary(uniqueKeysWithValues: right.map { ($0.kind, $0) })
    }

    /// The panes there are, in key order.
    private var kinds: [PaneKind] { PaneKind.allCases.filter { $0 == .tree || panes[$0] != nil } }

    /// The keys of the panes there are: their numbers in runs ("1-5 7", "1-7"), or each
    /// pane's first key when the key map moved them.
    private var paneKeys: String {
        let keys = kinds.map { keyMap.hint(.pane($0), symbols: symbols) }
        guard keys == kinds.map({ "\($0.rawValue)" }) else { return keys.joined(separator: " ") }
        var runs: [(first: Int, last: Int)] = []
        for number in kinds.map(\.rawValue) {
            if let last = runs.last, last.last + 1 == number { runs[runs.count - 1].last = number } else { runs.append((number, number)) }
        }
        return runs.map { $0.first == $0.last ? "\($0.first)" : "\($0.first)-\($0.last)" }.joined(separator: " ")
    }

    /// Shows a pane on the right, focused (`tui --qemu-trace` opens on the timeline).
    public func show(_ kind: PaneKind) {
        perform(.show(kind))
    }

    var selection: ObjectID? { inspected == nil ? tree.selectedObject(model.view) : nil }

    func context(for kind: PaneKind) -> RenderContext {
        let view = model.view
        return RenderContext(model: view, selection: selection, hostSelection: inspected ?? tree.selectedHost(view), theme: theme,
                             symbols: symbols, focused: focus == kind, search: lastSearch)
    }

    // MARK: Rendering

    /// Draws a whole frame of `width` x `height`.
    public func render(width: Int, height: Int) -> CellBuffer {
        var buffer = CellBuffer(width: width, height: height)
        buffer.fill(buffer.area, style: theme["background"])
        guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
            let text = "terminal too small: \(width)x\(height), need \(Self.minimumSize.width)x\(Self.minimumSize.height)"
            buffer.put(text, x: 0, y: 0, style: theme["warning"])
            buffer.put("\(keyMap.hint(.quit, symbols: symbols)) quits", x: 0, y: min(1, height - 1), style: theme["dim"])
            return buffer
        }
        areas.removeAll()
        tabHits.removeAll()
        let (titleBar, rest) = buffer.area.splitRows(1)
        let (body, statusBar) = rest.splitRows(rest.height - 1)
        bodyWidth = body.width
        drawTitle(&buffer, titleBar)
        let (left, shared) = layout.split(body, focus: focus)
        // A lesson's pane sits under the right pane (beside it for a projector), or fills the
        // body when it is maximised.
        var right = shared
        if let lessonArea = shared, panes[.lesson] != nil, !layout.zoomed || focus == .lesson {
            if layout.zoomed {
                right = nil
                drawLesson(&buffer, lessonArea)
            } else if projector {
                let (views, lesson) = lessonArea.splitColumns(lessonArea.width * 3 / 5)
                right = views
                drawLesson(&buffer, lesson)
            } else {
                let (views, lesson) = lessonArea.splitRows(lessonArea.height - max(7, lessonArea.height / 2))
                right = views
                drawLesson(&buffer, lesson)
            }
        }
        if let left {
            let treeArea = Widgets.panel(&buffer, left, title: "1 Objects", focused: focus == .tree, theme: theme, symbols: symbols)
            areas[.tree] = treeArea
            tree.render(into: &buffer, area: treeArea, context: context(for: .tree))
        }
        if let right {
            let focused = focus == main
            // The strip, its trailing blank and one border cell before the corner.
            let strip = tabs(width: right.width - Widgets.panelTitleInset(focused: focused) - 3)
            let mainArea = Widgets.panel(&buffer, right, title: strip.text, focused: focused, theme: theme, symbols: symbols)
            let origin = right.x + Widgets.panelTitleInset(focused: focused)
            tabHits = strip.tabs.map { (kind: $0.kind, columns: origin + $0.columns.lowerBound..<origin + $0.columns.upperBound, row: right.y) }
            areas[main] = mainArea
            if var pane = panes[main] {
                pane.render(into: &buffer, area: mainArea, context: context(for: main))
                panes[main] = pane
            }
        }
        drawStatus(&buffer, statusBar)
        if mode == .help { drawHelp(&buffer) }
        return buffer
    }

    private func drawLesson(_ buffer: inout CellBuffer, _ area: Rect) {
        guard var pane = panes[.lesson] as? LessonPane else { return }
        let inner = Widgets.panel(&buffer, area, title: "0 Lesson", focused: focus == .lesson, theme: theme, symbols: symbols)
        areas[.lesson] = inner
        pane.render(into: &buffer, area: inner, context: context(for: .lesson))
        panes[.lesson] = pane
    }

    /// The right pane's tabs for a border `width` cells wide (`TabStrip`).
    func tabs(width: Int) -> TabStrip {
        TabStrip(kinds: PaneKind.allCases.filter { $0 != .tree && $0 != .lesson && panes[$0] != nil }, shown: main, width: width,
                 symbols: symbols)
    }

    /// Where the model is (`TimelineView.describe`): `trace line 12 (9/11)`.
    private var positionText: String { model.view.timeline.describe(position: model.position) }

    /// The `m` mark as the status line names it, empty without one.
    private var markText: String {
        model.mark.map { "marked " + model.view.timeline.describe(position: $0.position) } ?? ""
    }

    private func drawTitle(_ buffer: inout CellBuffer, _ area: Rect) {
        buffer.fill(area, style: theme["title_bar"])
        let timeline = model.view.timeline
        let tally = timeline.resultTally.words
        // The tally counts the flagged lines (failed, disagreeing) and the faults; "mark" is `m`'s.
        let position = positionText + (tally.isEmpty ? "" : "  " + tally)
        var crumbs = ["iommuscope", model.title]
        if let selection, let object = model.reader.object(selection)?.object {
            crumbs.append("\(object.type) \(object.id)")
        } else if let item = context(for: .tree).hostSelection {
            crumbs.append(item.crumb)
        }
        // The crumbs are cut before the position (a long lesson title at 80 columns).
        let positionX = max(0, area.maxX - CellBuffer.width(of: position) - 1)
        let crumbWidth = max(0, positionX - area.x - 1)
        buffer.put(Widgets.fit(" " + crumbs.joined(separator: symbols.breadcrumb), width: crumbWidth, symbols: symbols), x: area.x, y: area.y,
                   style: theme["title_bar"], clip: area)
        buffer.put(position + " ", x: positionX, y: area.y, style: theme["title_bar"], clip: area)
    }

    /// The keys the status line offers: `?` first (so it is never cut), the focused pane's
    /// main keys, then the global ones; over the help, its own.
    var statusHints: [(key: String, action: String)] {
        if mode == .help { return [("j k PgUp PgDn g G", "scroll"), ("Esc", "close")] }
        let pane: (any InspectorPane)? = focus == .tree ? tree : panes[focus]
        let key = { (action: InspectorAction) in self.keyMap.hint(action, symbols: self.symbols) }
        // A pane typing text of its own takes every key but the non-character quit keys.
        if pane?.capturesInput == true {
            let quit = keyMap.keys(.quit).first { !$0.isCharacter }
            return (pane?.statusHints ?? []) + (quit.map { [($0.label(symbols), "quit")] } ?? [])
        }
        let global: [(key: String, action: String)] = [
            (key(.copy), "copy")] + (focus == .walk ? [(key(.saveWalk), "save walk")] : []) + [
            (key(.switchFocus), "focus"), (paneKeys, "panes"), (key(.narrowTree) + " " + key(.widenTree), "tree"),
            (key(.command), "command"), (key(.search), "search"), (key(.stepBack) + " " + key(.stepForward), "step"),
            (key(.mark), model.mark?.position == model.position ? "unmark" : "mark"),
            (key(.saveCommands), "save"), (key(.quit), "quit")]
        return [(key(.help), "help"), (key(.maximise), layout.zoomed ? "restore" : "maximise")] + (pane?.statusHints ?? []) + global
    }

    private func drawStatus(_ buffer: inout CellBuffer, _ area: Rect) {
        buffer.fill(area, style: theme["status_bar"])
        // What the user typed and every message echoing it are escaped (`terminalSafe`), so a
        // control character in a command or a scenario cannot reach the terminal.
        let text: String
        switch mode {
        case .command(let line): drawLine(&buffer, area, prompt: ":", line, menu: completionMenu); return
        case .search(let line): drawLine(&buffer, area, prompt: "/", line); return
        case .save(let target, let line): drawLine(&buffer, area, prompt: target.prompt, line); return
        case .overwrite(let path, _): text = "overwrite \(terminalSafe(path))? y/n"
        default: text = [markText, terminalSafe(message)].filter { !$0.isEmpty }.joined(separator: "  ")
        }
        switch mode {
        case .normal, .help: drawHints(&buffer, area, message: text, style: theme["status_bar"])
        case .command, .search, .save, .overwrite:
            buffer.put(Widgets.fit(" " + text, width: area.width, symbols: symbols), x: area.x, y: area.y, style: theme["status_bar"])
        }
    }

    /// The message on the left, then as many whole hints as fit, keys in bold; the first
    /// hint (`?`) always has room, the message is cut for it.
    private func drawHints(_ buffer: inout CellBuffer, _ area: Rect, message: String, style: Style) {
        let hints = statusHints
        let first = hints.first.map { CellBuffer.width(of: $0.key + " " + $0.action) } ?? 0
        let room = max(0, area.width - 2 - first - 3)
        let shown = message.isEmpty ? "" : Widgets.fit(message, width: min(CellBuffer.width(of: message), room), symbols: symbols)
        buffer.put(" " + shown, x: area.x, y: area.y, style: style, clip: area)
        var x = area.x + 1 + CellBuffer.width(of: shown) + (shown.isEmpty ? 0 : 3)
        var keyStyle = style
        keyStyle.bold = true
        for hint in hints {
            let width = CellBuffer.width(of: hint.key + " " + hint.action)
            guard x + width <= area.maxX - 1 else { break }
            buffer.put(hint.key, x: x, y: area.y, style: keyStyle)
            buffer.put(" " + hint.action, x: x + CellBuffer.width(of: hint.key), y: area.y, style: style)
            x += width + 2
        }
    }

    /// The `?` overlay's sections: the focused pane's keys, the global keys and a legend of
    /// the glyphs the panes draw.
    var helpSections: [HelpOverlay.Section] {
        let pane: (any InspectorPane)? = focus == .tree ? tree : panes[focus]
        let move = "\(symbols.upDownKeys) j k PgUp PgDn g G"
        let keys = { (action: InspectorAction) in self.keyMap.label(action, symbols: self.symbols) }
        let global: [(key: String, action: String)] = [
            (keys(.quit), "quit (the terminal is restored)"),
            (keys(.help), "this help: \(move) scroll it, any other key closes it"),
            (keys(.switchFocus), "move focus between the tree and the right pane"),
            (paneKeys, "show and focus " + kinds.map { "\($0.rawValue) \($0.title)" }.joined(separator: ", ")),
            ("8 then Enter", "what failed or faulted (the title bar counts it): Enter goes there and shows why"),
            (keys(.maximise), "maximise the focused pane, or restore the layout (\(keyMap.hint(.switchFocus, symbols: symbols)) then maximises the other)"),
            (keys(.narrowTree) + " / " + keys(.widenTree),
             "narrow / widen the tree; narrowed past its narrowest it hides, \(keyMap.hint(.widenTree, symbols: symbols)) brings it back"),
            (move, "move in the focused list"), ("\(keys(.search)) then \(keys(.searchNext)) \(keys(.searchPrevious))", "search the focused pane"),
            (keys(.command), "run a scenario command on the live model (e.g. :ioas_unmap ioas_id=3 iova=0 length=u64max)"),
            ("\(keys(.command)) then Tab", "complete the word; again: list the choices; then Tab / Shift-Tab cycle through them"),
            ("\(keys(.stepBack)) \(keys(.stepForward))  \(keys(.stepFirst)) \(keys(.stepLast))",
             "step the timeline (7) back/forward one line, to the start/end"),
            (keys(.mark), "mark the position the model is at (again there: clear the mark); the diff (9) shows what changed "
             + "from the mark to where the model is, stale IOTLB entries included"),
            ("Ctrl-L / Ctrl-Z", "redraw / suspend (fg resumes)"),
            (keys(.copy), "copy the selection (address, descriptor, row) to the clipboard (OSC 52)"),
            ("\(keys(.saveCommands)) / \(keys(.saveWalk)) in 4", "save the : commands run as a scenario / the walk as text (JSON for .json); over a file, y overwrites"),
            (keys(.mouseCapture), "mouse capture off (the terminal selects text) / on"),
            ("mouse", "click a tab in the right pane's border to show that pane, click a row to select it, the wheel scrolls"),
        ]
        let legend: [(key: String, action: String)] = [
            ("\(symbols.expanded) \(symbols.collapsed) \(symbols.leaf)", "tree: expanded, collapsed, no children"),
            (symbols.changed, "tree: changed by the last step or command (in the changed style)"),
            (symbols.arrow, "tree and details: an edge to another object (Enter follows it in the details)"),
            (symbols.stale, "walk, page table and diff: a stale IOTLB entry, whose cached translation a fresh walk of the tables contradicts"),
            ("S1 Ln, S2 Ln", "walk grid: a row per stage-1 level (and the CD pointer, the output), a column per stage-2 "
             + "level; a cell is the descriptor (hex) that fetch read, the selected fetch highlighted"),
            (symbols.leaf, "walk grid: no fetch there (or not yet, in step mode)"),
            ([IOVAKind.mapped, .partlyMapped, .reserved, .allowed].map { $0.glyph(symbols) }.joined(separator: " "),
             "IOVA map: mapped, partly mapped, reserved, allowed"),
            ([IOVAKind.swMSI, .msi, .direct, .outside].map { $0.glyph(symbols) }.joined(separator: " "),
             "IOVA map: software MSI, MSI, direct mapped, outside the aperture"),
        ]
        return [HelpOverlay.Section(title: "\(focus.title) keys", rows: pane?.keyHelp(symbols) ?? []),
                HelpOverlay.Section(title: "Global keys", rows: global),
                HelpOverlay.Section(title: "Legend", rows: legend)]
    }

    /// The `:` or `/` line being typed: the part around the cursor, so a long line (a paste)
    /// costs the status bar's width to draw; the cursor is a bar at the end, else reverse video.
    /// Candidates Tab listed follow the line, as many as fit and `…+N`, the one in the line
    /// in reverse video; the line then has at most half the bar.
    private func drawLine(_ buffer: inout CellBuffer, _ area: Rect, prompt: String, _ line: LineEditor, menu: CompletionMenu? = nil) {
        // After a blank and the prompt (`:`, `/`, `save walk to: `).
        let start = 1 + CellBuffer.width(of: prompt)
        let lineWidth = menu == nil ? area.width : min(area.width / 2, start + line.characters.count + 2)
        let (text, column) = line.window(width: max(1, lineWidth - start)) { terminalSafe(String($0)) }
        let style = theme["status_bar"]
        if let menu { drawMenu(&buffer, Rect(x: area.x + lineWidth, y: area.y, width: max(0, area.width - lineWidth - 1), height: 1), menu) }
        buffer.put(" " + prompt + text, x: area.x, y: area.y, style: style, clip: area)
        let x = area.x + start + column
        if line.cursor == line.characters.count {
            buffer.put(symbols.cursor, x: x, y: area.y, style: style, clip: area)
        } else if x < area.maxX {
            var under = style
            under.reverse.toggle()
            buffer.put(buffer[x, area.y].text, x: x, y: area.y, style: under, clip: area)
        }
    }

    /// The candidates of `menu` from the selected one's page, as many whole ones as fit, then `…+N`.
    private func drawMenu(_ buffer: inout CellBuffer, _ area: Rect, _ menu: CompletionMenu) {
        let style = theme["status_bar"]
        guard !menu.candidates.isEmpty else {
            buffer.put(Widgets.fit("no completion", width: area.width, symbols: symbols), x: area.x, y: area.y, style: style, clip: area)
            return
        }
        let first = menu.firstShown(width: area.width) { CellBuffer.width(of: terminalSafe($0)) }
        var x = area.x
        for index in first..<menu.candidates.count {
            let shown = terminalSafe(menu.candidates[index])
            let width = CellBuffer.width(of: shown)
            let after = menu.candidates.count - index - 1
            guard x + width + (after > 0 ? CellBuffer.width(of: " …+\(after)") : 0) <= area.maxX else {
                buffer.put("…+\(menu.candidates.count - index)", x: x, y: area.y, style: style, clip: area)
                return
            }
            var candidateStyle = style
            if index == menu.selected { candidateStyle.reverse.toggle() }
            buffer.put(shown, x: x, y: area.y, style: candidateStyle, clip: area)
            x += width + 1
        }
    }

    private func drawHelp(_ buffer: inout CellBuffer) {
        help.render(into: &buffer, sections: helpSections, title: "Keys: \(focus.title)", theme: theme, symbols: symbols)
    }

    // MARK: Input

    /// Handles one event; returns false when the application should quit.
    public func handle(_ event: InputEvent) -> Bool {
        switch event {
        case .resize: return true
        case .mouse(let mouse): handleMouse(mouse); return true
        case .paste(let text): paste(text); return true
        case .key(let key): return handleKey(key)
        }
    }

    private func handleKey(_ key: Key) -> Bool {
        // Any key pauses autoplay, and the status line says so before what the key did.
        let paused = playing
        playing = false
        defer { if paused { message = "autoplay paused" + (message.isEmpty ? "" : ": " + message) } }
        switch mode {
        case .help:
            if !help.handle(key) { mode = .normal }
            return true
        case .command(var line):
            mode = .normal // the line is edited in place, not copied per key
            if key == .tab || key == .backTab {
                complete(&line, forward: key == .tab)
                mode = .command(line)
                return true
            }
            completionMenu = nil
            if key == .up || key == .down {
                recalled = key == .up ? max(0, recalled - 1) : min(history.count, recalled + 1)
                mode = .command(LineEditor(recalled < history.count ? history[recalled] : ""))
                return true
            }
            editLine(key, &line) { self.mode = .command($0) } submit: { text in
                if !text.isEmpty, text != self.history.last { self.history.append(text) }
                self.runCommand(text)
            }
            return true
        case .search(var line):
            mode = .normal
            editLine(key, &line) { self.mode = .search($0) } submit: { text in
                self.lastSearch = text
                self.search(forward: true)
            }
            return true
        case .save(let target, var line):
            mode = .normal
            editLine(key, &line) { self.mode = .save(target, $0) } submit: { path in self.save(target, to: path) }
            return true
        case .overwrite(let path, let contents):
            mode = .normal
            if key == .character("y") { write(contents, to: path) } else { message = "not saved: \(path) is kept" }
            return true
        case .normal:
            break
        }
        let action = keyMap.action(for: key)
        // A pane typing text of its own takes every key but a non-character quit key (Ctrl-C).
        if focus != .tree, panes[focus]?.capturesInput == true {
            if action == .quit, !key.isCharacter { return false }
            routeToFocused(key)
            return true
        }
        // The lesson pane has nothing to search: n and N step it.
        guard let action, !(focus == .lesson && (action == .searchNext || action == .searchPrevious)) else {
            routeToFocused(key)
            return true
        }
        switch action {
        case .quit: return false
        case .help:
            help.reset()
            mode = .help
        case .switchFocus: setFocus(focus == .tree ? main : .tree)
        case .maximise: layout.zoomed.toggle()
        case .narrowTree:
            layout.narrow(in: bodyWidth)
            if layout.treeHidden, focus == .tree { setFocus(main) }
        case .widenTree: layout.widen(in: bodyWidth)
        case .pane(let kind):
            if kind == .tree || panes[kind] != nil {
                if kind != .tree && kind != .lesson { main = kind }
                setFocus(kind)
            }
        case .command:
            mode = .command(LineEditor())
            recalled = history.count
        case .search: mode = .search(LineEditor())
        case .searchNext: search(forward: true)
        case .searchPrevious: search(forward: false)
        case .stepBack: step(to: model.position - 1)
        case .stepForward: step(to: model.position + 1)
        case .stepFirst: step(to: 0)
        case .stepLast: step(to: model.view.timeline.count)
        case .mark:
            message = model.toggleMark() ? "\(keyMap.hint(.pane(.diff), symbols: symbols)) shows what changed from here"
                : "mark cleared"
        case .copy: yank()
        case .saveCommands: mode = .save(.commands, LineEditor("session.iommu"))
        case .saveWalk:
            // Only the walk pane has a walk to save; elsewhere the key is the pane's.
            if focus == .walk { mode = .save(.walk, LineEditor("walk.txt")) } else { routeToFocused(key) }
        case .mouseCapture:
            mouseCapture.toggle()
            terminalRequests.append(.mouseCapture(mouseCapture))
            message = mouseCapture ? "mouse capture on" : "mouse capture off: the terminal selects text (\(keyMap.hint(.mouseCapture, symbols: symbols)) turns it back on)"
        }
        return true
    }

    private func routeToFocused(_ key: Key) {
        let action: PaneAction
        if focus == .tree {
            inspected = nil
            action = tree.handle(key, context: context(for: .tree))
        } else if var pane = panes[focus] {
            action = pane.handle(key, context: context(for: focus))
            panes[focus] = pane
        } else {
            return
        }
        perform(action)
    }

    private func perform(_ action: PaneAction) {
        switch action {
        case .none, .ignored: break
        case .select(let object): tree.reveal(object, model: model.view)
        case .show(let kind):
            guard panes[kind] != nil, kind != .lesson else { return }
            main = kind
            setFocus(kind)
        case .message(let text): message = text
        case .inspect(let item, let show):
            inspected = item
            if let show { perform(.show(show)) }
        case .move(let target):
            step(to: target)
        case .reveal(let target):
            if let line = target.line { step(to: line + 1) }
            // A logged fault is a host item every pane follows; a line's result is the model's own.
            if case .loggedFault(let index) = target { inspected = .fault(index) } else { inspected = nil }
            perform(.show(target.pane))
            guard var pane = panes[target.pane] else { return }
            pane.reveal(target, context: context(for: target.pane))
            panes[target.pane] = pane
        case .lessonStop(let stop):
            goToLessonStop(stop)
        }
    }

    /// Focuses `kind`; a message about the pane left is cleared (the new pane's hints show),
    /// and a hidden tree is shown again when it is focused.
    private func setFocus(_ kind: PaneKind) {
        if kind != focus { message = "" }
        if kind == .tree { layout.revealTree(in: bodyWidth) }
        focus = kind
    }

    /// A key on the `:` or `/` line (the mode is normal meanwhile): Escape leaves it, Enter
    /// submits it, editing keys edit it and `update` puts it back.
    private func editLine(_ key: Key, _ line: inout LineEditor, update: (LineEditor) -> Void, submit: (String) -> Void) {
        switch key {
        case .escape: break
        case .enter: submit(line.text)
        default:
            line.edit(key)
            update(line)
        }
    }

    /// Tab on the `:` line: the one candidate (and a blank after a whole word), else the prefix
    /// the candidates share, else (the prefix already typed) the candidates listed after the
    /// line; once listed, Tab and Shift-Tab put the next and the previous one in the line.
    private func complete(_ line: inout LineEditor, forward: Bool) {
        if var menu = completionMenu {
            guard !menu.candidates.isEmpty else { return }
            let count = menu.candidates.count
            let next = menu.selected.map { (forward ? $0 + 1 : $0 + count - 1) % count } ?? (forward ? 0 : count - 1)
            line.replaceSubrange(menu.start..<menu.end, with: menu.candidates[next])
            menu.end = line.cursor
            menu.selected = next
            completionMenu = menu
            return
        }
        guard forward else { return }
        let completion = model.completion(of: line.text, cursor: line.cursor)
        let typed = completion.replacing.count
        let common = completion.commonPrefix
        if completion.candidates.count == 1 {
            line.replaceSubrange(completion.replacing, with: common + (common.hasSuffix("=") ? "" : " "))
        } else if common.count > typed {
            line.replaceSubrange(completion.replacing, with: common)
        } else {
            completionMenu = CompletionMenu(start: completion.replacing.lowerBound, end: completion.replacing.upperBound,
                                            candidates: completion.candidates)
        }
    }

    /// A paste goes into the `:` or `/` line whole; elsewhere it is no key and does nothing.
    private func paste(_ text: String) {
        switch mode {
        case .command(var line):
            mode = .normal
            completionMenu = nil
            line.insert(text)
            mode = .command(line)
        case .search(var line):
            mode = .normal
            line.insert(text)
            mode = .search(line)
        case .save(let target, var line):
            mode = .normal
            line.insert(text)
            mode = .save(target, line)
        default: break
        }
    }

    private func search(forward: Bool) {
        guard let text = lastSearch, !text.isEmpty else { return }
        let found: Bool
        if focus == .tree {
            inspected = nil
            found = tree.search(text, forward: forward, context: context(for: .tree))
        } else if var pane = panes[focus] {
            found = pane.search(text, forward: forward, context: context(for: focus))
            panes[focus] = pane
        } else {
            found = false
        }
        message = found ? "/\(text)" : "/\(text): not found"
    }

    private func step(to target: Int) {
        model.step(to: target)
        let timeline = model.view.timeline
        let applied = timeline.position > 0 ? timeline.source(timeline.position - 1) : nil
        let report = applied == nil ? nil : model.reports.last
        message = positionText
            + (report.map { ": \($0.command) " + terminalSafe($0.result.status.explained) } ?? applied.map { _ in ": not replayed" } ?? "")
    }

    private func runCommand(_ text: String) {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        switch model.run(command: text) {
        case nil:
            message = "nothing to run"
        case .failure(let errors):
            message = "error: " + (errors.errors.first?.reason ?? "bad command")
        case .success(let report)?:
            typedCommands.append(text)
            message = report.command + ": " + report.resultText + "  (" + Units.count(model.changes.count, "change") + ")"
        }
    }

    /// `y`: the focused pane's selection to the clipboard, said in the status line.
    private func yank() {
        let text: String?
        if focus == .tree {
            text = tree.yankText(context: context(for: .tree))
        } else if var pane = panes[focus] {
            text = pane.yankText(context: context(for: focus))
            panes[focus] = pane
        } else {
            text = nil
        }
        guard let text, !text.isEmpty else {
            message = "nothing selected to copy"
            return
        }
        terminalRequests.append(.copy(text))
        let shown = text.split(separator: "\n", omittingEmptySubsequences: false)
        message = "copied " + (shown.count > 1 ? Units.count(shown.count, "line") : "\"\(text)\"")
    }

    /// Writes what `target` names to `path` (relative to the working directory), and only there;
    /// over a file already there only once the user says `y`.
    private func save(_ target: SaveTarget, to path: String) {
        let path = path.trimmingCharacters(in: .whitespaces)
        guard !path.isEmpty else { message = "not saved: no path"; return }
        let contents: String
        switch target {
        case .commands:
            guard !typedCommands.isEmpty else { message = "not saved: no : command ran yet"; return }
            contents = "# the : commands run in the inspector on \(terminalSafe(model.title)), after its own lines\n" + typedCommands.map { $0 + "\n" }.joined()
        case .walk:
            guard var walk = panes[.walk] as? WalkPane else { message = "not saved: no walk"; return }
            let text = walk.export(json: path.lowercased().hasSuffix(".json"), context: context(for: .walk))
            panes[.walk] = walk
            guard let text else { message = "not saved: no walk"; return }
            contents = text
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { message = "not saved: \(path): is a directory"; return }
            mode = .overwrite(path: path, contents: contents)
            return
        }
        write(contents, to: path)
    }

    /// Writes `contents` to the file at `path`, created or truncated; a failure names the path
    /// and the system's reason (`permission denied`).
    private func write(_ contents: String, to path: String) {
        func failed() { message = "not saved: \(path): " + String(cString: strerror(errno)).lowercased() }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return failed() }
        defer { close(descriptor) }
        var bytes = Array(contents.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return failed()
            }
            bytes = bytes.dropFirst(written)
        }
        message = "saved \(path)"
    }

    private func handleMouse(_ mouse: MouseEvent) {
        // Over the help the wheel scrolls it and a click closes it.
        if mode == .help {
            switch mouse.kind {
            case .wheelUp: _ = help.handle(.up)
            case .wheelDown: _ = help.handle(.down)
            case .press: mode = .normal
            }
            return
        }
        if mouse.kind == .press, let tab = tabHits.first(where: { $0.row == mouse.y && $0.columns.contains(mouse.x) }) {
            perform(.show(tab.kind))
            return
        }
        guard let (kind, area) = areas.first(where: { $0.value.contains(x: mouse.x, y: mouse.y) }) else { return }
        setFocus(kind)
        switch mouse.kind {
        case .wheelUp: routeToFocused(.up)
        case .wheelDown: routeToFocused(.down)
        case .press:
            let row = mouse.y - area.y
            if kind == .tree {
                inspected = nil
                perform(tree.click(row: row, context: context(for: .tree)))
            } else if var pane = panes[kind] {
                let action = pane.click(row: row, context: context(for: kind))
                panes[kind] = pane
                perform(action)
            }
        }
    }

    // MARK: Lessons and autoplay

    /// The lesson open (`start`), nil in the plain inspector.
    public var lessonPane: LessonPane? { panes[.lesson] as? LessonPane }

    /// Opens `lesson` on the model, whose timeline is the lesson's scenario and whose every step
    /// names a command line of it (`Lesson.checkSteps`): its pane (0) under the right pane,
    /// focused, at the introduction (the model before the first line).
    public func start(_ lesson: Lesson) {
        panes[.lesson] = LessonPane(lesson: lesson, timeline: model.view.timeline)
        goToLessonStop(0)
    }

    /// Moves the lesson to `stop` (clamped): the model just after the step's line, the pane that
    /// explains the line shown (a `translate`'s walk, the IOVA map for the IOAS's commands, else
    /// the timeline, unless the step's `show:` names one), the lesson pane focused.
    private func goToLessonStop(_ stop: Int) {
        guard var pane = lessonPane else { return }
        let target = min(max(0, stop), pane.stopCount - 1)
        let position = pane.positions[target]
        if target > 0, position > 0 {
            let index = position - 1, timeline = model.view.timeline
            let shown = pane.lesson.steps[target - 1].show.flatMap(PaneKind.init(lessonName:))
                ?? Self.pane(explaining: timeline.source(index).text)
            if shown == .walk, timeline.dmaRequest(ofLine: index) != nil {
                perform(.reveal(.translation(line: index)))
            } else {
                step(to: position)
                if panes[shown] != nil { main = shown }
            }
        } else {
            step(to: position)
        }
        pane.arrive(at: target, reports: model.reports)
        panes[.lesson] = pane
        setFocus(.lesson)
        let result = model.reports.last.map { ": \($0.command) \($0.result.status)" } ?? ""
        message = target == 0 ? "lesson: the introduction, n steps" : "step \(target) of \(pane.stopCount - 1), " + positionText + result
    }

    /// The pane that explains a source line's command: a DMA's walk, the IOVA map for what
    /// changes the IOAS or its domains, else the timeline.
    static func pane(explaining line: String) -> PaneKind {
        let words = line.split(whereSeparator: \.isWhitespace)
        let command = words.count > 2 && words[1] == "=" ? words[2] : words.first ?? ""
        switch command {
        case "translate": return .walk
        case "ioas_alloc", "ioas_map", "ioas_map_file", "ioas_unmap", "ioas_copy", "ioas_iova_ranges", "ioas_allow_iovas",
             "device_attach", "device_replace", "hwpt_alloc": return .iovaMap
        default: return .timeline
        }
    }

    /// One autoplay step: the lesson's next stop, else the timeline's next line; at the end
    /// autoplay stops.
    func autoplayStep() {
        if let pane = lessonPane {
            goToLessonStop(pane.stop + 1)
            if pane.stop + 1 >= pane.stopCount - 1 { playing = false }
        } else {
            step(to: model.position + 1)
            if model.position >= model.view.timeline.count { playing = false }
        }
        if !playing { message += "  (autoplay: the end)" }
    }

    // MARK: The loop

    /// Runs until `q`, Ctrl-C or a termination signal; the caller restores the terminal.
    /// Input already waiting (keys typed ahead, a paste the terminal does not bracket) is all
    /// handled before the next frame: a burst of keys costs one frame, not one a key.
    /// With autoplay, the wait for input ends at the next step's time: the loop's timeout, no thread.
    public func run(on backend: TerminalBackend, shouldStop: () -> Bool = { false }) {
        let clock = ContinuousClock()
        let interval = Duration.milliseconds(max(1, Int(((autoplay ?? 0) * 1000).rounded())))
        var due = clock.now + interval
        while true {
            let size = backend.size
            backend.present(render(width: size.width, height: size.height))
            let wait = playing ? max(0, Int((due - clock.now) / .milliseconds(1))) : 250
            guard var event = backend.nextEvent(timeoutMilliseconds: min(wait, 250)) else {
                if shouldStop() { return }
                if playing, clock.now >= due {
                    autoplayStep()
                    due = clock.now + interval
                }
                continue
            }
            while true {
                switch event {
                case .key(.control("l")): backend.invalidate()
                case .key(.control("z")): backend.suspend()
                default: if !handle(event) { return }
                }
                for request in terminalRequests {
                    switch request {
                    case .copy(let text): backend.copyToClipboard(text)
                    case .mouseCapture(let on): backend.setMouseCapture(on)
                    }
                }
                terminalRequests.removeAll()
                guard let waiting = backend.nextEvent(timeoutMilliseconds: 0) else { break }
                event = waiting
            }
        }
    }
}

/// The candidates Tab listed on the `:` line: where the word they replace starts and ends
/// now, and the one in the line (nil before Tab cycled).
struct CompletionMenu {
    var start: Int
    var end: Int
    var candidates: [String]
    var selected: Int?

    /// The first candidate to draw in `width` columns: 0, or the selected one when it would not
    /// fit after the ones before it (each as wide as `measure` says, and a blank after it).
    func firstShown(width: Int, _ measure: (String) -> Int) -> Int {
        guard let selected else { return 0 }
        var used = 0
        for index in 0...selected {
            used += measure(candidates[index]) + 1
            if used + 5 > width { return selected }
        }
        return 0
    }
}
