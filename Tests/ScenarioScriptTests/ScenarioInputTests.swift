import Foundation
import Testing
import IOMMUCore
@testable import ScenarioScript

/// The one error `source` reports, at its line and column.
private func error(of source: String) -> ScenarioError? {
    do {
        _ = try Scenario(source: source)
        return nil
    } catch {
        return error.errors.count == 1 ? error.errors[0] : nil
    }
}

/// Driver structs written by field name: a field the chosen type's struct lacks is a located
/// error, never a silent zero.
struct PayloadArgumentTests {
    @Test func hwptAllocFieldsBelongToTheDataType() throws {
        let wrong = try #require(error(of: "hwpt_alloc dev_id=1 pt_id=2 data_type=vtd_s1 pgtbl_addr=0x1000 iotlb=3"))
        #expect(wrong.line == 1 && wrong.column == 64)
        #expect(wrong.reason == "data_type=vtd_s1 (struct iommu_hwpt_vtd_s1) has no field 'iotlb' (its fields: flags, pgtbl_addr, addr_width)")
        let none = try #require(error(of: "hwpt_alloc dev_id=1 pt_id=2 ste=1,2"))
        #expect(none.column == 29 && none.reason.contains("data_type=0 has no driver struct"))
        let flag = try #require(error(of: "hwpt_alloc dev_id=1 pt_id=2 flags=nest_parent|sre data_type=selftest iotlb=1"))
        #expect(flag.column == 35 && flag.reason.contains("'sre' is not a flag"))
        let words = Scenario.check([ScenarioSourceLine(number: 1, text: .success(
            "hwpt_alloc dev_id=1 pt_id=2 data_type=arm_smmuv3 ste=1,2"))])
        #expect(words.errors.isEmpty)
        #expect(error(of: "hwpt_alloc dev_id=1 pt_id=2 data_type=vtd_s1 flags=sre|wpe pgtbl_addr=0x1000 addr_width=48") == nil)
    }

    @Test func invalidationEntriesBelongToTheDataType() throws {
        let wrong = try #require(error(of: "hwpt_invalidate hwpt_id=1 data_type=vtd_s1 entries={addr=0 iotlb_id=1}"))
        #expect(wrong.column == 60)
        #expect(wrong.reason.contains("(struct iommu_hwpt_vtd_s1_invalidate) has no field 'iotlb_id' (its fields: addr, npages, flags)"))
        let flag = try #require(error(of: "hwpt_invalidate hwpt_id=1 data_type=selftest entries={flags=leaf}"))
        #expect(flag.column == 55 && flag.reason.contains("'leaf' is not a flag"))
        let twice = try #require(error(of: "hwpt_invalidate hwpt_id=1 data_type=selftest entries={flags=0 flags=1}"))
        #expect(twice.column == 63 && twice.reason.contains("given twice"))
        #expect(error(of: "hwpt_invalidate hwpt_id=1 data_type=vtd_s1 entries={addr=0 npages=u64max flags=leaf}") == nil)
    }

    /// Before the target is known both selftest structs are possible; on a vIOMMU only its own is.
    @Test func selftestEntriesAreCheckedAgainstTheTarget() throws {
        let source = """
            ioas = ioas_alloc
            md = test_mock_domain pt_id=ioas
            parent = hwpt_alloc dev_id=md.out_idev_id pt_id=ioas flags=nest_parent
            vi = viommu_alloc type=selftest dev_id=md.out_idev_id hwpt_id=parent
            bad = hwpt_invalidate hwpt_id=vi data_type=selftest entries={flags=0 iotlb_id=1}
            """
        let reports = Session().run(try Scenario(source: source))
        guard case .failed(let reason) = reports[4].result.status else {
            Issue.record("\(reports[4].result.status)")
            return
        }
        #expect(reason.hasPrefix("5:70: error: data_type=selftest on a vIOMMU (struct iommu_viommu_invalidate_selftest) has no field 'iotlb_id'"))
    }

