import Testing
@testable import Presentation

/// The command line's tables: a header over columns as wide as their widest cell, numbers
/// aligned on their last digit, no line ending in blanks.
struct TextTableTests {
    @Test func headerAndCellsShareTheirColumns() {
        var table = TextTable(columns: [.init("#", .right), .init("stg"), .init("table"), .init("kind")])
        table.append(["1", "S2", "0x104004000", "table"])
        table.append(["10", "S1", "0x0", "invalid"])
        let lines = table.lines(indent: "  ")
        #expect(lines == ["   #  stg  table        kind",
                          "   1  S2   0x104004000  table",
                          "  10  S1   0x0          invalid"])
    }

    /// A column's name may be wider than its cells, a last cell empty: neither leaves blanks
    /// at the end of a line.
    @Test func noTrailingBlanks() {
        var table = TextTable(columns: [.init("entry address"), .init("note")])
        table.append(["0x1"])
        table.append(["0x2", "x", "dropped"])
        let lines = table.lines()
        #expect(lines == ["entry address  note", "0x1", "0x2            x"])
        #expect(lines.allSatisfy { $0.last != " " })
    }
}

/// `name=value` on the command line: a value with blanks is quoted, so the fields of a line
/// split back apart.
struct FieldTextTests {
    @Test func blanksAndQuotesAreQuoted() {
        #expect(FieldText.pair("reason", "0x85") == "reason=0x85")
        #expect(FieldText.pair("string", "SM: No write permission for Write/AtomicOp request")
                == "string=\"SM: No write permission for Write/AtomicOp request\"")
        #expect(FieldText.value("say \"hi\" \\ bye") == "\"say \\\"hi\\\" \\\\ bye\"")
        #expect(FieldText.value("") == "\"\"")
    }
}
