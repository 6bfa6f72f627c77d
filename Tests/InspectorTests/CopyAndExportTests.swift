import Foundation
import Testing
import TerminalUI
@testable import Inspector

/// `y` copies the focused pane's selection through OSC 52, `S` saves the walk, `W` the
/// session's `:` commands, Ctrl-T turns mouse capture off and on.
@Suite struct CopyAndExportTests {
    static func run(_ app: InspectorApp, _ keys: [Key], width: Int = 120, height: Int = 40) -> TestBackend {
        let backend = TestBackend(width: width, height: height)
        backend.pendingEvents = keys.map { .key($0) } + [.key(.function(10))]
        app.run(on: backend) { true }
        return backend
    }

    static func typed(_ text: String) -> [Key] { text.map { .character($0) } }

    /// The text an OSC 52 sequence carries, checked to be `ESC ] 52 ; c ; BASE64 BEL`.
    static func clipboardText(_ bytes: [UInt8]) throws -> String {
        let prefix = Array("\u{1B}]52;c;".utf8)
        #expect(Array(bytes.prefix(prefix.count)) == prefix)
        #expect(bytes.last == 0x07)
        let base64 = String(decoding: bytes.dropFirst(prefix.count).dropLast(), as: UTF8.self)
        let data = try #require(Data(base64Encoded: base64))
        return String(decoding: data, as: UTF8.self)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func osc52IsBase64BetweenTheIntroducerAndBEL() throws {
        #expect(Clipboard.osc52("") == Array("\u{1B}]52;c;\u{07}".utf8))
        // Every padding length, and bytes above 0x7f (UTF-8).
        for text in ["a", "ab", "abc", "abcd", "0x8000000 → PA", String(repeating: "x", count: 1000)] {
            #expect(try Self.clipboardText(Clipboard.osc52(text)) == text)
            let expected = Data(text.utf8).base64EncodedString()
            #expect(Clipboard.osc52(text) == Array("\u{1B}]52;c;\(expected)\u{07}".utf8))
        }
    }

    @Test func yankInTheTreeCopiesTheSelectedRow() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = Self.run(app, [.character("/")] + Self.typed("DEVICE 1") + [.enter, .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        #expect(copied.contains("DEVICE 1"))
        #expect(backend.clipboardWrites.count == 1)
        #expect(app.message == "copied \"\(copied)\"")
    }

    @Test func yankInTheWalkCopiesTheSelectedFetch() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = Self.run(app, [.character("4"), .character("G"), .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        // The entry's address, then its descriptor: both hex.
        let words = copied.split(separator: " ")
        #expect(words.count == 2 && words.allSatisfy { $0.hasPrefix("0x") })
        var walk = try #require(app.panes[.walk] as? WalkPane)
        let exported = walk.export(json: false, context: app.context(for: .walk))
        let saved = try #require(exported)
        #expect(saved.contains(String(words[0])))
    }

    /// A walk that faulted opens on the fetch that faulted: `y` copies that descriptor, not
    /// the first fetch (the root table's entry).
    @Test func yankInAFaultingWalkCopiesTheFaultingFetch() throws {
        let app = try ResultsPaneTests.app()
        // The results pane's first row is the faulting translate of 0x900000.
        let backend = Self.run(app, [.character("8"), .enter, .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        var walk = try #require(app.panes[.walk] as? WalkPane)
        let exported = walk.export(json: false, context: app.context(for: .walk))
        let saved = try #require(exported)
        let fetches = saved.split(separator: "\n").filter { $0.contains(String(copied.split(separator: " ")[0])) }
        #expect(walk.iova == 0x900000)
        #expect(!fetches.isEmpty, "\(copied) not among the fetches of\n\(saved)")
        #expect(walk.list.selected > 0, "the first fetch is selected, not the faulting one")
    }

    @Test func yankInThePageTableCopiesTheEntry() throws {
        let app = try CommandAndTimelineTests.app()
        // A domain's table, its first entry selected.
        let backend = Self.run(app, [.character("/")] + Self.typed("HWPT_PAGING") + [.enter, .character("3"), .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        let words = copied.split(separator: " ")
        #expect(words.count == 2 && words.allSatisfy { $0.hasPrefix("0x") })
        // The row on screen shows the same entry address.
        #expect(app.render(width: 120, height: 40).text.contains(String(words[0])))
    }

    @Test func yankInTheDetailsCopiesTheSelectedLine() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = Self.run(app, [.character("/")] + Self.typed("DEVICE 1  nic0") + [.enter, .character("2"), .character("j"), .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        let lines = DetailsPane().lines(app.context(for: .details)).map { String($0.text.drop { $0 == " " }) }
        #expect(lines.count > 1 && copied == lines[1])
    }

    @Test func yankInTheIOVAMapCopiesTheWindow() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = Self.run(app, [.character("/")] + Self.typed("IOAS 3") + [.enter, .character("5"), .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        // The whole space first: from 0 to the last IOVA.
        #expect(copied.hasPrefix("0x0-0x"))
    }

    @Test func yankInTheTimelineCopiesTheSourceLine() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = Self.run(app, [.character("7"), .character("y")])
        let copied = try Self.clipboardText(try #require(backend.clipboardWrites.first))
        #expect(!copied.isEmpty && !copied.contains("\n"))
        let source = try String(contentsOf: GoldenFrameTests.repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu"),
                                encoding: .utf8)
        #expect(source.split(separator: "\n").contains { $0 == copied })
    }

    @Test func nothingSelectedCopiesNothing() throws {
        let app = try CommandAndTimelineTests.app()
        // The details pane has no row to copy.
        let backend = Self.run(app, [.character("2"), .character("y")])
        #expect(backend.clipboardWrites.isEmpty)
        #expect(app.message == "nothing selected to copy")
    }

    @Test func saveWritesTheSessionCommandsWhereTheUserSaid() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try CommandAndTimelineTests.app()
        let path = directory.appendingPathComponent("mine.iommu").path
        var keys: [Key] = [.character(":")] + Self.typed("ioas_unmap ioas_id=3 iova=0 length=u64max") + [.enter]
        keys += [.character(":")] + Self.typed("no_such_command") + [.enter] // a parse error is not saved
        keys += [.character("W")] + Array(repeating: Key.backspace, count: "session.iommu".count) + Self.typed(path) + [.enter]
        _ = Self.run(app, keys)
        #expect(app.message == "saved \(path)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").filter { !$0.hasPrefix("#") } == ["ioas_unmap ioas_id=3 iova=0 length=u64max"])
        // Nothing else was written.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["mine.iommu"])
    }

    @Test func savingNothingOrToABadPathSaysWhyInTheStatusLine() throws {
        let app = try CommandAndTimelineTests.app()
        _ = Self.run(app, [.character("W"), .enter])
        #expect(app.message == "not saved: no : command ran yet")
        _ = Self.run(app, [.character(":")] + Self.typed("destroy id=3") + [.enter])
        _ = Self.run(app, [.character("W"), .control("u")] + Self.typed("/nonexistent-dir/x.iommu") + [.enter])
        #expect(app.message.hasPrefix("not saved: /nonexistent-dir/x.iommu: "))
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-dir/x.iommu"))
        // Escape leaves the prompt without writing.
        _ = Self.run(app, [.character("W"), .escape])
        #expect(app.mode == .normal && !FileManager.default.fileExists(atPath: "session.iommu"))
    }

    /// A file already there is overwritten only on `y`: the status line asks first, and any
    /// other key keeps the file as it was.
    @Test func savingOverAFileAsksFirst() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("session.iommu").path
        try Data("# mine\n".utf8).write(to: URL(fileURLWithPath: path))
        let app = try CommandAndTimelineTests.app()
        _ = Self.run(app, [.character(":")] + Self.typed("destroy id=3") + [.enter])
        for key in [.character("W"), .control("u")] + Self.typed(path) + [.enter] { _ = app.handle(.key(key)) }
        #expect(app.render(width: 200, height: 40).text.split(separator: "\n").last?.contains("overwrite \(path)? y/n") == true)
        _ = app.handle(.key(.character("n")))
        #expect(app.mode == .normal && app.message == "not saved: \(path) is kept")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "# mine\n")
        _ = Self.run(app, [.character("W"), .control("u")] + Self.typed(path) + [.enter, .character("y")])
        #expect(app.message == "saved \(path)")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("destroy id=3"))
    }

    /// The save prompt shows the path after it, the cursor at the path's end, not over the prompt.
    @Test func savePromptShowsThePathAfterIt() throws {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character("W")))
        let status = app.render(width: 80, height: 24).text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(status.hasPrefix(" save commands to: session.iommu▏"), "\(status)")
    }

    /// A directory, or a path the user cannot write, is an error naming the path and why.
    @Test func aDirectoryOrAnUnwritablePathIsALocatedError() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try CommandAndTimelineTests.app()
        _ = Self.run(app, [.character(":")] + Self.typed("destroy id=3") + [.enter])
        _ = Self.run(app, [.character("W"), .control("u")] + Self.typed(directory.path) + [.enter])
        #expect(app.mode == .normal && app.message == "not saved: \(directory.path): is a directory")
        let missing = directory.appendingPathComponent("no/such/dir/x.iommu").path
        _ = Self.run(app, [.character("W"), .control("u")] + Self.typed(missing) + [.enter])
        #expect(app.message == "not saved: \(missing): no such file or directory")
    }

    @Test func sInTheWalkPaneSavesTextOrJSON() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try CommandAndTimelineTests.app()
        let text = directory.appendingPathComponent("walk.txt").path, json = directory.appendingPathComponent("walk.json").path
        for path in [text, json] {
            _ = Self.run(app, [.character("4"), .character("S"), .control("u")] + Self.typed(path) + [.enter])
            #expect(app.message == "saved \(path)")
        }
        let saved = try String(contentsOfFile: text, encoding: .utf8)
        let frame = app.render(width: 160, height: 60).text
        // The lines the pane shows, every fetch among them.
        let rows = saved.split(separator: "\n").map(String.init)
        #expect(rows.count > 3)
        for row in rows.prefix(2) { #expect(frame.contains(row)) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let steps = try #require(object["steps"] as? [[String: Any]])
        // Two head lines (what was walked, the outcome), the column header, a row per fetch.
        #expect(steps.count == rows.count - 3 && rows[2] == WalkNarration.stepHeader)
        #expect(object["iova"] as? String != nil && object["write"] as? Bool == false)
        #expect(steps.allSatisfy { ($0["descriptor"] as? String)?.hasPrefix("0x") == true })
    }

    @Test func sOutsideTheWalkPaneIsNoSave() throws {
        let app = try CommandAndTimelineTests.app()
        _ = app.handle(.key(.character("S")))
        #expect(app.mode == .normal)
    }

    @Test func controlTTogglesMouseCaptureAndSaysSo() throws {
        let app = try CommandAndTimelineTests.app()
        let backend = TestBackend(width: 120, height: 40)
        backend.pendingEvents = [.key(.control("t")), .key(.function(10))]
        app.run(on: backend) { true }
        #expect(!backend.mouseCapture && !app.mouseCapture)
        #expect(app.message.hasPrefix("mouse capture off"))
        backend.pendingEvents = [.key(.control("t")), .key(.function(10))]
        app.run(on: backend) { true }
        #expect(backend.mouseCapture && app.message == "mouse capture on")
        #expect(app.helpSections.contains { $0.rows.contains { $0.key == "Ctrl-T" } })
    }
}
