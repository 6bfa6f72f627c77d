import IOMMUCore
import Presentation
import ScenarioScript

extension ModelSnapshot {
    /// The state of `session` now. Reads only: page tables through a peek at memory, caches
    /// through `IOMMUCaches`, and every fresh walk as a probe (`CachePolicy.bypass`, and
    /// `.lookupOnly` to find who hits an entry), which fills, flushes and writes nothing.
    public init(session: Session, source: Source? = nil) {
        let reader = ModelReader(session.iommufd)
        let graph = reader.graph
        format = Self.formatName
        version = Self.currentVersion
        self.source = source
        platform = Self.platform(reader)
        objects = graph.nodes.map(Self.object)
        edges = graph.nodes.flatMap { $0.references.map(Self.edge) }
        ioases = graph.ioases.map { Self.ioas($0, graph) }
        domains = graph.nodes.compactMap { node in
            switch node.kind {
            case .hwptPaging(let hwpt): Self.paging(hwpt, reader)
            case .hwptNested(let nested): Self.guestStage1(nested, reader)
            default: nil
            }
        }
        configuration = graph.devices.flatMap { device in
            ([nil] + device.attachments.keys.filter { $0 != noPASID }.sorted().map(Optional.some)).map { pasid in
                DeviceConfiguration(device: device.id.rawValue, name: device.platform.name, pasid: pasid,
                                    structures: reader.configurationStructures(of: device, pasid: pasid).map(Self.structure))
            }
        }
        (iotlb, configurationCache) = Self.cacheEntries(of: session)
    }

    /// The IOTLB and configuration-cache entries of `session` with their stale checks, as a
    /// snapshot lists them, without reading the page tables: what a view that flags stale
    /// entries needs (its cost is the caches' size).
    public static func cacheEntries(of session: Session) -> (iotlb: [IOTLBEntry], configurationCache: [ConfigurationCacheEntry]) {
        let caches = CacheReader(machine: session.machine, graph: session.iommufd.graph)
        return (caches.iotlbEntries(), caches.configurationEntries())
    }

    /// Reads a snapshot back from the JSON `json` wrote; a document that is not one says so.
    public init(json text: String) throws(SnapshotReadError) {
        self = try SnapshotReadError.decode(ModelSnapshot.self, from: text, kind: Self.formatName, version: Self.currentVersion)
    }

    // MARK: Platform and objects

    private static func platform(_ reader: ModelReader) -> Platform {
        let description = reader.platform
        return Platform(
            iommus: description.units.map { Platform.IOMMU(name: $0.name, architecture: $0.configuration.architecture.rawValue) },
            devices: description.devices.map { device in
                var sid: Hex?, bdf: String?
                switch device.requesterID {
                case .streamID(let id): sid = Hex(UInt64(id))
                case .requesterID(let rid): bdf = FaultText.bdf(rid)
                }
                return Platform.PlatformDevice(name: device.name, iommu: device.unit, group: device.group, sid: sid, bdf: bdf,
                                               bound: reader.device(boundTo: device.name)?.id.rawValue)
            })
    }

    private static func object(_ node: ObjectGraph.Node) -> Object {
        Object(id: node.id.rawValue, type: node.kind.object.type.description, serial: node.serial, users: node.users,
               properties: properties(node.kind).map { Object.Property(name: $0.0, value: $0.1) })
    }

    private static func yes(_ value: Bool) -> String { value ? "yes" : "no" }

    /// An object's own values, as the details pane names them.
    private static func properties(_ kind: ObjectKind) -> [(String, String)] {
        switch kind {
        case .ioas(let ioas):
            return [("areas", String(ioas.areas.count)), ("iova_alignment", ioas.iovaAlignment.hex),
                    ("huge_pages", ioas.largePagesDisabled ? "disabled" : "enabled")]
        case .hwptPaging(let hwpt):
            let domain = hwpt.domain
            return [("iommu", domain.driver.name), ("stage", domain.stage.rawValue), ("automatic", yes(hwpt.isAutomatic)),
                    ("nest_parent", yes(hwpt.isNestParent)), ("dirty_tracking", yes(domain.dirtyTracking)),
                    ("dirty_tracking_enabled", yes(domain.dirtyTrackingEnabled)),
                    ("enforce_cache_coherency", yes(domain.enforcesCacheCoherency)),
                    ("aperture", "\(domain.aperture.start.hex)-\(domain.aperture.last.hex)"), ("pgsize_bitmap", domain.pageSizes.hex),
                    ("mappings", String(domain.table.mappingCount)),
                    ("sw_msi", hwpt.presentSWMSI.sorted().map(String.init).joined(separator: ","))]
        case .hwptNested(let nested):
            switch nested.domain.configuration {
            case .selftest(let iotlb): return [("iotlb", iotlb.map { UInt64($0).hex }.joined(separator: ","))]
            case .armSMMUv3(let ste): return [("ste", ste.map(\.hex).joined(separator: ","))]
            case .vtdS1(let flags, let root, let width):
                return [("flags", flags.hex), ("pgtbl_addr", root.hex), ("addr_width", String(width))]
            }
        case .device(let device):
            return [("dev", device.platform.name), ("sw_msi", device.requiredSWMSI.sorted().map(String.init).joined(separator: ","))]
        case .viommu(let viommu):
            return [("type", ObjectText.uapiName(VIOMMUType.self, viommu.viommuType)), ("iommu", viommu.driver.name),
                    ("out_data", UInt64(viommu.outData).hex)]
        case .vdevice(let vdevice): return [("virt_id", vdevice.virtualID.hex)]
        case .selftest: return []
        case .fault(let fault): return [("state", ObjectText.queueState(fault)), ("answers", String(fault.answers.count))]
        case .veventq(let veventq): return [("state", ObjectText.queueState(veventq))]
        case .access(let access):
            return [("state", ObjectText.accessState(access)),
                    ("pins", access.pins.map { "\($0.iova.hex)+\($0.length.hex)" }.joined(separator: ","))]
        }
    }

