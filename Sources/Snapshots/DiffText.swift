import IOMMUCore
import Presentation

extension SnapshotDiff {
    /// Entries printed per table, and range changes per space, in the human output (the
    /// JSON has every one).
    public static let textEntryLimit = 64
    public static let textRangeLimit = 16

    public var json: JSON {
        .object([
            .init("format", .string(Self.formatName)), .init("version", .int(ModelSnapshot.currentVersion)),
            .init("objects", .object([.init("added", added.json), .init("removed", removed.json), .init("changed", changed.json)])),
            .init("ranges", ranges.json), .init("entries", entries.json),
            .init("stale", .object([.init("iotlb", staleIOTLB.json), .init("configuration_cache", staleConfiguration.json)])),
        ])
    }

    /// Aligned rows without a header, no trailing blanks.
    private static func rows(_ cells: [[String]], indent: String = "  ") -> [String] {
        guard let width = cells.map(\.count).max() else { return [] }
        var table = TextTable(columns: (0..<width).map { _ in TextTable.Column("") })
        for row in cells { table.append(row) }
        return table.render(indent: indent).rows
    }

    /// One section of the human output: its heading (`objects: 1 added, 0 removed, 2 changed`)
    /// and its aligned rows, each row with the object it is about when it names one (an
    /// object added, removed or changed; the device a stale IOTLB entry serves), so a view can
    /// go to it. Rows and headings are terminal-safe.
    public struct TextSection: Equatable, Sendable {
        public var heading: String
        public var rows: [String]
        /// The object id of each row, nil for a row about no one object.
        public var objects: [UInt32?]

        init(_ heading: String, _ rows: [String], objects: [UInt32?] = []) {
            self.heading = terminalSafe(heading)
            self.rows = rows.map(terminalSafe)
            self.objects = rows.indices.map { $0 < objects.count ? objects[$0] : nil }
        }
    }

    /// The diff as `iommuscope diff` prints it: one section per kind of change, aligned.
    public var text: String {
        sections.flatMap { [$0.heading] + $0.rows }.joined(separator: "\n")
    }

    /// The sections of `text`: objects, ranges, page-table entries, stale cache entries.
    public var sections: [TextSection] {
        var sections: [TextSection] = []
        let objectRows = added.map { ["added", $0.label] } + removed.map { ["removed", $0.label] }
            + changed.map { ["changed", $0.object.label, $0.changes.joined(separator: "; ")] }
        sections.append(TextSection("objects: \(added.count) added, \(removed.count) removed, \(changed.count) changed",
                                    Self.rows(objectRows), objects: (added + removed + changed.map(\.object)).map(\.id)))
        var lines: [String] = []
        var perSpace: [String: Int] = [:]
        let shownRanges = ranges.filter { change in
            perSpace[change.space, default: 0] += 1
            return perSpace[change.space, default: 0] <= Self.textRangeLimit
        }
        lines += Self.rows(shownRanges.map { change in
            let before = change.before.map(\.text).joined(separator: ", "), after = change.after.map(\.text).joined(separator: ", ")
            return switch change.change {
            case .added: [change.space, "added", after]
            case .removed: [change.space, "removed", before]
            case .changed: [change.space, "changed", before + " now " + (change.after.first?.detail ?? "")]
            case .split: [change.space, "split", before + " into " + after]
            }
        })
        for (space, count) in perSpace.sorted(by: { $0.key < $1.key }) where count > Self.textRangeLimit {
            lines.append("  \(space): \(count - Self.textRangeLimit) more (see --json)")
        }
        sections.append(TextSection("ranges: \(ranges.count) " + (ranges.count == 1 ? "change" : "changes"), lines))
        lines = []
        var shown: [String: Int] = [:]
        var cells: [[String]] = []
        for entry in entries {
            shown[entry.table, default: 0] += 1
            guard shown[entry.table, default: 0] <= Self.textEntryLimit else { continue }
            cells.append([entry.table, entry.address.hex, "level \(entry.level)", "iova \(entry.iova.hex)",
                          (entry.before?.descriptor.description ?? "-") + " -> " + (entry.after?.descriptor.description ?? "-")])
            switch (entry.before, entry.after) {
            case (let before?, let after?):
                cells.append(["", "", "", "changed", Self.fieldChanges(before, after)])
            case (let only?, nil), (nil, let only?):
                cells.append(["", "", "", only.kind, only.fields])
            case (nil, nil): break
            }
        }
        lines += Self.rows(cells)
        for (table, count) in shown.sorted(by: { $0.key < $1.key }) where count > Self.textEntryLimit {
            lines.append("  \(table): \(count - Self.textEntryLimit) more (see --json)")
        }
        sections.append(TextSection("page-table entries: \(entries.count) changed", lines))
        sections.append(TextSection("stale cache entries: \(staleIOTLB.count + staleConfiguration.count)",
                                    Self.rows(staleIOTLB.map { staleRow($0) } + staleConfiguration.map(Self.staleRow)),
                                    objects: staleIOTLB.map(\.device) + staleConfiguration.map(\.device)))
        return sections
    }

