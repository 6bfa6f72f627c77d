import Foundation
import IOMMUCore

extension HostSnapshot {
    /// IMPORT.md §2's `iommuscope-host` object, one line, keys sorted: ids and counts are
    /// integers, registers and addresses `0x` hex strings, absent facts omitted. AMD-Vi units
    /// carry `features` as `{"efr","efr2","order"}`, `order` saying which of the
    /// `amd-iommu/features` forms the text was taken to be.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(HostSnapshotJSON(snapshot: self)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The encoding of `HostSnapshot.jsonText()`, apart from the model so the model stays free of
/// one output's spelling.
private struct HostSnapshotJSON: Encodable {
    let snapshot: HostSnapshot

    enum Keys: String, CodingKey { case format, version, kernel, cmdline, iommus, groups, devices, notes }
    enum UnitKeys: String, CodingKey { case name, arch, cap, ecap, features, devices }
    enum FeatureKeys: String, CodingKey { case efr, efr2, order }
    enum GroupKeys: String, CodingKey { case id, type, devices, reservedRegions = "reserved_regions" }
    enum RegionKeys: String, CodingKey { case start, last, type }
    enum DeviceKeys: String, CodingKey { case name, group, iommu, driver }

    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Keys.self)
        try top.encode("iommuscope-host", forKey: .format)
        try top.encode(0, forKey: .version)
        try top.encodeIfPresent(snapshot.kernel, forKey: .kernel)
        try top.encodeIfPresent(snapshot.cmdline, forKey: .cmdline)
        var units = top.nestedUnkeyedContainer(forKey: .iommus)
        for unit in snapshot.iommus {
            var object = units.nestedContainer(keyedBy: UnitKeys.self)
            try object.encode(unit.name, forKey: .name)
            try object.encode(unit.architecture.rawValue, forKey: .arch)
            switch unit.registers {
            case .intelVTd(let cap, let ecap)?:
                try object.encodeHex(cap, forKey: .cap)
                try object.encodeHex(ecap, forKey: .ecap)
            case .amdVi(let efr, let efr2)?:
                var features = object.nestedContainer(keyedBy: FeatureKeys.self, forKey: .features)
                try features.encodeHex(efr, forKey: .efr)
                if unit.featuresForm != .efrOnly { try features.encodeHex(efr2, forKey: .efr2) }
                try features.encodeIfPresent(unit.featuresForm?.rawValue, forKey: .order)
            case .armSMMUv3?, nil:
                break
            }
            try object.encode(unit.devices, forKey: .devices)
        }
        var groups = top.nestedUnkeyedContainer(forKey: .groups)
        for group in snapshot.groups {
            var object = groups.nestedContainer(keyedBy: GroupKeys.self)
            try object.encode(group.id, forKey: .id)
            try object.encodeIfPresent(group.type, forKey: .type)
            try object.encode(group.devices, forKey: .devices)
            var regions = object.nestedUnkeyedContainer(forKey: .reservedRegions)
            for region in group.reservedRegions {
                var entry = regions.nestedContainer(keyedBy: RegionKeys.self)
                try entry.encodeHex(region.range.start, forKey: .start)
                try entry.encodeHex(region.range.last, forKey: .last)
                try entry.encode(region.type.rawValue, forKey: .type)
            }
        }
        var devices = top.nestedUnkeyedContainer(forKey: .devices)
        for device in snapshot.devices {
            var object = devices.nestedContainer(keyedBy: DeviceKeys.self)
            try object.encode(device.name, forKey: .name)
            try object.encodeIfPresent(device.group, forKey: .group)
            try object.encodeIfPresent(device.iommu, forKey: .iommu)
            try object.encodeIfPresent(device.driver, forKey: .driver)
        }
        try top.encode(snapshot.notes, forKey: .notes)
    }
}
