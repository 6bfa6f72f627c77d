import HostImport
import Testing
@testable import iommuscope

/// `faults --host`/`--scenario --json`: each record's line gains an `"explanation"` object.
@Suite struct FaultsExplanationJSONTests {
    @Test func explanationIsAddedAfterTheRecordFields() {
        var record = FaultRecord(sourceLine: 3, architecture: .intelVTd, reason: "0x06")
        record.address = 0x7ebb_0000
        #expect(faultJSONLine(record, explanation: nil) == #"{"source_line":3,"arch":"intel-vtd","address":"0x7ebb0000","reason":"0x06"}"#)
        let explanation = FaultExplanation(record: record, device: "0000:2f:00.1", outcome: .notWalked("no tables"),
                                           cause: .unknownTables, sentence: "the \"tables\" were not dumped")
        #expect(faultJSONLine(record, explanation: explanation) ==
            #"{"source_line":3,"arch":"intel-vtd","address":"0x7ebb0000","reason":"0x06","explanation":{"device":"0000:2f:00.1","cause":"unknown-tables","sentence":"the \"tables\" were not dumped"}}"#)
    }
}
