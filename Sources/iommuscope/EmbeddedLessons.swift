// Generated from Lessons/*.md by EmbeddedResourceTests; do not edit.
// Regenerate: UPDATE_EMBEDDED=1 swift test --skip-build --filter EmbeddedResourceTests

extension BuiltInLessons {
    static let files: [String: String] = [
        "1-ioas-mapping": #"""
# IOAS, mapping and automatic IOVA

An IOAS (I/O address space) is iommufd's picture of what a device may reach: a set of
IOVA ranges, each backed by pinned user memory. The kernel keeps it independent of any
hardware page table; attaching a device makes a domain (a HWPT) that mirrors it.

```iommu
iommu smmu0 type=arm-smmu-v3
device nic0 iommu=smmu0 sid=0x100
# The VMM's buffer: 2 MiB of anonymous memory.
buf = mmap length=2M align=2M
dev = device_bind dev=nic0
ioas = ioas_alloc
# A map at an IOVA the caller chooses (IOMMU_IOAS_MAP_FIXED_IOVA).
ioas_map ioas_id=ioas user_va=buf length=64K iova=0x1000000 flags=fixed_iova|readable|writeable
# A map without FIXED_IOVA: the kernel chooses the IOVA.
auto = ioas_map ioas_id=ioas user_va=buf+0x10000 length=8K flags=readable
ioas_map ioas_id=ioas user_va=buf length=4K iova=0x1008000 flags=fixed_iova|readable expect=EEXIST
hwpt = device_attach dev_id=dev pt_id=ioas
t = translate dev_id=dev iova=0x1000010 access=write
translate dev_id=dev iova=auto.iova access=write expect=fault
ioas_unmap ioas_id=ioas iova=0 length=u64max
translate dev_id=dev iova=0x1000010 expect=fault
```

## Step: line 5
VFIO_DEVICE_BIND_IOMMUFD hands the device to iommufd: the kernel claims its DMA
ownership (until it is attached, its DMA is blocked), and it gets an object ID, the
dev_id every later ioctl names.

### Predict
Which object ID does the bound device get?
answer: out_devid

## Step: line 6
IOMMU_IOAS_ALLOC makes an empty IOAS. Nothing is mapped and no page table exists yet:
the IOVA map shows one allowed range covering the whole 64-bit space.

## Step: line 8
IOMMU_IOAS_MAP pins the 64 KiB of user memory and records an area at IOVA 0x1000000,
readable and writeable. The pages are pinned now, but with no device attached there is
still no hardware page table to write.

## Step: line 10
Without IOMMU_IOAS_MAP_FIXED_IOVA the kernel picks the IOVA (iopt_alloc_iova): a free
range of the allowed space, aligned to the user address's own alignment but to no more
than the length rounded up to a power of two, so huge pages stay possible. Unless
IOMMU_IOAS_ALLOW_IOVAS set the allowed ranges, it never hands out the first page.

### Predict
Which IOVA does the kernel choose for these 8 KiB?
answer: iova

## Step: line 11
A fixed IOVA that overlaps an existing area is refused: areas never overlap.

### Predict
Which errno does the overlapping map return?
answer: status

## Step: line 12
VFIO_DEVICE_ATTACH_IOMMUFD_PT with the IOAS as pt_id makes the kernel allocate a paging domain
(an automatic HWPT) for the device and fill it from every area of the IOAS. On Arm this
also reserves the SW_MSI window (lesson 2).

### Predict
Which HWPT ID does the attach report?
answer: pt_id

## Step: line 13
A DMA write to IOVA 0x1000010 now walks the domain's page table: the SMMU's stage-1
walk reads four descriptors (levels 0 to 3) and lands in the pinned page.

### Predict
Which physical address does the write reach?
answer: output_address

## Step: line 14
The automatic mapping was made readable only, so the leaf descriptor forbids writes and
the SMMU reports a permission fault.

### Predict
Which fault does the write to the read-only mapping raise?
answer: fault.reason

## Step: line 15
IOMMU_IOAS_UNMAP with IOVA 0 and length u64max removes every area; the kernel unmaps
the domain's entries, invalidates the IOTLB and unpins the pages.

### Predict
How many bytes were unmapped?
answer: length

## Step: line 16
The same DMA now finds an invalid leaf: a translation fault, the IOVA no longer mapped.

"""#,
        "2-reserved-regions-msi": #"""
# Reserved regions, the MSI window and SW_MSI

Some IOVAs can never be mapped: the firmware and the IOMMU driver report reserved
regions for each device (iommu_get_resv_regions), and iommufd removes them from the
IOAS's allowed ranges when the device is attached. On Arm the SMMUv3 driver reports a
software-managed MSI window (IOMMU_RESV_SW_MSI, 1 MiB at IOVA 0x8000000) where the
kernel maps the interrupt controller's doorbell.

```iommu
iommu smmu0 type=arm-smmu-v3 its=0x8090040
device nic0 iommu=smmu0 sid=0x100
# A device the firmware gives a reserved region (an IORT RMR or a reserved-memory node).
device flash0 iommu=smmu0 sid=0x200 resv=0x10000000+2M:reserved
ram = mmap length=2M align=2M
nic = device_bind dev=nic0
ioas = ioas_alloc
r0 = ioas_iova_ranges ioas_id=ioas
hwpt = device_attach dev_id=nic pt_id=ioas
r1 = ioas_iova_ranges ioas_id=ioas
ioas_map ioas_id=ioas user_va=ram length=4K iova=0x8000000 flags=fixed_iova|readable expect=EINVAL
translate dev_id=nic iova=0x8000040 access=write expect=fault
device_set_irqs dev_id=nic count=4 expect=ok
msi = translate dev_id=nic iova=0x8000040 access=write expect=ok
flash = device_bind dev=flash0
device_attach dev_id=flash pt_id=ioas
r2 = ioas_iova_ranges ioas_id=ioas
```

## Step: line 8
IOMMU_IOAS_IOVA_RANGES reports the ranges a map may use. An IOAS with no device
attached allows all of them.

### Predict
How many allowed ranges does the empty IOAS report?
answer: num_iovas

## Step: line 9
Attaching nic0 adds its reserved regions to the IOAS. The SMMUv3 driver's
get_resv_regions gives every device the SW_MSI window, IOVA 0x8000000 to 0x80fffff.

## Step: line 10
The window is now a hole in the allowed ranges, and the alignment is the domain's
smallest page size.

### Predict
Which IOVA ranges are allowed now?
answer: allowed_iovas

## Step: line 11
A fixed map inside a reserved range is refused: the kernel keeps the MSI window for
itself.

### Predict
Which errno does the map into the MSI window return?
answer: status

## Step: line 12
Before the device has interrupts, nothing is mapped in the window: a write there (an MSI)
is a translation fault.

## Step: line 13
When the driver enables MSIs, iommufd's SW_MSI hook (iommufd_sw_msi) maps the ITS
doorbell page, GITS_TRANSLATER's page, into the device's domain at the SW_MSI window,
once per domain. It is no IOAS area: IOAS_UNMAP cannot remove it.

## Step: line 14
The same MSI write now translates to the ITS doorbell.

### Predict
Which physical address does the MSI write reach?
answer: output_address

## Step: line 16
flash0's firmware-reserved region (2 MiB at 0x10000000) becomes reserved in the IOAS it
attaches to, as RESERVED regions always do.

## Step: line 17
Each attached device's reserved regions are holes in the one IOAS they share.

### Predict
How many allowed ranges are left?
answer: num_iovas

"""#,
        "3-arm-stage2-walk": #"""
# A stage-2 walk on Arm, bit by bit

An SMMUv3 stage-2 translation turns an IPA (here the IOVA) into a PA with the VMSAv8-64
translation table format of the Arm ARM. With a 4 KiB granule and a 48-bit input, the
walk has four levels; each level's index is 9 bits of the address: level 0 bits 47:39,
level 1 bits 38:30, level 2 bits 29:21, level 3 bits 20:12, and bits 11:0 are the offset
in the page. Each descriptor is 8 bytes, at table base + index x 8.

```iommu
iommu smmu0 type=arm-smmu-v3 ias=48 oas=48 stages=1,2
device nic0 iommu=smmu0 sid=0x100
# Guest RAM backed by 4 KiB pages: every leaf is a level-3 page.
ram = mmap length=64M
nic = device_bind dev=nic0
ioas = ioas_alloc
ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
# NEST_PARENT makes the SMMUv3 driver build a stage-2 domain (the STE's S2TTB).
s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
device_attach dev_id=nic pt_id=s2
t = translate dev_id=nic iova=0x40123456 access=write expect=ok
again = translate dev_id=nic iova=0x40123456 access=write expect=ok
translate dev_id=nic iova=0x44000000 expect=fault
```

## Step: line 7
64 MiB of RAM mapped at IOVA 0x40000000, 4 KiB pages underneath.

## Step: line 9
IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_NEST_PARENT asks for a domain a guest's stage 1
can nest on; on SMMUv3 that is a stage-2 domain. Its tables follow the IOAS's areas.

## Step: line 10
The device's STE now has Config = stage-2 translate and S2TTB pointing at the level-0
table.

## Step: line 11
IOVA 0x40123456 splits into indices 0 (bits 47:39), 1 (38:30), 0 (29:21) and 0x123
(20:12), offset 0x456. Levels 0 to 2 read table descriptors (bits 1:0 = 0b11, the next
table's address in bits 47:12); level 3 reads a page descriptor: bits 1:0 = 0b11,
MemAttr in bits 5:2, S2AP (bits 7:6) = 0b11 read and write, SH in bits 9:8, AF in bit
10, the output address in bits 47:12. The walk pane (4, then s) steps through the fetches;
0 comes back to the lesson.

### Predict
Which address does the first fetch (the level-0 descriptor) read?
answer: steps[1].entry_address

## Step: line 12
The same DMA again: the walk's result is in the IOTLB, so the SMMU reads no descriptor.

### Predict
How many descriptors does the repeated DMA read?
answer: fetches

## Step: line 13
IOVA 0x44000000 is past the 64 MiB mapped: the level-2 descriptor is invalid and the
SMMU raises a stage-2 translation fault, reporting the IPA.

### Predict
At which level does the walk stop?
answer: fault.level

"""#,
        "4-nested-arm": #"""
# Nested translation on Arm: stage 1 over stage 2

In a guest with a vSMMU, the guest owns stage 1 (its CD and page tables, at guest
physical addresses, IPAs) and the host owns stage 2 (IPA to PA). Every stage-1
descriptor fetch is itself an IPA, which stage 2 must translate first. A 4-level stage 1
over a 4-level stage 2 costs (4+1) x (4+1) - 1 = 24 reads: 4 stage-1 descriptors, each
after a 4-read stage-2 walk of its IPA, then 4 more for the output IPA; here the CD's
IPA costs 4 more.

```iommu
iommu smmu0 type=arm-smmu-v3
device nic0 iommu=smmu0 sid=0x100
device nvme0 iommu=smmu0 sid=0x200
# Guest RAM backed by 4 KiB pages: every stage-2 walk is 4 levels.
ram = mmap length=64M
nic = device_bind dev=nic0
ioas = ioas_alloc
ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
vi = viommu_alloc type=arm_smmuv3 dev_id=nic hwpt_id=s2
vnic = vdevice_alloc viommu_id=vi dev_id=nic virt_id=1
# The guest's CD at IPA 0x40001000: T0SZ 16, 4K granule, IPS 48, V, AA64, ASID 1, TTB0 0x40002000.
guest_write ioas_id=ioas gpa=0x40001000 value=0x1e205c0003510,0x40002000
# Stage-1 tables: IOVA 0x12345000 -> indices 0, 0, 0x91, 0x145 -> IPA 0x40100000.
guest_write ioas_id=ioas gpa=0x40002000 value=0x40003003
guest_write ioas_id=ioas gpa=0x40003000 value=0x40004003
guest_write ioas_id=ioas gpa=0x40004488 value=0x40005003
guest_write ioas_id=ioas gpa=0x40005a28 value=0x40100f47
# The guest's STE: V, Config = stage-1 translate, S1ContextPtr = the CD.
s1 = hwpt_alloc dev_id=nic pt_id=vi data_type=arm_smmuv3 ste=0x4000100b,0
device_attach dev_id=nic pt_id=s1 expect=ok
t = translate dev_id=nic iova=0x12345234 access=write expect=ok
# The same guest tables over guest RAM backed by 2 MiB pages: stage 2 ends in level-2 blocks.
huge = mmap length=64M align=2M
nvme = device_bind dev=nvme0
ioas2 = ioas_alloc
ioas_map ioas_id=ioas2 user_va=huge length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
s2big = hwpt_alloc dev_id=nvme pt_id=ioas2 flags=nest_parent
vi2 = viommu_alloc type=arm_smmuv3 dev_id=nvme hwpt_id=s2big
vnvme = vdevice_alloc viommu_id=vi2 dev_id=nvme virt_id=2
guest_write ioas_id=ioas2 gpa=0x40001000 value=0x1e205c0003510,0x40002000
guest_write ioas_id=ioas2 gpa=0x40002000 value=0x40003003
guest_write ioas_id=ioas2 gpa=0x40003000 value=0x40004003
guest_write ioas_id=ioas2 gpa=0x40004488 value=0x40005003
guest_write ioas_id=ioas2 gpa=0x40005a28 value=0x40100f47
s1big = hwpt_alloc dev_id=nvme pt_id=vi2 data_type=arm_smmuv3 ste=0x4000100b,0
device_attach dev_id=nvme pt_id=s1big expect=ok
t2 = translate dev_id=nvme iova=0x12345234 access=write expect=ok
```

## Step: line 9
The VMM's nest-parent HWPT: the stage-2 tables mapping the guest's RAM (IPA
0x40000000 up) to the host pages behind it.

## Step: line 10
IOMMU_VIOMMU_ALLOC makes the vSMMU on that stage 2; IOMMU_VDEVICE_ALLOC gives nic0 its
virtual StreamID in the guest.

## Step: line 13
The guest writes its Context Descriptor into its own RAM: the stage-1 translation
controls (T0SZ, TG0, IPS), the ASID and TTB0, the stage-1 level-0 table's IPA.

## Step: line 18
Four stage-1 descriptors, one per level, for IOVA 0x12345000: three table descriptors
and a level-3 page descriptor pointing at IPA 0x40100000.

## Step: line 20
The guest's STE (Config = S1 translate, S1ContextPtr = the CD's IPA) becomes a nested
HWPT: the SMMU's STE for nic0 now nests the guest's stage 1 over the host's stage 2.

## Step: line 22
In the walk grid each stage-1 row is a stage-2 walk of the descriptor's IPA, then the
stage-1 read itself. To replay it one read at a time, focus the walk (4), press s, then
Space; 0 comes back to the lesson.

### Predict
How many descriptor reads does this nested DMA cost, the CD's included?
answer: fetches

## Step: line 37
The same guest, but its RAM backed by 2 MiB pages: the host's stage 2 maps it with
level-2 block descriptors, so each stage-2 walk reads 3 descriptors, not 4.

## Step: line 38
With 3-read stage-2 walks the 4-level stage 1 costs (4+1) x (3+1) - 1 = 19 reads, and
the CD 3: 2 MiB stage-2 blocks save 6 of the 28 reads. This is why VMMs back guest RAM
with huge pages.

### Predict
How many descriptor reads now?
answer: fetches

"""#,
        "5-iotlb-invalidation": #"""
# The IOTLB, stale entries and invalidation

The IOMMU caches translations in its IOTLB. When the kernel changes a table it owns,
it invalidates the IOTLB itself (an IOAS unmap does). A guest's own stage-1 tables are
another matter: the hardware cannot see the guest change them, so the guest must
invalidate, and the VMM forwards that with IOMMU_HWPT_INVALIDATE. A guest that forgets
leaves a stale entry: the device keeps reaching the old page.

```iommu
iommu vt0 type=intel-vtd aw=48
device nic0 iommu=vt0 rid=0x0300
ram = mmap length=64M align=2M
nic = device_bind dev=nic0
ioas = ioas_alloc
ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
# The guest's first-stage table: IOVA 0x10000000 -> GPA 0x40200000, one 2 MiB page.
pt = guest_pgtable ioas_id=ioas format=x86-4level pool=0x40010000-0x400fffff
guest_map root=pt iova=0x10000000 gpa=0x40200000 length=2M
s1 = hwpt_alloc dev_id=nic pt_id=s2 data_type=vtd_s1 pgtbl_addr=pt addr_width=48
device_attach dev_id=nic pt_id=s1 expect=ok
before = translate dev_id=nic iova=0x10012345 access=write expect=ok
cached = translate dev_id=nic iova=0x10012345 access=write expect=ok
# The guest moves the page to GPA 0x40600000 and invalidates nothing.
guest_unmap root=pt iova=0x10000000 length=2M
guest_map root=pt iova=0x10000000 gpa=0x40600000 length=2M
stale = translate dev_id=nic iova=0x10012345 access=write expect=ok
hwpt_invalidate hwpt_id=s1 data_type=vtd_s1 entries={addr=0x10000000 npages=512} expect=ok
fresh = translate dev_id=nic iova=0x10012345 access=write expect=ok
```

## Step: line 12
A nested VT-d HWPT: the guest's first-stage table over the VMM's second stage
(PASID-table entry PGTT = nested).

## Step: line 13
The first DMA misses the IOTLB and walks both stages.

### Predict
Does this DMA hit or miss the IOTLB?
answer: iotlb

## Step: line 14
The same DMA again is answered from the IOTLB: no descriptor is read.

### Predict
How many descriptors does the repeated DMA read?
answer: fetches

## Step: line 17
The guest rewrites its first-stage leaf: the 2 MiB page now points at GPA 0x40600000.
Without a guest IOTLB invalidation nothing tells the remapping hardware.

## Step: line 18
The IOTLB still holds the old translation, so the DMA reaches the old page: a stale
entry. The walk pane flags it, and the diff pane (m at the remap, then 9) lists it.

### Predict
Where does the DMA go, the old page or the new one?
answer: output_address

## Step: line 19
The guest's invalidation, forwarded by the VMM as IOMMU_HWPT_INVALIDATE with a
struct iommu_hwpt_vtd_s1_invalidate (addr, npages: 512 4 KiB pages = the 2 MiB page).
The kernel's VT-d driver flushes the matching IOTLB entries.

### Predict
How many invalidation entries did the kernel handle?
answer: entry_num

## Step: line 20
The next DMA misses, walks the changed table, and reaches the new page.

### Predict
Where does the DMA go now?
answer: output_address

"""#,
        "6-vtd-nested": #"""
# VT-d: first stage over second stage

Intel VT-d's scalable mode nests two translations: the first stage (the guest's x86-64
style page table, IOVA to GPA) over the second stage (the VMM's, GPA to HPA). The
PASID-table entry says which: PGTT = 011b is nested, with FSPTPTR the first-stage root
(a GPA) and SSPTPTR the second-stage root.

```iommu
iommu vt0 type=intel-vtd aw=48
device nic0 iommu=vt0 rid=0x0300
ram = mmap length=64M align=2M
nic = device_bind dev=nic0
ioas = ioas_alloc
ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
# The guest builds its first-stage table in its RAM: a 2 MiB page and a read-only 4 KiB page.
pt = guest_pgtable ioas_id=ioas format=x86-4level pool=0x40010000-0x400fffff
guest_map root=pt iova=0x10000000 gpa=0x40200000 length=2M
guest_map root=pt iova=0x20000000 gpa=0x40400000 length=4K flags=readable
s1 = hwpt_alloc dev_id=nic pt_id=s2 data_type=vtd_s1 pgtbl_addr=pt addr_width=48
device_attach dev_id=nic pt_id=s1 expect=ok
t = translate dev_id=nic iova=0x10012345 access=write expect=ok
host = walk hwpt_id=s2 iova=0x40212345
check actual=t.output_address expected=host.output_address
ro = translate dev_id=nic iova=0x20000000 access=write expect=fault
```

## Step: line 7
The second stage: a nest-parent HWPT of the IOAS, GPA 0x40000000 up to host memory,
in 2 MiB pages (the RAM is backed by huge pages).

## Step: line 9
The guest allocates its first-stage root (a PML4 table) in its own RAM.

### Predict
At which GPA is the first-stage root?
answer: root

## Step: line 11
Two first-stage mappings: IOVA 0x10000000 as a 2 MiB page (a PD entry with PS = 1) and
IOVA 0x20000000 as a 4 KiB page without R/W, so read-only.

## Step: line 12
IOMMU_HWPT_ALLOC with IOMMU_HWPT_DATA_VTD_S1: the first stage's root (pgtbl_addr, a GPA)
and address width, nested on the second stage.

## Step: line 14
The nested walk: the first stage reads PML4, PDPT and PD entries (3 levels, the PD entry
maps the 2 MiB page), each entry's GPA translated by a second-stage walk first (3 reads,
2 MiB second-stage pages), then the output GPA: 3 x (3+1) + 3 = 15 reads.

### Predict
How many entries does the remapping hardware read?
answer: fetches

## Step: line 15
The VMM's view: the second stage alone translates the GPA the first stage produced
(0x40212345) to the same host address.

### Predict
Which host physical address is the GPA 0x40212345?
answer: output_address

## Step: line 17
A write to the read-only page: the first-stage leaf has R/W = 0, and the hardware
reports a fault with a scalable-mode fault reason.

### Predict
Which fault does the write raise, as the hardware words it?
answer: fault.string

"""#,
        "7-fault-reporting": #"""
# A fault and how the kernel reports it

When a DMA does not translate, the SMMUv3 writes an event record to its event queue:
the event type (F_TRANSLATION is 0x10), the StreamID, the input address, read or write.
The arm-smmu-v3 driver's event-queue thread reads it. For a device nested under a
vSMMU, a stage-1 event belongs to the guest: the driver forwards it to the vIOMMU's
vEVENTQ (IOMMU_VEVENTQ_ALLOC), which the VMM reads and injects into the guest's virtual
event queue. A fault at stage 2 belongs to the host and stays there.

```iommu
iommu smmu0 type=arm-smmu-v3
device nic0 iommu=smmu0 sid=0x100
ram = mmap length=64M align=2M
nic = device_bind dev=nic0
ioas = ioas_alloc
ioas_map ioas_id=ioas user_va=ram length=64M iova=0x40000000 flags=fixed_iova|readable|writeable
s2 = hwpt_alloc dev_id=nic pt_id=ioas flags=nest_parent
vi = viommu_alloc type=arm_smmuv3 dev_id=nic hwpt_id=s2
vnic = vdevice_alloc viommu_id=vi dev_id=nic virt_id=0x21
# The guest's CD and stage-1 tables: one RW page at IOVA 0x12345000.
guest_write ioas_id=ioas gpa=0x40001000 value=0x1e205c0003510,0x40002000
guest_write ioas_id=ioas gpa=0x40002000 value=0x40003003
guest_write ioas_id=ioas gpa=0x40003000 value=0x40004003
guest_write ioas_id=ioas gpa=0x40004488 value=0x40005003
guest_write ioas_id=ioas gpa=0x40005a28 value=0x40100f47
s1 = hwpt_alloc dev_id=nic pt_id=vi data_type=arm_smmuv3 ste=0x4000100b,0
device_attach dev_id=nic pt_id=s1 expect=ok
t0 = translate dev_id=nic iova=0x12346000 expect=fault
q = veventq_alloc viommu_id=vi type=arm_smmuv3 veventq_depth=2 expect=ok
t1 = translate dev_id=nic iova=0x12346000 expect=fault
r1 = veventq_read veventq_id=q expect=ok
# The guest points a stage-1 table at an IPA stage 2 does not map.
guest_write ioas_id=ioas gpa=0x40004490 value=0x80000003
t2 = translate dev_id=nic iova=0x12400000 expect=fault
r2 = veventq_read veventq_id=q expect=ok
```

## Step: line 17
nic0 is nested: the guest maps only IOVA 0x12345000 in its stage 1, virtual StreamID
0x21.

## Step: line 18
A DMA to IOVA 0x12346000, which the guest never mapped: a stage-1 translation fault.
With no vEVENTQ the driver cannot forward it, and logs the event in the kernel log.

### Predict
Which fault does the SMMU report?
answer: fault.reason

## Step: line 19
The VMM allocates a vEVENTQ of type arm_smmuv3 on the vIOMMU, two events deep.

## Step: line 20
The same fault is forwarded now: the translate names the vEVENTQ it went to.

### Predict
Which vEVENTQ receives the event?
answer: vevent

## Step: line 21
The VMM reads the queue: one struct iommu_vevent_arm_smmuv3, the SMMU's event record
as the hardware wrote it except that the driver replaced the physical StreamID (0x100)
with the guest's virtual one (0x21): dword 0 holds the event type in bits 7:0 and the
StreamID in bits 63:32.

### Predict
Which event record words does the VMM read?
answer: data

## Step: line 24
The guest's level-2 descriptor for IOVA 0x12400000 now points at a level-3 table at
IPA 0x80000000, outside guest RAM: stage 2 cannot translate the table's address, so the
fault is at stage 2 (CLASS TT, during the table walk), the host's to handle.

### Predict
At which stage is the fault?
answer: fault.stage

## Step: line 25
Nothing reached the guest: the driver forwards stage-1 events only, and logs this one.

### Predict
How many events does the VMM read this time?
answer: count

"""#,
    ]
}
