import HostImport

/// `faults --host P` / `--scenario F`: each record explained on that model, or nil without
/// either option. Owned by the host-model work.
func explainFaults(_ records: [FaultRecord], host: String?, scenario: String?) throws -> [FaultExplanation]? { nil }
