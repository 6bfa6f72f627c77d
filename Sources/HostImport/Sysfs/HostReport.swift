import IOMMUCore
import Presentation

/// `iommuscope host`'s human text: what the machine is, then what that means for assigning
/// its devices to a VM. Every string that came from the host is escaped for the terminal.
public enum HostReport {
    /// `registers`: every decoded ID-register field under its unit (`host --registers`);
    /// without it each unit gets one line of what it can do.
    public static func text(_ snapshot: HostSnapshot, registers: Bool = false) -> String {
        var out: [String] = []
        out.append("Kernel: \(snapshot.kernel.map(terminalSafe) ?? "unknown")")
        if let cmdline = snapshot.cmdline {
            out.append("Command line: \(terminalSafe(cmdline))")
            let words = KernelCommandLine(cmdline)
            if words.words.isEmpty {
                out.append("  no IOMMU words: the kernel's built-in defaults apply")
            } else {
                out += words.explanations.map { "  \(terminalSafe($0))" }
            }
        }
        out.append("")
        out += units(snapshot, registers: registers)
        out.append("")
        out += groups(snapshot)
        let advice = passthrough(snapshot)
        if !advice.isEmpty {
            out.append("")
            out.append("For passthrough (VFIO, iommufd):")
            out += advice.map { "  " + $0 }
        }
        if !snapshot.notes.isEmpty {
            out.append("")
            out.append("Notes:")
            out += snapshot.notes.map { "  " + terminalSafe($0) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func units(_ snapshot: HostSnapshot, registers showFields: Bool) -> [String] {
        guard !snapshot.iommus.isEmpty else { return ["IOMMU units: none found"] }
        var out = ["IOMMU units (\(snapshot.iommus.count)):"]
        for unit in snapshot.iommus {
            var facts = [unit.architecture.rawValue]
            if let base = unit.registerBase { facts.append("registers at \(base.hex)") }
            if let version = unit.version { facts.append("version \(terminalSafe(version))") }
            if let header = unit.capabilityHeader { facts.append("capability header \(UInt64(header).hex)") }
            switch unit.registers {
            case .intelVTd(let cap, let ecap)?: facts.append("cap \(cap.hex) ecap \(ecap.hex)")
            case .amdVi(let efr, let efr2)?:
                facts.append("EFR \(efr.hex) EFR2 \(efr2.hex)" + (unit.featuresForm.map { " (read as \($0.rawValue))" } ?? ""))
            case .armSMMUv3?, nil: break
            }
            out.append("  \(terminalSafe(unit.name)): " + facts.joined(separator: ", "))
            if let registers = unit.registers {
                let capabilities = UnitCapabilities.decode(registers, commandLine: snapshot.cmdline)
                out.append("    can: " + abilities(capabilities))
                out += capabilities.approximations.map { "    modelled as: " + terminalSafe($0) }
                if showFields {
                    for field in capabilities.fields {
                        out.append("    \(terminalSafe(field.name)) (\(terminalSafe(field.bits))) = \(field.value.hex): \(terminalSafe(field.meaning))")
                    }
                }
            }
            out.append("    translates \(HostReading.count(unit.devices.count, "device"))"
                       + (unit.devices.isEmpty ? "" : ": " + unit.devices.map(terminalSafe).joined(separator: " ")))
        }
        return out
    }

    /// What the unit can do as the registers say, in the words of its architecture: the
    /// options the platform model runs it with, plus the facts a VMM developer asks first.
    private static func abilities(_ capabilities: UnitCapabilities) -> String {
        func field(_ name: String) -> UInt64? { capabilities.fields.first { $0.name == name }?.value }
        func yes(_ flag: Bool, _ what: String) -> String? { flag ? what : nil }
        var words: [String?]
        switch capabilities.configuration {
        case .intelVTd(let c):
            words = [field("SMTS").map { $0 == 0 ? "legacy mode only" : "scalable mode" },
                     "\(c.addressWidth)-bit (\(c.addressWidth == 57 ? 5 : 4)-level) tables",
                     yes(c.secondStage, "second stage"), yes(c.firstStage, "first stage"), yes(c.nesting, "nesting"),
                     yes(c.dirtyTracking, "dirty tracking"),
                     field("PASID") == 1 ? "\(c.pasidSizeSupported + 1)-bit PASIDs" : "no PASIDs",
                     field("PT") == 1 ? "pass-through" : nil, field("CM") == 1 ? "caching mode (an emulated unit)" : nil]
        case .amdVi(let c):
            words = ["\(c.levels)-level v1 tables", yes(c.defaultsToV2, "v2 (x86) tables by default"),
                     yes(c.dirtyTracking, "dirty tracking"), field("GTSup") == 1 ? "guest translation (v2 tables)" : nil,
                     field("PPRSup") == 1 ? "page requests (PRI)" : nil]
        case .armSMMUv3(let c):
            let stages = [yes(c.stage1, "1"), yes(c.stage2, "2")].compactMap { $0 }
            words = ["stage \(stages.joined(separator: " and "))", "IAS \(c.ias), OAS \(c.oas) bits",
                     "granules " + c.granules.map { "\($0 >> 10)K" }.joined(separator: "/"), yes(c.s2fwb, "S2FWB"),
                     yes(c.dirtyTracking, "dirty tracking (HTTU)"), yes(c.rangeInvalidation, "range invalidation")]
        case .mock:
            words = ["the selftest's mock"]
        }
        return words.compactMap { $0 }.joined(separator: ", ")
    }

    private static func groups(_ snapshot: HostSnapshot) -> [String] {
        guard !snapshot.groups.isEmpty else { return ["IOMMU groups: none found"] }
        var out = ["IOMMU groups (\(snapshot.groups.count)); \"default domain\" is the type the kernel gives the group, not what is attached now:"]
        for group in snapshot.groups {
            out.append("  group \(group.id): default domain \(group.type.map(terminalSafe) ?? "unknown")")
            for name in group.devices {
                out.append("    " + device(name, in: snapshot))
            }
            for region in group.reservedRegions {
                out.append("    reserved \(region.range.start.hex)-\(region.range.last.hex) \(region.type.rawValue)")
            }
        }
        return out
    }

    private static func device(_ name: String, in snapshot: HostSnapshot) -> String {
        var text = terminalSafe(name)
        guard let device = snapshot.device(named: name) else { return text }
        if let vendor = device.vendor, let id = device.deviceID { text += " [\(hex(UInt64(vendor), width: 4)):\(hex(UInt64(id), width: 4))]" }
        if let code = device.classCode { text += " class 0x\(hex(UInt64(code), width: 6))" }
        text += device.driver.map { ", driver \(terminalSafe($0))" } ?? ", no driver"
        if let unit = device.iommu { text += ", via \(terminalSafe(unit))" }
        return text
    }

    /// `%0Nx`: sysfs's own spelling of PCI IDs.
    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// What the groups mean for giving devices to a VM.
    ///
    /// - Several devices in a group: VFIO and iommufd own DMA per group
    ///   (`iommu_group_claim_dma_owner()`), so they are assigned together.
    /// - A `direct` region sets the device's `require_direct`; claiming ownership attaches the
    ///   blocking domain, which `__iommu_device_set_domain()` refuses for such a device with
    ///   `-EINVAL` ("Firmware has requested this device have a 1:1 IOMMU mapping"), so the
    ///   device cannot be assigned. `direct-relaxable` does not set it.
    /// - An `msi` (or `reserved`) window is reserved in every IOAS the device joins
    ///   (`iopt_table_enforce_dev_resv_regions()`): attaching fails `-EADDRINUSE` when the
    ///   IOAS already maps there, and a fixed-IOVA `IOMMU_IOAS_MAP` over it fails `-EINVAL`
    ///   (`iopt_check_iova()`), so a VMM keeps it out of the guest RAM map.
    private static func passthrough(_ snapshot: HostSnapshot) -> [String] {
        var out: [String] = []
        for group in snapshot.groups where group.devices.count > 1 {
            out.append("group \(group.id) holds \(group.devices.count) devices (\(group.devices.map(terminalSafe).joined(separator: " "))): they are assigned together, or not at all")
        }
        // One line per region, naming every group that has it (the MSI window is in all of them).
        var regions: [(region: HostReservedRegion, groups: [UInt32])] = []
        for group in snapshot.groups {
            for region in group.reservedRegions {
                if let index = regions.firstIndex(where: { $0.region == region }) {
                    regions[index].groups.append(group.id)
                } else {
                    regions.append((region, [group.id]))
                }
            }
        }
        for (region, ids) in regions {
            let range = "\(region.range.start.hex)-\(region.range.last.hex)"
            let groups = ids.count == 1 ? "group \(ids[0])" : "groups " + ids.map(String.init).joined(separator: ", ")
            switch region.type {
            case .direct:
                out.append("\(range) direct (\(groups)): its devices require a 1:1 map (require_direct), so claiming DMA ownership for VFIO or iommufd fails with EINVAL: they cannot be assigned")
            case .directRelaxable:
                out.append("\(range) direct-relaxable (\(groups)): kept 1:1 by the host, but it does not block assignment (the map is dropped when a VM owns the device)")
            case .msi:
                out.append("\(range) msi (\(groups)): the MSI window, reserved in every IOAS these devices join: keep it out of the guest RAM map (a fixed-IOVA IOMMU_IOAS_MAP over it fails EINVAL; attaching to an IOAS that already maps it fails EADDRINUSE)")
            case .reserved:
                out.append("\(range) reserved (\(groups)): never mapped for these devices (a fixed-IOVA IOMMU_IOAS_MAP over it fails EINVAL; attaching to an IOAS that already maps it fails EADDRINUSE)")
            }
        }
        return out
    }
}
