import IOMMUCore

// The uAPI's value names, per argument (SCRIPT.md "Value names").
let mapFlagNames: [String: UInt64] = ["fixed_iova": 1, "writeable": 2, "readable": 4]
let hwptFlagNames: [String: UInt64] = ["nest_parent": 1, "dirty_tracking": 2, "fault_id_valid": 4, "pasid": 8]
/// `IOMMU_VTD_S1_SRE/EAFE/WPE`: the flags of `struct iommu_hwpt_vtd_s1`.
let vtdS1FlagNames: [String: UInt64] = ["sre": 1, "eafe": 2, "wpe": 4]
let hwptDataTypes: [String: UInt64] = ["none": 0, "vtd_s1": 1, "arm_smmuv3": 2, "selftest": 0xdead]
let invalidateDataTypes: [String: UInt64] = ["vtd_s1": 0, "arm_smmuv3": 1, "selftest": 0xdead_beef, "selftest_invalid": 0xdad_beef]
let viommuTypes: [String: UInt64] = ["default": 0, "arm_smmuv3": 1, "tegra241_cmdqv": 2, "selftest": 0xdead_beef]
let hwInfoTypes: [String: UInt64] = ["default": 0, "intel_vtd": 1, "arm_smmuv3": 2, "tegra241_cmdqv": 3, "selftest": 0xfeed_beef]
let mockDeviceFlagNames: [String: UInt64] = ["no_dirty": 1, "huge_iova": 2, "pasid": 4]
/// Entry struct fields of every invalidation data type.
let invalidationEntryFields: [String: ArgumentKind] = [
    "flags": .flags(["all": 1, "leaf": 1], bits: 32), "iotlb_id": .integer(bits: 32),
    "vdev_id": .integer(bits: 32), "cache_id": .integer(bits: 32),
    "cmd": .words, "addr": .integer(bits: 64), "npages": .integer(bits: 64),
]

/// Runs a core call: its errno becomes the line's status.
func outcome(_ body: () throws(Errno) -> [(name: String, value: FieldValue)]) -> CommandResult {
    do {
        return CommandResult(fields: try body())
    } catch {
        return CommandResult(status: .errno(error))
    }
}

func id(_ value: ObjectID) -> FieldValue { .integer(UInt64(value.rawValue)) }


let allCommands: [CommandSpec] = platformCommands + deviceCommands + ioasCommands + hwptCommands + selftestCommands + queryCommands
