import Foundation
import Glibc
import Testing

/// The user's theme and keys on the real binary, from an XDG_CONFIG_HOME of the test's own:
/// a keys.toml that rebinds quit, `--dump-keymap`, and a bad `--theme` failing in every mode.
@Suite(.serialized)
struct UserConfigurationInTmuxTests {
    typealias Tmux = InspectorInTmuxTests

    /// A config home holding `keys.toml` (and `theme.toml`), removed by the caller.
    static func configHome(keys: String? = nil, theme: String? = nil) throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-e2e-config-\(getpid())-\(UUID().uuidString)")
        let directory = home.appendingPathComponent("iommuscope")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let keys { try keys.write(to: directory.appendingPathComponent("keys.toml"), atomically: true, encoding: .utf8) }
        if let theme { try theme.write(to: directory.appendingPathComponent("theme.toml"), atomically: true, encoding: .utf8) }
        return home
    }

    /// Runs the binary without a terminal (stdin and stdout files): its output and status.
    static func run(_ arguments: String, config: URL) -> (stdout: String, stderr: String, status: Int32) {
        let out = config.appendingPathComponent("out").path, err = config.appendingPathComponent("err").path
        let status = Tmux.shell("XDG_CONFIG_HOME='\(config.path)' '\(Tmux.binary)' \(arguments) </dev/null >'\(out)' 2>'\(err)'; echo \"status=$?\"")
        let code = status.split(separator: "\n").last.flatMap { Int32($0.dropFirst("status=".count)) } ?? -1
        return ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", code)
    }

    @Test func aKeysFileRebindsQuit() throws {
        let home = try Self.configHome(keys: "# quit on x only\nquit = [\"x\", \"Ctrl-C\"]\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let terminal = Tmux.start("keys", width: 200, environment: "TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME=\(home.path)")
        defer { terminal.stop() }
        guard terminal.waitFor("1 Objects") else { return }
        // The hints and the help say x; q is no longer quit.
        #expect(terminal.screen().contains("x quit"))
        terminal.keys("q")
        terminal.keys("?")
        guard terminal.waitFor("x / Ctrl-C") else { return }
        terminal.keys("Escape")
        #expect(terminal.screen().contains("1 Objects"))
        terminal.keys("x")
        terminal.waitFor("EXITED-0")
    }

    @Test func theDumpIsTheMapInUseAndReadsBack() throws {
        let home = try Self.configHome(keys: "quit = [\"x\", \"F10\"]\nhelp = \"F2\"\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let dump = Self.run("tui --dump-keymap", config: home)
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("quit = [\"x\", \"F10\"]\nhelp = [\"F2\"]\n"))
        // Written back as the user's keys.toml, it loads and dumps the same.
        try dump.stdout.write(to: home.appendingPathComponent("iommuscope/keys.toml"), atomically: true, encoding: .utf8)
        let again = Self.run("tui --dump-keymap", config: home)
        #expect(again.status == 0 && again.stdout == dump.stdout)
    }

    /// Without a terminal (the printed summary) a bad --theme, or a broken theme.toml, is an
    /// error with its location, and nothing else prints.
    @Test func aBadThemeFailsWithoutATerminal() throws {
        let home = try Self.configHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let bad = Self.run("tui --theme nope", config: home)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("nope: no such theme (valid: dark, light, mono, high-contrast, or a .toml file's path)"))
        #expect(bad.stdout.isEmpty)
        #expect(Self.run("tui --theme high-contrast", config: home).status == 0)
        try "[styles]\n\ntext = { fg = \"purpel\" }\n".write(to: home.appendingPathComponent("iommuscope/theme.toml"), atomically: true, encoding: .utf8)
        let broken = Self.run("tui", config: home)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("iommuscope/theme.toml:3: 'fg = \"purpel\"': unknown colour 'purpel' (valid: default, black"))
        #expect(Self.run("tui --dump-keymap", config: home).status == 2)
    }

    /// On a terminal too, and on one curses cannot draw on (TERM=dumb, which prints the
    /// summary): the error prints and the inspector never opens.
    @Test(arguments: ["TERM=xterm-256color", "TERM=dumb"])
    func aBadThemeFailsOnATerminal(_ term: String) {
        let terminal = Tmux.start("badtheme-\(term.dropFirst(5))", environment: "\(term) LANG=C.UTF-8", arguments: "--theme nope")
        defer { terminal.stop() }
        guard terminal.waitFor("EXITED-2") else { return }
        #expect(terminal.screen().contains("no such theme"))
        #expect(!terminal.screen().contains("1 Objects") && !terminal.screen().contains("IOAS 3"))
    }
}
