@preconcurrency import CNcurses
import Glibc

/// On a fatal signal (a crash, a Swift trap, SIGQUIT) the terminal is restored FIRST, while
/// curses has it raw in the alternate screen: the bytes that leave the alternate screen and
/// the modes the inspector set, and the terminal's settings from before curses started. Then
/// the signal goes to whoever handled it before (the Swift runtime's backtracer prints its
/// crash report to a sane terminal), and the process dies of it as it would have: a Swift
/// trap or a SIGQUIT ends the program. Everything the handler touches is prepared in
/// `install`, so the handler only calls `write`, `tcsetattr` and `sigaction`.
enum FatalSignals {
    /// The signals that end a program with a core dump: faults, traps (SIGILL is a Swift trap
    /// on x86-64, SIGTRAP on arm64), abort, and SIGQUIT.
    static let signals: [Int32] = [SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV]

    struct State {
        var terminal: termios
        var bytes: UnsafeMutableBufferPointer<UInt8>
        /// The actions there were before `install`, by signal number.
        var previous: UnsafeMutablePointer<sigaction>
    }

    /// Set once by `install` (curses started), cleared by the first fatal signal or by `remove`.
    nonisolated(unsafe) static var state: UnsafeMutablePointer<State>?

    /// Takes over the fatal signals; `terminal` is the settings from before curses started,
    /// `restore` the bytes that undo what the inspector did to the screen.
    static func install(terminal: termios, restore: [UInt8]) {
        let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: restore.count)
        _ = bytes.initialize(from: restore)
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: Int(NSIG))
        previous.initialize(repeating: sigaction(), count: Int(NSIG))
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, info, context in FatalSignals.handle(signal, info, context) }
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigemptyset(&action.sa_mask)
        for signal in signals { sigaction(signal, &action, previous + Int(signal)) }
        let state = UnsafeMutablePointer<State>.allocate(capacity: 1)
        state.initialize(to: State(terminal: terminal, bytes: bytes, previous: previous))
        Self.state = state
    }

    /// Gives the signals back to their previous handlers (the terminal is restored already).
    static func remove() {
        guard let state else { return }
        Self.state = nil
        for signal in signals { sigaction(signal, state.pointee.previous + Int(signal), nil) }
    }

    private static func handle(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
        guard let state else { return }
        Self.state = nil
        let restore = state.pointee.bytes
        _ = write(STDOUT_FILENO, restore.baseAddress, restore.count)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &state.pointee.terminal)
        // The handlers there were before, back in place for every fatal signal.
        for other in signals { sigaction(other, state.pointee.previous + Int(other), nil) }
        let previous = state.pointee.previous[Int(signal)]
        // 0 is SIG_DFL and 1 SIG_IGN: neither is a handler to call.
        if unsafeBitCast(previous.__sigaction_handler.sa_handler, to: Int.self) > 1 {
            // The crash report (the Swift runtime's backtracer), with this signal's own details.
            if previous.sa_flags & SA_SIGINFO != 0 {
                previous.__sigaction_handler.sa_sigaction?(signal, info, context)
            } else {
                previous.__sigaction_handler.sa_handler?(signal)
            }
        }
        // Then die of the signal: a fault comes back when its instruction runs again after this
        // handler returns; any other signal is raised again, delivered as the handler returns.
        var fallback = sigaction()
        sigemptyset(&fallback.sa_mask)
        fallback.__sigaction_handler.sa_handler = SIG_DFL
        sigaction(signal, &fallback, nil)
        let fault = signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE
        if !(fault && (info?.pointee.si_code ?? 0) > 0) { raise(signal) }
    }
}
