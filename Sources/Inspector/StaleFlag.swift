import IOMMUCore
import Presentation
import Snapshots
import TerminalUI

/// A stale IOTLB entry as the walk and page-table views flag it: what the entry caches for an
/// input address and what a fresh walk of the tables says there now
/// (`≢ stale IOTLB: cached PA 0x40212345, table says 0x40612345`). The entries come from
/// `ModelView.staleIOTLB` (the snapshot's check, made once per model generation).
struct StaleFlag: Equatable {
    /// The input address the two disagree at.
    var iova: UInt64
    var cached: UInt64
    /// The fresh walk's output address there, or why it has none (`fault: …`).
    var table: String

    func text(_ symbols: Symbols) -> String {
        "\(symbols.stale) stale IOTLB: cached PA \(cached.hex), table says \(table)"
    }

    /// What `entry` caches for `iova` (inside its range): its output plus the offset.
    static func cached(_ entry: ModelSnapshot.IOTLBEntry, at iova: UInt64) -> UInt64? {
        guard iova >= entry.input.value, iova - entry.input.value < entry.size.value else { return nil }
        return entry.output.value.checkedAdd(iova - entry.input.value)
    }

    /// The stale entry the transaction of DEVICE `device` (at `pasid`) to `iova` hits.
    static func entry(in entries: [ModelSnapshot.IOTLBEntry], device: UInt32, pasid: UInt32?,
                      iova: UInt64) -> ModelSnapshot.IOTLBEntry? {
        entries.first { $0.device == device && $0.pasid == pasid && cached($0, at: iova) != nil }
    }

    /// The flag of `entry` where its own check found the disagreement (its fresh walk).
    init?(_ entry: ModelSnapshot.IOTLBEntry) {
        guard let fresh = entry.fresh, let cached = Self.cached(entry, at: fresh.iova.value) else { return nil }
        self.init(iova: fresh.iova.value, cached: cached, table: fresh.fault.map { "fault: " + $0 } ?? fresh.output?.description ?? "-")
    }

    init(iova: UInt64, cached: UInt64, table: String) {
        self.iova = iova
        self.cached = cached
        self.table = table
    }

    /// The flag for a page-table row covering `range` of HWPT `hwpt`: the first stale entry
    /// of a device attached to it (at its PASID) whose range meets `range`.
    static func row(_ range: IOVARange, hwpt: ObjectID, model: ModelView) -> StaleFlag? {
        let entries = model.staleIOTLB
        guard !entries.isEmpty else { return nil }
        let attached = model.graph.attachments(of: hwpt)
        return entries.lazy.filter { entry in
            attached.contains { $0.device.id.rawValue == entry.device && $0.pasid == (entry.pasid ?? noPASID) }
                && entry.input.value <= range.last && range.start - min(range.start, entry.input.value) < entry.size.value
        }.compactMap(StaleFlag.init).first
    }
}
