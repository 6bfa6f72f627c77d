@preconcurrency import CNcurses
import Glibc

/// Set by the SIGTERM/SIGHUP handler; the event loop sees it and leaves through the same
/// path as `q`, so the terminal is always restored.
nonisolated(unsafe) private var terminationRequested: sig_atomic_t = 0
/// Set by the SIGTSTP handler (a `kill -TSTP`; the terminal's Ctrl-Z reaches curses as a key
/// in raw mode): the event loop suspends as for Ctrl-Z, the terminal restored first.
nonisolated(unsafe) private var suspensionRequested: sig_atomic_t = 0

/// The ncursesw terminal: the only place that calls curses. Frames are diffed cell by cell
/// against the last one presented, so a frame writes only what changed.
public final class CursesBackend: TerminalBackend {
    public let colorMode: ColorMode
    public let symbols: Symbols
    private var previous: CellBuffer?
    private var closed = false
    private let colorCount: Int

    /// Why curses cannot draw the inspector on this terminal, or nil when it can: TERM unset,
    /// `dumb`, or naming no terminfo entry with cursor addressing. Call it before `init`.
    public static func cannotDraw(environment: [String: String]) -> String? {
        guard let term = environment["TERM"], !term.isEmpty else { return "TERM is not set" }
        guard cn_can_address_cursor(term) != 0 else { return "TERM=\(term) cannot address the cursor" }
        return nil
    }

    /// Starts curses. `colors` overrides detection; `NO_COLOR` (any value) means no colours.
    public init(colors requested: ColorMode?, mouse: Bool, environment: [String: String]) {
        setlocale(LC_ALL, "")
        symbols = cn_is_utf8() != 0 ? .unicode : .ascii
        var cooked = termios()
        _ = tcgetattr(STDIN_FILENO, &cooked)
        initscr()
        raw()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        // COLORS is only known once start_color() has run.
        if has_colors() {
            start_color()
            use_default_colors()
        }
        colorCount = has_colors() ? Int(cn_colors()) : 0
        if let requested {
            colorMode = requested
        } else if environment["NO_COLOR"] != nil || colorCount == 0 {
            colorMode = .none
        } else if colorCount >= 1 << 24 {
            colorMode = .truecolor
        } else if colorCount >= 256 {
            colorMode = .palette
        } else {
            colorMode = .sixteen
        }
        if mouse { setMouseCapture(true) }
        signal(SIGTERM) { _ in terminationRequested = 1 }
        signal(SIGHUP) { _ in terminationRequested = 1 }
        signal(SIGTSTP) { _ in suspensionRequested = 1 }
        // Pastes come as one event: the terminal brackets them with ESC[200~ and ESC[201~.
        define_key("\u{1B}[200~", cn_key_paste_begin())
        define_key("\u{1B}[201~", cn_key_paste_end())
        Self.emit(Self.bracketedPasteOn)
        var restore = Self.bracketedPasteOff + Self.mouseOff
        for name in ["sgr0", "rmkx", "cnorm", "rmcup"] {
            if let value = cn_string_capability(name) { restore += Array(String(cString: value).utf8) }
        }
        FatalSignals.install(terminal: cooked, restore: restore)
    }

    deinit { close() }

    /// Restores the terminal (idempotent).
    public func close() {
        guard !closed else { return }
        closed = true
        FatalSignals.remove()
        endwin()
        Self.emit(Self.bracketedPasteOff)
    }

    private static let bracketedPasteOn = Array("\u{1B}[?2004h".utf8), bracketedPasteOff = Array("\u{1B}[?2004l".utf8)
    /// xterm's mouse reports off (press, drag, any motion, SGR coordinates): what curses turns on.
    private static let mouseOff = Array("\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1003l\u{1B}[?1006l".utf8)

