import Foundation
import Testing
import IOMMUCore
import ScenarioScript

/// The `:` line's completer: command names, the argument names a line has not given, value
/// names (the next flag after `|`), declared devices and IOMMUs, and the names bound so far
/// whose object fits the argument; each with the characters a candidate replaces.
struct CompletionTests {
    /// The default scenario's platform and objects, run to its end.
    static let scenario = """
        iommu smmu0 type=arm-smmu-v3 ias=48 oas=48 stages=1,2
        device nic0 iommu=smmu0 sid=0x100
        device nvme0 iommu=smmu0 sid=0x200
        ram = mmap length=64M align=2M
        nic = device_bind dev=nic0
        nvme = device_bind dev=nvme0
        ioas = ioas_alloc
        m = ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
        s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
        vi = viommu_alloc type=arm_smmuv3 dev_id=nic hwpt_id=s2
        md = test_mock_domain pt_id=ioas

        """

    static func complete(_ line: String, at cursor: Int? = nil, after source: String = scenario) throws -> Completion {
        try Timeline(scenario: source).completion(of: line, cursor: cursor ?? line.count)
    }

    @Test func theFirstWordIsACommand() throws {
        let completion = try Self.complete("ioas_m", after: "")
        #expect(completion == Completion(replacing: 0..<6, candidates: ["ioas_map"]))
        let several = try Self.complete("ioas_al", after: "")
        #expect(several.candidates == ["ioas_alloc", "ioas_allow_iovas"])
        #expect(several.commonPrefix == "ioas_allo")
        let all = try Self.complete("", after: "")
        #expect(all.candidates.count > 40 && all.candidates == all.candidates.sorted() && all.candidates.contains("translate"))
        // After `NAME =` the command comes third.
        #expect(try Self.complete("x = ioas_a", after: "") == Completion(replacing: 4..<10, candidates: ["ioas_alloc", "ioas_allow_iovas"]))
        #expect(try Self.complete("x ", after: "").candidates.isEmpty)
    }

    @Test func argumentNamesNotYetGiven() throws {
        let line = "ioas_map ioas_id=1 "
        let completion = try Self.complete(line, after: "")
        #expect(completion == Completion(replacing: 19..<19, candidates: ["expect=", "flags=", "iova=", "length=", "user_va="]))
        // A key being typed, in the middle of the line: only the characters before the cursor count.
        let middle = try Self.complete("ioas_map le ioas_id=1", at: 11, after: "")
        #expect(middle == Completion(replacing: 9..<11, candidates: ["length="]))
        // The NAME a declaration gives is new; its options come after it.
        #expect(try Self.complete("device ", after: "").candidates.isEmpty)
        #expect(try Self.complete("device d io", after: "").candidates == ["iommu="])
        // In a comment, nothing.
        #expect(try Self.complete("ioas_alloc # ioas_m", after: "").candidates.isEmpty)
    }

    @Test func valueNamesAndTheNextFlagAfterABar() throws {
        #expect(try Self.complete("ioas_map flags=", after: "").candidates == ["fixed_iova", "readable", "writeable"])
        #expect(try Self.complete("ioas_map flags=readable|w", after: "") == Completion(replacing: 24..<25, candidates: ["writeable"]))
        // A flag already written is not offered again.
        #expect(try Self.complete("ioas_map flags=readable|", after: "").candidates == ["fixed_iova", "writeable"])
        #expect(try Self.complete("option option_id=", after: "").candidates == ["huge_pages", "rlimit_mode"])
        #expect(try Self.complete("iommu u type=arm", after: "").candidates == ["arm-smmu-v3"])
        #expect(try Self.complete("device d iommu=u resv=0+4K:m", after: "").candidates == ["msi"])
        #expect(try Self.complete("ioas_alloc expect=EINV", after: "").candidates == ["EINVAL"])
        // An entry's fields inside its braces, then a field's value.
        let entries = "hwpt_invalidate hwpt_id=1 data_type=selftest entries={iot"
        #expect(try Self.complete(entries, after: "").candidates == ["iotlb_id="])
        #expect(try Self.complete("hwpt_invalidate hwpt_id=1 entries={flags=", after: "").candidates.contains("all"))
    }

    @Test func declaredDevicesAndIOMMUs() throws {
        #expect(try Self.complete("device_bind dev=") == Completion(replacing: 16..<16, candidates: ["nic0", "nvme0"]))
        #expect(try Self.complete("device d iommu=").candidates == ["smmu0"])
    }

