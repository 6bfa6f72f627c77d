import Foundation
import Testing
@testable import HostImport
import ScenarioScript
import TestSupport

/// syzkaller programs as scenarios: the two samples import and run with the kernel's
/// statuses, every call is a command or a comment that says why, and malformed or random text
/// gives located warnings and a scenario that still parses.
@Suite struct SyzProgramTests {
    static let test = "strace/syzkaller-test-dev_iommu.txt"
    static let csource = "strace/syzkaller-csource-testdata-iommufd.txt"

    /// The sample with its provenance lines, so program line numbers are the file's.
    static func sample(_ path: String) -> String {
        (try? String(contentsOf: Samples.directory.appendingPathComponent(path), encoding: .utf8)) ?? ""
    }

    static func replay(_ text: String) -> (SyzProgramReader, ImportedReplay) {
        let reader = SyzProgramReader.read(text, file: "p.syz")
        return (reader, SyzProgramScenario.replay(reader.lines, file: "p.syz"))
    }

    /// Each command's report, keyed by the `# syz N` program line it replays.
    static func reports(_ scenario: String) throws -> [Int: LineReport] {
        let lines = scenario.split(separator: "\n", omittingEmptySubsequences: false)
        var byLine: [Int: LineReport] = [:]
        for report in try Session().run(Scenario(source: scenario)) {
            guard let mark = lines[report.line - 1].range(of: " # syz "), let n = Int(lines[report.line - 1][mark.upperBound...]) else { continue }
            byLine[n] = report
        }
        return byLine
    }

    @Test func theSelftestProgramRunsAsTheKernelRunsIt() throws {
        let (reader, replay) = Self.replay(Self.sample(Self.test))
        #expect(reader.warnings.isEmpty)
        #expect(reader.calls.count == 37)
        let reports = try Self.reports(replay.scenario)
        // syzkaller's runtest expects every call of this test to succeed; every replayed one does.
        #expect(reports.values.filter { $0.result.status != .ok }.map(\.line) == [])
        #expect(replay.scenario.contains("r4 = test_mock_domain pt_id=r1 # syz 33"))
        let mock = try #require(reports[33]?.result)
        // The kernel's order: the selftest device, its idev, then the automatic HWPT.
        #expect(mock.field("out_stdev_id") == .integer(2) && mock.field("out_idev_id") == .integer(3) && mock.field("out_hwpt_id") == .integer(4))
        #expect(replay.scenario.contains("ioas_map ioas_id=r1 user_va=data+0xffc000 length=0x1000 iova=0x1004000 flags=0x7 # syz 34"))
        #expect(replay.scenario.contains("test_md_check_map id=r4.out_hwpt_id iova=0x1004000 length=0x1000 uptr=data+0xffc000 # syz 35"))
        #expect(reports[35]?.result.status == .ok)
        #expect(replay.scenario.contains("destroy id=r4 # syz 38"))
        // r2 is defined three times; the access's fd is the newest.
        #expect(replay.scenario.contains("r2 = test_create_access ioas_id=r1 flags=0x1 # syz 40"))
        #expect(replay.scenario.contains("test_destroy_access_pages id=r2 access_pages_id=r3 # syz 44"))
        #expect(replay.scenario.contains("close fd=r2 # syz 46"))
        #expect(reports[43]?.result.field("value") == .words([0, 0]))
        // UNMAP$ALL of an empty IOAS succeeds (iopt_unmap_all drops ENOENT).
        #expect(reports[48]?.result.field("length") == .address(0))
    }

