import IOMMUCore

/// The refusals the scenario language's own commands make: the project queries (`walk`,
/// `config`, `host_read`) and the parts of a uAPI call that happen in user space (the buffer
/// an ioctl writes back into, the file a `close` names).
extension Refusal.Rule {
    /// `IOMMU_IOAS_IOVA_RANGES`: `if (cmd->num_iovas < max_iovas) rc = -EMSGSIZE` — the
    /// caller's buffer holds fewer ranges than the IOAS has (the count is still written back).
    static let iovaRangesBuffer = Refusal.Rule("iommufd_ioas_iova_ranges.num_iovas", "the buffer holds fewer ranges than the IOAS has")
    /// `close(2)`: the number is not a file descriptor at all.
    static let notAFileDescriptor = Refusal.Rule("close.ebadf", "the number is not an open file descriptor")
    /// `walk`: an IOVA above the table's input range would index a low address's entry.
    static let outsideInputRange = Refusal.Rule("walk.input_range", "the IOVA is outside the table's input address range")
    /// `host_read`: the words are read one aligned u64 at a time, at least one.
    static let hostReadAlignment = Refusal.Rule("host_read.alignment", "the address is not 8-byte aligned or the count is 0")
    /// `host_read`: a word nothing is allocated at.
    static let hostReadUnallocated = Refusal.Rule("host_read.unallocated", "no simulated memory is allocated at this address")
}