    private static func edge(_ reference: ObjectReference) -> Edge {
        let role: String, pasid: UInt32?
        switch reference.role {
        case .ioas: (role, pasid) = ("ioas", nil)
        case .nestParent: (role, pasid) = ("nest_parent", nil)
        case .viommu: (role, pasid) = ("viommu", nil)
        case .attachment(let at): (role, pasid) = ("attachment", at == noPASID ? nil : at)
        case .device: (role, pasid) = ("device", nil)
        case .fault: (role, pasid) = ("fault", nil)
        case .file: (role, pasid) = ("file", nil)
        }
        return Edge(from: reference.from.rawValue, to: reference.to.rawValue, role: role, pasid: pasid)
    }

    private static func ioas(_ ioas: IOAS, _ graph: ObjectGraph) -> IOASState {
        IOASState(
            id: ioas.id.rawValue,
            areas: ioas.areas.entries.map { entry in
                IOASState.Area(start: Hex(entry.range.start), last: Hex(entry.range.last), userVA: Hex(entry.value.userVA),
                               prot: rights(entry.value.prot))
            },
            reserved: graph.reservations(of: ioas).map { entry in
                let ownerID: UInt32? = switch entry.reservation.owner {
                case .device(let id, _), .domain(let id): id.rawValue
                case .test: nil
                }
                return IOASState.Reserved(start: Hex(entry.reservation.range.start), last: Hex(entry.reservation.range.last),
                                          owner: ObjectText.owner(entry.reservation.owner), ownerID: ownerID)
            },
            allowed: ioas.allowedRanges.map(Range.init))
    }

    static func rights(_ prot: IOMMUProt) -> String {
        var rights: AccessRights = []
        if prot.contains(.read) { rights.insert(.read) }
        if prot.contains(.write) { rights.insert(.write) }
        return rights.shortDescription
    }

    private static func structure(_ structure: ConfigurationStructure) -> Structure {
        Structure(name: structure.name, address: Hex(structure.address), words: structure.words.map(Hex.init),
                  fields: structure.fields.map { Structure.Field(name: $0.name, bits: "\($0.bits.lowerBound)..\($0.bits.upperBound)",
                                                                 value: Hex($0.value)) })
    }

    // MARK: Domains

    private static func paging(_ hwpt: HWPTPaging, _ reader: ModelReader) -> Domain {
        let domain = hwpt.domain
        guard let table = domain.table as? DescriptorPageTable else {
            // The selftest mock's xarray keeps no descriptors: its mappings are its runs.
            let mappings = coalesce(domain.table.mappings(in: .all).map { mapping in
                Domain.Mapping(start: Hex(mapping.iova.start), last: Hex(mapping.iova.last), output: Hex(mapping.output),
                               pageSize: Hex(domain.minimumPageSize), rights: rights(mapping.prot))
            })
            return Domain(hwpt: hwpt.id.rawValue, stage: domain.stage.rawValue, format: nil, root: nil, space: "PA",
                          note: "the selftest mock's xarray: no descriptors", mappings: mappings, entries: [])
        }
        let read = TableReader(format: table.format, architecture: domain.driver.architecture) { reader.descriptor(of: table, at: $0) }
        let (mappings, entries) = read.walk(root: table.root)
        return Domain(hwpt: hwpt.id.rawValue, stage: domain.stage.rawValue, format: table.format.name, root: Hex(table.root), space: "PA",
                      note: nil, mappings: mappings, entries: entries)
    }