    /// The fields of two decodings of one entry that differ: `AP[7:6] 0x1 -> 0x3`.
    static func fieldChanges(_ before: ModelSnapshot.Domain.Entry, _ after: ModelSnapshot.Domain.Entry) -> String {
        func fields(_ entry: ModelSnapshot.Domain.Entry) -> [(name: String, value: String)] {
            entry.fields.components(separatedBy: ", ").map { field in
                guard let equals = field.lastIndex(of: "=") else { return (field, "") }
                return (String(field[..<equals]), String(field[field.index(after: equals)...]))
            }
        }
        let old = Dictionary(fields(before).map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        var changes = before.kind == after.kind ? [] : ["kind \(before.kind) -> \(after.kind)"]
        changes += fields(after).filter { old[$0.name] != $0.value }.map { "\($0.name) \(old[$0.name] ?? "-") -> \($0.value)" }
        return changes.joined(separator: ", ")
    }

    private static func who(_ device: UInt32?, _ pasid: UInt32?) -> String {
        (device.map { "DEVICE \($0)" } ?? "no device") + (pasid.map { " pasid \($0)" } ?? "")
    }

    /// What an architecture calls its IOTLB's domain and address-space tags.
    static func tagNames(_ architecture: String?) -> (domain: String, addressSpace: String) {
        switch architecture {
        case "arm-smmu-v3": ("VMID", "ASID")
        case "intel-vtd": ("DID", "PASID")
        case "amd-vi": ("DomainID", "PASID")
        default: ("domain", "address space")
        }
    }

    func staleRow(_ entry: ModelSnapshot.IOTLBEntry) -> [String] {
        let names = Self.tagNames(architectures[entry.iommu])
        let tags = [entry.domainTag.map { "\(names.domain) \($0)" }, entry.addressSpaceTag.map { "\(names.addressSpace) \($0)" }]
            .compactMap { $0 }.joined(separator: " ")
        let cached = "\(entry.input)+\(Units.exactSize(entry.size.value)) -> \(entry.output) \(entry.rights)"
        let fresh: String
        if let walk = entry.fresh {
            fresh = "fresh walk at \(walk.iova): " + (walk.fault ?? "\(walk.output?.description ?? "-") \(walk.rights ?? "-")")
        } else {
            fresh = "no fresh walk"
        }
        return ["IOTLB", entry.iommu, tags, Self.who(entry.device, entry.pasid), cached, fresh]
    }

    static func staleRow(_ entry: ModelSnapshot.ConfigurationCacheEntry) -> [String] {
        let freshNames = Dictionary(entry.fresh.map { ($0.name, $0.words) }, uniquingKeysWith: { _, last in last })
        let differing = entry.structures.filter { freshNames[$0.name] != $0.words }.map { structure in
            "\(structure.name) " + structure.words.map(\.description).joined(separator: ",") + " -> "
                + (freshNames[structure.name].map { $0.map(\.description).joined(separator: ",") } ?? "not fetched")
        }
        return ["config", entry.iommu, entry.name, who(entry.device, entry.pasid), differing.joined(separator: "; "), ""]
    }
}
