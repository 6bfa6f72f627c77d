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
    var tree = ObjectTreePane()
    /// A host item a pane other than the tree chose (a fault of the faults pane): the panes
    /// follow it instead of the tree's row until the tree moves again.
    public private(set) var inspected: HostItem?
    var panes: [PaneKind: any InspectorPane]
    /// The inner areas drawn last frame, for mouse hits.
    private var areas: [PaneKind: Rect] = [:]
    public static let minimumSize = (width: 60, height: 16)

    public init(model: InspectorModel, theme: Theme, symbols: Symbols) {
        self.model = model
        self.theme = theme
        self.symbols = symbols
        var right: [any InspectorPane] = [DetailsPane(), PageTablePane(), WalkPane(), IOVAMapPane(), TimelinePane()]
        if !model.faults.isEmpty { right.append(FaultsPane()) }
        panes = Dictionary(uniqueKeysWithValues: right.map { ($0.kind, $0) })
        message = "? help  q quit  Tab focus  \(paneKeys) panes  : command  / search  [ ] step"
    }

    /// The panes there are, in key order.
    private var kinds: [PaneKind] { PaneKind.allCases.filter { $0 == .tree || panes[$0] != nil } }

    /// The number keys of the panes there are, runs of them as ranges ("1-5 7", "1-7").
    private var paneKeys: String {
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
            buffer.put("q quits", x: 0, y: min(1, height - 1), style: theme["dim"])
            return buffer
        }
        areas.removeAll()
        let (titleBar, rest) = buffer.area.splitRows(1)
        let (body, statusBar) = rest.splitRows(rest.height - 1)
        drawTitle(&buffer, titleBar)
        let treeWidth = max(28, width * 38 / 100)
        let (left, right) = body.splitColumns(treeWidth)
        let treeArea = Widgets.panel(&buffer, left, title: "1 Objects", focused: focus == .tree, theme: theme, symbols: symbols)
        areas[.tree] = treeArea
        tree.render(into: &buffer, area: treeArea, context: context(for: .tree))
        let mainArea = Widgets.panel(&buffer, right, title: tabs(width: right.width - 7), focused: focus == main, theme: theme, symbols: symbols)
        areas[main] = mainArea
        if var pane = panes[main] {
            pane.render(into: &buffer, area: mainArea, context: context(for: main))
            panes[main] = pane
        }
        drawStatus(&buffer, statusBar)
        if mode == .help { drawHelp(&buffer) }
        return buffer
    }

    /// The right pane's tabs, the shown one in brackets: full titles when they fit in
    /// `width`, else the others by their first word, else by their number alone.
    private func tabs(width: Int) -> String {
        let kinds = PaneKind.allCases.dropFirst().filter { panes[$0] != nil }
        let forms: [(PaneKind) -> String] = [{ $0.title }, { String($0.title.split(separator: " ").first ?? "") }, { _ in "" }]
        var text = ""
        for form in forms {
            text = kinds.map { kind in
                kind == main ? "[\(kind.rawValue) \(kind.title)]" : form(kind).isEmpty ? "\(kind.rawValue)" : "\(kind.rawValue) \(form(kind))"
            }.joined(separator: " ")
            if CellBuffer.width(of: text) <= width { break }
        }
        return text
    }

    /// Where the model is, by the source's own line numbers and by the count of source lines
    /// applied: `trace line 12 (9/11)` (the state after trace line 12, the 9th of 11 events),
    /// `before trace line 4 (0/11)` at the start.
    private var positionText: String {
        let timeline = model.view.timeline
        let count = "(\(timeline.position)/\(timeline.count))"
        if timeline.position > 0 { return "\(timeline.unit) \(timeline.source(timeline.position - 1).line) \(count)" }
        return timeline.count > 0 ? "before \(timeline.unit) \(timeline.source(0).line) \(count)" : "\(timeline.unit)s \(count)"
    }

    private func drawTitle(_ buffer: inout CellBuffer, _ area: Rect) {
        buffer.fill(area, style: theme["title_bar"])
        let timeline = model.view.timeline
        let position = positionText + "  " + Units.count(timeline.markCount, "mark")
        var crumbs = ["iommuscope", model.title]
        if let selection, let object = model.reader.object(selection)?.object {
            crumbs.append("\(object.type) \(object.id)")
        } else if let item = context(for: .tree).hostSelection {
            crumbs.append(item.crumb)
        }
        buffer.put(" " + crumbs.joined(separator: symbols.breadcrumb), x: 0, y: area.y, style: theme["title_bar"], clip: area)
        buffer.put(position + " ", x: max(0, area.maxX - CellBuffer.width(of: position) - 1), y: area.y, style: theme["title_bar"], clip: area)
    }

    private func drawStatus(_ buffer: inout CellBuffer, _ area: Rect) {
        buffer.fill(area, style: theme["status_bar"])
        // What the user typed and every message echoing it are escaped (`terminalSafe`), so a
        // control character in a command or a scenario cannot reach the terminal.
        let text: String
        switch mode {
        case .command(let line): drawLine(&buffer, area, prompt: ":", line); return
        case .search(let line): drawLine(&buffer, area, prompt: "/", line); return
        default: text = terminalSafe(message)
        }
        buffer.put(Widgets.fit(" " + text, width: area.width, symbols: symbols), x: area.x, y: area.y, style: theme["status_bar"])
    }

    /// The `:` or `/` line being typed: the part around the cursor, so a long line (a paste)
    /// costs the status bar's width to draw; the cursor is a bar at the end, else reverse video.
    private func drawLine(_ buffer: inout CellBuffer, _ area: Rect, prompt: String, _ line: LineEditor) {
        let (text, column) = line.window(width: area.width - 2) { terminalSafe(String($0)) }
        let style = theme["status_bar"]
        buffer.put(" " + prompt + text, x: area.x, y: area.y, style: style, clip: area)
        let x = area.x + 2 + column
        if line.cursor == line.characters.count {
            buffer.put(symbols.cursor, x: x, y: area.y, style: style, clip: area)
        } else if x < area.maxX {
            var under = style
            under.reverse.toggle()
            buffer.put(buffer[x, area.y].text, x: x, y: area.y, style: under, clip: area)
        }
    }

    private func drawHelp(_ buffer: inout CellBuffer) {
        var rows: [(String, String)] = [
            ("q / F10 / Ctrl-C", "quit (the terminal is restored)"), ("? / F1", "this help (any key closes it)"),
            ("Tab / Shift-Tab", "move focus between the tree and the right pane"),
            (paneKeys, "focus " + kinds.map(\.title).joined(separator: ", ")),
            (symbols == .ascii ? "arrows j k PgUp PgDn g G" : "↑↓ j k  PgUp PgDn  g G", "move in the focused list"), ("/ then n N", "search the focused pane"),
            (":", "run a scenario command on the live model (e.g. :ioas_unmap ioas_id=3 iova=0 length=u64max)"),
            ("[ ]  { }", "step the timeline (7) back/forward one line, to the start/end"), ("Ctrl-L / Ctrl-Z", "redraw / suspend (fg resumes)"),
        ]
        let pane: (any InspectorPane)? = focus == .tree ? tree : panes[focus]
        if let pane { rows += [("", "")] + pane.keyHelp.map { ($0.key, $0.action) } }
        let width = min(buffer.width - 4, 92), height = min(buffer.height - 2, rows.count + 4)
        let box = Rect(x: (buffer.width - width) / 2, y: (buffer.height - height) / 2, width: width, height: height)
        buffer.fill(box, style: theme["overlay"])
        let inner = Widgets.panel(&buffer, box, title: "Keys: \(focus.title)", focused: true, theme: theme, symbols: symbols)
        for (index, row) in rows.prefix(inner.height).enumerated() {
            let line = Widgets.fit(row.0, width: 24, symbols: symbols) + " " + row.1
            buffer.put(Widgets.fit(line, width: inner.width, symbols: symbols), x: inner.x, y: inner.y + index,
                       style: row.0.isEmpty ? theme["overlay"] : theme["overlay"])
        }
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
        switch mode {
        case .help:
            mode = .normal
            return true
        case .command(var line):
            mode = .normal // the line is edited in place, not copied per key
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
        case .normal:
            break
        }
        if focus != .tree, panes[focus]?.capturesInput == true, key != .control("c") {
            routeToFocused(key)
            return true
        }
        switch key {
        case .character("q"), .control("c"), .function(10): return false
        case .character("?"), .function(1): mode = .help
        case .tab, .backTab: focus = focus == .tree ? main : .tree
        case .character(let c) where c.isNumber:
            if let number = c.wholeNumberValue, let kind = PaneKind(rawValue: number), kind == .tree || panes[kind] != nil {
                if kind != .tree { main = kind }
                focus = kind
            }
        case .character(":"):
            mode = .command(LineEditor())
            recalled = history.count
        case .character("/"): mode = .search(LineEditor())
        case .character("n"): search(forward: true)
        case .character("N"): search(forward: false)
        case .character("["): step(to: model.position - 1)
        case .character("]"): step(to: model.position + 1)
        case .character("{"): step(to: 0)
        case .character("}"): step(to: model.view.timeline.count)
        default: routeToFocused(key)
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
            guard panes[kind] != nil else { return }
            main = kind
            focus = kind
        case .message(let text): message = text
        case .inspect(let item, let show):
            inspected = item
            if let show { perform(.show(show)) }
        case .move(let target): step(to: target)
        }
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

    /// A paste goes into the `:` or `/` line whole; elsewhere it is no key and does nothing.
    private func paste(_ text: String) {
        switch mode {
        case .command(var line):
            mode = .normal
            line.insert(text)
            mode = .command(line)
        case .search(var line):
            mode = .normal
            line.insert(text)
            mode = .search(line)
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
            + (report.map { ": \($0.command) \($0.result.status)" } ?? applied.map { _ in ": not replayed" } ?? "")
    }

    private func runCommand(_ text: String) {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        switch model.run(command: text) {
        case nil:
            message = "nothing to run"
        case .failure(let errors):
            message = "error: " + (errors.errors.first?.reason ?? "bad command")
        case .success(let report)?:
            message = report.command + ": " + report.resultText + "  (" + Units.count(model.changes.count, "change") + ")"
        }
    }

    private func handleMouse(_ mouse: MouseEvent) {
        guard let (kind, area) = areas.first(where: { $0.value.contains(x: mouse.x, y: mouse.y) }) else { return }
        focus = kind
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

    // MARK: The loop

    /// Runs until `q`, Ctrl-C or a termination signal; the caller restores the terminal.
    /// Input already waiting (keys typed ahead, a paste the terminal does not bracket) is all
    /// handled before the next frame: a burst of keys costs one frame, not one a key.
    public func run(on backend: TerminalBackend, shouldStop: () -> Bool = { false }) {
        while true {
            let size = backend.size
            backend.present(render(width: size.width, height: size.height))
            guard var event = backend.nextEvent(timeoutMilliseconds: 250) else {
                if shouldStop() { return }
                continue
            }
            while true {
                switch event {
                case .key(.control("l")): backend.invalidate()
                case .key(.control("z")): backend.suspend()
                default: if !handle(event) { return }
                }
                guard let waiting = backend.nextEvent(timeoutMilliseconds: 0) else { break }
                event = waiting
            }
        }
    }
}