    /// CONSTRUCTED, in the selftest's style: HWPTs, dirty tracking, hardware info and the access ops.
    static let hwptProgram = """
    r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
    ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0})
    ioctl$IOMMU_TEST_OP_MOCK_DOMAIN(r0, 0x3ba0, &AUTO={0x48, 0x2, r1, 0x0, <r2=>0x0, <r3=>0x0, <r4=>0x0})
    ioctl$IOMMU_HWPT_ALLOC$NONE(r0, 0x3b89, &AUTO={0x28, 0x2, r4, r1, <r5=>0x0, 0x0, 0x0, 0x0, &AUTO=""})
    ioctl$IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE(r0, 0x3ba0, &AUTO={0x48, 0xa, r2, 0x0, r5})
    ioctl$IOMMU_HWPT_SET_DIRTY_TRACKING(r0, 0x3b8b, &AUTO={0x10, 0x1, r5, 0x0})
    ioctl$IOMMU_GET_HW_INFO(r0, 0x3b8a, &AUTO={0x20, 0x0, r4, 0x8, &AUTO=""/8, 0x0, 0x0, 0x0})
    ioctl$IOMMU_IOAS_MAP(r0, 0x3b85, &AUTO={0x28, 0x7, r1, 0x0, &(0x7f0000001000)='LLLL'/0x1000, 0x1000, 0x1000000})
    ioctl$IOMMU_HWPT_GET_DIRTY_BITMAP(r0, 0x3b8c, &AUTO={0x30, r5, 0x0, 0x0, 0x1000000, 0x1000, 0x1000, &AUTO=""/8})
    ioctl$IOMMU_TEST_OP_CREATE_ACCESS(r0, 0x3ba0, &AUTO={0x48, 0x5, r1, 0x0, <r6=>0x0, 0x0})
    ioctl$IOMMU_TEST_OP_ACCESS_RW(r0, 0x3ba0, &AUTO={0x48, 0x8, r6, 0x0, 0x1000000, 0x4, &AUTO='ABCD', 0x1})
    ioctl$IOMMU_TEST_OP_ACCESS_RW$syz(r0, 0x3ba0, &AUTO={0x48, 0x8, r6, 0x0, 0x1000000, 0x0, 0x4, &AUTO='\\x00\\x00\\x00\\x00', 0x0})
    ioctl$IOMMU_HWPT_ALLOC$NONE(r0, 0x3b89, &AUTO={0x28, 0x1, r4, r1, <r7=>0x0, 0x0, 0x0, 0x0, &AUTO=""})
    ioctl$IOMMU_HWPT_ALLOC$TEST(r0, 0x3b89, &AUTO={0x28, 0x0, r4, r7, <r8=>0x0, 0x0, 0xdead, 0x4, &AUTO={0xbadbeef}})
    ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r9=>0x0})
    ioctl$IOMMU_TEST_OP_ACCESS_REPLACE_IOAS(r0, 0x3ba0, &AUTO={0x48, 0xb, r6, 0x0, r9})
    ioctl$IOMMU_DESTROY$hwpt(r0, 0x3b80, &AUTO={0x8, r8})
    ioctl$IOMMU_DESTROY$hwpt(r0, 0x3b80, &AUTO={0x8, r8}) # ENOENT
    ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, r9})
    ioctl$IOMMU_IOAS_COPY$syz(r0, 0x3b83, &AUTO={0x28, 0x3, r9, r1, 0x1000, 0x0, 0x1000000, 0x0})
    ioctl$IOMMU_HWPT_INVALIDATE$TEST(r0, 0x3b8d, &AUTO={0x20, r7, &AUTO=[{0x0, 0x1}, {0x1, 0x0}], 0xdeadbeef, 0x8, 0x2, 0x0}) # EINVAL
    """

