import Foundation
import Testing

/// An installed binary: copied alone to another directory (no resource bundle beside it) and
/// run from a third, it still has its themes and its default scenario; and it prints the shell
/// completion scripts the README's install section tells users to generate.
@Suite(.serialized)
struct InstalledBinaryTests {
    /// A fresh `bin/iommuscope` copy and an unrelated working directory, removed by `remove`.
    struct Installed {
        let root: URL
        var binary: String { root.appendingPathComponent("bin/iommuscope").path }
        var workingDirectory: String { root.appendingPathComponent("elsewhere").path }

        init(_ name: String) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-installed-\(name)-\(getpid())")
            try? FileManager.default.removeItem(at: root)
            for directory in ["bin", "elsewhere"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
            }
            // Copied by `cp`, not in this process: a file this process held open for writing would
            // leak its descriptor into every process the parallel tests fork meanwhile, and
            // executing the copy would then fail with ETXTBSY ("Text file busy").
            _ = InspectorInTmuxTests.shell("cp '\(InspectorInTmuxTests.binary)' '\(binary)'")
            guard FileManager.default.isExecutableFile(atPath: binary) else { throw CocoaError(.fileWriteUnknown) }
        }

        /// Runs the copy from the unrelated directory; returns its output and exit status.
        func run(_ arguments: String) -> String {
            InspectorInTmuxTests.shell("cd \(workingDirectory) && env -u NO_COLOR \(binary) \(arguments) </dev/null; echo EXIT=$?")
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// SwiftPM's `Bundle.module` falls back to the bundle's absolute build path, so a copy on
    /// the build machine would find it anyway: the binary must not name a bundle at all.
    @Test func theBinaryNamesNoResourceBundle() throws {
        let binary = try Data(contentsOf: URL(fileURLWithPath: InspectorInTmuxTests.binary))
        #expect(binary.range(of: Data(".resources".utf8)) == nil)
    }

    @Test func showPrintsTheBuiltInDefaultScenario() throws {
        let installed = try Installed("show")
        defer { installed.remove() }
        let output = installed.run("show")
        #expect(output.contains("HWPT_NESTED"), "\(output)")
        #expect(output.hasSuffix("EXIT=0\n"), "\(output)")
    }

    @Test(arguments: ["dark", "light", "mono"])
    func theInspectorOpensWithEachShippedTheme(_ theme: String) throws {
        let installed = try Installed("tui-\(theme)")
        defer { installed.remove() }
        let terminal = InspectorInTmuxTests.Terminal(socket: "iommuscope-e2e-installed-\(theme)-\(getpid())")
        defer { terminal.stop() }
        let command = "cd \(installed.workingDirectory) && env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 "
            + "XDG_STATE_HOME=\(installed.root.path)/state \(installed.binary) --theme \(theme); echo EXITED-$?; sleep 30"
        _ = terminal.tmux("new-session -d -s s -x 120 -y 40 '\(command)' </dev/null >/dev/null 2>&1")
        guard terminal.waitFor("1 Objects") else { return }
        #expect(terminal.screen().contains("HWPT_NESTED 8"))
        #expect(terminal.screen().contains("default"))
        terminal.keys("q")
        terminal.waitFor("EXITED-0")
    }

    @Test(arguments: [("bash", "-F _iommuscope iommuscope"), ("zsh", "#compdef iommuscope"), ("fish", "complete -c 'iommuscope'")])
    func completionScriptsArePrinted(_ shell: String, _ marker: String) throws {
        let installed = try Installed("completion-\(shell)")
        defer { installed.remove() }
        let output = installed.run("--generate-completion-script \(shell)")
        #expect(output.contains(marker), "\(output.prefix(400))")
        #expect(output.contains("walk"), "the subcommands are completed")
        #expect(output.hasSuffix("EXIT=0\n"))
    }

    // MARK: make install

    /// The man page `make build` makes (the generate-manual plugin); the test installs the
    /// binary already built, so it runs no build, and needs the page made once.
    static let manual = InspectorInTmuxTests.repository.appendingPathComponent(".build/plugins/GenerateManual/outputs/iommuscope/iommuscope.1").path

    /// Runs `make install` from the repository with the test's binary into `prefix`; nothing
    /// may call swift (SWIFT=false), so it builds nothing.
    static func makeInstall(_ prefix: String, manual: String) -> String {
        InspectorInTmuxTests.shell("make -s -C '\(InspectorInTmuxTests.repository.path)' install PREFIX='\(prefix)' SWIFT=false "
                                   + "BINARY='\(InspectorInTmuxTests.binary)' MANUAL='\(manual)' </dev/null 2>&1; echo EXIT=$?")
    }

    static func temporaryPrefix(_ name: String) throws -> URL {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-prefix-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: prefix)
        return prefix
    }

