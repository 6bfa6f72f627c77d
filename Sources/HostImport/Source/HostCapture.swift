import Foundation

/// The file `iommuscope capture` writes and `--snapshot`/`--host` read: every file, listing,
/// link and failure the host readers met, keyed by the path under the host root.
///
/// ```
/// {"cmdline":"...","dirs":{"sys/kernel/iommu_groups":["0","1"]},"exists":["sys/kernel/debug"],
///  "failures":{"sys/kernel/debug/iommu/intel/iommu_regset":"permission-denied"},
///  "files":{"proc/cmdline":"BOOT_IMAGE=... intel_iommu=on\n"},"format":"iommuscope-capture",
///  "kernel":"6.8.0-45-generic","links":{"sys/bus/pci/devices/0000:00:02.0/driver":"../../../bus/pci/drivers/i915"},
///  "version":0}
/// ```
/// Keys are sorted and slashes unescaped, so two captures of one host are byte-identical.
/// File texts are verbatim (a JSON string holds any UTF-8); `kernel` and `cmdline` repeat
/// `proc/` for a person reading the file.
public struct HostCapture: Codable, Sendable, Equatable {
    public static let formatName = "iommuscope-capture"
    public static let currentVersion = 0
    /// The largest capture read back: debugfs dumps included, a host's capture is a few MB.
    public static let sizeLimit = 256 * 1024 * 1024
    /// The most entries in any one of the maps.
    public static let entryLimit = 1_000_000

    public var format = HostCapture.formatName
    public var version = HostCapture.currentVersion
    public var kernel: String?
    public var cmdline: String?
    public var files: [String: String] = [:]
    public var links: [String: String] = [:]
    public var dirs: [String: [String]] = [:]
    /// Paths `exists` found that no other map holds (a directory only tested for).
    public var exists: [String] = []
    /// Why a file gave no text: `missing`, `permission-denied`, `not-text`, `too-large:N`,
    /// or `other:TEXT`.
    public var failures: [String: String] = [:]

    public init() {}

    /// Every map may be absent (a capture of an empty root); `format` and `version` may not.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(String.self, forKey: .format)
        version = try container.decode(Int.self, forKey: .version)
        kernel = try container.decodeIfPresent(String.self, forKey: .kernel)
        cmdline = try container.decodeIfPresent(String.self, forKey: .cmdline)
        files = try container.decodeIfPresent([String: String].self, forKey: .files) ?? [:]
        links = try container.decodeIfPresent([String: String].self, forKey: .links) ?? [:]
        dirs = try container.decodeIfPresent([String: [String]].self, forKey: .dirs) ?? [:]
        exists = try container.decodeIfPresent([String].self, forKey: .exists) ?? []
        failures = try container.decodeIfPresent([String: String].self, forKey: .failures) ?? [:]
    }

    /// Sorted keys, `/` unescaped: deterministic bytes for one host.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }

    /// Reads a capture back, checking its format, version and bounds; the reason says where it
    /// went wrong (the JSON coding path, or the entry).
    public static func decode(_ data: Data) -> Result<HostCapture, CaptureFormatError> {
        guard data.count <= sizeLimit else { return .failure(.init(reason: "larger than \(sizeLimit) bytes")) }
        let capture: HostCapture
        do {
            capture = try JSONDecoder().decode(HostCapture.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            return .failure(.init(reason: "not a capture: \(describe(context))"))
        } catch let DecodingError.keyNotFound(key, context) {
            return .failure(.init(reason: "no \"\(key.stringValue)\" at \(describe(context))"))
        } catch let DecodingError.typeMismatch(_, context) {
            return .failure(.init(reason: "wrong type at \(describe(context))"))
        } catch {
            return .failure(.init(reason: "not a capture: \(error)"))
        }
        guard capture.format == formatName else {
            return .failure(.init(reason: "format is \"\(capture.format)\", not \"\(formatName)\""))
        }
        guard capture.version == currentVersion else {
            return .failure(.init(reason: "capture version \(capture.version); this iommuscope reads version \(currentVersion)"))
        }
        for (name, count) in [("files", capture.files.count), ("links", capture.links.count), ("dirs", capture.dirs.count),
                              ("exists", capture.exists.count), ("failures", capture.failures.count)] where count > entryLimit {
            return .failure(.init(reason: "\"\(name)\" has \(count) entries, more than \(entryLimit)"))
        }
        for (path, text) in capture.files where text.utf8.count > HostFileLimit.bytes(for: path) {
            return .failure(.init(reason: "files[\"\(path)\"] is larger than \(HostFileLimit.bytes(for: path)) bytes"))
        }
        return .success(capture)
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    }
}

