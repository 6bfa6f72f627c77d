import Foundation
import HostImport
import IOMMUCore
import ScenarioScript
import TerminalUI
import Testing
import TestSupport
@testable import Inspector

/// The inspector on a host (`tui --host`): the host tree of each architecture, the details
/// of its units, groups, devices and kernel domains, a kernel domain in the page-table
/// browser and the walk view (undumped ranges unknown, not empty), and the faults pane.
@Suite struct HostInspectorTests {
    static func app(_ model: InspectorModel) throws -> InspectorApp {
        InspectorApp(model: model, theme: try InspectorThemes.load("mono"), symbols: .unicode)
    }

    static func labels(_ model: InspectorModel) -> [String] {
        ObjectTreePane().rows(model.view).map { String(repeating: "  ", count: $0.depth) + $0.label }
    }

    @Test func vtdTreeShowsUnitsGroupsDevicesAndKernelDomains() throws {
        let model = try HostFixtures.model(.vtd)
        let root = try #require(model.view.host?.tables.table(device: "0000:00:02.0")).root
        #expect(model.view.host?.tables.table(device: "0000:00:02.0")?.format.name == "vtd-ss 4-level aw=48")
        let labels = Self.labels(model)
        let expected = [
            "Host  6.8.0-45-generic",
            "  dmar0  intel-vtd  3 groups",
            "    group 1  DMA-FQ  1 device",
            "      0000:00:02.0  i915",
            "        DMA-FQ domain  vtd-ss 4-level aw=48 @ \(root.hex)  partial (1 range unknown)",
            "    group 2  identity  1 device",
            "      0000:00:14.0  xhci_hcd",
            "        identity (pass-through)  no table: DMA address = PA",
            "    group 3  DMA  1 device",
            "      0000:00:1f.3  snd_hda_intel",
            "        DMA domain  table unknown (not dumped)",
            "iommufd",
        ]
        #expect(labels == expected)
        let rows = ObjectTreePane().rows(model.view)
        #expect(rows.first { $0.label.hasPrefix("DMA-FQ domain") }?.host == .kernelDomain(device: "0000:00:02.0", pasid: nil))
        #expect(rows.first { $0.label.hasPrefix("group 2") }?.host == .group(2))
    }

    @Test func amdAndArmTreesShowTheirDomainKinds() throws {
        let amd = Self.labels(try HostFixtures.model(.amd))
        #expect(amd.contains("  ivhd0  amd-vi  2 groups"))
        #expect(amd.contains { $0.hasPrefix("        DMA domain  amd-v1 mode=3 @ 0x") && $0.hasSuffix("  complete") })
        #expect(amd.contains("        blocked  no table: DMA faults"))
        #expect(amd.contains("      0000:00:14.3"))
        let arm = Self.labels(try HostFixtures.model(.arm))
        #expect(arm.contains("  smmu3.0x00000000fc900000  arm-smmu-v3  1 group"))
        #expect(arm.contains("    group 0  type unknown  1 device"))
        #expect(arm.contains("        domain (type unknown)  not dumped"))
    }

    /// A device with a PASID table dumped (v6.7's per-PASID files) has a second domain row,
    /// whose table opens on its own.
    @Test func pasidTablesAreDomainsOfTheirOwn() throws {
        var inspection = HostFixtures.inspection(.vtd)
        let rebuild = inspection.rebuild
        inspection.rebuild = { machine in
            var report = rebuild(machine)
            if let rid = report.tables.first {
                report.tables.append(HostDomainTable(unit: rid.unit, device: rid.device, pasid: 1, format: rid.format, root: rid.root,
                                                     coverage: .rootOnly(reason: "the PASID table was not dumped")))
            }
            return report
        }
        let model = try InspectorModel(host: inspection, scenario: nil, title: "host")
        #expect(Self.labels(model).contains { $0.hasPrefix("        pasid 1 PASID domain  vtd-ss 4-level aw=48 @ 0x") && $0.hasSuffix("root only") })
        let app = try Self.app(model)
        app.selectInTree("pasid 1")
        #expect(app.screen().contains("only the root is known: the PASID table was"))
        app.press(.enter)
        // Root only: every empty entry is unknown.
        #expect(app.screen().contains("0x001–0x1ff  511 unknown"))
    }

