import Foundation
import Testing

/// The command line as a user first meets it: `--version`, a file that is not there, a device
/// or HWPT id that names nothing, and text output whose columns and fields line up.
@Suite struct CommandLineConventionsTests {
    static let repository = InspectorInTmuxTests.repository.path
    static let scenario = WalkCommandLineTests.scenario

    static func isStepHeader(_ line: String) -> Bool { line.range(of: #"^ +#  stg  lvl  table"#, options: .regularExpression) != nil }

    static func run(_ arguments: String) -> (output: String, status: Int32) { WalkCommandLineTests.run(arguments) }

    @Test func versionPrintsTheVersion() {
        let (output, status) = Self.run("--version")
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("0.11.0\n"), "\(output)")
    }

    /// A scenario file that cannot be read says why, then the usage of the subcommand that
    /// was given it (not the root's), with exit status 64 (docs/scenario-language.md).
    @Test(arguments: [("run", "run"), ("show", "show"), ("walk", "walk --hwpt 4 --iova 0"), ("translate", "translate --dev 1 --iova 0")])
    func missingFileNamesTheReasonAndTheSubcommand(_ command: String, _ arguments: String) {
        let (output, status) = Self.run("\(arguments) /nonexistent/nofile.iommu")
        #expect(status == 64, "\(output)")
        #expect(output.hasPrefix("Error: cannot read /nonexistent/nofile.iommu: no such file or directory\nUsage: iommuscope \(command) "),
                "\(output)")
    }

    /// A directory is no scenario: before, `run DIR` read nothing and reported 0 commands.
    @Test(arguments: ["run", "show"])
    func directoryIsNoScenario(_ command: String) {
        let (output, status) = Self.run("\(command) '\(Self.repository)/Examples'")
        #expect(status == 64, "\(output)")
        #expect(output.contains("Examples: it is a directory, not a scenario file\nUsage: iommuscope \(command) "), "\(output)")
    }