/// Why a file is not a capture `HostCapture.decode` accepts.
public struct CaptureFormatError: Error, Sendable, Equatable {
    public var reason: String
}

extension HostReadFailure {
    /// The capture's word for the failure; `init(captureCode:)` reads it back.
    public var captureCode: String {
        switch self {
        case .missing: "missing"
        case .permissionDenied: "permission-denied"
        case .notText: "not-text"
        case .tooLarge(let limit): "too-large:\(limit)"
        case .other(let reason): "other:\(reason)"
        }
    }

    public init(captureCode code: String) {
        switch code {
        case "missing": self = .missing
        case "permission-denied": self = .permissionDenied
        case "not-text": self = .notText
        default:
            if code.hasPrefix("too-large:"), let limit = Int(code.dropFirst("too-large:".count)) {
                self = .tooLarge(limit: limit)
            } else if code.hasPrefix("other:") {
                self = .other(String(code.dropFirst("other:".count)))
            } else {
                self = .other(code)
            }
        }
    }
}

/// A capture read back as a host: what was recorded answers, anything else is missing.
public struct SnapshotSource: HostSource {
    public let capture: HostCapture
    /// Every directory holding a recorded path, so `exists` answers for parents too.
    private let ancestors: Set<String>

    public init(capture: HostCapture) {
        self.capture = capture
        var ancestors: Set<String> = []
        let paths = Array(capture.files.keys) + Array(capture.links.keys) + Array(capture.dirs.keys)
            + capture.exists + Array(capture.failures.filter { $0.value != "missing" }.keys)
        for path in paths {
            var components = path.split(separator: "/")
            while !components.isEmpty {
                components.removeLast()
                if !ancestors.insert(components.joined(separator: "/")).inserted { break }
            }
        }
        self.ancestors = ancestors
    }

    public func read(_ path: String) -> Result<String, HostReadFailure> {
        if let text = capture.files[path] { return .success(text) }
        if let code = capture.failures[path] { return .failure(HostReadFailure(captureCode: code)) }
        return .failure(.missing)
    }

    public func list(_ directory: String) -> [String] { capture.dirs[directory] ?? [] }
    public func link(_ path: String) -> String? { capture.links[path] }

    public func exists(_ path: String) -> Bool {
        capture.files[path] != nil || capture.links[path] != nil || capture.dirs[path] != nil
            || ancestors.contains(path) || capture.exists.contains(path)
            || capture.failures[path].map { $0 != "missing" } == true
    }
}

/// Passes every call to a host and remembers what it answered, so `capture` holds exactly the
/// files the readers used. A class: the readers take the source by value, and the recording
/// must outlive them.
public final class RecordingSource: HostSource {
    public let base: any HostSource
    private var recording = HostCapture()
    private var found: Set<String> = []

    public init(base: any HostSource) { self.base = base }

    /// What was recorded so far, as a capture (without `kernel` and `cmdline`, which the
    /// caller takes from the snapshot it read).
    public var capture: HostCapture {
        var capture = recording
        capture.exists = found.sorted()
        return capture
    }

    public func read(_ path: String) -> Result<String, HostReadFailure> {
        let result = base.read(path)
        switch result {
        case .success(let text): recording.files[path] = text
        case .failure(let failure): recording.failures[path] = failure.captureCode
        }
        return result
    }

    public func list(_ directory: String) -> [String] {
        let names = base.list(directory)
        if !names.isEmpty || base.exists(directory) { recording.dirs[directory] = names }
        return names
    }

    public func link(_ path: String) -> String? {
        let target = base.link(path)
        if let target { recording.links[path] = target }
        return target
    }

    public func exists(_ path: String) -> Bool {
        let exists = base.exists(path)
        if exists { found.insert(path) }
        return exists
    }
}
