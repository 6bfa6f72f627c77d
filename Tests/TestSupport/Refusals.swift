import IOMMUCore

/// The refusal `body` ended with, or nil when it returned (or threw something else):
/// `#expect(refusal { try fd.destroy(id: 3) }?.errno == .EBUSY)`.
public func refusal<T>(_ body: () throws -> T) -> Refusal? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? Refusal
    }
}
