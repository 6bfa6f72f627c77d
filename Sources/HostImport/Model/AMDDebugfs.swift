/// The AMD-Vi files of `/sys/kernel/debug/iommu/amd/` as typed values (host-inputs §4; the
/// directory has data only from v6.17).
public struct AMDDebugfs: Sendable, Equatable {
    /// `devtbl`: the DTE of the one device written to `devid`.
    public var deviceTableEntries: [AMDDeviceTableEntry] = []
    /// `iommuNN/mmio` and `iommuNN/capability`: the last offset written and its value.
    public var registerReads: [AMDRegisterRead] = []
    /// `iommuNN/cmdbuf`.
    public var commandBuffers: [AMDCommandBuffer] = []
    /// `devid`: the device last written there, which `devtbl` and `irqtbl` show.
    public var selectedDevice: PCIAddress?
    /// `irqtbl`: the selected device's valid IRTEs.
    public var interruptRemapTables: [AMDInterruptRemapTable] = []
    /// What the files said instead of data ("iommu00/mmio: no offset written yet"), and
    /// "no AMD debugfs data" for the empty directories of kernels before v6.17.
    public var notes: [String] = []

    public init() {}

    /// No data was read (notes aside).
    public var isEmpty: Bool {
        deviceTableEntries.isEmpty && registerReads.isEmpty && commandBuffers.isEmpty && selectedDevice == nil
            && interruptRemapTables.isEmpty
    }
}

/// One `devtbl` row: the device, its DTE in `DTE[0..3]` order (the file prints QWORD[3]
/// first), and the unit index of its `iommu%d` trailer (sysfs `ivhd%d`).
public struct AMDDeviceTableEntry: Sendable, Equatable {
    public var device: PCIAddress
    public var words: [UInt64]
    public var unitIndex: Int

    public init(device: PCIAddress, words: [UInt64], unitIndex: Int) {
        self.device = device
        self.words = words
        self.unitIndex = unitIndex
    }
}

/// `Offset:0x%x Value:0x%016llx` (mmio) or `Value:0x%08x` (capability).
public struct AMDRegisterRead: Sendable, Equatable {
    public enum Space: String, Sendable, Equatable, Codable { case mmio, capability }
    public var unitIndex: Int
    public var space: Space
    public var offset: UInt32
    public var value: UInt64

    public init(unitIndex: Int, space: Space, offset: UInt32, value: UInt64) {
        self.unitIndex = unitIndex
        self.space = space
        self.offset = offset
        self.value = value
    }
}

/// `cmdbuf`: head and tail entry indexes, and every slot's four dwords.
public struct AMDCommandBuffer: Sendable, Equatable {
    public var unitIndex: Int
    public var head: Int
    public var tail: Int
    public var entries: [[UInt32]] = []

    public init(unitIndex: Int, head: Int, tail: Int) {
        self.unitIndex = unitIndex
        self.head = head
        self.tail = tail
    }
}
