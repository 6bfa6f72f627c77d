import Testing
@testable import IOMMUCore

struct ErrnoTests {
    @Test func namesRoundTrip() {
        for errno in Errno.allCases { #expect(Errno(name: errno.name) == errno) }
        #expect(Errno.EINVAL.rawValue == 22)
        #expect(Errno(name: "EWHATEVER") == nil)
    }
}
