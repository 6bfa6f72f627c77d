import IOMMUCore

/// The whole model state at one moment, as `iommuscope snapshot` writes it and `diff` reads
/// it back: the platform, the iommufd objects and their edges, every IOAS's ranges, every
/// domain's mappings read from its page tables, the devices' configuration structures, and
/// the IOMMUs' caches with each entry checked against a fresh walk (`stale`).
///
/// Taken from a live session (`init(session:source:)`), written as JSON in the schema's
/// member order (`json`, docs/snapshot.schema.json), read back with `init(json:)`.
public struct ModelSnapshot: Decodable, Equatable, Sendable, JSONWritable {
    public static let formatName = "iommuscope-snapshot"
    public static let currentVersion = 0

    public var format: String
    public var version: Int
    /// Where in which scenario the state is; nil for a model built elsewhere.
    public var source: Source?
    public var platform: Platform
    public var objects: [Object]
    public var edges: [Edge]
    public var ioases: [IOASState]
    public var domains: [Domain]
    public var configuration: [DeviceConfiguration]
    public var iotlb: [IOTLBEntry]
    public var configurationCache: [ConfigurationCacheEntry]

    enum CodingKeys: String, CodingKey {
        case format, version, source, platform, objects, edges, ioases, domains, configuration, iotlb
        case configurationCache = "configuration_cache"
    }

    /// The scenario and the position in it.
    public struct Source: Codable, Equatable, Sendable, JSONWritable {
        /// The scenario as it was named on the command line.
        public var file: String
        /// The state is after this source line (0: before the first).
        public var line: Int
        /// Source lines applied (the timeline's position) and in the scenario.
        public var position: Int
        public var lines: Int

        public init(file: String, line: Int, position: Int, lines: Int) {
            self.file = file
            self.line = line
            self.position = position
            self.lines = lines
        }

        public var json: JSON {
            .object([.init("file", .string(file)), .init("line", .int(line)), .init("position", .int(position)),
                     .init("lines", .int(lines))])
        }
    }

    public struct Platform: Codable, Equatable, Sendable, JSONWritable {
        public var iommus: [IOMMU]
        public var devices: [PlatformDevice]

        public struct IOMMU: Codable, Equatable, Sendable, JSONWritable {
            public var name: String
            /// `arm-smmu-v3`, `intel-vtd`, `amd-vi`, `mock`.
            public var architecture: String
            public var json: JSON { .object([.init("name", .string(name)), .init("architecture", .string(architecture))]) }
        }

        public struct PlatformDevice: Codable, Equatable, Sendable, JSONWritable {
            public var name: String
            public var iommu: String
            public var group: UInt32
            /// The Arm StreamID, for a device the IORT names by one.
            public var sid: Hex?
            /// `bus:slot.func` of a PCI requester ID.
            public var bdf: String?
            /// The iommufd DEVICE it is bound as, if bound.
            public var bound: UInt32?
            public var json: JSON {
                .object([.init("name", .string(name)), .init("iommu", .string(iommu)), .init("group", .int(group)),
                         .init("sid", .optional(sid, \.json)), .init("bdf", .optional(bdf, JSON.string)),
                         .init("bound", .optional(bound, JSON.int))])
            }
        }

        public var json: JSON { .object([.init("iommus", iommus.json), .init("devices", devices.json)]) }
    }

    /// One iommufd object, identified by id and serial (the id a later object may reuse).
    public struct Object: Codable, Equatable, Sendable, JSONWritable {
        public var id: UInt32
        /// The uAPI type name: `IOAS`, `HWPT_PAGING`, `DEVICE`…
        public var type: String
        public var serial: UInt64
        /// The kernel's `obj->users`.
        public var users: Int
        /// The object's own values (not its edges), named.
        public var properties: [Property]

        public struct Property: Codable, Equatable, Sendable, JSONWritable {
            public var name: String
            public var value: String
            public var json: JSON { .object([.init("name", .string(name)), .init("value", .string(value))]) }
        }

