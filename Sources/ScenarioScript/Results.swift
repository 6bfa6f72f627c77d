import IOMMUCore
import Presentation

/// An out field of a command, typed by how the JSON result prints it.
public enum FieldValue: Equatable, Sendable {
    /// Object ids and counts: JSON integers.
    case integer(UInt64)
    /// A field the kernel's log line prints in hex (AMD-Vi's `domain=0x%04x`, `flags=0x%04x`):
    /// a JSON integer like an id, printed `0x` with `digits` digits in the text output.
    case hexInteger(UInt64, digits: Int)
    /// Addresses, lengths, descriptors and other 64-bit quantities: `"0x..."`.
    case address(UInt64)
    /// `struct iommu_iova_range` lists.
    case ranges([IOVARange])
    /// Lists of 64-bit words (`guest_read`'s `value`).
    case words([UInt64])
    case text(String)
    /// An array of records (a walk's `steps`), each with its fields in order.
    case records([[(name: String, value: FieldValue)]])
    /// One record (a translation's `fault`).
    case record([(name: String, value: FieldValue)])

    public static func == (a: FieldValue, b: FieldValue) -> Bool {
        switch (a, b) {
        case let (.integer(x), .integer(y)), let (.address(x), .address(y)), let (.hexInteger(x, _), .hexInteger(y, _)): x == y
        case let (.ranges(x), .ranges(y)): x == y
        case let (.words(x), .words(y)): x == y
        case let (.text(x), .text(y)): x == y
        case let (.record(x), .record(y)): x.map(\.name) == y.map(\.name) && x.map(\.value) == y.map(\.value)
        case let (.records(x), .records(y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.map(\.name) == $1.map(\.name) && $0.map(\.value) == $1.map(\.value) }
        default: false
        }
    }

    /// The single integer it holds, when it holds one.
    var scalar: UInt64? {
        switch self {
        case .integer(let value), .address(let value), .hexInteger(let value, _): value
        case .words(let words) where words.count == 1: words[0]
        default: nil
        }
    }

    var json: String {
        switch self {
        case .integer(let value), .hexInteger(let value, _): String(value)
        case .address(let value): "\"\(value.hex)\""
        case .ranges(let ranges): "[" + ranges.map { "{\"start\":\"\($0.start.hex)\",\"last\":\"\($0.last.hex)\"}" }.joined(separator: ",") + "]"
        case .words(let words): "[" + words.map { "\"\($0.hex)\"" }.joined(separator: ",") + "]"
        case .text(let text): jsonString(text)
        case .record(let record): "{" + record.map { "\(jsonString($0.name)):\($0.value.json)" }.joined(separator: ",") + "}"
        case .records(let records):
            "[" + records.map { record in "{" + record.map { "\(jsonString($0.name)):\($0.value.json)" }.joined(separator: ",") + "}" }
                .joined(separator: ",") + "]"
        }
    }

    /// How the human-readable output prints it: text with blanks in quotes (`FieldText`).
    public var display: String {
        switch self {
        case .integer(let value): String(value)
        case .hexInteger(let value, let digits): FaultText.Value.hex(value, digits: digits).description
        case .address(let value): value.hex
        case .ranges(let ranges): ranges.isEmpty ? "(none)" : ranges.map(\.description).joined(separator: ",")
        case .words(let words): words.map(\.hex).joined(separator: ",")
        case .text(let text): FieldText.value(text)
        case .record(let record): record.map { "\($0.name)=\($0.value.display)" }.joined(separator: " ")
        case .records(let records):
            records.map { record in record.map { "\($0.name)=\($0.value.display)" }.joined(separator: " ") }.joined(separator: "; ")
        }
    }
}

/// How a command ended.
public enum Status: Equatable, Sendable, CustomStringConvertible {
    case ok
    /// The errno the kernel returns, with the rule that refused and what it involved.
    case refused(Refusal)
    /// A translation fault (`translate`).
    case fault
    /// A command this version of the core cannot carry out yet.
    case unsupported(String)
    /// The scenario itself went wrong at run time: an unbound name, a failed `check`.
    case failed(String)

    /// The errno of a refusal.
    public var errno: Errno? {
        if case .refused(let refusal) = self { refusal.errno } else { nil }
    }

    /// The refusal, for a line the kernel refused.
    public var refusal: Refusal? {
        if case .refused(let refusal) = self { refusal } else { nil }
    }

    /// Why, in words: a refusal's rule with what it involved, or an unsupported or failed line's text.
    public var reason: String? {
        switch self {
        case .ok, .fault: nil
        case .refused(let refusal): refusal.reason
        case .unsupported(let reason), .failed(let reason): reason
        }
    }

    /// The status with its reason: `EADDRINUSE (the range overlaps a reserved range: …)`.
    public var explained: String { reason.map { "\(description) (\($0))" } ?? description }

    public var description: String {
        switch self {
        case .ok: "ok"
        case .refused(let refusal): refusal.errno.name
        case .fault: "fault"
        case .unsupported: "unsupported"
        case .failed: "failed"
        }
    }

    func satisfies(_ expectation: Expectation) -> Bool {
        switch (self, expectation) {
        case (.ok, .ok), (.fault, .fault): true
        case let (.refused(have), .errno(want)): have.errno == want
        default: false
        }
    }
}

/// The outcome of one command line.
public struct CommandResult: Sendable {
    public var status: Status
    /// Out fields in uAPI order, the main one first.
    public var fields: [(name: String, value: FieldValue)]

    public init(status: Status = .ok, fields: [(name: String, value: FieldValue)] = []) {
        self.status = status
        self.fields = fields
    }

    public func field(_ name: String) -> FieldValue? { fields.first { $0.name == name }?.value }

    /// `status`, the out fields and a reason, as the members of one JSON object.
    var jsonMembers: [String] {
        var members = ["\"status\":\(jsonString(status.description))"]
        for (name, value) in fields { members.append("\(jsonString(name)):\(value.json)") }
        switch status {
        case .refused(let refusal): members.append("\"reason\":" + refusal.json)
        case .unsupported(let reason), .failed(let reason): members.append("\"reason\":{\"text\":\(jsonString(reason))}")
        case .ok, .fault: break
        }
        return members
    }

    /// The result alone as one JSON object (`iommuscope translate --host --json`): a line's
    /// JSON without its `line` and `cmd`.
    public var json: String { "{" + jsonMembers.joined(separator: ",") + "}" }
}

/// A line's result together with what it was expected to do.
public struct LineReport: Sendable {
    public var line: Int
    public var command: String
    public var result: CommandResult
    public var expectation: Expectation?

    /// False when `expect=` did not hold, a `check` failed or the line could not run.
    public var passed: Bool {
        if case .failed = result.status { return false }
        guard let expectation else { return true }
        return result.status.satisfies(expectation)
    }

    /// One JSON object, as `iommuscope run --json` prints it.
    public var json: String {
        var members = ["\"line\":\(line)", "\"cmd\":\(jsonString(command))"] + result.jsonMembers
        if let expectation, !passed { members.append("\"expected\":\(jsonString(expectation.description))") }
        return "{" + members.joined(separator: ",") + "}"
    }
}

func jsonString(_ text: String) -> String { JSONText.string(text) }
