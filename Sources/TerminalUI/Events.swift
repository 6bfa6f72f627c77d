/// A key press, decoded from curses (or written by a test).
public enum Key: Hashable, Sendable {
    case character(Character)
    /// Ctrl with a letter (`ctrl("l")` is Ctrl-L).
    case control(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, backspace, tab, backTab, escape, delete
    case function(Int)
}

/// A mouse report.
public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case press, wheelUp, wheelDown }
    public var kind: Kind
    public var x: Int
    public var y: Int

    public init(kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

/// What the terminal sends the application.
public enum InputEvent: Hashable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
    /// Text the user pasted, whole (bracketed paste mode): one event however long it is.
    case paste(String)
}

/// A terminal the application draws to and reads from. `present` shows a whole frame;
/// backends diff it against the previous one, so a frame costs what changed.
public protocol TerminalBackend: AnyObject {
    var size: (width: Int, height: Int) { get }
    var colorMode: ColorMode { get }
    var symbols: Symbols { get }
    func present(_ buffer: CellBuffer)
    /// The next input event; nil when `timeoutMilliseconds` passes first (or input ended).
    func nextEvent(timeoutMilliseconds: Int) -> InputEvent?
    /// Forces the next frame to be written whole (Ctrl-L).
    func invalidate()
    /// Stops the program as a job (Ctrl-Z), the terminal given back meanwhile; returns once continued.
    func suspend()
    /// Puts `text` on the clipboard of the terminal's user: an OSC 52 sequence (`Clipboard`),
    /// which works over ssh, and in tmux with `set-clipboard on`.
    func copyToClipboard(_ text: String)
    /// Turns the terminal's mouse reports on or off; off, the terminal's own selection works.
    func setMouseCapture(_ on: Bool)
}

/// OSC 52, xterm's "manipulate selection data": `ESC ] 52 ; c ; BASE64 BEL` sets the
/// clipboard (`c`) to the decoded text.
public enum Clipboard {
    public static func osc52(_ text: String) -> [UInt8] {
        Array("\u{1B}]52;c;".utf8) + Array(base64(Array(text.utf8)).utf8) + [0x07]
    }

    /// RFC 4648 base64, padded.
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                out.append(position <= count ? alphabet[Int(group >> UInt32(18 - 6 * position) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// An in-memory terminal for tests: a fixed size, events fed by the test, frames kept.
public final class TestBackend: TerminalBackend {
    public private(set) var size: (width: Int, height: Int)
    public let colorMode: ColorMode
    public let symbols: Symbols
    public private(set) var frames: [CellBuffer] = []
    public var pendingEvents: [InputEvent] = []

    public init(width: Int, height: Int, colorMode: ColorMode = .palette, symbols: Symbols = .unicode) {
        size = (width, height)
        self.colorMode = colorMode
        self.symbols = symbols
    }

    public func present(_ buffer: CellBuffer) { frames.append(buffer) }

    public func nextEvent(timeoutMilliseconds: Int) -> InputEvent? {
        guard !pendingEvents.isEmpty else { return nil }
        let event = pendingEvents.removeFirst()
        if case .resize(let width, let height) = event { size = (width, height) }
        return event
    }

    /// The last frame presented.
    public var lastFrame: CellBuffer? { frames.last }
    /// How many times the application stopped as a job (Ctrl-Z).
    public private(set) var suspensions = 0

    /// The bytes each copy to the clipboard sent the terminal, in order.
    public private(set) var clipboardWrites: [[UInt8]] = []
    /// Whether mouse reports are on (the last `setMouseCapture`).
    public private(set) var mouseCapture = true

    public func invalidate() {}
    public func suspend() { suspensions += 1 }
    public func copyToClipboard(_ text: String) { clipboardWrites.append(Clipboard.osc52(text)) }
    public func setMouseCapture(_ on: Bool) { mouseCapture = on }
}
