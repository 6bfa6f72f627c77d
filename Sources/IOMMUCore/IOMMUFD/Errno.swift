/// A Linux errno as an iommufd ioctl returns it (`-EINVAL` and friends).
///
/// The raw values are the x86-64/arm64 Linux numbers, so a result can be compared with a
/// real kernel's return code; the case name is what scenarios and JSON print.
public enum Errno: Int32, Error, CaseIterable, Sendable, CustomStringConvertible {
    case EPERM = 1
    case ENOENT = 2
    case EIO = 5
    case ENXIO = 6
    case E2BIG = 7
    case EBADF = 9
    case ENOMEM = 12
    case EFAULT = 14
    case EBUSY = 16
    case EEXIST = 17
    case ENODEV = 19
    case EINVAL = 22
    case EMFILE = 24
    case ENOTTY = 25
    case ENOSPC = 28
    case ESPIPE = 29
    case ERANGE = 34
    case EDEADLOCK = 35
    case EBADE = 52
    case EOVERFLOW = 75
    case EBADFD = 77
    case EMSGSIZE = 90
    case EOPNOTSUPP = 95
    case EADDRINUSE = 98

    public var description: String { name }

    /// The symbolic name, e.g. `"EINVAL"`.
    public var name: String {
        switch self {
        case .EPERM: "EPERM"
        case .ENOENT: "ENOENT"
        case .EIO: "EIO"
        case .ENXIO: "ENXIO"
        case .E2BIG: "E2BIG"
        case .EBADF: "EBADF"
        case .ENOMEM: "ENOMEM"
        case .EFAULT: "EFAULT"
        case .EBUSY: "EBUSY"
        case .EEXIST: "EEXIST"
        case .ENODEV: "ENODEV"
        case .EINVAL: "EINVAL"
        case .EMFILE: "EMFILE"
        case .ENOTTY: "ENOTTY"
        case .ENOSPC: "ENOSPC"
        case .ESPIPE: "ESPIPE"
        case .ERANGE: "ERANGE"
        case .EDEADLOCK: "EDEADLOCK"
        case .EBADE: "EBADE"
        case .EOVERFLOW: "EOVERFLOW"
        case .EBADFD: "EBADFD"
        case .EMSGSIZE: "EMSGSIZE"
        case .EOPNOTSUPP: "EOPNOTSUPP"
        case .EADDRINUSE: "EADDRINUSE"
        }
    }

    /// Looks an errno up by its symbolic name.
    public init?(name: String) {
        guard let found = Errno.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}