    /// Groups whose devices no known unit translates stay in the tree, after the units, in
    /// the order sysfs listed them.
    @Test func groupsWithoutAUnitFollowTheUnits() throws {
        var inspection = HostFixtures.inspection(.vtd)
        for id: UInt32 in [9, 8] {
            var orphan = HostGroup(id: id)
            orphan.type = "DMA"
            orphan.devices = ["orphan\(id)"]
            inspection.snapshot.groups.append(orphan)
        }
        let model = try InspectorModel(host: inspection, scenario: nil, title: "host")
        let labels = Self.labels(model)
        let tail = Array(labels.suffix(7))
        #expect(tail == ["  group 9  DMA  1 device", "    orphan9", "      DMA domain  table unknown (not dumped)",
                         "  group 8  DMA  1 device", "    orphan8", "      DMA domain  table unknown (not dumped)", "iommufd"])
    }

    /// A scenario on the host: its iommufd objects appear below the host's, whose rows stay.
    /// (Binding a host device by its BDF needs BDF names in the scenario language, which
    /// the host-platform work adds; then the device's row links to its DEVICE.)
    @Test func scenarioObjectsAppearAlongsideTheHost() throws {
        let scenario = """
            iommu vt1 type=intel-vtd aw=48
            device nic0 iommu=vt1 rid=0x0300
            nic = device_bind dev=nic0
            ioas = ioas_alloc
            device_attach dev_id=nic pt_id=ioas expect=ok
            """
        let model = try HostFixtures.model(.vtd, scenario: scenario)
        let timeline = model.view.timeline
        #expect(timeline.count == 5 && timeline.markCount == 0 && (0..<timeline.count).allSatisfy { timeline.outcome($0).status == .ok })
        let labels = Self.labels(model)
        #expect(labels.prefix(4) == ["Host  6.8.0-45-generic", "  dmar0  intel-vtd  3 groups", "    group 1  DMA-FQ  1 device", "      0000:00:02.0  i915"])
        #expect(labels.contains { $0.hasPrefix("  IOAS 2") })
        #expect(labels.contains { $0.hasPrefix("  DEVICE 1  nic0") })
        // Stepping back replays onto a fresh machine with the kernel tables rebuilt in it.
        model.step(to: 0)
        let host = try #require(model.view.host)
        let table = try #require(host.tables.table(device: "0000:00:02.0"))
        let leaf = TableCursor(format: table.format, root: table.root, stage: .stage2, read: host.read).steps(to: HostFixtures.vtdIOVA).last
        #expect(leaf.map { table.format.outputAddress(of: $0.descriptor, level: $0.level) } == HostFixtures.vtdOutput)
    }

    /// The host's own row: kernel, command line, counts, and what could not be read.
    @Test func hostRowDetailsSayWhatWasRead() throws {
        let app = try Self.app(try HostFixtures.model(.vtd))
        let lines = DetailsPane().lines(app.context(for: .details)).map(\.text)
        #expect(lines == ["Host  kernel 6.8.0-45-generic", "cmdline BOOT_IMAGE=/vmlinuz intel_iommu=on", "1 IOMMU unit  3 groups  3 devices",
                          "kernel tables rebuilt: 1 table, 4 descriptors placed", "notes:",
                          "  - no domain dump for 0000:00:1f.3: its tables", "  are unknown"])
    }

    @Test func unitDetailsShowTheRegistersAndEveryDecodedField() throws {
        let app = try Self.app(try HostFixtures.model(.vtd))
        app.selectInTree("dmar0")
        let screen = app.screen()
        #expect(screen.contains("dmar0  intel-vtd"))
        #expect(screen.contains("version 1:0  registers @ 0xfed90000"))
        #expect(screen.contains("cap 0xd2008c40660462  ecap 0xf050da"))
        // Every decoded field is in the details (the pane scrolls past the first screenful).
        let details = DetailsPane().lines(app.context(for: .details)).map(\.text).joined(separator: "\n")
        let fields = UnitCapabilities.decode(.intelVTd(cap: 0x00d2_008c_4066_0462, ecap: 0xf0_50da)).fields
        #expect(fields.count > 40)
        for field in fields { #expect(details.contains("\(field.name) [\(field.bits)]"), "\(field.name) is missing") }
    }

    @Test func groupDetailsExplainTheReservedRegionsForAssignment() throws {
        let app = try Self.app(try HostFixtures.model(.vtd))
        app.selectInTree("group 1")
        let lines = DetailsPane().lines(app.context(for: .details)).map(\.text)
        #expect(lines.first == "iommu group 1  default domain DMA-FQ")
        #expect(lines.contains("  0x7b800000-0x7fffffff  direct"))
        #expect(lines.contains("  0xfee00000-0xfeefffff  msi"))
        let text = lines.joined(separator: " ")
        #expect(text.contains("flush queue"))
        #expect(text.contains("assignment fails"))
        app.selectInTree("group 2")
        let relaxable = DetailsPane().lines(app.context(for: .details)).map(\.text).joined(separator: " ")
        #expect(relaxable.contains("direct-relaxable"))
        #expect(relaxable.contains("assignment works"))
        #expect(relaxable.contains("Pass-through"))
    }

    @Test func deviceAndKernelDomainDetails() throws {
        let model = try HostFixtures.model(.vtd)
        let app = try Self.app(model)
        app.selectInTree("0000:00:02.0")
        var lines = DetailsPane().lines(app.context(for: .details)).map(\.text)
        #expect(lines.contains("PCI segment 0x0 bus 0x0 device 0x2 function 0  requester id 0x10"))
        #expect(lines.contains("vendor 0x8086  device 0x46a6  class 0x30000"))
        #expect(lines.contains("driver i915"))
        #expect(lines.contains("group 1 (DMA-FQ)  unit dmar0"))
        app.selectInTree("DMA-FQ domain")
        lines = DetailsPane().lines(app.context(for: .details)).map(\.text)
        let root = try #require(model.view.host?.tables.table(device: "0000:00:02.0")).root
        #expect(lines.contains("format vtd-ss 4-level aw=48  root \(root.hex)"))
        #expect(lines.contains("  unknown 0x100000000-0x1ffffffff"))
        #expect(lines.joined(separator: " ").contains("unknown, not empty"))
        app.selectInTree("DMA domain")
        #expect(DetailsPane().lines(app.context(for: .details)).map(\.text).joined(separator: " ").contains("debugfs did not show the table"))
    }

    /// The browser reads the rebuilt descriptors at the root the dump gave; the undumped 4G-8G
    /// range shows as unknown entries, not as empty ones.
    @Test func kernelDomainInThePageTableBrowser() throws {
        let model = try HostFixtures.model(.vtd)
        let app = try Self.app(model)
        app.selectInTree("DMA-FQ domain")
        // Enter on a kernel domain's row opens its table.
        app.press(.enter)
        #expect(app.main == .pageTable && app.focus == .pageTable)
        let host = try #require(model.view.host)
        let table = try #require(host.tables.table(device: "0000:00:02.0"))
        var screen = app.screen()
        #expect(screen.contains("0000:00:02.0 DMA-FQ domain ▸ L4 "))
        #expect(screen.contains("L4 table @ PA \(table.root.hex), 1/512 entries used  vtd-ss 4-level aw=48  partial"))
        let l3 = table.format.outputAddress(of: try #require(host.read(table.root)), level: table.format.rootLevel)
        let entry = try #require(host.read(table.root))
        #expect(screen.contains("0x000  \(table.root.hex)  \(String(format: "%016llx", entry))  table"))
        app.press(.enter)
        screen = app.screen()
        #expect(screen.contains("L3 table @ PA \(l3.hex)"))
        #expect(screen.contains("0x004–0x007  4 unknown  0x100000000–0x1ffffffff  (not dumped)"))
        #expect(screen.contains("0x008–0x1ff  504 empty"))
        #expect(screen.contains("0x000–0x001  2 empty"))
        // Down to the leaf: the 4K page at 0x8d800000 maps the buffer's PA.
        app.press(.enter, .enter)
        screen = app.screen()
        #expect(screen.contains("page   0x8d800000–0x8d800fff → \(HostFixtures.vtdOutput.hex)"))
    }

    @Test func kernelDomainWalkMapsUnknownAndUnmapped() throws {
        let app = try Self.app(try HostFixtures.model(.vtd))
        app.selectInTree("DMA-FQ domain")
        app.press(.character("4"))
        var screen = app.screen()
        #expect(screen.contains("0000:00:02.0 DMA-FQ domain ▸ IOVA 0x8d800000 ▸ read ▸ no PASID ▸ kernel table"))
        #expect(screen.contains("kernel table: 4 fetches → PA \(HostFixtures.vtdOutput.hex)"))
        app.search("0x120000000")
        screen = app.screen()
        #expect(screen.contains("the dumps did not cover 0x120000000: unknown, not known to be unmapped"))
        app.search("0x8d900000")
        #expect(app.screen().contains("kernel table: 0x8d900000 is not mapped: the walk stops at L1 (invalid)"))
        // A domain without a table says why instead of walking.
        app.press(.character("1"))
        app.selectInTree("identity")
        app.press(.character("4"))
        #expect(app.screen().contains("identity (pass-through): no table: DMA address = PA."))
    }

    @Test func faultsPaneRowsSentenceAndEnterOpensTheWalk() throws {
        let model = try HostFixtures.vtdWithFaults()
        let app = try Self.app(model)
        app.press(.character("6"))
        var screen = app.screen()
        #expect(app.main == .faults)
        #expect(screen.contains("3 logged faults"))
        #expect(screen.contains("0000:00:02.0 0x8d900000  0x06   unmapped       12"))
        #expect(screen.contains("0000:42:00.0 0x1000      0x02   no-device      20"))
        #expect(screen.contains("0x8d900000 is not mapped in 0000:00:02.0's DMA domain"))
        app.press(.enter)
        #expect(app.main == .walk)
        #expect(app.focus == .walk)
        screen = app.screen()
        #expect(screen.contains("host 0000:00:02.0 ▸ IOVA 0x8d900000 ▸ read ▸ no PASID ▸ logged at line 12"))
        // The fault fixes the walk: the device keys say so instead of walking something else.
        app.press(.character("d"))
        #expect(app.screen().contains("this walk is fixed (logged at line 12): d, p, c and w walk a DEVICE"))
        #expect(screen.contains("model walk: FAULT at stage 2 level 1"))
        // The explanation's own steps, the last one the empty PTE.
        guard case .faulted(let fault)? = model.faults.first?.outcome else { Issue.record("no walked fault"); return }
        let steps = fault.steps
        #expect(steps.count == 4)
        #expect(screen.contains(steps[3].entryAddress.hex))
        app.press(.character("2"))
        screen = app.screen()
        #expect(screen.contains("fault at line 12  intel-vtd  dmar0"))
        #expect(screen.contains("logged 0x06: PTE Read access is not set"))
        #expect(screen.contains("cause unmapped"))
        // Down to the next fault: the details follow it.
        app.press(.character("6"), .character("j"), .character("j"), .character("2"))
        screen = app.screen()
        #expect(screen.contains("fault at line 20"))
        #expect(screen.contains("not walked: no device 0000:42:00.0 on the host"))
        // The tree takes the panes back.
        app.press(.character("1"), .character("j"))
        #expect(app.inspected == nil)
    }

    /// Everything from the host or the log reaches the screen escaped.
    @Test func hostAndLogTextIsEscaped() throws {
        var inspection = HostFixtures.inspection(.vtd)
        inspection.snapshot.kernel = "6.8\u{1b}]0;pwned\u{07}"
        inspection.snapshot.devices[0].driver = "i915\u{1b}[2J"
        inspection.snapshot.groups[0].type = "DMA\r\n"
        let bare = try HostFixtures.model(.vtd)
        let model = try InspectorModel(host: inspection, scenario: nil, title: "host", faults: HostFixtures.vtdFaults(bare))
        let app = try Self.app(model)
        for keys in [[Key](), [.character("j"), .character("j")], [.character("j"), .character("j"), .character("j")],
                     [.character("6"), .character("G")], [.character("2")]] {
            app.press(keys)
            let text = app.screen(width: 120, height: 40)
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7f })
        }
        #expect(Self.labels(model).contains("      0000:00:02.0  i915\\x1b[2J"))
        #expect(Self.labels(model).contains("    group 1  DMA\\r\\n  1 device"))
    }

    /// The host views fit 80x24 and 120x40: every drawn row is inside the frame.
    @Test(arguments: [(80, 24), (120, 40)])
    func hostViewsFit(_ width: Int, _ height: Int) throws {
        let app = try Self.app(try HostFixtures.vtdWithFaults())
        for keys: [Key] in [[], [.character("j")], [.character("3")], [.character("4")], [.character("6")], [.enter], [.character("2")]] {
            app.press(keys)
            let frame = app.render(width: width, height: height)
            #expect(frame.width == width && frame.height == height)
            #expect(frame.text.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { CellBuffer.width(of: String($0)) <= width })
        }
    }
}

