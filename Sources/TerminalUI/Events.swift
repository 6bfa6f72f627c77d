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

    public func invalidate() {}
    public func suspend() { suspensions += 1 }
}
