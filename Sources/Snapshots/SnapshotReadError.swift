import Foundation

/// Why a file is not a snapshot `diff` can read: not JSON, another format, another version,
/// or a field missing or of the wrong type (with its path).
public struct SnapshotReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    private struct Header: Decodable {
        var format: String?
        var version: Int?
    }

    /// Decodes `text` as `type` after checking its `format` and `version` members.
    static func decode<T: Decodable>(_ type: T.Type, from text: String, kind: String, version: Int) throws(SnapshotReadError) -> T {
        let data = Data(text.utf8)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw SnapshotReadError("not an \(kind) file: it is not a JSON object")
        }
        guard header.format == kind else {
            throw SnapshotReadError("not an \(kind) file: its \"format\" is \(header.format.map { "'\($0)'" } ?? "missing"), not '\(kind)'")
        }
        guard header.version == version else {
            throw SnapshotReadError("\(kind) version \(header.version.map(String.init) ?? "missing") is not supported (this build reads version \(version))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw SnapshotReadError("a malformed \(kind) file: " + Self.describe(error))
        } catch {
            throw SnapshotReadError("a malformed \(kind) file: \(error)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }
}
