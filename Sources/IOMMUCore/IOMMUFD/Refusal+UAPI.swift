/// The rules of copying a user's structs and arrays (`copy_struct_from_user`,
/// `include/linux/iommu.h`'s `iommu_copy_struct_*`).
extension Refusal.Rule {
    /// `copy_struct_from_user`: `usize > ksize` and the bytes past `ksize` are not all zero (E2BIG).
    public static let copyStructNonzeroTail = Refusal.Rule("copy_struct_from_user.nonzero_tail",
                                                           "the user's struct is longer than the kernel's and not zero past it")

    /// `__iommu_copy_struct_from_user` and `iommu_copy_struct_from_full_user_array`:
    /// `src_data->type != data_type` (EINVAL).
    public static let userDataType = Refusal.Rule("iommu_copy_struct.type", "the data type is not the one the driver takes")

    /// `__iommu_copy_struct_from_user`: `src_data->len < min_len || data_len < src_data->len` (EINVAL).
    public static let userDataLength = Refusal.Rule("__iommu_copy_struct_from_user.length",
                                                    "the data length is shorter than the struct's first version or longer than the struct")

    /// `iommu_copy_struct_from_full_user_array`: `!user_array->entry_num` (EINVAL).
    public static let userArrayEmpty = Refusal.Rule("iommu_copy_struct_from_full_user_array.empty", "the array has no entries")
}

extension Refusal {
    /// EINVAL for user data (or an array) of another type than the driver's.
    static func userDataType(_ type: UInt32, expected: UInt32) -> Refusal {
        Refusal(.EINVAL, .userDataType, values: [InvolvedValue("type", UInt64(type), .requested), InvolvedValue("data_type", UInt64(expected), .existing)])
    }
}