    @Test func hwptsDirtyTrackingAndTheAccessOpsReplay() throws {
        let (reader, replay) = Self.replay(Self.hwptProgram)
        #expect(reader.warnings.isEmpty)
        #expect(replay.scenario.contains("r5 = hwpt_alloc dev_id=r2.out_idev_id pt_id=r1 flags=0x2 # syz 4"))
        #expect(replay.scenario.contains("test_access_rw id=r6 iova=0x1000000 length=0x4 flags=0x1 value=0x44434241 # syz 11"))
        // ACCESS_RW$syz without MOCK_FLAGS_ACCESS_SYZ: nth_area and offset are the IOVA's halves.
        #expect(replay.scenario.contains("test_access_rw id=r6 iova=0x1000000 length=0x4 flags=0x0 # syz 12"))
        #expect(replay.scenario.contains("r8 = hwpt_alloc dev_id=r2.out_idev_id pt_id=r7 flags=0x0 data_type=selftest iotlb=0xbadbeef data_len=0x4 # syz 14"))
        #expect(replay.scenario.contains("destroy id=r8 expect=ENOENT # syz 18"))
        // A nest parent is no nested HWPT: the selftest's cache_invalidate_user is not there (EINVAL).
        #expect(replay.scenario.contains("hwpt_invalidate hwpt_id=r7 data_type=selftest entries={flags=0x0 iotlb_id=0x1},{flags=0x1 iotlb_id=0x0} entry_len=0x8 entry_num=0x2 expect=EINVAL # syz 21"))
        // IOAS_COPY$syz without MOCK_FLAGS_ACCESS_SYZ: src_iova is nth_area | offset << 32.
        #expect(replay.scenario.contains("ioas_copy dst_ioas_id=r9 src_ioas_id=r1 src_iova=0x1000000 length=0x1000 dst_iova=0x0 flags=0x3 # syz 20"))
        let reports = try Self.reports(replay.scenario)
        // Every call but the openat, and every one as the kernel ends it.
        #expect(reports.keys.sorted() == Array(2...21))
        #expect(reports.values.allSatisfy { $0.passed })
        #expect(reports.filter { $0.key < 18 || $0.key == 20 }.values.allSatisfy { $0.result.status == .ok })
        #expect(reports[4]?.result.field("out_hwpt_id") == .integer(5))
        #expect(reports[7]?.result.field("test_reg") == .address(0xdeadbeef))
        #expect(reports[12]?.result.field("value") == .words([0x4443_4241]))
        // The access moved to r9 holds it: the kernel's EBUSY.
        #expect(reports[19]?.result.status.errno == .EBUSY)
    }

    @Test func everyCallIsACommandOrACommentWithAReason() {
        for (path, text) in [(Self.test, Self.sample(Self.test)), (Self.csource, Self.sample(Self.csource)), ("hwpt", Self.hwptProgram)] {
            let (reader, replay) = Self.replay(text)
            let lines = replay.scenario.split(separator: "\n").map(String.init)
            for call in reader.calls {
                let command = lines.contains { !$0.hasPrefix("#") && $0.hasSuffix(" # syz \(call.line)") }
                let comment = lines.contains { $0.hasPrefix("# syz \(call.line): ") && $0.contains("(not replayed: ") }
                #expect(command != comment, "syz \(call.line) of \(path)")
            }
            // One timeline source per call after the data area, at the call's program line.
            #expect(replay.sources.map(\.line) == [0] + reader.calls.map(\.line))
            #expect(replay.sources.allSatisfy { !$0.commands.isEmpty || $0.note?.contains("not replayed") == true })
        }
        let (_, replay) = Self.replay(Self.sample(Self.test))
        #expect(replay.scenario.contains("# syz 36: ioctl$IOMMU_TEST_OP_MD_CHECK_REFS"))
        #expect(replay.scenario.contains("(not replayed: IOMMU_TEST_OP_MD_CHECK_REFS counts the host's page references"))
        #expect(replay.scenario.contains("# syz 54: close(r0) (not replayed: closes the iommufd"))
    }

    /// The C reproducer after the program restates it: only the program's five calls are read.
    @Test func theCReproducerAfterTheProgramIsSkipped() throws {
        let (reader, replay) = Self.replay(Self.sample(Self.csource))
        #expect(reader.warnings.isEmpty)
        #expect(reader.calls.map(\.line) == [3, 4, 5, 6, 7])
        #expect(replay.scenario.contains("ioas_map ioas_id=r1 user_va=data+0x800000 length=0x800000 iova=0x0 flags=0x7 # syz 5"))
        // nth_area and offset overlay the u64 iova when MOCK_FLAGS_ACCESS_SYZ is clear; the
        // number 0x200000000000 is the data area's start at run time.
        #expect(replay.scenario.contains("test_access_pages id=r2 iova=0x200000 length=0x334e8b flags=0x0 uptr=data # syz 7"))
        let reports = try Self.reports(replay.scenario)
        #expect(reports[6]?.result.status == .ok)
        // The pages pinned at IOVA 0x200000 are the VMA's, not those at uptr (iommufd_test_check_pages).
        #expect(reports[7]?.result.status.errno == .EBADE)
    }

