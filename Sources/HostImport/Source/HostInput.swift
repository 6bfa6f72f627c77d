/// Opens what `--root`, `--snapshot` and `--host` name. Owned by the host-reading work.
public enum HostInput {
    /// A directory (a host root or a copy of one) or a snapshot file `capture` wrote.
    public static func open(_ path: String) throws(HostInputError) -> any HostSource {
        throw HostInputError(path: path, reason: "not implemented")
    }
}

/// Why a `--root`/`--snapshot`/`--host` path cannot be read (exit status 2).
public struct HostInputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}

/// Reads every host fact from a source. Owned by the host-reading work.
public enum HostReader {
    public static func read(from source: any HostSource) -> (snapshot: HostSnapshot, warnings: [ImportWarning]) {
        (HostSnapshot(), [])
    }
}
