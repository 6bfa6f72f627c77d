/// An iommufd object id: the `__u32` handle an ioctl returns (`out_ioas_id`, `out_hwpt_id`, ...).
///
/// Ids come from one xarray per iommufd file with `xa_limit_31b`, so a valid id is in
/// `[1, 2^31 - 1]`; 0 never names an object.
public struct ObjectID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static func < (a: ObjectID, b: ObjectID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }

    /// `xa_limit_31b.max`.
    public static let maximum = ObjectID(UInt32(Int32.max))
}