    /// `make install PREFIX=...` with a binary already built: the binary runs from another
    /// directory, the man page is there and reads, and so are the three completions.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: manual), "needs the man page: run make build (or swift package plugin generate-manual) once"))
    func makeInstallPutsEverythingUnderThePrefix() throws {
        let prefix = try Self.temporaryPrefix("all")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let output = Self.makeInstall(prefix.path, manual: Self.manual)
        #expect(output.hasSuffix("EXIT=0\n"), "\(output)")
        func path(_ relative: String) -> String { prefix.appendingPathComponent(relative).path }
        let version = InspectorInTmuxTests.shell("cd / && '\(InspectorInTmuxTests.binary)' --version")
        #expect(!version.isEmpty)
        #expect(InspectorInTmuxTests.shell("cd / && '\(path("bin/iommuscope"))' --version; echo EXIT=$?") == version + "EXIT=0\n")
        let page = path("share/man/man1/iommuscope.1")
        #expect(FileManager.default.isReadableFile(atPath: page))
        // The page reads as a manual where a formatter is installed.
        let formatter = InspectorInTmuxTests.shell("command -v man || command -v groff").trimmingCharacters(in: .whitespacesAndNewlines)
        if !formatter.isEmpty {
            let command = formatter.hasSuffix("man") ? "MANWIDTH=100 man -l '\(page)'" : "groff -mandoc -Tascii '\(page)'"
            let text = InspectorInTmuxTests.shell("\(command) | col -b")
            #expect(text.contains("NAME") && text.contains("SYNOPSIS"), "\(text.prefix(400))")
            #expect(text.contains("walk") && text.contains("faults"), "the subcommands are in the page")
        }
        for (relative, marker) in [("share/bash-completion/completions/iommuscope", "-F _iommuscope iommuscope"),
                                   ("share/zsh/site-functions/_iommuscope", "#compdef iommuscope"),
                                   ("share/fish/vendor_completions.d/iommuscope.fish", "complete -c 'iommuscope'")] {
            let script = (try? String(contentsOfFile: path(relative), encoding: .utf8)) ?? ""
            #expect(script.contains(marker), "\(relative)")
        }
        // `make uninstall` removes what install put there.
        _ = InspectorInTmuxTests.shell("make -s -C '\(InspectorInTmuxTests.repository.path)' uninstall PREFIX='\(prefix.path)'")
        #expect(!FileManager.default.fileExists(atPath: path("bin/iommuscope")) && !FileManager.default.fileExists(atPath: page))
    }

    /// Without a man page `make install` stops before installing anything, and says where the
    /// page was looked for and how to make it.
    @Test func makeInstallWithoutAManPageSaysSoAndInstallsNothing() throws {
        let prefix = try Self.temporaryPrefix("no-manual")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let output = Self.makeInstall(prefix.path, manual: "/nonexistent/iommuscope.1")
        #expect(output.contains("no man page at /nonexistent/iommuscope.1: run make build"), "\(output)")
        #expect(!output.hasSuffix("EXIT=0\n"))
        #expect(!FileManager.default.fileExists(atPath: prefix.path))
    }
}
