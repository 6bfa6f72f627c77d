/// The iommufd ioctl numbers a syzkaller program passes as `ioctl`'s second argument:
/// `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + n)` of `include/uapi/linux/iommufd.h`, with
/// IOMMUFD_TYPE `';'` (0x3b) and IOMMUFD_CMD_BASE 0x80. The kernel dispatches on the number,
/// not on the description variant the program names.
enum IOMMUFDIoctl: UInt64, Sendable {
    case destroy = 0x3b80
    case ioasAlloc = 0x3b81
    case ioasAllowIOVAs = 0x3b82
    case ioasCopy = 0x3b83
    case ioasIOVARanges = 0x3b84
    case ioasMap = 0x3b85
    case ioasUnmap = 0x3b86
    case option = 0x3b87
    case vfioIOAS = 0x3b88
    case hwptAlloc = 0x3b89
    case getHWInfo = 0x3b8a
    case hwptSetDirtyTracking = 0x3b8b
    case hwptGetDirtyBitmap = 0x3b8c
    case hwptInvalidate = 0x3b8d
    /// `IOMMU_TEST_CMD`: `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)` (`iommufd_test.h`).
    case testCommand = 0x3ba0

    /// The smallest `size` the kernel takes: `offsetofend` of the `last` member its
    /// `IOCTL_OP()` entry names (`drivers/iommu/iommufd/main.c`); a smaller one is EINVAL. A
    /// larger one is read with the bytes past the struct required zero
    /// (`copy_struct_from_user`), as a program's zeroed data area has them.
    var minimumSize: UInt64 {
        switch self {
        case .destroy: 0x8
        case .ioasAlloc: 0xc
        case .ioasAllowIOVAs: 0x18
        case .ioasCopy: 0x28
        case .ioasIOVARanges: 0x20
        case .ioasMap: 0x28
        case .ioasUnmap: 0x18
        case .option: 0x18
        case .vfioIOAS: 0xc
        case .hwptAlloc: 0x18
        case .getHWInfo: 0x20
        case .hwptSetDirtyTracking: 0x10
        case .hwptGetDirtyBitmap: 0x30
        case .hwptInvalidate: 0x20
        // `offsetofend(struct iommu_test_cmd, last)`: the union (0x30, its `dirty` member)
        // after four u32s, then `last`; syzkaller passes the sizeof, 0x48.
        case .testCommand: 0x44
        }
    }
}

/// `enum { IOMMU_TEST_OP_* }` of `drivers/iommu/iommufd/iommufd_test.h`: the `op` field of
/// `struct iommu_test_cmd`.
enum IOMMUTestOp: UInt32, Sendable {
    case addReserved = 1
    case mockDomain = 2
    case mdCheckMap = 3
    case mdCheckRefs = 4
    case createAccess = 5
    case destroyAccessPages = 6
    case accessPages = 7
    case accessRW = 8
    case setTempMemoryLimit = 9
    case mockDomainReplace = 10
    case accessReplaceIOAS = 11
    case mockDomainFlags = 12
}

/// syzkaller's program memory (`prog/encoding.go`, `sys/targets/targets.go`): text programs
/// write addresses from `encodingAddrBase`; the executor maps the 16M data area
/// (`NumPages * PageSize`) read-write at `DataOffset` before the first call.
enum SyzDataArea {
    /// `encodingAddrBase`: `&(0x7f0000000040)` is offset 0x40 of the data area.
    static let textBase: UInt64 = 0x7f00_0000_0000
    /// `defaultDataOffset()` of a 64-bit non-Arm target (x86-64, where syzbot runs iommufd):
    /// where the data area really is, so a plain number such as `uptr=0x200000000000` is an
    /// address in it.
    static let runtimeBase: UInt64 = 0x2000_0000_0000
    /// `NumPages * PageSize` = 16 MiB on every target.
    static let size: UInt64 = 16 << 20
    /// `memAllocGranule`: syzkaller allocates `&AUTO` pointees in 64-byte units.
    static let granule: UInt64 = 64
    /// syzkaller's page size for a VMA's bounds (4K on x86-64).
    static let pageSize: UInt64 = 4096
}
