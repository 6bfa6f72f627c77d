#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A host tree on disk: `/` (the live host) or a copy of it under `--root`. The live host and a
/// copy are the same code; only the root differs.
///
/// Every call is `lstat`-based and read-only: a file is opened `O_RDONLY | O_NOFOLLOW |
/// O_NONBLOCK` and read only when it is a regular file, so a FIFO, a device node or a final
/// symlink in a copied tree is never read, and nothing is written. Directory links in the
/// middle of a path (sysfs's `bus/pci/devices/<bdf>`, `class/iommu/<unit>`) are followed by the
/// kernel's own path walk, which stops a cycle with `ELOOP`; the source itself never descends
/// into a listing, so a sysfs cycle (`.../subsystem/devices/<bdf>/subsystem/...`) is never walked.
/// Listings leave out names starting with a dot (no kernel file system makes them).
public struct DirectorySource: HostSource {
    /// The root without its trailing `/` (empty for the live host's `/`).
    public let root: String

    public init(root: String) {
        var trimmed = Substring(root)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.root = trimmed == "/" ? "" : String(trimmed)
    }

    /// The most names one listing returns (`/sys/bus/pci/devices` of a large server has a few
    /// thousand).
    public static let listingLimit = 65_536

    public func read(_ path: String) -> Result<String, HostReadFailure> {
        guard let full = fullPath(path) else { return .failure(.other("path leaves the host root")) }
        let limit = HostFileLimit.bytes(for: path)
        let fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Self.failure(errno)) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure(Self.failure(errno)) }
        guard status.st_mode & S_IFMT == S_IFREG else { return .failure(.other("not a regular file")) }
        // sysfs and debugfs report a size of 4096 or 0 whatever the content, so read to the end,
        // one byte past the limit to tell "exactly the limit" from "larger".
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { readBytes(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Self.failure(errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<min(count, limit + 1 - bytes.count)])
        }
        guard bytes.count <= limit else { return .failure(.tooLarge(limit: limit)) }
        return HostFileLimit.text(bytes)
    }

    public func list(_ directory: String) -> [String] {
        guard let full = fullPath(directory), let handle = opendir(full.isEmpty ? "/" : full) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while names.count < Self.listingLimit, let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            // sysfs, procfs and debugfs names never start with a dot: dot-files in a copied tree
            // (`.gitkeep` keeping an empty debugfs directory, editor backups) are not the host's.
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    public func link(_ path: String) -> String? {
        guard let full = fullPath(path) else { return nil }
        var status = stat()
        guard lstat(full, &status) == 0, status.st_mode & S_IFMT == S_IFLNK else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(full, &buffer, Int(PATH_MAX))
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func exists(_ path: String) -> Bool {
        guard let full = fullPath(path) else { return false }
        var status = stat()
        return lstat(full.isEmpty ? "/" : full, &status) == 0
    }

    /// `root/path`, or nil when a `..` component would leave the root.
    private func fullPath(_ path: String) -> String? {
        let components = path.split(separator: "/")
        guard !components.contains("..") else { return nil }
        return components.isEmpty ? root : root + "/" + components.joined(separator: "/")
    }

    private static func failure(_ code: Int32) -> HostReadFailure {
        switch code {
        case ENOENT, ENOTDIR: .missing
        case EACCES, EPERM: .permissionDenied
        case ELOOP: .other("a symbolic link (not followed)")
        case EISDIR: .other("a directory")
        default: .other(String(cString: strerror(code)))
        }
    }
}

/// `read(2)`, named apart from `HostSource.read`.
private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// How much of a host file is read, by the kind of path it is, and when its bytes count as text.
public enum HostFileLimit {
    /// sysfs attributes are at most one page (`sysfs_emit`; 64 KiB pages on some arm64 and
    /// POWER kernels), and so are `/proc/cmdline` and `osrelease`.
    public static let attribute = 64 * 1024
    /// debugfs dumps grow with what is mapped: `domain_translation_struct` prints one row per
    /// present leaf, tens of MB on a busy host.
    public static let debugfs = 64 * 1024 * 1024

    public static func bytes(for path: String) -> Int {
        path.hasPrefix("sys/kernel/debug/") ? debugfs : attribute
    }

    /// UTF-8 without NUL bytes is text; anything else (a binary file in a copied tree) is
    /// `notText`.
    public static func text(_ bytes: [UInt8]) -> Result<String, HostReadFailure> {
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notText) }
        return .success(text)
    }
}
