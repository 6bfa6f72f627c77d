// Generated from Sources/iommuscope/Scenarios/*.iommu by EmbeddedResourceTests; do not edit.
// Regenerate: UPDATE_EMBEDDED=1 swift test --skip-build --filter EmbeddedResourceTests

extension ScenarioSource {
    static let builtIn: [String: String] = [
        "default": #"""
# The default scenario: an Arm SMMUv3 host running a VMM that gives a guest two devices
# behind a virtual SMMU (nested translation), as QEMU does with iommufd.

iommu smmu0 type=arm-smmu-v3 ias=48 oas=48 stages=1,2
device nic0 iommu=smmu0 sid=0x100
device nvme0 iommu=smmu0 sid=0x200

# The VMM's guest RAM: 64 MiB backed by transparent huge pages.
ram = mmap length=64M align=2M

# Bind both devices to the iommufd and build the guest physical address space.
nic = device_bind dev=nic0
nvme = device_bind dev=nvme0
ioas = ioas_alloc
ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable

# Stage 2: a nest-parent HWPT that mirrors the IOAS; a vIOMMU on it; the guest's vDEVICEs.
s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
vi = viommu_alloc type=arm_smmuv3 dev_id=nic hwpt_id=s2
vnic = vdevice_alloc viommu_id=vi dev_id=nic virt_id=0x1
vnvme = vdevice_alloc viommu_id=vi dev_id=nvme virt_id=0x2

# The guest's CD at GPA 0x40000000 (T0SZ 16, 4K granule, IPS 48, V, AA64, ASID 1) and its
# 4-level stage-1 tables, mapping IOVA 0x12345000 to the guest page at GPA 0x40100000.
guest_write ioas_id=ioas gpa=0x40000000 value=0x1e205c0003510,0x40001000
guest_write ioas_id=ioas gpa=0x40001000 value=0x40002003
guest_write ioas_id=ioas gpa=0x40002000 value=0x40003003
guest_write ioas_id=ioas gpa=0x40003488 value=0x40004003
guest_write ioas_id=ioas gpa=0x40004a28 value=0x40100f47

# The guest's stage-1 STEs (V=1, Config=S1_TRANS) with the CD table at GPA 0x40000000.
s1 = hwpt_alloc dev_id=nic pt_id=vi data_type=arm_smmuv3 ste=0x4000000b,0
device_attach dev_id=nic pt_id=s1
device_attach dev_id=nvme pt_id=s1
device_set_irqs dev_id=nic count=8

# One DMA through both stages (try: iommuscope translate FILE --dev 1 --iova 0x12345000).
translate dev_id=nic iova=0x12345000 access=write expect=ok

ioas_iova_ranges ioas_id=ioas

"""#,
    ]
}