    private static func guestStage1(_ nested: HWPTNested, _ reader: ModelReader) -> Domain {
        let ioas = nested.stage2.ioas
        let space = (nested.stage2.domain.table as? DescriptorPageTable)?.format.intermediateAddressName ?? "GPA"
        func absent(_ note: String) -> Domain {
            Domain(hwpt: nested.id.rawValue, stage: "guest-stage-1", format: nil, root: nil, space: space, note: note, mappings: [],
                   entries: [])
        }
        switch reader.guestStage1Table(of: nested) {
        case .success(let table):
            let read = TableReader(format: table.format, architecture: nested.domain.driver.architecture) {
                reader.guestWord(at: $0, in: ioas)
            }
            let (mappings, entries) = read.walk(root: table.root)
            return Domain(hwpt: nested.id.rawValue, stage: "guest-stage-1", format: table.format.name, root: Hex(table.root), space: space,
                          note: table.walksDisabled ? "CD.EPD0 set: TTB0 walks are disabled" : nil, mappings: mappings, entries: entries)
        case .failure(.selftest): return absent("a selftest nested domain: an IOTLB array, no table")
        case .failure(.streamTableEntryInvalid): return absent("the guest STE is not valid (V=0)")
        case .failure(.notStage1(let config)): return absent("the guest STE does not translate by stage 1 (Config \(config))")
        case .failure(.contextDescriptorUnreadable(let address)): return absent("the guest CD at \(space) \(address.hex) is not in guest RAM")
        case .failure(.contextDescriptorInvalid(let address)): return absent("the guest CD at \(space) \(address.hex) is not valid")
        }
    }

    /// Joins consecutive mappings of one page size and rights whose outputs continue.
    static func coalesce(_ pieces: [Domain.Mapping]) -> [Domain.Mapping] {
        var out: [Domain.Mapping] = []
        for piece in pieces {
            if var last = out.last, last.pageSize == piece.pageSize, last.rights == piece.rights,
               last.last.value.checkedAdd(1) == piece.start.value,
               last.output.value.checkedAdd(last.last.value - last.start.value + 1) == piece.output.value {
                last.last = piece.last
                out[out.count - 1] = last
            } else {
                out.append(piece)
            }
        }
        return out
    }
}

/// A page table read entry by entry as software reads it (no rights checks, no faults, no
/// caches), depth first: every valid descriptor, and the leaves with the rights the walk's
/// rules give them (table rights applied on the way down).
struct TableReader {
    let format: any PageTableFormat
    let architecture: IOMMUArchitecture
    let read: (UInt64) -> UInt64?
    /// Descriptors read at most, so a table that points back into itself cannot run away.
    static let budget = 1 << 22

    func walk(root: UInt64) -> (mappings: [ModelSnapshot.Domain.Mapping], entries: [ModelSnapshot.Domain.Entry]) {
        var pieces: [ModelSnapshot.Domain.Mapping] = []
        var entries: [ModelSnapshot.Domain.Entry] = []
        var remaining = Self.budget
        func visit(_ table: UInt64, _ level: Int, _ base: UInt64, _ count: Int, _ inherited: AccessRights, depth: Int) {
            let span = format.entrySpan(level: level)
            for index in 0..<count {
                guard remaining > 0 else { return }
                remaining -= 1
                let slot = table &+ UInt64(index) &* 8
                guard let descriptor = read(slot), descriptor != 0 else { continue }
                let start = base &+ UInt64(index) &* span
                let kind = format.kind(of: descriptor, level: level)
                entries.append(.init(address: Hex(slot), level: level, iova: Hex(start), descriptor: Hex(descriptor), kind: kind.rawValue,
                                     fields: format.fields(of: descriptor, level: level)
                                         .map { "\($0.name)[\($0.bits.upperBound):\($0.bits.lowerBound)]=\($0.value.hex)" }
                                         .joined(separator: ", ")))
                switch kind {
                case .table where level != format.leafLevel && depth < format.levels.count:
                    let rights = inherited.intersection(architecture.rights(of: descriptor, level: level, leaf: false, format: format))
                    visit(format.outputAddress(of: descriptor, level: level), format.nextLevel(after: level, descriptor: descriptor),
                          start, Int(format.tableSize / 8), rights, depth: depth + 1)
                case .block, .page:
                    let size = format.leafSize(of: descriptor, level: level)
                    let first = start.alignedDown(to: size)
                    // A leaf replicated over several entries (AMD-Vi's non-default sizes) is one page.
                    if let previous = pieces.last, previous.start.value == first { continue }
                    guard let last = first.checkedAdd(size - 1) else { continue }
                    let rights = inherited.intersection(architecture.rights(of: descriptor, level: level, leaf: true, format: format))
                    pieces.append(.init(start: Hex(first), last: Hex(last), output: Hex(format.outputAddress(of: descriptor, level: level)),
                                        pageSize: Hex(size), rights: rights.shortDescription))
                default:
                    continue
                }
            }
        }
        visit(root, format.rootLevel, 0, Int(format.rootTableSize / 8), .readWrite, depth: 1)
        return (ModelSnapshot.coalesce(pieces), entries.sorted { $0.address < $1.address })
    }
}