    /// What the name tables could not say: a data_len longer than the struct is EINVAL
    /// (`data_len < src_data->len`), and so is a selftest viommu payload shorter than `out_data`.
    @Test func lengthsFollowTheKernelRules() throws {
        let source = """
            ioas = ioas_alloc
            md = test_mock_domain pt_id=ioas
            parent = hwpt_alloc dev_id=md.out_idev_id pt_id=ioas flags=nest_parent
            hwpt_alloc dev_id=md.out_idev_id pt_id=parent data_type=selftest iotlb=1 data_len=8 expect=EINVAL
            hwpt_alloc dev_id=md.out_idev_id pt_id=parent data_type=selftest iotlb=1 data_len=3 expect=EINVAL
            n = hwpt_alloc dev_id=md.out_idev_id pt_id=parent data_type=selftest iotlb=0x1234 expect=ok
            test_md_check_iotlb id=n iotlb_id=3 iotlb=0x1234 expect=ok
            viommu_alloc type=selftest dev_id=md.out_idev_id hwpt_id=parent in_data=5 data_len=4 expect=EINVAL
            v = viommu_alloc type=selftest dev_id=md.out_idev_id hwpt_id=parent in_data=5 data_len=8 expect=ok
            check actual=v.out_data expected=5
            """
        for report in Session().run(try Scenario(source: source)) {
            #expect(report.passed, "line \(report.line): \(report.command) \(report.result.status)")
        }
    }
}

/// Reading a scenario as bytes, line by line.
struct ScenarioStreamingTests {
    static func lines(_ bytes: [UInt8], chunk: Int) -> [ScenarioSourceLine] {
        let chunks = stride(from: 0, to: bytes.count, by: chunk).map { Array(bytes[$0..<min($0 + chunk, bytes.count)]) }
        return Array(ScenarioLines(chunks: chunks))
    }

    /// Any chunking gives the same lines; "\r\n" ends a line, a lone "\r" does not.
    @Test func chunksDoNotChangeTheLines() {
        let source = Array("a = ioas_alloc\r\n\ndestroy id=a\rx\n# end\n".utf8) + [0xe2, 0x82, 0xac, 0x0a]
        let whole = Self.lines(source, chunk: source.count).map { try? $0.text.get() }
        #expect(whole == ["a = ioas_alloc", "", "destroy id=a\rx", "# end", "€"])
        for size in [1, 2, 3, 7] { #expect(Self.lines(source, chunk: size).map { try? $0.text.get() } == whole) }
        #expect(Self.lines(source, chunk: 1).map(\.number) == [1, 2, 3, 4, 5])
    }

    /// A bad byte is an error at its line and the column of the character it would be.
    @Test func invalidUTF8IsLocated() throws {
        let bytes = Array("ioas_alloc\n".utf8) + Array("destroy id=é".utf8) + [0xff] + Array(" x\nioas_alloc flags=".utf8) + [0xc3]
        let errors = Scenario.check(Self.lines(bytes, chunk: 5)).errors
        #expect(errors.map(\.line) == [2, 3])
        #expect(errors.map(\.column) == [13, 18])
        #expect(errors.first?.reason == "invalid UTF-8 (byte 0xff)")
    }

    /// The first pass keeps only errors and counts; it reports every bad line.
    @Test func checkReportsEveryBadLineAndCounts() {
        let source = "a = ioas_alloc expect=ok\nfrob\ncheck actual=a expected=1\ndestroy id=b\n\n"
        let check = Scenario.check(Self.lines(Array(source.utf8), chunk: 4))
        #expect(check.errors.map(\.line) == [2, 4])
        let good = Scenario.check(Self.lines(Array("a = ioas_alloc expect=ok\ncheck actual=a expected=1\ndestroy id=a\n".utf8), chunk: 3))
        #expect(good.errors.isEmpty && good.commandCount == 3 && good.expectationCount == 2)
    }

    /// Streaming runs give exactly the reports of a scenario parsed whole.
    @Test func streamedRunMatchesTheWholeScenario() throws {
        let url = try #require(Bundle.module.url(forResource: "Scenarios", withExtension: nil))
        let source = try String(contentsOf: url.appendingPathComponent("kernel-selftest/viommu_vdevice_cache.iommu"), encoding: .utf8)
        let whole = Session().run(try Scenario(source: source)).map(\.json)
        var streamed: [String] = []
        try Session().run(lines: Self.lines(Array(source.utf8), chunk: 64)) { streamed.append($0.json) }
        #expect(streamed == whole)
    }

    /// Error text escapes the control characters it echoes.
    @Test func errorDescriptionsEscapeControlCharacters() throws {
        let located = try #require(error(of: "ioas_alloc flags=\u{1b}[2J"))
        #expect(located.description == "1:18: error: unknown name '\\x1b[2J' (known: none)" || !located.description.contains("\u{1b}"))
        #expect(!located.description.unicodeScalars.contains { $0.value == 0x1b })
    }
}
