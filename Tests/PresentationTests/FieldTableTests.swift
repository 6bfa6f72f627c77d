import Testing
import IOMMUCore
@testable import Presentation

/// The bits table and the index strip the CLI's `--explain` and the inspector's bits views share.
struct FieldTableTests {
    /// High bits first; one shared reference goes to the heading, not a column.
    @Test func oneFormatsFieldsShareTheirReference() {
        let format = VTdSecondStage()
        let fields = format.fields(of: format.encodeLeaf(0x1_2345_6000, size: 4096, level: 1, prot: [.read, .write]), level: 1)
        #expect(FieldTable.heading(fields) == "fields (VT-d spec 9.8 (second-stage paging entries)):")
        let lines = FieldTable.table(fields).lines()
        #expect(lines.first == " bits  field                 value  meaning")
        #expect(lines[1].hasPrefix("   62  TM  "))
        #expect(lines.contains("51:12  output address  0x123456000  base of the page the input address lands in"))
        #expect(lines.last?.hasPrefix("    0  R                         1  read permission") == true)
    }

    /// Fields citing several sections (a structure's and a host import's) keep a column.
    @Test func mixedReferencesKeepTheColumn() {
        let fields = [DescriptorField(SMMUv3.StreamTableEntry.Field.v, 1), DescriptorField(SMMUv3.ContextDescriptor.Field.v, 0)]
        #expect(FieldTable.heading(fields) == "fields:")
        let lines = FieldTable.table(fields).lines()
        #expect(lines.first?.hasSuffix("reference") == true)
        #expect(lines.contains { $0.hasSuffix("SMMUv3 spec 5.2 (STE)") })
        #expect(lines.contains { $0.hasSuffix("SMMUv3 spec 5.4 (CD)") })
    }

    @Test func indexStrip() {
        #expect(FieldTable.indexStrip(ArmLPAE(stage: .stage1, granule: 65536, ias: 48, oas: 48), address: 0x1234_5678_9abc)
                == "[47:42] L1=0x4 | [41:29] L2=0x11a2 | [28:16] L3=0x1678 | [15:0] offset=0x9abc")
        #expect(FieldTable.indexStrip(AMDv1(mode: 3), address: 0x40_2000_3123)
                == "[38:30] L3=0x100 | [29:21] L2=0x100 | [20:12] L1=0x3 | [11:0] offset=0x123")
    }
}