    /// Bytes for the terminal itself, outside curses's picture of the screen.
    private static func emit(_ bytes: [UInt8]) {
        fflush(stdout)
        bytes.withUnsafeBufferPointer { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    /// Ctrl-Z: gives the terminal back (cooked, the alternate screen left), stops the job as
    /// the shell's SIGTSTP would, and once continued (`fg`, SIGCONT) takes it again and has
    /// the next frame drawn whole.
    public func suspend() {
        Self.emit(Self.bracketedPasteOff)
        endwin()
        var stop = sigaction(), previous = sigaction()
        sigemptyset(&stop.sa_mask)
        stop.__sigaction_handler.sa_handler = SIG_DFL
        sigaction(SIGTSTP, &stop, &previous)
        kill(0, SIGTSTP) // the whole process group, as the terminal's Ctrl-Z would
        // Continued.
        sigaction(SIGTSTP, &previous, nil)
        refresh()
        Self.emit(Self.bracketedPasteOn)
        invalidate()
    }

    public func copyToClipboard(_ text: String) {
        Self.emit(Clipboard.osc52(text))
    }

    public func setMouseCapture(_ on: Bool) {
        if on {
            mousemask(cn_all_mouse_events(), nil)
            mouseinterval(0)
        } else {
            mousemask(0, nil)
            Self.emit(Self.mouseOff) // some curses leave the terminal's reports on
        }
    }

    /// True once SIGTERM or SIGHUP arrived.
    public var terminationWasRequested: Bool { terminationRequested != 0 }

    public var size: (width: Int, height: Int) { (Int(cn_cols()), Int(cn_lines())) }

    public func present(_ buffer: CellBuffer) {
        let full = previous.map { $0.width != buffer.width || $0.height != buffer.height } ?? true
        if full { erase() }
        for y in 0..<buffer.height {
            for x in 0..<buffer.width {
                let cell = buffer[x, y]
                if !full, let previous, previous[x, y] == cell { continue }
                if cell.text.isEmpty { continue } // the right half of a wide character
                apply(cell.style)
                // Writing the bottom-right cell returns ERR (the cursor cannot advance); that is fine.
                _ = mvaddwstr(Int32(y), Int32(x), Array(cell.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }) + [0])
            }
        }
        previous = buffer
        refresh()
    }

    /// Forces the next frame to be written whole (Ctrl-L, resize).
    public func invalidate() {
        previous = nil
        clearok(cn_stdscr(), true)
    }

    private func apply(_ style: Style) {
        var attributes = attr_t(0)
        if style.bold { attributes |= cn_a_bold() }
        if style.dim { attributes |= cn_a_dim() }
        if style.underline { attributes |= cn_a_underline() }
        if style.reverse { attributes |= cn_a_reverse() }
        var pair: Int32 = 0
        if colorMode != .none && colorCount > 0 && (style.foreground != .default || style.background != .default) {
            pair = alloc_pair(curses(style.foreground), curses(style.background))
            if pair < 0 { pair = 0 }
        }
        attr_set(attributes, Int16(clamping: pair), &pair)
    }

    /// A theme colour as this terminal's colour number.
    private func curses(_ color: Color) -> Int32 {
        switch color {
        case .default: return -1
        case .ansi(let index): return Int32(colorCount >= 16 ? index : index % 8)
        case .indexed(let index):
            switch colorMode {
            case .truecolor: return Self.rgbValue(ColorMath.rgb(ofPaletteIndex: index))
            case .palette: return Int32(index)
            default: return Int32(ColorMath.nearestANSI(ColorMath.rgb(ofPaletteIndex: index), colors: colorCount))
            }
        case .rgb(let r, let g, let b):
            switch colorMode {
            case .truecolor: return Self.rgbValue((r, g, b))
            case .palette: return Int32(ColorMath.nearestPaletteIndex((r, g, b)))
            default: return Int32(ColorMath.nearestANSI((r, g, b), colors: colorCount))
            }
        }
    }

    private static func rgbValue(_ rgb: (UInt8, UInt8, UInt8)) -> Int32 {
        Int32(rgb.0) << 16 | Int32(rgb.1) << 8 | Int32(rgb.2)
    }

    public func nextEvent(timeoutMilliseconds: Int) -> InputEvent? {
        if terminationWasRequested { return nil }
        if suspensionRequested != 0 {
            suspensionRequested = 0
            suspend()
            return nil // the next frame is drawn whole
        }
        timeout(Int32(timeoutMilliseconds))
        var character: wint_t = 0
        let status = get_wch(&character)
        if status == ERR { return nil }
        if status == KEY_CODE_YES {
            switch Int32(character) {
            case cn_key_paste_begin():
                return .paste(readPaste())
            case cn_key_paste_end():
                return nil
            case KEY_RESIZE:
                invalidate()
                return .resize(width: size.width, height: size.height)
            case KEY_MOUSE:
                var event = MEVENT()
                guard getmouse(&event) == OK else { return nil }
                let state = event.bstate
                if state & cn_button4_pressed() != 0 { return .mouse(MouseEvent(kind: .wheelUp, x: Int(event.x), y: Int(event.y))) }
                if state & cn_button5_pressed() != 0 { return .mouse(MouseEvent(kind: .wheelDown, x: Int(event.x), y: Int(event.y))) }
                if state & (cn_button1_pressed() | cn_button1_clicked()) != 0 {
                    return .mouse(MouseEvent(kind: .press, x: Int(event.x), y: Int(event.y)))
                }
                return nil
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_BTAB: return .key(.backTab)
            case KEY_ENTER: return .key(.enter)
            default:
                for number in 1...12 where Int32(character) == cn_key_f(Int32(number)) { return .key(.function(number)) }
                return nil
            }
        }
        switch character {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.control(Character(Unicode.Scalar(UInt8(character) + 96))))
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)) else { return nil }
            return .key(.character(Character(scalar)))
        }
    }
}

