/// Scenarios more than one test target drives.
public enum Scenarios {
    /// One translation faults (line 10) and one expectation fails (line 11: the unmap
    /// succeeds, the line expected EINVAL): the results pane's and the debugging loop's input.
    public static let failingResults = """
        iommu smmu0 type=arm-smmu-v3 ias=48 oas=48 stages=1,2
        device nic0 iommu=smmu0 sid=0x100
        ram = mmap length=2M
        nic = device_bind dev=nic0
        ioas = ioas_alloc
        ioas_map ioas_id=ioas user_va=ram length=2M iova=0x100000 flags=fixed_iova|readable|writeable
        hwpt = hwpt_alloc dev_id=nic pt_id=ioas
        device_attach dev_id=nic pt_id=hwpt
        translate dev_id=nic iova=0x100000 access=read expect=ok
        translate dev_id=nic iova=0x900000 access=read
        ioas_unmap ioas_id=ioas iova=0x100000 length=2M expect=EINVAL
        ioas_iova_ranges ioas_id=ioas
        """
}
