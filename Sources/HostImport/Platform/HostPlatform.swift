import IOMMUCore
import Presentation

/// A host snapshot as the platform a scenario runs on (IMPORT.md §2, "The host as a
/// platform"): its units, groups and devices become a `PlatformDescription` the core
/// validates, so scenario lines, `translate` and the views run against the user's machine.
///
/// What the core cannot hold becomes a note, never a trap: a device without a group or a
/// unit, a unit the core has no driver for, a group whose devices sit behind two units (the
/// core's rule, as `iommu_group_add_device` never makes such a group), a name seen twice.
public enum HostPlatform {
    /// The platform of `snapshot` and the notes on what it could not describe.
    ///
    /// - Units: the configuration `UnitCapabilities.decode` reads from the ID registers sysfs
    ///   showed, else the architecture's defaults (noted); named as `/sys/class/iommu` names them.
    /// - Groups: `iommu_groups/N/type`, the default domain's type. Before v5.11 there is no
    ///   `type` file: the default is inferred from the command line (`iommu=pt`,
    ///   `iommu.passthrough=`), as `iommu_subsys_init` sets `iommu_def_domain_type`.
    /// - Devices: by sysfs name, the requester id `bus << 8 | devfn` (VT-d source-id, AMD
    ///   devid); an SMMUv3 StreamID comes from the IORT's ID mappings, which sysfs does not
    ///   show, so it is assumed to be the same number (noted).
    /// - Reserved regions: sysfs lists the union of what `iommu_get_resv_regions` returns for
    ///   the group's devices. A region the unit's driver adds itself (`get_resv_regions`: the
    ///   MSI windows, the HyperTransport range) is recorded in `driverRegions`; the rest are
    ///   firmware's (RMRR and IVMD unity maps, IORT RMRs, exclusion ranges): `firmwareRegions`.
    public static func description(of snapshot: HostSnapshot) -> (platform: PlatformDescription, notes: [String]) {
        var builder = Builder(snapshot: snapshot)
        builder.addUnits()
        builder.addGroups()
        builder.addDevices()
        builder.enforceValidity()
        builder.splitRegions()
        return (builder.platform, builder.notes)
    }

    /// Every architecture's dumped tables rebuilt in `machine`'s memory (the VT-d and AMD-Vi
    /// rebuilds), as one report.
    public static func rebuildTables(_ snapshot: HostSnapshot, into machine: Machine) -> TableRebuildReport {
        var report = TableRebuildReport()
        for part in [VTdTableRebuild.rebuild(snapshot, into: machine), AMDTableRebuild.rebuild(snapshot, into: machine)] {
            report.tables += part.tables
            report.descriptorsPlaced += part.descriptorsPlaced
            report.warnings += part.warnings
            report.notes += part.notes
        }
        return report
    }
}

extension HostPlatform {
    /// The description as it is put together, one kind of entry at a time.
    private struct Builder {
        let snapshot: HostSnapshot
        var platform = PlatformDescription()
        var notes: [String] = []
        /// Each device's group regions, by device name, until `splitRegions` sorts them.
        private var hostRegions: [String: [HostReservedRegion]] = [:]

        init(snapshot: HostSnapshot) { self.snapshot = snapshot }

        // MARK: Units

        mutating func addUnits() {
            var seen: Set<String> = []
            for unit in snapshot.iommus {
                let name = terminalSafe(unit.name)
                guard seen.insert(unit.name).inserted else {
                    notes.append("\(name): listed twice under /sys/class/iommu: the second is left out")
                    continue
                }
                guard unit.architecture != .mock else {
                    notes.append("\(name): the selftest's mock IOMMU is not a host unit: left out")
                    continue
                }
                platform.units.append(modelUnit(unit))
            }
        }

        /// The unit with its decoded configuration, or the architecture's defaults when the
        /// registers are unknown, of another architecture, or decode to options the core's
        /// drivers do not model (a 3-level VT-d unit, for one).
        private mutating func modelUnit(_ unit: HostIOMMU) -> IOMMUUnit {
            let name = terminalSafe(unit.name)
            let defaults = IOMMUUnit(name: unit.name, configuration: Self.defaultConfiguration(unit.architecture))
            guard let registers = unit.registers else {
                notes.append("\(name): no ID registers were read: the model uses the \(unit.architecture.rawValue) defaults")
                return defaults
            }
            guard registers.architecture == unit.architecture else {
                notes.append("\(name): its registers are \(registers.architecture.rawValue)'s, not \(unit.architecture.rawValue)'s: the model uses the defaults")
                return defaults
            }
            let decoded = IOMMUUnit(name: unit.name, configuration: UnitCapabilities.decode(registers, commandLine: snapshot.cmdline).configuration, registers: registers)
            do throws(PlatformDescriptionError) {
                try PlatformDescription(units: [decoded]).validate()
                return decoded
            } catch {
                notes.append("\(name): its registers describe what the model cannot (\(error.reason)): the model uses the \(unit.architecture.rawValue) defaults")
                return IOMMUUnit(name: unit.name, configuration: defaults.configuration, registers: registers)
            }
        }

