import IOMMUCore
import Presentation
import TerminalUI

/// The words of the IOVA map: kind labels, each row's summary, the owners of the selected
/// window, the legend and the zoom line.
extension IOVAKind {
    public var label: String {
        switch self {
        case .mapped: "mapped"
        case .partlyMapped: "partly mapped"
        case .swMSI: "sw_msi"
        case .msi: "msi"
        case .direct: "direct"
        case .reserved: "reserved"
        case .outside: "outside aperture"
        case .allowed: "allowed, free"
        case .hole: "hole"
        }
    }
}

enum IOVAMapNarration {
    /// What a row holds, in a few words: `1 area, 2M blocks`, `sw_msi DEVICE 1,2`, `free`.
    static func summary(_ window: IOVARange, ioas: IOAS, hasArea: Bool, reservations: [Reservation], allowed: [IOVARange]) -> String {
        var parts: [String] = []
        if hasArea {
            var count = 0
            let limit = IOVAMap.countLimit
            ioas.areas.forEach(intersecting: window) { _, _ in count += 1; return count < limit }
            var text = count >= limit ? "\(limit)+ areas" : Units.count(count, "area")
            if let sizes = pageSizeSummary(window, ioas: ioas) { text += ", " + sizes }
            parts.append(text)
        }
        // Reservations grouped by what they are, with their owners.
        var groups: [(label: String, owners: [String])] = []
        for reservation in reservations {
            let (label, owner) = ObjectText.ownerParts(reservation.owner)
            if let index = groups.firstIndex(where: { $0.label == label }) {
                if let owner, !groups[index].owners.contains(owner) { groups[index].owners.append(owner) }
            } else {
                groups.append((label, owner.map { [$0] } ?? []))
            }
        }
        parts += groups.map { group in
            guard !group.owners.isEmpty else { return group.label }
            // "sw_msi DEVICE 1,2": the owner's type once, then the ids.
            let type = group.owners[0].split(separator: " ").first.map(String.init) ?? ""
            let ids = group.owners.map { $0.hasPrefix(type + " ") ? String($0.dropFirst(type.count + 1)) : $0 }
            return group.label + " " + type + " " + ids.joined(separator: ",")
        }
        if parts.isEmpty {
            parts.append(!allowed.isEmpty ? "allowed, free" : ioas.allowedRanges.isEmpty ? "free" : "free, not allowed")
        }
        return parts.joined(separator: "; ")
    }

    /// "2M blocks", "4K pages", "4K+2M pages": what the first descriptor domain uses here.
    static func pageSizeSummary(_ window: IOVARange, ioas: IOAS) -> String? {
        guard let (_, table) = IOVAMap.descriptorDomain(ioas) else { return nil }
        let (sizes, _) = IOVAMap.leafSizes(table, areas: ioas.areas, in: window, areaLimit: 2, leafLimit: 8)
        guard !sizes.isEmpty else { return nil }
        let sorted = sizes.keys.sorted()
        let names = sorted.map { Units.size($0) }.joined(separator: "+")
        return names + (sorted.count == 1 && sorted[0] > table.format.granule ? " blocks" : " pages")
    }

    /// The legend, wrapped to `width`: glyph and label pairs, each glyph in its role.
    static func legendLines(width: Int, symbols: Symbols) -> [[(String, String)]] {
        var lines: [[(String, String)]] = [[]]
        var used = 0
        for kind in IOVAKind.allCases.reversed() {
            let glyph = kind == .hole ? "' '" : kind.glyph(symbols)
            let entry = CellBuffer.width(of: glyph) + 1 + kind.label.count + 2
            if used > 0 && used + entry > width {
                lines.append([])
                used = 0
            }
            lines[lines.count - 1] += [(glyph, kind.role), (" " + kind.label + "  ", "dim")]
            used += entry
        }
        return lines
    }

    /// The line above the rows: the IOAS and the zoom level.
    static func crumb(_ ioas: IOAS, zoom: [IOVARange], rows: Int, symbols: Symbols) -> String {
        guard let top = zoom.last else { return "IOAS \(ioas.id)  whole space in \(rows) segments  (Enter zooms, /0x\(symbols.ellipsis) jumps)" }
        let per = IOVAMap.childSize(of: top).map(Units.size) ?? Units.size(of: top)
        return "IOAS \(ioas.id)  zoom \(zoom.count): \(top) (\(Units.size(of: top))), \(per) per row"
    }

    /// Who owns the selected window: its areas (user VA, prot), its reservations and their
    /// owners, the allowed ranges, and what each attached domain maps there.
    static func ownerLines(_ window: IOVARange, ioas: IOAS, symbols: Symbols) -> [DetailLine] {
        let ascii = symbols == .ascii
        let arrow = symbols.arrow, times = ascii ? "x" : "×"
        var lines: [DetailLine] = []
        func add(_ text: String, _ role: String = "text") { lines.append(DetailLine(text: text, role: role, target: nil)) }
        add("\(window)  \(Units.size(of: window))", "heading")
        var shown = 0, total = 0
        ioas.areas.forEach(intersecting: window) { range, area in
            total += 1
            if shown < 3 {
                add("area \(range)  \(area.prot.shortDescription)  user_va \(area.userVA.hex)", "mapped")
                shown += 1
            }
            return total < IOVAMap.countLimit
        }
        if total > shown { add("  \(symbols.ellipsis) and \(total >= IOVAMap.countLimit ? "\(IOVAMap.countLimit - shown)+" : String(total - shown)) more areas", "dim") }
        let reservations = ioas.reservations.filter { $0.range.intersects(window) }
        for reservation in reservations.prefix(4) {
            add("reserved \(reservation.range)  \(ObjectText.owner(reservation.owner))", IOVAKind(reservation.owner).role)
        }
        for allowed in ioas.allowedRanges.filter({ $0.intersects(window) }).prefix(2) { add("allowed  \(allowed)", "allowed") }
        for hwpt in ioas.hwpts.prefix(3) {
            let domain = hwpt.domain
            let name = "HWPT \(hwpt.id) \(domain.stage.rawValue) on \(domain.driver.name)"
            if total > 0 {
                if let table = domain.table as? DescriptorPageTable {
                    let (sizes, complete) = IOVAMap.leafSizes(table, areas: ioas.areas, in: window, areaLimit: 16, leafLimit: 64)
                    add(name + ": " + (sizes.isEmpty ? "nothing mapped under the areas here"
                        : sizes.sorted { $0.key > $1.key }.map { "\($0.value)\(complete ? "" : "+")\(times)\(Units.size($0.key))" }
                            .joined(separator: " ") + (complete ? " leaves" : " leaves (sampled)")))
                } else {
                    add(name + ": mirrors the areas as xarray runs (no descriptors)")
                }
            }
            // Mappings inside reservations are the SW_MSI doorbells (areas never overlap them).
            for reservation in reservations {
                if case .domain = reservation.owner { continue }
                let cut = IOVARange(start: max(reservation.range.start, window.start), last: min(reservation.range.last, window.last))
                for mapping in domain.table.mappings(in: cut).prefix(2) {
                    add("HWPT \(hwpt.id) maps \(mapping.iova.start.hex) \(arrow) \(mapping.output.hex)"
                        + (mapping.prot.contains(.mmio) ? " (MSI doorbell)" : ""), IOVAKind(reservation.owner).role)
                }
            }
        }
        if lines.count == 1 { add("free IOVA: no area, reservation or allowed range here", "dim") }
        return lines
    }
}