extension CursesBackend {
    /// The text of a paste, up to its ESC[201~ (or until the terminal stops sending for a
    /// second). The terminal's CR for a newline reads as a newline; keys curses decoded
    /// inside the paste (escape sequences in it) are dropped.
    private func readPaste() -> String {
        var text = ""
        timeout(1000)
        while true {
            var character: wint_t = 0
            let status = get_wch(&character)
            if status == ERR { break }
            if status == KEY_CODE_YES {
                if Int32(character) == cn_key_paste_end() { break }
                continue
            }
            guard let scalar = Unicode.Scalar(UInt32(character)) else { continue }
            text.unicodeScalars.append(scalar == "\r" ? "\n" : scalar)
        }
        return text
    }
}

/// Colour conversions for terminals with fewer colours than a theme uses.
public enum ColorMath {
    static let ansiRGB: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The RGB of an xterm 256-colour index.
    public static func rgb(ofPaletteIndex index: UInt8) -> (UInt8, UInt8, UInt8) {
        if index < 16 { return ansiRGB[Int(index)] }
        if index >= 232 { let level = UInt8(8 + Int(index - 232) * 10); return (level, level, level) }
        let cube = Int(index) - 16
        let steps: [UInt8] = [0, 95, 135, 175, 215, 255]
        return (steps[cube / 36], steps[(cube / 6) % 6], steps[cube % 6])
    }

    public static func nearestPaletteIndex(_ rgb: (UInt8, UInt8, UInt8)) -> UInt8 {
        (16...255).min { distance(Self.rgb(ofPaletteIndex: UInt8($0)), rgb) < distance(Self.rgb(ofPaletteIndex: UInt8($1)), rgb) }
            .map(UInt8.init) ?? 0
    }

    public static func nearestANSI(_ rgb: (UInt8, UInt8, UInt8), colors: Int) -> UInt8 {
        let count = colors >= 16 ? 16 : 8
        return UInt8((0..<count).min { distance(ansiRGB[$0], rgb) < distance(ansiRGB[$1], rgb) } ?? 7)
    }

    private static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        let dr = Int(a.0) - Int(b.0), dg = Int(a.1) - Int(b.1), db = Int(a.2) - Int(b.2)
        return dr * dr + dg * dg + db * db
    }
}
