import Foundation
import IOMMUCore
import Testing
@testable import HostImport

@Suite struct HostReaderTests {
    static func read(_ tree: String) -> (snapshot: HostSnapshot, warnings: [ImportWarning]) {
        HostReader.read(from: DirectorySource(root: tree))
    }

    @Test func intelTree() {
        let (host, warnings) = Self.read(HostTrees.intel)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(host.kernel == "6.8.0-45-generic")
        #expect(host.cmdline?.hasSuffix("intel_iommu=on,sm_on iommu.strict=0") == true)
        #expect(host.iommus.map(\.name) == ["dmar0", "dmar1", "dmar2"])
        let dmar1 = host.iommu(named: "dmar1")
        #expect(dmar1?.registers == .intelVTd(cap: 0x1c0_000c_4066_0462, ecap: 0x29a_00f0_505e))
        #expect(dmar1?.registerBase == 0xfed9_0000)
        #expect(dmar1?.version == "1:0")
        #expect(dmar1?.devices == ["0000:00:02.0"])
        #expect(host.groups.map(\.id) == [0, 1, 2, 3, 4, 5])
        #expect(host.group(5)?.devices == ["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3", "0000:00:1f.4"])
        #expect(host.group(5)?.reservedRegions.first == HostReservedRegion(range: IOVARange(start: 0, last: 0xff_ffff), type: .directRelaxable))
        #expect(host.group(1)?.defaultDomain == .dmaFQ)
        let graphics = host.device(named: "0000:00:02.0")
        #expect(graphics?.group == 1)
        #expect(graphics?.iommu == "dmar1")
        #expect(graphics?.driver == "i915")
        #expect(graphics?.vendor == 0x8086)
        #expect(graphics?.deviceID == 0x5916)
        #expect(graphics?.classCode == 0x03_0000)
        #expect(host.device(named: "0000:00:1f.0")?.driver == nil)
        #expect(host.devices.count == 9)
    }