        static func defaultConfiguration(_ architecture: IOMMUArchitecture) -> UnitConfiguration {
            switch architecture {
            case .armSMMUv3: .armSMMUv3(ArmSMMUv3.Configuration())
            case .intelVTd: .intelVTd(IntelVTd.Configuration())
            case .amdVi: .amdVi(AMDVi.Configuration())
            case .mock: .mock
            }
        }

        // MARK: Groups

        mutating func addGroups() {
            var seen: Set<UInt32> = []
            for group in snapshot.groups {
                guard seen.insert(group.id).inserted else {
                    notes.append("group \(group.id): listed twice: the second is left out")
                    continue
                }
                platform.groups.append(IOMMUGroup(id: group.id, defaultDomain: defaultDomain(of: group)))
            }
        }

        private mutating func defaultDomain(of group: HostGroup) -> DefaultDomainType {
            if let type = group.defaultDomain { return type }
            let inferred = Self.commandLineDefault(snapshot.cmdline)
            if let type = group.type {
                notes.append("group \(group.id): type '\(terminalSafe(type))' is not one the model knows: taken as \(inferred.rawValue)")
            } else {
                notes.append("group \(group.id): no type file (kernels before v5.11): taken as \(inferred.rawValue) from the command line")
            }
            return inferred
        }