extension InspectorApp {
    func press(_ keys: [Key]) { for key in keys { _ = handle(.key(key)) } }
}

/// Random hosts (names and words with control characters, escape sequences and odd
/// lengths, every group type, missing links) and random keys: nothing traps, every frame
/// stays inside the terminal, and no control character reaches it.
@Suite struct HostInspectorFuzzTests {
    static let pieces = ["0000:00:02.0", "dmar0", "ivhd1", "\u{1b}[2J", "\u{1b}]0;x\u{07}", "\r\n", "\u{202e}", "é", "i915", "DMA-FQ",
                         "identity", "blocked", "unmanaged", "DMA", "", String(repeating: "w", count: 300), "\u{7f}", "\u{9b}31m"]

    static func word(_ random: inout SplitMix64) -> String {
        (0..<random.below(3) + 1).map { _ in random.pick(pieces) }.joined()
    }

    static func snapshot(_ random: inout SplitMix64) -> HostSnapshot {
        var snapshot = HostSnapshot()
        snapshot.kernel = word(&random)
        if random.chance(1, in: 2) { snapshot.cmdline = word(&random) }
        snapshot.notes = (0..<random.below(3)).map { _ in word(&random) }
        let architectures: [IOMMUArchitecture] = [.intelVTd, .amdVi, .armSMMUv3]
        for index in 0..<random.below(3) {
            var unit = HostIOMMU(name: word(&random) + "\(index)", architecture: random.pick(architectures))
            if random.chance(1, in: 2) { unit.registers = .intelVTd(cap: random.next(), ecap: random.next()) }
            unit.version = random.chance(1, in: 2) ? word(&random) : nil
            snapshot.iommus.append(unit)
        }
        for id in 0..<UInt32(random.below(4)) {
            var group = HostGroup(id: id)
            group.type = random.chance(3, in: 4) ? word(&random) : nil
            for _ in 0..<random.below(3) {
                let name = word(&random)
                group.devices.append(name)
                var device = HostDevice(name: name)
                device.group = random.chance(3, in: 4) ? id : nil
                device.iommu = snapshot.iommus.isEmpty || random.chance(1, in: 4) ? nil : random.pick(snapshot.iommus).name
                device.driver = random.chance(1, in: 2) ? word(&random) : nil
                snapshot.devices.append(device)
            }
            for _ in 0..<random.below(3) {
                let start = random.next(), last = max(start, start &+ random.below(UInt64(1) << 32))
                group.reservedRegions.append(HostReservedRegion(range: IOVARange(start: start, last: last),
                                                                type: random.pick(HostReservedRegionType.allCases)))
            }
            snapshot.groups.append(group)
        }
        return snapshot
    }

