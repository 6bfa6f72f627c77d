/// Where host files come from: a directory tree (`/`, the live host, or a copy under
/// `--root`), or a snapshot file `capture` wrote. Paths are relative to the root
/// (`sys/kernel/iommu_groups/9/type`), so every reader is the same code for a live host, a
/// copied tree and a snapshot.
///
/// Implementations never write, bound what they read, and never follow a symlink cycle.
public protocol HostSource {
    /// The file's text, or why it could not be read (missing, permission, too large, binary).
    func read(_ path: String) -> Result<String, HostReadFailure>
    /// The names in a directory, sorted; empty when it is missing or unreadable.
    func list(_ directory: String) -> [String]
    /// A symlink's target as `readlink` prints it; nil when `path` is not a link.
    func link(_ path: String) -> String?
    /// Whether `path` exists (a file, directory or link).
    func exists(_ path: String) -> Bool
}

/// Why a host file gave no text.
public enum HostReadFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case permissionDenied
    /// Larger than the reader's bound (sysfs and debugfs files are small; a huge one is not what it claims).
    case tooLarge(limit: Int)
    case notText
    case other(String)

    public var description: String {
        switch self {
        case .missing: "no such file"
        case .permissionDenied: "permission denied"
        case .tooLarge(let limit): "larger than \(limit) bytes"
        case .notText: "not text"
        case .other(let reason): reason
        }
    }
}
