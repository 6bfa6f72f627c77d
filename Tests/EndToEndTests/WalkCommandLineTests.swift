import Foundation
import Testing

/// `walk` and `translate` arguments at their limits: a validation error with a message, or
/// a listing that stops at the top of the address space, never a trap.
struct WalkCommandLineTests {
    static let scenario = InspectorInTmuxTests.repository.appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu").path

    static func run(_ arguments: String) -> (output: String, status: Int32) {
        let output = InspectorInTmuxTests.shell("'\(InspectorInTmuxTests.binary)' \(arguments) 2>&1; echo \"status=$?\"")
        let status = output.split(separator: "\n").last.flatMap { Int32($0.dropFirst("status=".count)) } ?? -1
        return (output, status)
    }

    @Test(arguments: ["--count=-1", "--count 0", "--count 4097", "--count 9223372036854775807"])
    func countOutOfRangeIsAValidationError(_ count: String) {
        let (output, status) = Self.run("walk '\(Self.scenario)' --hwpt 4 --iova 0 \(count)")
        #expect(status == 64, "\(output)")
        #expect(output.contains("--count must be 1 to 4096"), "\(output)")
    }

    /// The last entry of the root table covers the top 512 GiB of the 48-bit input range;
    /// the listing ends there (past it, indexes would drop the high bits and list the
    /// entries of low addresses again).
    @Test(arguments: ["0xfffffffff000", "0xff8000000000"])
    func topOfTheInputRange(_ iova: String) {
        let (output, status) = Self.run("walk '\(Self.scenario)' --hwpt 4 --iova \(iova) --count 3")
        #expect(status == 0, "\(output)")
        #expect(output.contains("IOVA 0xff8000000000-0xffffffffffff  unmapped"), "\(output)")
        #expect(output.components(separatedBy: "\nIOVA ").count == 2, "\(output)")
    }

    /// An IOVA no descriptor translates is a validation error naming the range.
    @Test(arguments: ["u64max", "0xffffff8000000000", "0x1000000000000"])
    func aboveTheInputRange(_ iova: String) {
        let (output, status) = Self.run("walk '\(Self.scenario)' --hwpt 4 --iova \(iova)")
        #expect(status == 64, "\(output)")
        #expect(output.contains("is outside the 48-bit input range of HWPT 4's table"), "\(output)")
    }

    /// An id that is no bound device (none, or an IOAS) is a validation error naming it and
    /// the ids that are.
    @Test(arguments: ["99", "4294967295", "3"])
    func translateOfNoDevice(_ id: String) {
        let (output, status) = Self.run("translate '\(Self.scenario)' --dev \(id) --iova 0")
        #expect(status == 64, "\(output)")
        #expect(output.contains("Error: object \(id) is not a bound device (ENOENT); bound devices: 1 (nic0), 2 (nvme0)\nUsage: iommuscope translate"),
                "\(output)")
    }

    @Test func translateOfTheLastAddress() {
        let (output, status) = Self.run("translate '\(Self.scenario)' --dev 1 --iova u64max --cold")
        #expect(status == 0 || status == 1, "\(output)")
        #expect(output.contains("fault:") || output.contains("->"), "\(output)")
    }
}

/// `walk --explain`: the IOVA of each piece split by the table's levels, and every
/// descriptor's fields with their bits, values, meanings and the spec section.
struct WalkExplainCommandLineTests {
    @Test func explainPrintsTheIndexStripAndTheFieldTables() throws {
        let (output, status) = WalkCommandLineTests.run("walk '\(WalkCommandLineTests.scenario)' --hwpt 4 --iova 0x40000000 --count 1 --explain")
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains("  index: [47:39] L0=0x0 | [38:30] L1=0x1 | [29:21] L2=0x0 | [20:12] L3=0x0 | [11:0] offset=0x0"), "\(output)")
        // Three fetches (L0, L1 tables and the L2 block), each with its table of fields.
        #expect(lines.filter { $0 == "      fields (Arm ARM D8.3):" }.count == 3, "\(output)")
        #expect(lines.contains { $0.range(of: #"^ +47:21  output address  0x103e00000  base of the block"#, options: .regularExpression) != nil }, "\(output)")
        #expect(lines.contains { $0.range(of: #"^ +7:6  S2AP +3  S2AP: stage-2 access permissions"#, options: .regularExpression) != nil }, "\(output)")
        #expect(lines.allSatisfy { $0.last != " " })
        // Without --explain, the one-line fields as before.
        let plain = WalkCommandLineTests.run("walk '\(WalkCommandLineTests.scenario)' --hwpt 4 --iova 0x40000000 --count 1")
        #expect(!plain.output.contains("index:") && !plain.output.contains("meaning"), "\(plain.output)")
    }
}
