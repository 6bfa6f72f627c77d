/// A located complaint about input that was read anyway (IMPORT.md: "Malformed or truncated
/// records give a located warning (file, line, reason) on stderr and the reader goes on").
public struct ImportWarning: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it, or its path under the host root (`sys/kernel/...`);
    /// `-` for standard input.
    public var file: String
    /// 1-based line, when the complaint is about one.
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    /// `FILE:LINE: warning: REASON`, as compilers locate theirs. The caller escapes it for a terminal.
    public var description: String {
        if let line { return "\(file):\(line): warning: \(reason)" }
        return "\(file): warning: \(reason)"
    }
}
