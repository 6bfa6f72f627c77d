/// The checks of the model's guest-memory accesses (a GPA is an IOVA of the nest parent's
/// IOAS); no ioctl makes them, so they are named after the model's operations.
extension Refusal.Rule {
    /// `hostPhysicalAddress`: no area of the IOAS holds the GPA.
    public static let guestUnmapped = Refusal.Rule("guest_memory.unmapped", "no area of the IOAS maps the guest physical address")
    /// `hostPhysicalAddress`: the area's user VA is backed by no page (unmapped and not pinned).
    public static let guestUnbacked = Refusal.Rule("guest_memory.unbacked", "the VMM memory behind the IOAS area is not mapped")
    /// `guestRead` / `guestWrite`: the GPA is not 8-byte aligned.
    public static let guestUnaligned = Refusal.Rule("guest_memory.unaligned", "guest memory is accessed in 8-byte aligned words")
    /// `guestRead` / `guestWrite`: no word to access.
    public static let guestNoWords = Refusal.Rule("guest_memory.no_words", "the access names no word")
    /// An address the machine's memory does not hold (a bus error) behind a guest access.
    public static let guestBusError = Refusal.Rule("guest_memory.bus_error", "the memory behind the guest address cannot be accessed")
    /// `GuestTableMemory.allocateTable`: the guest's table pool has no aligned room left.
    public static let guestTablePoolFull = Refusal.Rule("guest_pgtable.pool_full", "the guest's page-table pool has no room for the table")
}

extension Refusal {
    /// EFAULT for a bus error at a host physical address.
    static func guestBusError(_ error: BusError) -> Refusal {
        Refusal(.EFAULT, .guestBusError, values: [InvolvedValue("address", error.address, .requested)])
    }

    /// EINVAL for a guest access at an address that is not 8-byte aligned.
    static func guestUnaligned(_ gpa: UInt64) -> Refusal {
        Refusal(.EINVAL, .guestUnaligned, values: [InvolvedValue("gpa", gpa, .requested)])
    }

    /// EINVAL for a guest access of `count` (not positive) words.
    static func guestNoWords(count: Int) -> Refusal {
        Refusal(.EINVAL, .guestNoWords, values: [InvolvedValue("count", UInt64(clamping: count), .requested)])
    }
}