        public var label: String { "\(type) \(id)" }

        public var json: JSON {
            .object([.init("id", .int(id)), .init("type", .string(type)), .init("serial", .int(serial)),
                     .init("users", .int(users)), .init("properties", properties.json)])
        }
    }

    /// One edge of the object graph: `from` holds a pointer to `to`.
    public struct Edge: Codable, Equatable, Hashable, Sendable, JSONWritable {
        public var from: UInt32
        public var to: UInt32
        /// `ioas`, `nest_parent`, `viommu`, `attachment`, `device`, `fault`, `file`.
        public var role: String
        /// The PASID of an attachment; nil at the RID and for other roles.
        public var pasid: UInt32?
        public var json: JSON {
            .object([.init("from", .int(from)), .init("to", .int(to)), .init("role", .string(role)),
                     .init("pasid", .optional(pasid, JSON.int))])
        }
    }

    /// An inclusive address range.
    public struct Range: Codable, Equatable, Hashable, Sendable, JSONWritable {
        public var start: Hex
        public var last: Hex
        public init(_ range: IOVARange) {
            start = Hex(range.start)
            last = Hex(range.last)
        }
        public var json: JSON { .object([.init("start", start.json), .init("last", last.json)]) }
    }

    public struct IOASState: Codable, Equatable, Sendable, JSONWritable {
        public var id: UInt32
        /// `iopt->area_itree`: each MAP (or COPY piece), ascending.
        public var areas: [Area]
        /// `iopt->reserved_itree`, with who reserved each range.
        public var reserved: [Reserved]
        /// `iopt->allowed_itree`.
        public var allowed: [Range]

        public struct Area: Codable, Equatable, Hashable, Sendable, JSONWritable {
            public var start: Hex
            public var last: Hex
            public var userVA: Hex
            /// `r`, `w`, `rw`.
            public var prot: String
            enum CodingKeys: String, CodingKey {
                case start, last, prot
                case userVA = "user_va"
            }
            public var json: JSON {
                .object([.init("start", start.json), .init("last", last.json), .init("user_va", userVA.json), .init("prot", .string(prot))])
            }
        }

        public struct Reserved: Codable, Equatable, Hashable, Sendable, JSONWritable {
            public var start: Hex
            public var last: Hex
            /// As every view words it: `sw_msi of DEVICE 1`, `outside the aperture of HWPT 4`.
            public var owner: String
            /// The owning object, nil for the selftest's ownerless ranges.
            public var ownerID: UInt32?
            enum CodingKeys: String, CodingKey {
                case start, last, owner
                case ownerID = "owner_id"
            }
            public var json: JSON {
                .object([.init("start", start.json), .init("last", last.json), .init("owner", .string(owner)),
                         .init("owner_id", .optional(ownerID, JSON.int))])
            }
        }

        public var json: JSON {
            .object([.init("id", .int(id)), .init("areas", areas.json), .init("reserved", reserved.json), .init("allowed", allowed.json)])
        }
    }

    /// The translation of one HWPT read from its page table: a paging HWPT's host table, or a
    /// nested HWPT's guest stage 1 where its table can be read.
    public struct Domain: Codable, Equatable, Sendable, JSONWritable {
        public var hwpt: UInt32
        /// `stage-1`, `stage-2`, `mock` (a paging domain) or `guest-stage-1` (a nested HWPT's).
        public var stage: String
        /// The table's format (`arm-lpae-s2 4K ias=48 oas=48`); nil for the mock's xarray.
        public var format: String?
        /// The root table's address, in `space`'s addresses.
        public var root: Hex?
        /// What the table's addresses and outputs are: `PA`, or the guest's `IPA` / `GPA`.
        public var space: String
        /// Why the table cannot be read or what its walk skips, if anything.
        public var note: String?
        /// The leaves, consecutive ones of one page size and rights coalesced.
        public var mappings: [Mapping]
        /// Every non-zero descriptor of the table (tables and leaves), ascending by address.
        public var entries: [Entry]

