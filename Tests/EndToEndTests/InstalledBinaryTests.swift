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
}
