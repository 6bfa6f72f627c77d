import IOMMUCore
import Presentation

/// What changed from snapshot `before` to snapshot `after`: objects by identity (id and
/// serial), IOVA ranges per IOAS and per domain (added, removed, or split into pieces), page-
/// table entries by address with their decoded fields, and the cache entries of `after`
/// that a fresh walk contradicts (each snapshot checked its own when it was taken, so two
/// JSON files suffice).
public struct SnapshotDiff: Equatable, Sendable, JSONWritable {
    public static let formatName = "iommuscope-diff"

    public var added: [ObjectRef] = []
    public var removed: [ObjectRef] = []
    public var changed: [ObjectChange] = []
    public var ranges: [RangeChange] = []
    public var entries: [EntryChange] = []
    public var staleIOTLB: [ModelSnapshot.IOTLBEntry] = []
    public var staleConfiguration: [ModelSnapshot.ConfigurationCacheEntry] = []
    /// Each IOMMU's architecture in `after`, to name its IOTLB tags.
    var architectures: [String: String] = [:]

    public struct ObjectRef: Equatable, Sendable, JSONWritable {
        public var id: UInt32
        public var type: String
        public var label: String { "\(type) \(id)" }
        public var json: JSON { .object([.init("id", .int(id)), .init("type", .string(type))]) }
    }

    /// An object in both, and what differs: its values, users or edges, each as `name: before -> after`.
    public struct ObjectChange: Equatable, Sendable, JSONWritable {
        public var object: ObjectRef
        public var changes: [String]
        public var json: JSON {
            .object([.init("id", .int(object.id)), .init("type", .string(object.type)),
                     .init("changes", .array(changes.map(JSON.string)))])
        }
    }

    /// A range of an address space with what it maps or who owns it.
    public struct RangeItem: Equatable, Hashable, Sendable, JSONWritable {
        public var start: UInt64
        public var last: UInt64
        public var detail: String
        public var json: JSON { .object([.init("start", .hex(start)), .init("last", .hex(last)), .init("detail", .string(detail))]) }
        var text: String { "\(start.hex)-\(last.hex)" + (detail.isEmpty ? "" : " " + detail) }
    }

    public struct RangeChange: Equatable, Sendable, JSONWritable {
        /// `changed`: the same range mapping or owned otherwise; `split`: cut into the pieces
        /// of `after` (what is left of it, in one or more ranges).
        public enum Change: String, Sendable { case added, removed, changed, split }
        /// `IOAS 2 areas`, `IOAS 2 reserved`, `IOAS 2 allowed`, `HWPT 3 mappings`, `HWPT 6 guest stage 1 mappings`.
        public var space: String
        public var change: Change
        public var before: [RangeItem]
        public var after: [RangeItem]
        public var json: JSON {
            .object([.init("space", .string(space)), .init("change", .string(change.rawValue)), .init("before", before.json),
                     .init("after", after.json)])
        }
    }

    /// One page-table entry whose descriptor differs (nil: no valid descriptor there).
    public struct EntryChange: Equatable, Sendable, JSONWritable {
        public var table: String
        public var address: UInt64
        public var level: Int
        public var iova: UInt64
        public var before: ModelSnapshot.Domain.Entry?
        public var after: ModelSnapshot.Domain.Entry?
        public var json: JSON {
            .object([.init("table", .string(table)), .init("address", .hex(address)), .init("level", .int(level)),
                     .init("iova", .hex(iova)), .init("before", .optional(before, \.json)), .init("after", .optional(after, \.json))])
        }
    }

    public init(from before: ModelSnapshot, to after: ModelSnapshot) {
        diffObjects(before, after)
        diffRanges(before, after)
        diffEntries(before, after)
        staleIOTLB = after.staleIOTLB
        staleConfiguration = after.staleConfiguration
        architectures = Dictionary(after.platform.iommus.map { ($0.name, $0.architecture) }, uniquingKeysWith: { first, _ in first })
    }

    public var isEmpty: Bool {
        added.isEmpty && removed.isEmpty && changed.isEmpty && ranges.isEmpty && entries.isEmpty && staleIOTLB.isEmpty
            && staleConfiguration.isEmpty
    }

    // MARK: Objects

