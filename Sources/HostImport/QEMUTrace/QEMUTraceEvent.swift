import IOMMUCore

/// One event of QEMU's `log` trace backend that the replay reads, typed by its
/// `trace-events` prototype (`backends/trace-events`, `hw/vfio/trace-events`). `ret` is the
/// ioctl result the format prints as `(%d)`; nil where the QEMU version did not print it.
public enum QEMUTraceEvent: Sendable, Equatable {
    /// `iommufd_backend_connect "fd=%d owned=%d users=%d"` (8.2–9.0 add ` (%d)`).
    case backendConnect(fd: Int64, owned: Bool, users: UInt32, ret: Int32?)
    /// `iommufd_backend_disconnect "fd=%d users=%d"`; the last prints `fd=-1`.
    case backendDisconnect(fd: Int64, users: UInt32)
    /// `iommufd_backend_map_dma`: IOAS_MAP with FIXED_IOVA|READABLE, WRITEABLE unless readonly.
    case backendMapDMA(iommufd: Int64, ioas: UInt32, iova: UInt64, size: UInt64, vaddr: UInt64, readonly: Bool, ret: Int32)
    /// `iommufd_backend_unmap_dma`: IOAS_UNMAP.
    case backendUnmapDMA(iommufd: Int64, ioas: UInt32, iova: UInt64, size: UInt64, ret: Int32)
    /// `iommufd_backend_unmap_dma_non_exist`: an IOAS_UNMAP that got ENOENT, which QEMU tolerates.
    case backendUnmapDMANonExist(iommufd: Int64, ioas: UInt32, iova: UInt64, size: UInt64, ret: Int32)
    /// `iommufd_backend_alloc_ioas " iommufd=%d ioas=%d"` (8.2–9.0 add ` (%d)`).
    case backendAllocIOAS(iommufd: Int64, ioas: UInt32, ret: Int32?)
    /// `iommufd_backend_alloc_hwpt`: HWPT_ALLOC.
    case backendAllocHWPT(iommufd: Int64, devID: UInt32, ptID: UInt32, flags: UInt32, hwptType: UInt32, len: UInt32, dataPtr: UInt64, outHWPT: UInt32, ret: Int32)
    /// `iommufd_backend_free_id`: DESTROY.
    case backendFreeID(iommufd: Int64, id: UInt32, ret: Int32)
    /// `iommufd_backend_alloc_viommu`, its 2nd and 3rd values read by position (the labels
    /// are swapped in the merged format); `labelsSwapped` records which reading the bound
    /// device ids chose.
    case backendAllocVIOMMU(iommufd: Int64, devID: UInt32, type: UInt32, hwptID: UInt32, viommuID: UInt32, ret: Int32, labelsSwapped: Bool)
    /// `iommufd_backend_alloc_vdev`: VDEVICE_ALLOC; `virtID` is the device's id in the guest
    /// (an Arm vSID).
    case backendAllocVDev(iommufd: Int64, devID: UInt32, viommuID: UInt32, virtID: UInt64, vdevID: UInt32, ret: Int32)
    /// `iommufd_viommu_alloc_eventq`: VEVENTQ_ALLOC (the depth is not printed).
    case viommuAllocEventQ(iommufd: Int64, viommuID: UInt32, type: UInt32, veventqID: UInt32, veventqFD: Int64, ret: Int32)
    /// `iommufd_backend_invalidate_cache`: HWPT_INVALIDATE on a HWPT or a vIOMMU (`id`);
    /// `doneNum` is the `entry_num` the kernel wrote back. The entries are not printed.
    /// `errno` is what QEMU prints, `ret ? errno : 0`: a positive errno, unlike the `(%d)` of
    /// the allocations.
    case backendInvalidateCache(iommufd: Int64, id: UInt32, dataType: UInt32, entryLen: UInt32, entryNum: UInt32, doneNum: UInt32, dataPtr: UInt64, errno: Int32)
    /// `iommufd_backend_set_dirty`: HWPT_SET_DIRTY_TRACKING; `errno` as for invalidate_cache.
    case backendSetDirty(iommufd: Int64, hwptID: UInt32, enable: Bool, errno: Int32)
    /// `iommufd_backend_get_dirty_bitmap`: HWPT_GET_DIRTY_BITMAP (the bitmap is not printed;
    /// `flags` is nil in the QEMU 10.0 format, which has no `flags=`); `errno` as for
    /// invalidate_cache.
    case backendGetDirtyBitmap(iommufd: Int64, hwptID: UInt32, iova: UInt64, size: UInt64, flags: UInt64?, pageSize: UInt64, errno: Int32)
    /// `iommufd_backend_map_file_dma`: IOAS_MAP_FILE of `size` bytes of the file `fd` from
    /// offset `start`, FIXED_IOVA|READABLE, WRITEABLE unless readonly.
    case backendMapFileDMA(iommufd: Int64, ioas: UInt32, iova: UInt64, size: UInt64, fd: Int64, start: UInt64, readonly: Bool, ret: Int32)
    /// `iommufd_change_process "fd=%d (%d)"`: IOAS_CHANGE_PROCESS; the value is QEMU's bool
    /// (1 when the ioctl succeeded).
    case changeProcess(fd: Int64, succeeded: Bool)
    /// `smmuv3_accel_install_ste "vSID=0x%x ste type=%s hwpt_id=0x%x"`: QEMU's accelerated
    /// SMMUv3 attached the device of the guest StreamID `vsid` to `hwptID` (`abort`, `bypass`
    /// or `translate`, the nested HWPTs QEMU allocated for those vSTEs). Traced after the
    /// attach succeeded.
    case smmuv3AccelInstallSTE(vsid: UInt32, type: String, hwptID: UInt32)
    /// `vtd_device_attach_hwpt "dev_id %d pasid %d hwpt_id %d, ret: %d"`: QEMU's VT-d attached
    /// the iommufd device `devID` at `pasid` to `hwptID`.
    case vtdDeviceAttachHWPT(devID: UInt32, pasid: Int64, hwptID: UInt32, ret: Int32)
    /// `iommufd_cdev_getfd " %s (fd=%d)"`: the VFIO cdev opened.
    case cdevGetFD(path: String, fd: Int64)
    /// `iommufd_cdev_connect_and_bind`: VFIO_DEVICE_BIND_IOMMUFD; `devid` is the iommufd id.
    case cdevBind(iommufd: Int64, name: String, devfd: Int64, devid: UInt32)
    /// `iommufd_cdev_attach_ioas_hwpt` (and the 2025/26 `iommufd_cdev_pasid_attach_ioas_hwpt`).
    case cdevAttach(iommufd: Int64, name: String, devfd: Int64, pasid: UInt32?, id: UInt32)
    /// `iommufd_cdev_detach_ioas_hwpt` (and `iommufd_cdev_pasid_detach_ioas_hwpt`).
    case cdevDetach(iommufd: Int64, name: String, pasid: UInt32?)
    /// `iommufd_cdev_alloc_ioas`: restates the backend's alloc_ioas.
    case cdevAllocIOAS(iommufd: Int64, ioas: UInt32)
    /// `vfio_mdev " (%s) is_mdev %d"`.
    case vfioMdev(name: String, isMdev: Bool)
    /// An emulated vIOMMU's report of what it did (`hw/arm`, `hw/i386` events): an observation
    /// for the timeline, compared with the model there.
    case observation(QEMUTraceObservation)
    /// A well-formed event line this reader does not model (kept for the comments).
    case other(name: String, arguments: String)
}

/// An event with the source line it came from.
public struct QEMUTraceRecord: Sendable, Equatable {
    public var line: Int
    public var name: String
    public var arguments: String
    public var event: QEMUTraceEvent
}