    /// `--dev 99` says which ids are bound devices, `--hwpt 99` which are paging HWPTs.
    @Test func unknownIdsListTheValidOnes() {
        let translate = Self.run("translate '\(Self.scenario)' --dev 99 --iova 0")
        #expect(translate.status == 64, "\(translate.output)")
        #expect(translate.output.contains("object 99 is not a bound device (ENOENT); bound devices: 1 (nic0), 2 (nvme0)\n"),
                "\(translate.output)")
        let walk = Self.run("walk '\(Self.scenario)' --hwpt 99 --iova 0")
        #expect(walk.status == 64, "\(walk.output)")
        #expect(walk.output.contains("object 99 is not a paging HWPT with descriptors; paging HWPTs: 4\n"), "\(walk.output)")
    }

    /// A host device name that names nothing lists the host's devices.
    @Test func unknownHostDeviceListsTheDevices() {
        let (output, status) = Self.run("walk --host '\(Self.repository)/Tests/HostTrees/intel-kabylake' --dev nic9 --iova 0")
        #expect(status == 64, "\(output)")
        #expect(output.contains("the host has no device named nic9; host devices: 0000:00:00.0, 0000:00:02.0, 0000:00:0a.0,"), "\(output)")
    }

    /// A DMA that faults lists the descriptors read up to the fault, as `run` does: the
    /// default scenario's guest maps nothing at IOVA 0, so its stage-1 walk ends on an invalid
    /// entry after the stage-2 fetches that resolve the guest's tables.
    @Test func translateFaultListsTheFetches() throws {
        let (output, status) = Self.run("translate '\(Self.scenario)' --dev 1 --iova 0 --cold")
        #expect(status == 1, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex(where: Self.isStepHeader), "\(output)")
        let fault = try #require(lines.firstIndex { $0.hasPrefix("fault: stage 1 ") }, "\(output)")
        #expect(header < fault)
        #expect(lines[header + 1..<fault].contains { $0.hasSuffix(" invalid") }, "\(output)")
        #expect(lines[header + 1..<fault].contains { $0.contains(" S2 ") }, "\(output)")
    }

    /// Every header name starts (or, for a number, ends) where its column's cells do.
    @Test(arguments: ["translate '\(scenario)' --dev 1 --iova 0x12345000 --cold", "walk '\(scenario)' --hwpt 4 --iova 0x40000000 --count 2"])
    func tableHeadersAlignWithTheirColumns(_ arguments: String) throws {
        let (output, status) = Self.run(arguments)
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        let header = try #require(lines.first(where: Self.isStepHeader), "\(output)")
        let rows = lines.filter { $0.range(of: #"^ +[0-9]+  S[12] "#, options: .regularExpression) != nil }
        #expect(!rows.isEmpty, "\(output)")
        let text = Array(header)
        for name in ["stg", "table", "idx", "entry address", "descriptor", "kind"] {
            let start = try #require(header.range(of: name)).lowerBound.utf16Offset(in: header)
            for row in rows.map(Array.init) {
                #expect(row.count > start && row[start] != " " && row[start - 1] == " ", "\(name) in \(String(row))")
            }
        }
        for name in ["#", "lvl"] {
            let end = try #require(header.range(of: name)).upperBound.utf16Offset(in: header) - 1
            for row in rows.map(Array.init) {
                #expect(row[end].isNumber && (end + 1 == row.count || row[end + 1] == " "), "\(name) in \(String(row)) (\(String(text)))")
            }
        }
    }

    /// `run`'s text: no line ends in blanks, a VT-d fault's Linux string is one quoted field,
    /// and a step table's header lines up with its rows.
    @Test func runTextHasNoTrailingBlanksAndQuotesStrings() throws {
        let quickstart = Self.run("run '\(Self.repository)/Examples/quickstart.iommu'")
        #expect(quickstart.status == 0, "\(quickstart.output)")
        let trailing = quickstart.output.split(separator: "\n").filter { $0.last == " " }
        #expect(trailing.isEmpty, "\(trailing)")
        let vtd = Self.run("run '\(Self.repository)/Examples/vtd_nested_guest.iommu'")
        #expect(vtd.output.contains(#"string="SM: No write permission for Write/AtomicOp request" log="DMAR: [DMA Write NO_PASID]"#),
                "\(vtd.output)")
        // A table cell is one field: its text is not quoted.
        let config = Self.run("run '\(Self.repository)/Tests/ScenarioScriptTests/Scenarios/platforms/arm_stall_iopf.iommu'")
        #expect(config.output.contains("\n          CD 0  0x100810000  "), "\(config.output)")
        let lines = quickstart.output.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("          stage") }, "\(quickstart.output)")
        #expect(lines[header].hasPrefix("          stage  level  table        index  entry_address  descriptor   kind"), "\(lines[header])")
        #expect(lines[header + 1] == "              1      0  0x100800000      0  0x100800000    0x100802003  table", "\(lines[header + 1])")
    }

    /// An errno comes with its reason in parentheses: the check, and what it looked at.
    @Test func runTextSaysWhyEachErrno() {
        let quickstart = Self.run("run '\(Self.repository)/Examples/quickstart.iommu'").output
        #expect(quickstart.contains("  10  ioas_map               EINVAL  (the range overlaps a reserved range: owner DEVICE 1, "
                                    + "requested 0x8000000-0x8000fff, reserved 0x8000000-0x80fffff (sw_msi))\n"), "\(quickstart)")
        #expect(quickstart.contains("  15  destroy                EBUSY  (other objects, files or bindings still hold the object: "
                                    + "requested IOAS 2, user HWPT_PAGING 3, users=2)\n"), "\(quickstart)")
        let json = Self.run("run --json '\(Self.repository)/Examples/quickstart.iommu'").output
        #expect(json.contains(#"{"line":15,"cmd":"destroy","status":"EBUSY","reason":{"rule":"iommufd_destroy.busy","#), "\(json)")
    }
}
