/// Why an ioctl (or a model operation) failed: the errno the kernel returns, the rule that
/// produced it, and the objects, ranges and values the rule looked at. The errno is exactly
/// the kernel's; the rest says which of the many checks behind that errno refused, as typed
/// data a front end can show or a test can match.
public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The errno the kernel returns (the ioctl's `-errno`).
    public var errno: Errno
    /// The check that refused.
    public var rule: Rule
    /// The objects the check looked at, each with what it was to the check.
    public var objects: [InvolvedObject]
    /// The address ranges the check looked at.
    public var ranges: [InvolvedRange]
    /// Named numbers the check looked at: a flag it lacked, a field it rejected, a limit.
    public var values: [InvolvedValue]

    public init(_ errno: Errno, _ rule: Rule, objects: [InvolvedObject] = [], ranges: [InvolvedRange] = [],
                values: [InvolvedValue] = []) {
        self.errno = errno
        self.rule = rule
        self.objects = objects
        self.ranges = ranges
        self.values = values
    }

    /// The rule's sentence followed by what it involved:
    /// `the range overlaps a reserved range: requested 0x8000000-0x8000fff, reserved 0x8000000-0x80fffff (owner DEVICE 3, sw_msi)`.
    public var reason: String {
        let involved = objects.map(\.description) + ranges.map(\.description) + values.map(\.description)
        return involved.isEmpty ? rule.text : rule.text + ": " + involved.joined(separator: ", ")
    }

    /// `EADDRINUSE (the range overlaps …)`.
    public var description: String { "\(errno.name) (\(reason))" }
}

/// One check of the kernel that can refuse, named after the function that makes it (the
/// `site`) with a sentence saying what it requires. Rules are values declared next to the
/// code that applies them (`extension Refusal.Rule { static let … }`), so each is typed
/// and matchable (`refusal.rule == .reservedOverlap`) without one enum knowing them all.
extension Refusal {
    public struct Rule: Hashable, Sendable, CustomStringConvertible {
        /// A stable identifier, lower_snake_case (`iopt_reserve_iova.overlap`): the JSON `rule`.
        public let name: String
        /// What the rule says, as a sentence fragment (`the range overlaps a reserved range`).
        public let text: String

        public init(_ name: String, _ text: String) {
            self.name = name
            self.text = text
        }

        public var description: String { name }
    }

    /// What an involved object, range or value was to the check.
    public enum Role: String, Hashable, Sendable, CaseIterable {
        /// What the call named (the object it acts on, the range it asked for).
        case requested
        /// The owner of the range or the object in the way (a reserved range's device).
        case owner
        /// An object that still uses the one the call would destroy or change.
        case user
        /// An object already there that the call collides with.
        case existing
        /// The parent the call needs (nest parent, IOAS, vIOMMU).
        case parent
        /// The IOMMU domain's aperture (or input range) the request fell outside of.
        case aperture
        /// A reserved range.
        case reserved
        /// An IOVA area of an IOAS.
        case area
        /// The limit a value exceeded (a maximum, a capacity).
        case limit
        /// A flag or field the call lacked or should not have had.
        case flag
    }

    /// An object a rule looked at: `HWPT_PAGING 5 (user)`.
    public struct InvolvedObject: Hashable, Sendable, CustomStringConvertible {
        public var id: ObjectID
        public var type: ObjectType?
        public var role: Role

        public init(_ id: ObjectID, _ type: ObjectType?, _ role: Role) {
            self.id = id
            self.type = type
            self.role = role
        }

        public init(_ object: IOMMUFDObject, _ role: Role) { self.init(object.id, object.type, role) }

        public var description: String { "\(role.rawValue) \(type.map { "\($0) " } ?? "object ")\(id)" }
    }

    /// A range a rule looked at: `reserved 0x8000000-0x80fffff (sw_msi)`.
    public struct InvolvedRange: Hashable, Sendable, CustomStringConvertible {
        public var range: IOVARange
        public var role: Role
        /// What else the model knows about the range: a reserved region's type.
        public var note: String?

        public init(_ range: IOVARange, _ role: Role, note: String? = nil) {
            self.range = range
            self.role = role
            self.note = note
        }

        public var description: String { "\(role.rawValue) \(range)" + (note.map { " (\($0))" } ?? "") }
    }

    /// A named number a rule looked at: `IOMMU_HWPT_ALLOC_NEST_PARENT` (a flag it lacked), `max_pasids=0x100` (a limit).
    public struct InvolvedValue: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var value: UInt64?
        public var role: Role

        public init(_ name: String, _ value: UInt64? = nil, _ role: Role) {
            self.name = name
            self.value = value
            self.role = role
        }

        /// `name=value` (values up to 9 in decimal), or the name alone: the role is the rule's to say.
        public var description: String { name + (value.map { "=\($0 > 9 ? $0.hex : String($0))" } ?? "") }
    }
}

/// Shorthands for the core's code that builds refusals.
typealias InvolvedObject = Refusal.InvolvedObject
typealias InvolvedRange = Refusal.InvolvedRange
typealias InvolvedValue = Refusal.InvolvedValue
