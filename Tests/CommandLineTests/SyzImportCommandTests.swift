import ArgumentParser
import Foundation
import Testing
@testable import iommuscope

/// `import syz FILE [-o OUT]` and `tui --syz FILE` as the command line spells them: the exit
/// statuses (0 read, 1 no calls, 2 unreadable) and the rule that one source is opened.
@Suite struct SyzImportCommandTests {
    static func temporary(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("syz-\(UUID().uuidString).txt").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aProgramIsWrittenToTheOutputFile() throws {
        let program = try Self.temporary("""
        r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0})
        """)
        let output = program + ".iommu"
        defer { try? FileManager.default.removeItem(atPath: program); try? FileManager.default.removeItem(atPath: output) }
        let command = try #require(try IOMMUScope.parseAsRoot(["import", "syz", program, "-o", output]) as? Import.Syz)
        #expect(command.file == program && command.output == output)
        try command.run()
        #expect(try String(contentsOfFile: output, encoding: .utf8).contains("r1 = ioas_alloc # syz 2"))
    }

    @Test func noCallsExitOneAndAnUnreadableFileExitsTwo() throws {
        let empty = try Self.temporary("# only a comment\n\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let output = empty + ".iommu"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let none = try #require(try IOMMUScope.parseAsRoot(["import", "syz", empty, "-o", output]) as? Import.Syz)
        #expect(throws: ExitCode(1)) { try none.run() }
        let missing = try #require(try IOMMUScope.parseAsRoot(["import", "syz", "/nonexistent/p.syz"]) as? Import.Syz)
        #expect(throws: ExitCode(2)) { try missing.run() }
    }

    /// The inspector opens one thing: a scenario, a QEMU trace or a program.
    @Test func tuiOpensOneSource() throws {
        let both = try #require(try IOMMUScope.parseAsRoot(["tui", "--syz", "p.syz", "--qemu-trace", "t.log"]) as? TUI)
        #expect(both.syz == "p.syz")
        #expect(throws: ValidationError.self) { try both.run() }
        let withFile = try #require(try IOMMUScope.parseAsRoot(["tui", "--syz", "p.syz", "s.iommu"]) as? TUI)
        #expect(throws: ValidationError.self) { try withFile.run() }
    }
}