    @Test(arguments: 0..<10) func randomHostsAndKeys(_ seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 0x9e37_79b9 &+ 1)
        let snapshot = Self.snapshot(&random)
        // The tables of a random device, some partial, all in the VT-d fixture's memory.
        let device = snapshot.devices.first?.name ?? "none"
        let coverage: TableCoverage = random.pick([.complete, .partial(unknown: [IOVARange(start: 0, last: random.next())]), .rootOnly(reason: "\u{1b}[1m")])
        let rebuild = HostFixtures.rebuild(.vtd)
        let inspection = HostInspection(snapshot: snapshot, platform: PlatformDescription()) { machine in
            var report = rebuild(machine)
            report.tables = report.tables.map { HostDomainTable(unit: $0.unit, device: device, pasid: $0.pasid, format: $0.format, root: $0.root, coverage: coverage) }
            return report
        }
        let model = try InspectorModel(host: inspection, scenario: nil, title: "fuzz")
        let app = InspectorApp(model: model, theme: try InspectorThemes.load("mono"), symbols: .unicode)
        let keys: [Key] = [.down, .down, .up, .enter, .left, .right, .character("j"), .character("k"), .character(" "), .character("2"),
                           .character("3"), .character("4"), .character("1"), .character("G"), .character("g"), .backspace, .tab,
                           .character("/"), .character("0"), .character("x"), .character("1"), .escape]
        let size = random.pick([(80, 24), (120, 40), (60, 16)])
        for _ in 0..<25 {
            _ = app.handle(.key(random.pick(keys)))
            let text = app.render(width: size.0, height: size.1).text
            let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(rows.allSatisfy { CellBuffer.width(of: String($0)) <= size.0 })
            #expect(!text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7f..<0xa0).contains($0.value) || $0 == "\u{202e}" })
        }
    }
}