        /// `iommu_set_def_domain_type` (`iommu=pt`) and `iommu_setup_default_domain`'s
        /// `iommu.passthrough=`: identity; otherwise DMA, as `iommu.strict` only picks the
        /// flush queue flavour the model treats alike.
        static func commandLineDefault(_ cmdline: String?) -> DefaultDomainType {
            let words = (cmdline ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            for word in words.reversed() {
                if word == "iommu=pt" { return .identity }
                if word == "iommu=nopt" { return .dma }
                if word.hasPrefix("iommu.passthrough=") {
                    let value = word.dropFirst("iommu.passthrough=".count)
                    return ["1", "y", "Y", "on"].contains(value) ? .identity : .dma
                }
            }
            return .dma
        }

        // MARK: Devices

        /// Every device the snapshot names (PCI functions, group members, unit members), with
        /// its group and unit from whichever listing gives them.
        mutating func addDevices() {
            let unitNames = Set(platform.units.map(\.name))
            let architectures = Dictionary(platform.units.map { ($0.name, $0.architecture) }, uniquingKeysWith: { first, _ in first })
            let groupIDs = Set(platform.groups.map(\.id))
            var names: [String] = []
            var known: Set<String> = []
            for name in snapshot.devices.map(\.name) + snapshot.groups.flatMap(\.devices) + snapshot.iommus.flatMap(\.devices)
            where known.insert(name).inserted {
                names.append(name)
            }
            var groupUnits: [UInt32: String] = [:]
            var smmuAssumptionNoted: Set<String> = []
            for name in names {
                let shown = terminalSafe(name)
                let device = snapshot.device(named: name)
                let group = device?.group ?? snapshot.groups.first { $0.devices.contains(name) }?.id
                let unit = device?.iommu ?? snapshot.iommus.first { $0.devices.contains(name) }?.name
                guard let group else {
                    if unit != nil { notes.append("\(shown): behind an IOMMU but in no iommu group: left out") }
                    continue
                }
                guard groupIDs.contains(group) else {
                    notes.append("\(shown): its iommu group \(group) was not read: left out")
                    continue
                }
                guard let unit else {
                    notes.append("\(shown): in group \(group) but no IOMMU unit names it: left out")
                    continue
                }
                guard unitNames.contains(unit), let architecture = architectures[unit] else {
                    notes.append("\(shown): its IOMMU \(terminalSafe(unit)) is not a unit the model has: left out")
                    continue
                }
                if let shared = groupUnits[group], shared != unit {
                    notes.append("\(shown): group \(group) is behind \(terminalSafe(shared)), this device behind \(terminalSafe(unit)); a group's devices share one IOMMU: left out")
                    continue
                }
                guard let pci = PCIAddress(parsing: name), pci.description == name else {
                    notes.append("\(shown): not a PCI function, so its requester id is unknown: left out")
                    continue
                }
                let requester: DeviceRequesterID
                if architecture == .armSMMUv3 {
                    requester = .streamID(UInt32(pci.requesterID))
                    if smmuAssumptionNoted.insert(unit).inserted {
                        notes.append("\(terminalSafe(unit)): StreamIDs are platform-defined (IORT ID mappings): the model assumes bus << 8 | devfn within the segment")
                    }
                } else {
                    requester = .requesterID(pci.requesterID)
                }
                if let twin = platform.devices.first(where: { $0.unit == unit && $0.requesterID == requester }) {
                    notes.append("\(shown): same requester id as \(terminalSafe(twin.name)) on \(terminalSafe(unit)): left out")
                    continue
                }
                groupUnits[group] = unit
                platform.devices.append(DeviceDescription(name: name, requesterID: requester, unit: unit, group: group))
                hostRegions[name] = snapshot.group(group)?.reservedRegions ?? []
            }
        }

        // MARK: Reserved regions

        /// Sorts each device's group regions into the driver's and firmware's, by asking the
        /// model's driver which regions it adds for the device.
        mutating func splitRegions() {
            guard let machine = try? Machine(platform: platform) else { return }
            for index in platform.devices.indices {
                let name = platform.devices[index].name
                guard let device = machine.device(named: name), let regions = hostRegions[name] else { continue }
                let driverOwn = device.iommu.reservedRegions(for: device)
                var firmware: [ReservedRegion] = []
                var driver: [ReservedRegion] = []
                for region in regions {
                    if let own = driverOwn.first(where: { $0.range == region.range && Self.sysfsType($0.type) == region.type }) {
                        driver.append(own)
                        continue
                    }
                    switch region.type {
                    case .direct: firmware.append(ReservedRegion(range: region.range, type: .direct))
                    case .directRelaxable: firmware.append(ReservedRegion(range: region.range, type: .directRelaxable))
                    case .reserved: firmware.append(ReservedRegion(range: region.range, type: .reserved))
                    case .msi:
                        // Only the driver adds MSI windows; one the model's driver places
                        // elsewhere is the host's record, and the model keeps its own.
                        let type: ReservedRegionType = device.iommu.architecture == .armSMMUv3 ? .swMSI : .msi
                        driver.append(ReservedRegion(range: region.range, type: type))
                        notes.append("\(terminalSafe(name)): MSI window \(region.range) differs from the model's driver's")
                    }
                }
                // A window the model's driver adds that the host did not list (an AMD-Vi unit
                // whose EFR2 says the HyperTransport range is ignored, a kernel without the
                // window): the what-ifs would refuse what the host allows. An empty list may
                // be a missing file (before v4.11), so only a listed group is compared.
                if !regions.isEmpty {
                    for own in driverOwn where !driver.contains(where: { $0.range == own.range }) {
                        notes.append("\(terminalSafe(name)): the model's driver reserves \(own.range) (\(own.type.rawValue)), which the host does not list")
                    }
                }
                platform.devices[index].firmwareRegions = firmware
                platform.devices[index].driverRegions = driver
            }
        }

        /// `iommu_group_resv_type_string[]`: the word sysfs prints for a core region type.
        static func sysfsType(_ type: ReservedRegionType) -> HostReservedRegionType {
            switch type {
            case .direct: .direct
            case .directRelaxable: .directRelaxable
            case .reserved: .reserved
            case .msi, .swMSI: .msi
            }
        }

        // MARK: Validation

        /// The core's own validation, as the last word: an entry it refuses is left out with a
        /// note (bounded by the number of entries, so a loop cannot run away).
        mutating func enforceValidity() {
            for _ in 0...(platform.units.count + platform.groups.count + platform.devices.count) {
                do throws(PlatformDescriptionError) {
                    try platform.validate()
                    return
                } catch {
                    notes.append("\(terminalSafe(error.description)): left out")
                    switch error.entry {
                    case .unit(let name):
                        platform.units.removeAll { $0.name == name }
                        platform.devices.removeAll { $0.unit == name }
                    case .device(let name): platform.devices.removeAll { $0.name == name }
                    case .group(let id):
                        platform.groups.removeAll { $0.id == id }
                        platform.devices.removeAll { $0.group == id }
                    }
                }
            }
        }
    }
}
