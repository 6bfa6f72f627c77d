import IOMMUCore
import Testing
@testable import Presentation

struct UnitsTests {
    @Test func sizes() {
        #expect(Units.size(4096) == "4K")
        #expect(Units.size(0x37f0_0000) == "895M")
        #expect(Units.size(of: .all) == "16E")
        #expect(Units.size(of: IOVARange(start: 1 << 48, last: .max)) == "~16E")
        #expect(Units.size(of: IOVARange(start: 0x1_0400_0000, last: 0xff_ffff_ffff)) == "~1T")
        #expect(Units.size(0x6000_0000) == "~1.5G")
        #expect(Units.exactSize(0x20_0000) == "2M")
        #expect(Units.exactSize(0x1800) == "6K")
        #expect(Units.exactSize(0x1234) == "0x1234")
        #expect(Units.word(0x4001_1003) == "0x0000000040011003")
    }

    /// One of a thing is singular, any other count plural (the tree's "1 area").
    @Test func counts() {
        #expect(Units.count(0, "area") == "0 areas")
        #expect(Units.count(1, "area") == "1 area")
        #expect(Units.count(2, "record") == "2 records")
    }
}

struct TerminalSafeTests {
    @Test func controlCharactersBecomeVisibleEscapes() {
        #expect(terminalSafe("ok") == "ok")
        #expect(terminalSafe("\u{1b}[2J\u{1b}]0;owned\u{07}") == "\\x1b[2J\\x1b]0;owned\\x07")
        #expect(terminalSafe("a\tb\r\n") == "a\\tb\\r\\n")
        #expect(terminalSafe("\u{7f}\u{9b}") == "\\x7f\\x9b")
        #expect(terminalSafe("µs → 4K") == "µs → 4K")
        #expect(terminalSafe("nic\u{202e}0\u{2066}\u{200b}\u{2028}\u{feff}") == "nic\\u{202e}0\\u{2066}\\u{200b}\\u{2028}\\u{feff}")
    }
}