        public struct Mapping: Codable, Equatable, Hashable, Sendable, JSONWritable {
            public var start: Hex
            public var last: Hex
            public var output: Hex
            public var pageSize: Hex
            /// `r`, `w`, `rw` or `-`, as the walk grants them (table rights applied).
            public var rights: String
            enum CodingKeys: String, CodingKey {
                case start, last, output, rights
                case pageSize = "page_size"
            }
            public var json: JSON {
                .object([.init("start", start.json), .init("last", last.json), .init("output", output.json), .init("page_size", pageSize.json),
                         .init("rights", .string(rights))])
            }
        }

        public struct Entry: Codable, Equatable, Sendable, JSONWritable {
            /// The entry's address, in `space`'s addresses.
            public var address: Hex
            public var level: Int
            /// The first input address the entry covers.
            public var iova: Hex
            public var descriptor: Hex
            /// `table`, `block`, `page`, `invalid`.
            public var kind: String
            /// The descriptor's fields as the format names them: `OA[47:12]=0x40200 AP[7:6]=0x1…`.
            public var fields: String
            public var json: JSON {
                .object([.init("address", address.json), .init("level", .int(level)), .init("iova", iova.json),
                         .init("descriptor", descriptor.json), .init("kind", .string(kind)), .init("fields", .string(fields))])
            }
        }

        public var label: String { stage == "guest-stage-1" ? "HWPT \(hwpt) guest stage 1" : "HWPT \(hwpt)" }

        public var json: JSON {
            .object([.init("hwpt", .int(hwpt)), .init("stage", .string(stage)), .init("format", .optional(format, JSON.string)),
                     .init("root", .optional(root, \.json)), .init("space", .string(space)), .init("note", .optional(note, JSON.string)),
                     .init("mappings", mappings.json), .init("entries", entries.json)])
        }
    }

    /// One decoded configuration structure (an STE, a CD, a context or PASID entry, a DTE).
    public struct Structure: Codable, Equatable, Sendable, JSONWritable {
        public var name: String
        public var address: Hex
        public var words: [Hex]
        public var fields: [Field]

        public struct Field: Codable, Equatable, Sendable, JSONWritable {
            public var name: String
            /// `low..high` bit numbers across the structure.
            public var bits: String
            public var value: Hex
            public var json: JSON { .object([.init("name", .string(name)), .init("bits", .string(bits)), .init("value", value.json)]) }
        }

        public var json: JSON {
            .object([.init("name", .string(name)), .init("address", address.json), .init("words", .array(words.map(\.json))),
                     .init("fields", fields.json)])
        }
    }

    /// The structures a bound device's transactions read now, at its RID or an attached PASID.
    public struct DeviceConfiguration: Codable, Equatable, Sendable, JSONWritable {
        public var device: UInt32
        public var name: String
        public var pasid: UInt32?
        public var structures: [Structure]
        public var json: JSON {
            .object([.init("device", .int(device)), .init("name", .string(name)), .init("pasid", .optional(pasid, JSON.int)),
                     .init("structures", structures.json)])
        }
    }

    /// What a fresh walk (as after a global invalidation, changing nothing) gives at `iova`.
    public struct FreshWalk: Codable, Equatable, Sendable, JSONWritable {
        public var iova: Hex
        public var output: Hex?
        public var pageSize: Hex?
        public var rights: String?
        /// The fault the walk ends in, as `translate` words it.
        public var fault: String?
        enum CodingKeys: String, CodingKey {
            case iova, output, rights, fault
            case pageSize = "page_size"
        }
        public var json: JSON {
            .object([.init("iova", iova.json), .init("output", .optional(output, \.json)), .init("page_size", .optional(pageSize, \.json)),
                     .init("rights", .optional(rights, JSON.string)), .init("fault", .optional(fault, JSON.string))])
        }
    }

