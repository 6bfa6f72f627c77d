import Foundation

/// Opens what `--root`, `--snapshot` and `--host` name: a directory is a host root (the live
/// host's `/` or a copy of it), a file must be a capture `iommuscope capture` wrote.
public enum HostInput {
    /// What a path names, told apart before anything is read from it.
    public enum Kind: Sendable, Equatable {
        case directory
        case capture
    }

    /// A directory (a host root or a copy of one) or a snapshot file `capture` wrote.
    public static func open(_ path: String) throws(HostInputError) -> any HostSource {
        switch try kind(of: path) {
        case .directory: return DirectorySource(root: path)
        case .capture: return SnapshotSource(capture: try capture(at: path))
        }
    }

    /// A directory, or a regular file (a capture candidate); anything else is an error.
    public static func kind(of path: String) throws(HostInputError) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HostInputError(path: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            guard FileManager.default.isReadableFile(atPath: path) else { throw HostInputError(path: path, reason: "permission denied") }
            return .directory
        }
        return .capture
    }

    /// Reads and checks a capture file, bounded by `HostCapture.sizeLimit`.
    public static func capture(at path: String) throws(HostInputError) -> HostCapture {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HostInputError(path: path, reason: "permission denied") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: HostCapture.sizeLimit + 1) ?? Data()
        } catch {
            throw HostInputError(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        guard data.first == UInt8(ascii: "{") else {
            throw HostInputError(path: path, reason: "neither a directory nor an iommuscope capture (it does not start with '{')")
        }
        switch HostCapture.decode(data) {
        case .success(let capture): return capture
        case .failure(let error): throw HostInputError(path: path, reason: error.reason)
        }
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

/// Reads every host fact from a source: sysfs groups, units and devices, `/proc`, then the
/// VT-d and AMD-Vi debugfs readers, with notes on what could not be read.
public enum HostReader {
    public static func read(from source: any HostSource) -> (snapshot: HostSnapshot, warnings: [ImportWarning]) {
        var reading = HostReading(source: source)
        reading.run()
        return (reading.snapshot, reading.warnings)
    }

    /// `capture`: the host read through a `RecordingSource`, so the capture holds exactly
    /// the files, listings and links the readers used.
    public static func capture(from source: any HostSource) -> (capture: HostCapture, snapshot: HostSnapshot, warnings: [ImportWarning]) {
        let recorder = RecordingSource(base: source)
        let (snapshot, warnings) = read(from: recorder)
        var capture = recorder.capture
        capture.kernel = snapshot.kernel
        capture.cmdline = snapshot.cmdline
        return (capture, snapshot, warnings)
    }
}