    private mutating func diffObjects(_ a: ModelSnapshot, _ b: ModelSnapshot) {
        func key(_ object: ModelSnapshot.Object) -> [UInt64] { [UInt64(object.id), object.serial] }
        let old = Dictionary(a.objects.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(b.objects.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        func edges(_ snapshot: ModelSnapshot, of id: UInt32) -> Set<String> {
            Set(snapshot.edges.filter { $0.from == id }.map { edge in
                let target = snapshot.objects.first { $0.id == edge.to }?.label ?? "\(edge.to)"
                return "\(edge.role)\(edge.pasid.map { " pasid \($0)" } ?? "") -> \(target)"
            })
        }
        for object in b.objects {
            guard let previous = old[key(object)] else {
                added.append(ObjectRef(id: object.id, type: object.type))
                continue
            }
            var changes: [String] = []
            if previous.users != object.users { changes.append("users: \(previous.users) -> \(object.users)") }
            let was = Dictionary(previous.properties.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
            for property in object.properties where was[property.name] != property.value {
                changes.append("\(property.name): \(was[property.name] ?? "-") -> \(property.value)")
            }
            let oldEdges = edges(a, of: object.id), newEdges = edges(b, of: object.id)
            changes += oldEdges.subtracting(newEdges).sorted().map { "edge removed: \($0)" }
            changes += newEdges.subtracting(oldEdges).sorted().map { "edge added: \($0)" }
            if !changes.isEmpty { changed.append(ObjectChange(object: ObjectRef(id: object.id, type: object.type), changes: changes)) }
        }
        removed = a.objects.filter { new[key($0)] == nil }.map { ObjectRef(id: $0.id, type: $0.type) }
    }

    // MARK: Ranges

    private mutating func diffRanges(_ a: ModelSnapshot, _ b: ModelSnapshot) {
        var spaces: [(name: String, before: [RangeItem], after: [RangeItem])] = []
        let ioasIDs = Set(a.ioases.map(\.id)).union(b.ioases.map(\.id)).sorted()
        for id in ioasIDs {
            let old = a.ioases.first { $0.id == id }, new = b.ioases.first { $0.id == id }
            func areas(_ ioas: ModelSnapshot.IOASState?) -> [RangeItem] {
                (ioas?.areas ?? []).map { RangeItem(start: $0.start.value, last: $0.last.value, detail: "user_va \($0.userVA) \($0.prot)") }
            }
            func reserved(_ ioas: ModelSnapshot.IOASState?) -> [RangeItem] {
                (ioas?.reserved ?? []).map { RangeItem(start: $0.start.value, last: $0.last.value, detail: $0.owner) }
            }
            func allowed(_ ioas: ModelSnapshot.IOASState?) -> [RangeItem] {
                (ioas?.allowed ?? []).map { RangeItem(start: $0.start.value, last: $0.last.value, detail: "") }
            }
            spaces.append(("IOAS \(id) areas", areas(old), areas(new)))
            spaces.append(("IOAS \(id) reserved", reserved(old), reserved(new)))
            spaces.append(("IOAS \(id) allowed", allowed(old), allowed(new)))
        }
        for label in Self.domainLabels(a, b) {
            func mappings(_ snapshot: ModelSnapshot) -> [RangeItem] {
                (snapshot.domains.first { $0.label == label }?.mappings ?? []).map {
                    RangeItem(start: $0.start.value, last: $0.last.value, detail: "-> \($0.output) \(Units.exactSize($0.pageSize.value)) \($0.rights)")
                }
            }
            spaces.append(("\(label) mappings", mappings(a), mappings(b)))
        }
        for space in spaces { ranges += Self.changes(in: space.name, from: space.before, to: space.after) }
    }

    /// The domains of either snapshot, by label, in order of first appearance.
    private static func domainLabels(_ a: ModelSnapshot, _ b: ModelSnapshot) -> [String] {
        var seen: Set<String> = []
        return (a.domains + b.domains).map(\.label).filter { seen.insert($0).inserted }
    }

    /// Items only in `before` are removed, unless items only in `after` lie inside one: then it
    /// was split (or cut down) into them. Items only in `after` are added.
    static func changes(in space: String, from before: [RangeItem], to after: [RangeItem]) -> [RangeChange] {
        let kept = Set(before).intersection(after)
        var added = after.filter { !kept.contains($0) }
        var changes: [RangeChange] = []
        for item in before where !kept.contains(item) {
            let pieces = added.filter { $0.start >= item.start && $0.last <= item.last }
            if pieces.isEmpty {
                changes.append(RangeChange(space: space, change: .removed, before: [item], after: []))
            } else {
                let same = pieces.count == 1 && pieces[0].start == item.start && pieces[0].last == item.last
                changes.append(RangeChange(space: space, change: same ? .changed : .split, before: [item], after: pieces))
                added.removeAll { pieces.contains($0) }
            }
        }
        changes += added.map { RangeChange(space: space, change: .added, before: [], after: [$0]) }
        return changes.sorted { ($0.before.first ?? $0.after[0]).start < ($1.before.first ?? $1.after[0]).start }
    }

    // MARK: Page-table entries

    private mutating func diffEntries(_ a: ModelSnapshot, _ b: ModelSnapshot) {
        for label in Self.domainLabels(a, b) {
            let old = a.domains.first { $0.label == label }, new = b.domains.first { $0.label == label }
            // Another table (a new root) is another object: compare entries of the same table only.
            let sameTable = old?.root == new?.root
            let before = sameTable ? Dictionary((old?.entries ?? []).map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first }) : [:]
            let afterEntries = sameTable ? new?.entries ?? [] : []
            let after = Dictionary(afterEntries.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
            for address in Set(before.keys).union(after.keys).sorted() where before[address] != after[address] {
                guard let entry = after[address] ?? before[address] else { continue }
                entries.append(EntryChange(table: label, address: address.value, level: entry.level, iova: entry.iova.value,
                                           before: before[address], after: after[address]))
            }
        }
    }
}