    /// One IOTLB entry, with the device whose transactions hit it and whether it is stale.
    public struct IOTLBEntry: Codable, Equatable, Sendable, JSONWritable {
        public var iommu: String
        /// The stage-2 / domain tag (SMMUv3 VMID, VT-d DID, AMD-Vi DomainID).
        public var domainTag: Hex?
        /// The stage-1 address-space tag (SMMUv3 ASID, a PASID).
        public var addressSpaceTag: Hex?
        public var input: Hex
        public var size: Hex
        public var output: Hex
        public var rights: String
        /// An Arm nG = 0 leaf, for every ASID of its VMID.
        public var global: Bool
        /// The bound DEVICE (and PASID) whose transaction at `input` hits the entry; nil when
        /// none does (its tag is no longer in use).
        public var device: UInt32?
        public var pasid: UInt32?
        /// The entry translates some address of its range differently from a fresh walk.
        public var stale: Bool
        /// The fresh walk: where it first disagrees for a stale entry, else at `input`.
        public var fresh: FreshWalk?
        enum CodingKeys: String, CodingKey {
            case iommu, input, size, output, rights, global, device, pasid, stale, fresh
            case domainTag = "domain_tag"
            case addressSpaceTag = "address_space_tag"
        }
        public var json: JSON {
            .object([.init("iommu", .string(iommu)), .init("domain_tag", .optional(domainTag, \.json)),
                     .init("address_space_tag", .optional(addressSpaceTag, \.json)), .init("input", input.json), .init("size", size.json),
                     .init("output", output.json), .init("rights", .string(rights)), .init("global", .bool(global)),
                     .init("device", .optional(device, JSON.int)), .init("pasid", .optional(pasid, JSON.int)),
                     .init("stale", .bool(stale)), .init("fresh", .optional(fresh, \.json))])
        }
    }

    /// A structure's words as a cache holds them or as a fresh walk fetches them.
    public struct CachedWords: Codable, Equatable, Sendable, JSONWritable {
        public var name: String
        public var words: [Hex]
        public var json: JSON { .object([.init("name", .string(name)), .init("words", .array(words.map(\.json)))]) }
    }

    /// One configuration-cache entry, with whether memory has changed under it.
    public struct ConfigurationCacheEntry: Codable, Equatable, Sendable, JSONWritable {
        public var iommu: String
        /// The platform device the entry is for, and its DEVICE if bound.
        public var name: String
        public var device: UInt32?
        public var pasid: UInt32?
        public var structures: [CachedWords]
        /// Some structure differs from what a fresh walk fetches, or the walk no longer reaches it.
        public var stale: Bool
        /// The structures a fresh walk fetches.
        public var fresh: [CachedWords]
        public var json: JSON {
            .object([.init("iommu", .string(iommu)), .init("name", .string(name)), .init("device", .optional(device, JSON.int)),
                     .init("pasid", .optional(pasid, JSON.int)), .init("structures", structures.json), .init("stale", .bool(stale)),
                     .init("fresh", fresh.json)])
        }
    }

    public var json: JSON {
        .object([.init("format", .string(format)), .init("version", .int(version)), .init("source", .optional(source, \.json)),
                 .init("platform", platform.json), .init("objects", objects.json), .init("edges", edges.json),
                 .init("ioases", ioases.json), .init("domains", domains.json), .init("configuration", configuration.json),
                 .init("iotlb", iotlb.json), .init("configuration_cache", configurationCache.json)])
    }

    /// The stale IOTLB and configuration-cache entries.
    public var staleIOTLB: [IOTLBEntry] { iotlb.filter(\.stale) }
    public var staleConfiguration: [ConfigurationCacheEntry] { configurationCache.filter(\.stale) }
}