    @Test func boundNamesThatFitTheArgument() throws {
        // Devices bound by device_bind, and the mock domain's device by its field.
        #expect(try Self.complete("device_attach dev_id=").candidates == ["md.out_idev_id", "nic", "nvme"])
        #expect(try Self.complete("device_attach dev_id=nv").candidates == ["nvme"])
        // A page table is an IOAS, a HWPT or a vIOMMU; the mock domain's HWPT by its field.
        #expect(try Self.complete("device_attach dev_id=nic pt_id=").candidates
                == ["ioas", "md.out_hwpt_id", "s2", "vi"])
        #expect(try Self.complete("ioas_unmap ioas_id=").candidates == ["ioas"])
        #expect(try Self.complete("ioas_copy dst_ioas_id=").candidates == ["ioas"])
        #expect(try Self.complete("ioas_map user_va=").candidates == ["ram"])
        // A sum's term: the word after the last `+`.
        #expect(try Self.complete("ioas_unmap ioas_id=ioas iova=m+") == Completion(replacing: 31..<31, candidates: ["m"]))
        // Any object for destroy; the mmap'd buffer is no object.
        let destroyed = try Self.complete("destroy id=").candidates
        #expect(destroyed.contains("ioas") && destroyed.contains("nic") && destroyed.contains("vi") && !destroyed.contains("ram"))
        // Where a field is typed, the bound line's fields.
        #expect(try Self.complete("check actual=md.out_h").candidates == ["md.out_hwpt_id"])
        // A cache tag is no object: any bound name may give it.
        #expect(try Self.complete("hwpt_invalidate hwpt_id=s2 entries={iotlb_id=r").candidates == ["ram"])
        // Only names bound before the current position.
        let timeline = try Timeline(scenario: Self.scenario)
        timeline.move(to: 6)
        #expect(timeline.completion(of: "device_attach dev_id=", cursor: 21).candidates == ["nic", "nvme"])
        #expect(timeline.completion(of: "ioas_unmap ioas_id=", cursor: 19).candidates.isEmpty)
    }

    /// Every cursor position of every line of the default scenario, and of hostile lines: the
    /// range replaced lies in the line and ends at the cursor, and every candidate begins with
    /// the word it replaces; nothing traps.
    @Test func everyCursorOfEveryLineCompletes() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/iommuscope/Scenarios/default.iommu")
        let hostile = ["{", "}", "a = = =", "x={{{ y", "#", "é = ioas_alloc flags=", "hwpt_invalidate entries={a={b}} {", "= ioas_map",
                       "ioas_map flags=|||", "device d resv=::,:", "check actual=.a.b.", "\t ioas_map\tioas_id=", "ioas_map ioas_id=\u{1b}["]
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init) + hostile
        let timeline = try Timeline(scenario: Self.scenario)
        for line in lines {
            let characters = Array(line)
            for cursor in 0...characters.count {
                let completion = timeline.completion(of: line, cursor: cursor)
                #expect(completion.replacing.lowerBound >= 0 && completion.replacing.upperBound == cursor, "\(line) at \(cursor)")
                let typed = String(characters[completion.replacing])
                #expect(completion.candidates.allSatisfy { $0.hasPrefix(typed) } && completion.candidates == completion.candidates.sorted(),
                        "\(line) at \(cursor)")
            }
        }
    }

    @Test func namesBoundByTypedLinesComplete() throws {
        let timeline = try Timeline(scenario: "")
        _ = timeline.run(command: "first = ioas_alloc")
        _ = timeline.run(command: "second = ioas_alloc")
        #expect(timeline.completion(of: "ioas_unmap ioas_id=", cursor: 19).candidates == ["first", "second"])
    }
}

/// Errors that list the valid choices wherever a word is rejected: the closest commands, the
/// names bound, the value names, the declared devices and IOMMUs; short enough for a status line.
struct ChoiceErrorTests {
    static func reason(_ source: String) -> String {
        do {
            _ = try Scenario(source: source)
            return ""
        } catch {
            return error.errors.first?.reason ?? ""
        }
    }

    @Test func aMistypedCommandSuggestsTheClosest() {
        #expect(Self.reason("ioas_mapp ioas_id=1") == "unknown command 'ioas_mapp' (did you mean 'ioas_map'?)")
        #expect(Self.reason("ioas_alocc") == "unknown command 'ioas_alocc' (did you mean 'ioas_alloc'?)")
        let prefix = Self.reason("hwpt")
        #expect(prefix.hasPrefix("unknown command 'hwpt' (did you mean 'hwpt_alloc', "))
        #expect(prefix.hasSuffix(", …?)") && prefix.count <= 80)
        // Nothing close: as many commands as fit, and how many more.
        let far = Self.reason("frobnicate")
        #expect(far.hasPrefix("unknown command 'frobnicate' (commands: check, close, "))
        #expect(far.contains(", …+"))
        #expect(far.count <= 80)
    }

    @Test func badValueNamesListTheValidOnes() {
        #expect(Self.reason("ioas_map ioas_id=1 user_va=0 length=4K flags=wrteable")
                == "unknown name 'wrteable' (known: fixed_iova, readable, writeable)")
        #expect(Self.reason("iommu u type=arm").hasPrefix("expected one of amd-vi, arm-smmu-v3,"))
        #expect(Self.reason("ioas_alloc expect=EINVL") == "expect= takes ok, fault or an errno name, not 'EINVL' (did you mean 'EINVAL'?)")
        #expect(Self.reason("ioas_alloc flagz=1") == "'ioas_alloc' has no argument 'flagz' (it takes: flags)")
        let many = Self.reason("hwpt_alloc dev_id=1 pt_id=2 data_tipe=selftest")
        #expect(many == "'hwpt_alloc' has no argument 'data_tipe' (did you mean 'data_type'?)")
    }

    @Test func anUnboundNameListsTheNamesBound() {
        #expect(Self.reason("ioas = ioas_alloc\nioas_unmap ioas_id=iaos iova=0 length=4K")
                == "'iaos' is not bound by an earlier line (bound: ioas)")
        #expect(Self.reason("destroy id=x") == "'x' is not bound by an earlier line (bound: none)")
        #expect(Self.reason("a = ioas_alloc\ndestroy id=a.out_hwpt_id") == "'ioas_alloc' has no out field 'out_hwpt_id' (it has: out_ioas_id)")
    }

    @Test func anUndeclaredDeviceOrIOMMUListsTheDeclaredOnes() throws {
        let session = Session()
        let reports = session.run(try Scenario(source: """
            iommu smmu0 type=arm-smmu-v3
            device nic0 iommu=smmu0
            device_bind dev=nic9
            device d iommu=smmu9
            """))
        #expect(reports[2].result.status == .failed("3:17: error: no device named 'nic9' was declared (declared: nic0)"))
        #expect(reports[3].result.status == .failed("4:16: error: no IOMMU named 'smmu9' was declared (declared: smmu0)"))
    }
}
