// TEMPORARY bridge while throw sites are named: `throw .EINVAL` in a `throws(Refusal)`
// function resolves here. Deleted once every site names its rule.
extension Refusal.Rule {
    static let unnamed = Refusal.Rule("unnamed", "unnamed rule")
}
extension Refusal {
    static var EPERM: Refusal { Refusal(.EPERM, .unnamed) }
    static var ENOENT: Refusal { Refusal(.ENOENT, .unnamed) }
    static var EIO: Refusal { Refusal(.EIO, .unnamed) }
    static var ENXIO: Refusal { Refusal(.ENXIO, .unnamed) }
    static var E2BIG: Refusal { Refusal(.E2BIG, .unnamed) }
    static var EBADF: Refusal { Refusal(.EBADF, .unnamed) }
    static var ENOMEM: Refusal { Refusal(.ENOMEM, .unnamed) }
    static var EFAULT: Refusal { Refusal(.EFAULT, .unnamed) }
    static var EBUSY: Refusal { Refusal(.EBUSY, .unnamed) }
    static var EEXIST: Refusal { Refusal(.EEXIST, .unnamed) }
    static var ENODEV: Refusal { Refusal(.ENODEV, .unnamed) }
    static var EINVAL: Refusal { Refusal(.EINVAL, .unnamed) }
    static var EMFILE: Refusal { Refusal(.EMFILE, .unnamed) }
    static var ENOTTY: Refusal { Refusal(.ENOTTY, .unnamed) }
    static var ENOSPC: Refusal { Refusal(.ENOSPC, .unnamed) }
    static var ESPIPE: Refusal { Refusal(.ESPIPE, .unnamed) }
    static var ERANGE: Refusal { Refusal(.ERANGE, .unnamed) }
    static var EDEADLOCK: Refusal { Refusal(.EDEADLOCK, .unnamed) }
    static var EBADE: Refusal { Refusal(.EBADE, .unnamed) }
    static var EOVERFLOW: Refusal { Refusal(.EOVERFLOW, .unnamed) }
    static var EBADFD: Refusal { Refusal(.EBADFD, .unnamed) }
    static var EMSGSIZE: Refusal { Refusal(.EMSGSIZE, .unnamed) }
    static var EOPNOTSUPP: Refusal { Refusal(.EOPNOTSUPP, .unnamed) }
    static var EADDRINUSE: Refusal { Refusal(.EADDRINUSE, .unnamed) }
}