    /// amd-iommu/features goes through `AMDFeaturesForm.parse` (the register-decode work's):
    /// whatever it gives lands in the unit, or the file is warned about, located.
    @Test func amdTree() {
        let (host, warnings) = Self.read(HostTrees.amd)
        let unit = host.iommu(named: "ivhd0")
        #expect(unit?.architecture == .amdVi)
        #expect(unit?.capabilityHeader == 0x190b_640f)
        #expect(unit?.devices.count == 8)
        if let parsed = AMDFeaturesForm.parse("25bf732fa2295afe:53d") {
            #expect(unit?.registers == .amdVi(efr: parsed.efr, efr2: parsed.efr2))
            #expect(unit?.featuresForm == parsed.form)
            #expect(warnings.isEmpty, "\(warnings)")
        } else {
            #expect(unit?.registers == nil)
            #expect(warnings == [ImportWarning(file: "sys/class/iommu/ivhd0/amd-iommu/features", line: 1,
                                               reason: "not EFR (%llx) or EFR:EFR2 (%llx:%llx)")])
        }
        #expect(host.group(3)?.devices == ["0000:01:00.0", "0000:01:00.1"])
        #expect(host.group(3)?.reservedRegions.map(\.type) == [.direct, .msi, .reserved])
        #expect(host.group(0)?.type == "identity")
        #expect(host.notes.contains { $0.contains("v6.17") })
        #expect(!host.notes.contains { $0.contains("not mounted") })
    }

    @Test func armTree() {
        let (host, warnings) = Self.read(HostTrees.arm)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(host.iommus.map(\.name) == ["smmu3.0x00000000fc900000"])
        #expect(host.iommus.first?.architecture == .armSMMUv3)
        #expect(host.iommus.first?.registers == nil)
        let nic = host.device(named: "0002:21:00.0")
        #expect(nic?.iommu == "smmu3.0x00000000fc900000")
        #expect(nic?.pci == PCIAddress(segment: 2, bus: 0x21, device: 0, function: 0))
        #expect(host.group(1)?.reservedRegions.count == 5)
        #expect(host.notes == ["arm-smmu-v3 has no debugfs: SMMUv3 stream and page tables cannot be read",
                               "debugfs not mounted or not readable (it needs root): no page tables"])
    }

    /// IMPORT.md §2's shape: the keys, integers for ids, 0x strings for registers and
    /// addresses, inclusive `last`, absent facts omitted.
    @Test func jsonShape() throws {
        let (host, _) = Self.read(HostTrees.intel)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(host.jsonText().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["format", "version", "kernel", "cmdline", "iommus", "groups", "devices", "notes"])
        #expect(object["format"] as? String == "iommuscope-host")
        #expect(object["version"] as? Int == 0)
        let units = try #require(object["iommus"] as? [[String: Any]])
        #expect(units[1]["name"] as? String == "dmar1")
        #expect(units[1]["arch"] as? String == "intel-vtd")
        #expect(units[1]["cap"] as? String == "0x1c0000c40660462")
        #expect(units[1]["ecap"] as? String == "0x29a00f0505e")
        #expect(units[1]["devices"] as? [String] == ["0000:00:02.0"])
        let groups = try #require(object["groups"] as? [[String: Any]])
        #expect(groups[5]["id"] as? Int == 5)
        #expect(groups[5]["type"] as? String == "DMA-FQ")
        let regions = try #require(groups[5]["reserved_regions"] as? [[String: String]])
        #expect(regions[0] == ["start": "0x0", "last": "0xffffff", "type": "direct-relaxable"])
        let devices = try #require(object["devices"] as? [[String: Any]])
        let isa = try #require(devices.first { $0["name"] as? String == "0000:00:1f.0" })
        #expect(isa["group"] as? Int == 5)
        #expect(isa["iommu"] as? String == "dmar2")
        #expect(isa["driver"] == nil)
        #expect(!host.jsonText().contains("\n"))

        var bare = HostSnapshot()
        bare.groups = [HostGroup(id: 3)]
        let minimal = try #require(try JSONSerialization.jsonObject(with: Data(bare.jsonText().utf8)) as? [String: Any])
        #expect(minimal["kernel"] == nil)
        #expect((minimal["groups"] as? [[String: Any]])?.first?["type"] == nil)
    }

    @Test func amdFeaturesInJSONSayTheirOrder() throws {
        var host = HostSnapshot()
        var unit = HostIOMMU(name: "ivhd0", architecture: .amdVi)
        unit.registers = .amdVi(efr: 0x25bf_732f_a229_5afe, efr2: 0x53d)
        unit.featuresForm = .efrThenEFR2
        host.iommus = [unit]
        #expect(host.jsonText().contains(#""features":{"efr":"0x25bf732fa2295afe","efr2":"0x53d","order":"efr:efr2"}"#))
    }

    @Test func reportSaysWhatPassthroughMeans() {
        let intel = HostReport.text(Self.read(HostTrees.intel).snapshot)
        #expect(intel.contains("Kernel: 6.8.0-45-generic"))
        #expect(intel.contains("iommu.strict=0: lazy invalidation"))
        #expect(intel.contains("group 5 holds 4 devices"))
        #expect(intel.contains("0000:00:02.0 [8086:5916] class 0x030000, driver i915, via dmar1"))
        #expect(intel.contains("not what is attached now"))
        #expect(intel.contains("0xfee00000-0xfeefffff msi (groups 0, 1, 2, 3, 4, 5): the MSI window"))
        #expect(intel.contains("EADDRINUSE"))
        let amd = HostReport.text(Self.read(HostTrees.amd).snapshot)
        #expect(amd.contains("0x9d7fe000-0x9d800fff direct (group 3): its devices require a 1:1 map (require_direct), so claiming DMA ownership for VFIO or iommufd fails with EINVAL"))
        #expect(amd.contains("iommu=pt: passthrough"))
    }

    /// Names and texts from the host are escaped for the terminal in the report.
    @Test func hostilTextIsEscaped() {
        var host = HostSnapshot()
        host.kernel = "6.8\u{1b}]0;owned\u{07}"
        host.cmdline = "quiet \u{1b}[2J"
        var group = HostGroup(id: 1)
        group.type = "DMA"
        group.devices = ["evil\u{1b}[31m"]
        host.groups = [group]
        host.notes = ["note \u{9b}"]
        let text = HostReport.text(host)
        #expect(!text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x9b })
        #expect(text.contains("\\x1b[31m"))
    }

    @Test func missingPiecesBecomeNotes() throws {
        let root = try HostTrees.copy(HostTrees.intel)
        defer { HostTrees.remove(root) }
        let manager = FileManager.default
        try manager.removeItem(atPath: root + "/sys/kernel/debug")
        try manager.removeItem(atPath: root + "/proc/cmdline")
        for id in 0...5 { try manager.removeItem(atPath: root + "/sys/kernel/iommu_groups/\(id)/type") }
        try "garbage\n".write(toFile: root + "/sys/class/iommu/dmar0/intel-iommu/cap", atomically: false, encoding: .utf8)
        let (host, warnings) = Self.read(root)
        #expect(host.cmdline == nil)
        #expect(host.groups.allSatisfy { $0.type == nil })
        #expect(host.notes.contains("no /proc/cmdline: boot options unknown"))
        #expect(host.notes.contains("no type file in 6 groups (kernels before v5.11 have none): default domain type unknown"))
        #expect(host.notes.contains("debugfs not mounted or not readable (it needs root): no page tables"))
        #expect(host.iommu(named: "dmar0")?.registers == nil)
        #expect(warnings == [ImportWarning(file: "sys/class/iommu/dmar0/intel-iommu/cap", line: 1, reason: "not a hex value: garbage")])
    }

    @Test func anEmptyRootIsReadWithNotes() {
        let (host, warnings) = HostReader.read(from: SnapshotSource(capture: HostCapture()))
        #expect(host.iommus.isEmpty && host.groups.isEmpty && host.devices.isEmpty)
        #expect(warnings.isEmpty)
        #expect(host.notes.count == 4)
    }
}
