@testable import iommuscope

/// The message ArgumentParser prints for `arguments`, or nil when they parse and validate.
func parseFailure(_ arguments: [String]) -> String? {
    do {
        _ = try IOMMUScope.parseAsRoot(arguments)
        return nil
    } catch {
        return IOMMUScope.message(for: error)
    }
}