    @Test func whatIsNotLiteralIsKeptAsAComment() {
        let (_, replay) = Self.replay("""
        r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0})
        ioctl$IOMMU_IOAS_UNMAP(r0, 0x3b86, &AUTO={0x18, r1/0x2+0x1, 0x0, 0x1000})
        ioctl$IOMMU_IOAS_UNMAP(r0, 0x3b86, &AUTO={0x18, r7, 0x0, 0x1000})
        ioctl$IOMMU_IOAS_UNMAP(r1, 0x3b86, &AUTO={0x18, r1, 0x0, 0x1000})
        ioctl$IOMMU_IOAS_UNMAP(r0, 0x3b86, &AUTO={0x4, r1, 0x0, 0x1000})
        ioctl$IOMMU_IOAS_MAP(r0, 0x3b85, &AUTO={0x28, 0x7, r1, 0x1, &AUTO='LL', 0x2, 0x0})
        ioctl$IOMMU_TEST_OP_ACCESS_PAGES$syz(r0, 0x3ba0, &AUTO={0x48, 0x7, r1, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x1000, 0x0})
        ioctl$IOMMU_TEST_OP_ADD_RESERVED(r0, 0x3ba0, &AUTO={0x48, 0x5, r1, 0x0, 0x1000, 0x2000})
        r2 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, AUTO})
        mmap(&(0x7f0000000000/0x1000)=nil, 0x1000, 0x3, 0x32, 0xffffffffffffffff, 0x0)
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r3=>0x0, 0x0})
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, r3})
        """)
        let reasons = [
            3: "r1 with /, + computes on the kernel's value",
            4: "r7 is not defined by an earlier call",
            5: "not on the /dev/iommu fd the program opened",
            6: "size 0x4 is below the kernel's 0x18",
            7: "__reserved is 0x1",
            8: "MOCK_FLAGS_ACCESS_SYZ picks the IOVA",
            9: "op 5 in the layout of IOMMU_TEST_OP_ADD_RESERVED",
            10: "a second /dev/iommu context",
            12: "not an iommufd call",
            13: "4 fields where IOMMU_IOAS_ALLOC's struct has 3",
            14: "r3 comes from syz 13, which is not replayed",
        ]
        for (line, reason) in reasons {
            #expect(replay.scenario.split(separator: "\n").contains { $0.hasPrefix("# syz \(line): ") && $0.contains(reason) },
                    "syz \(line): \(reason)")
        }
        // An AUTO where a literal is needed: the out field simply binds nothing.
        #expect(replay.scenario.contains("ioas_alloc # syz 11"))
        #expect((try? Scenario(source: replay.scenario)) != nil)
    }

    /// A resource defined again gets a fresh binding while another resource still names the old one.
    @Test func aRedefinedResourceKeepsTheOthersMeaning() throws {
        let (_, replay) = Self.replay("""
        r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0})
        ioctl$IOMMU_TEST_OP_MOCK_DOMAIN(r0, 0x3ba0, &AUTO={0x48, 0x2, r1, 0x0, <r4=>0x0, <r3=>0x0, <r2=>0x0})
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r4=>0x0})
        ioctl$IOMMU_DESTROY$hwpt(r0, 0x3b80, &AUTO={0x8, r3})
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, r4})
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0})
        """)
        #expect(replay.scenario.contains("r4_4 = ioas_alloc # syz 4"))
        #expect(replay.scenario.contains("destroy id=r4.out_hwpt_id # syz 5"))
        #expect(replay.scenario.contains("destroy id=r4_4 # syz 6"))
        // Nothing else names r1: it is bound again as it is.
        #expect(replay.scenario.contains("r1 = ioas_alloc # syz 7"))
        let reports = try Self.reports(replay.scenario)
        // The mock device holds its automatic HWPT (EBUSY); the new IOAS, id 5, goes.
        #expect(reports[5]?.result.status.errno == .EBUSY && reports[6]?.result.status == .ok)
        #expect(reports[4]?.result.field("out_ioas_id") == .integer(5))
    }

    /// A call a `sys/linux/test` program comments with an errno must end with it (pkg/runtest).
    @Test func aRuntestErrnoCommentBecomesAnExpectation() throws {
        let (_, replay) = Self.replay("""
        r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, 0x9}) # ENOENT
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, 0x9}) # a note
        """)
        #expect(replay.scenario.contains("destroy id=0x9 expect=ENOENT # syz 2"))
        #expect(replay.scenario.contains("destroy id=0x9 # syz 3"))
        #expect(try Session().run(Scenario(source: replay.scenario)).allSatisfy(\.passed))
    }

    /// The replay's sources are a timeline of program lines: stepping lands on calls, and a
    /// call that ends otherwise than its errno comment says is the one mark.
    @Test func theReplayIsATimelineOfProgramLines() throws {
        let (_, replay) = Self.replay(Self.hwptProgram.replacingOccurrences(of: "&AUTO={0x8, r8}) # ENOENT", with: "&AUTO={0x8, r8}) # EINVAL"))
        let timeline = try Timeline(sources: replay.sources, start: Session.init)
        #expect(timeline.count == 22)
        #expect(timeline.source(0).line == 0 && timeline.source(1).line == 1 && timeline.source(1).commands.isEmpty)
        #expect(timeline.source(1).note?.contains("opens /dev/iommu") == true)
        #expect(timeline.markCount == 1)
        let mark = try #require(timeline.nextMark(after: 0))
        #expect(timeline.source(mark).line == 18 && timeline.outcome(mark).status?.errno == .ENOENT)
        timeline.move(to: 3)
        #expect(timeline.outcome(3).status == .ok && timeline.source(3).text.hasPrefix("ioctl$IOMMU_TEST_OP_MOCK_DOMAIN("))
    }

    @Test func malformedProgramsGiveLocatedWarnings() {
        let (reader, replay) = Self.replay("""
        r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0)

        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0}
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, 0xfffffffffffffffff})
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, 0xzz})
        ioctl$IOMMU_DESTROY$ioas(r0, 0x3b80, &AUTO={0x8, 0x1})) trailing
        ioctl$IOMMU_IOAS_MAP(r0, 0x3b85, &AUTO={0x28, 0x7, r1, 0x0, &AUTO='LLL
        x = ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, 0x0})
        ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0})
        """)
        #expect(reader.warnings.map(\.line) == [2, 4, 5, 6, 7, 8, 9])
        #expect(reader.warnings.allSatisfy { $0.file == "p.syz" && $0.description.hasPrefix("p.syz:") })
        #expect(reader.warnings[0].reason.contains("')' where ',' or '}' should be"))
        #expect(reader.warnings[1].reason.contains("the line ends before the ')' that closes a list"))
        #expect(reader.warnings[2].reason.contains("does not fit in 64 bits"))
        #expect(reader.warnings[3].reason.contains("'0xzz' is not a number"))
        #expect(reader.warnings[4].reason.contains("text after the call's ')'"))
        #expect(reader.warnings[5].reason.contains("the line ends inside a buffer"))
        #expect(reader.warnings[6].reason.contains("'x' is not a resource name"))
        #expect(replay.scenario.contains("# syz 4: ioctl$IOMMU_IOAS_ALLOC(r0, 0x3b81, &AUTO={0xc, 0x0, <r1=>0x0} (not replayed: not a syzkaller call: column"))
        #expect(replay.scenario.contains("r1 = ioas_alloc # syz 10"))
        #expect((try? Scenario(source: replay.scenario)) != nil)
    }

    /// Random damage to the samples' lines, and random bytes: the reader never traps, every
    /// warning is located on a line of the input, and the scenario written always parses.
    @Test func fuzzedProgramsNeverTrapAndAlwaysGiveAScenario() throws {
        var random = SplitMix64(seed: 0x5_7a11)
        let pool = (Samples.lines(Self.test) + Samples.lines(Self.csource) + Self.hwptProgram.split(separator: "\n").map(String.init))
            .filter { !$0.isEmpty && !$0.hasPrefix("//") && !$0.hasPrefix("syscall(") }
        // Every variant's name, to give a call another's layout.
        let names = Set(pool.compactMap { line in line.range(of: "ioctl$").map { String(line[$0.lowerBound...].prefix { $0 != "(" }) } })
            .sorted() + ["ioctl$IOMMU_IOAS_COPY$syz", "ioctl$IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS", "ioctl$IOMMU_TEST_OP_ACCESS_RW$syz"]
        let inserts = ["{", "}", "[", "]", "(", ")", ",", "'", "\"", "<r9=>", "r99", "&AUTO=", "&(0x7f0000fff000/0x100000)=nil",
                       "0xffffffffffffffffff", "AUTO", "nil", "@u=", "\\x", "# EINVAL", "\u{1b}[2J", "\0", "$", "/0x3+0x1"]
        // Every line under every variant's name: the layouts a program may mix up.
        let opening = "r0 = openat$iommufd(0xffffffffffffff9c, &AUTO='/dev/iommu\\x00', 0x0, 0x0)"
        for line in pool {
            guard let name = line.range(of: "ioctl$"), let open = line[name.lowerBound...].firstIndex(of: "(") else { continue }
            for other in names {
                let text = opening + "\n" + line[..<name.lowerBound] + other + line[open...]
                #expect((try? Scenario(source: Self.replay(text).1.scenario)) != nil, "\(other) on \(line)")
            }
        }
        for round in 0..<300 {
            var lines = (0..<(1 + random.below(12))).map { _ in random.pick(pool) }
            for _ in 0..<random.below(6) {
                let index = random.below(lines.count)
                var chars = Array(lines[index])
                let at = chars.isEmpty ? 0 : random.below(chars.count)
                switch random.below(4) {
                case 0: chars.insert(contentsOf: random.pick(inserts), at: at)
                case 3:
                    if let open = lines[index].firstIndex(of: "("), let name = lines[index].range(of: "ioctl$") {
                        chars = Array(lines[index][..<name.lowerBound] + random.pick(names) + lines[index][open...])
                    }
                case 1: chars = Array(chars.prefix(at))
                default: if !chars.isEmpty { chars.remove(at: at) }
                }
                lines[index] = String(chars)
            }
            let text = round % 10 == 9 ? String(decoding: (0..<random.below(600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, as: UTF8.self)
                                      : lines.joined(separator: "\n")
            let (reader, replay) = Self.replay(text)
            let count = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
            #expect(reader.warnings.allSatisfy { ($0.line ?? 0) >= 1 && ($0.line ?? 0) <= count }, "round \(round)")
            let scenario = try? Scenario(source: replay.scenario)
            #expect(scenario != nil, "round \(round)")
            // Running it is a result per line, never a trap.
            if round % 5 == 0, let scenario { #expect(Session().run(scenario).count == scenario.lines.count) }
        }
    }

    /// A deep nest and a huge number are refused, not recursed into or trapped on.
    @Test func nestingAndNumbersAreBounded() {
        let deep = "ioctl$X(r0, 0x3b81, " + String(repeating: "{", count: 10_000) + String(repeating: "}", count: 10_000) + ")"
        let (reader, _) = Self.replay(deep)
        #expect(reader.warnings.first?.reason.contains("nested deeper than") == true)
        let text = "ioctl$X(r0, 99999999999999999999999)"
        #expect(SyzProgramReader.read(text, file: "p").warnings.first?.reason.contains("does not fit in 64 bits") == true)
    }
}
