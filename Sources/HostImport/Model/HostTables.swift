import IOMMUCore

/// What rebuilding a host's dumped tables in simulated memory produced: the kernel-owned
/// tables (DMA and identity domains) a view or `translate` can walk, and what is unknown.
public struct TableRebuildReport {
    public var tables: [HostDomainTable] = []
    /// Descriptors (root, context, PASID, DTE and page-table entries) written at the
    /// addresses the dumps showed.
    public var descriptorsPlaced = 0
    public var warnings: [ImportWarning] = []
    /// Sentences for `host`'s notes ("dmar1: no domain dump for 0000:00:14.0: its tables are unknown").
    public var notes: [String] = []

    public init() {}

    public func table(device: String, pasid: UInt32? = nil) -> HostDomainTable? {
        tables.first { $0.device == device && $0.pasid == pasid }
    }
}

/// One table a host device translates through, as rebuilt from a dump.
public struct HostDomainTable {
    public var unit: String
    /// The device's sysfs name.
    public var device: String
    /// Nil for the RID's requests.
    public var pasid: UInt32?
    public var format: any PageTableFormat
    public var root: UInt64
    public var coverage: TableCoverage

    public init(unit: String, device: String, pasid: UInt32?, format: any PageTableFormat, root: UInt64, coverage: TableCoverage) {
        self.unit = unit
        self.device = device
        self.pasid = pasid
        self.format = format
        self.root = root
        self.coverage = coverage
    }
}

/// How much of a table the dumps showed.
public enum TableCoverage: Sendable, Equatable {
    /// Every present leaf was dumped: an entry not placed is not present.
    case complete
    /// Some input ranges were not dumped (a truncated file, a short row): their entries are
    /// unknown, not empty.
    case partial(unknown: [IOVARange])
    /// Only the root is known (the configuration entries were dumped, the table was not).
    case rootOnly(reason: String)
}
