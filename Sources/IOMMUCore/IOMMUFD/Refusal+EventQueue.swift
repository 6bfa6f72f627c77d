/// The checks of the event queues and their files: FAULT and vEVENTQ objects, the I/O page
/// fault enablement of an attach, and the responses (`eventq.c`, `io-pgfault.c`, `driver.c`).
extension Refusal.Rule {
    /// `get_unused_fd_flags`: no descriptor below RLIMIT_NOFILE is free.
    public static let descriptorLimit = Refusal.Rule("get_unused_fd_flags.rlimit_nofile",
                                                     "every file descriptor below RLIMIT_NOFILE is taken")
    /// `fdget` in read(2), write(2) or close(2): the descriptor is not open.
    public static let closedFile = Refusal.Rule("fdget.closed", "the file descriptor is not open")
    /// `intel_iommu_enable_iopf` (from `iopf_for_domain_set`): the device's PRI is not enabled.
    public static let iopfWithoutPRI = Refusal.Rule("intel_iommu_enable_iopf.no_pri",
                                                    "a fault-capable HWPT needs a device with PRI enabled")
    /// `iommufd_fault_fops_write`: `response.code` is neither IOMMUFD_PAGE_RESP_SUCCESS nor IOMMUFD_PAGE_RESP_INVALID.
    public static let pageResponseCode = Refusal.Rule(
        "iommufd_fault_fops_write.code", "the response code is neither IOMMUFD_PAGE_RESP_SUCCESS nor IOMMUFD_PAGE_RESP_INVALID")
    /// `iommufd_fault_fops_write`: `xa_erase(&fault->response, response.cookie)` finds no group.
    public static let unknownCookie = Refusal.Rule("iommufd_fault_fops_write.cookie",
                                                   "no page request group read from the queue awaits a response with this cookie")
    /// `iommufd_veventq_alloc`: `cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT`.
    public static let defaultVEventQueueType = Refusal.Rule("iommufd_veventq_alloc.default_type",
                                                            "a vEVENTQ needs a driver's type, not IOMMU_VEVENTQ_TYPE_DEFAULT")
    /// `iommufd_veventq_alloc`: `!cmd->veventq_depth`.
    public static let zeroVEventQueueDepth = Refusal.Rule("iommufd_veventq_alloc.depth", "veventq_depth is 0")
    /// `iommufd_veventq_alloc`: `iommufd_viommu_find_veventq(viommu, cmd->type)` finds one.
    public static let vEventQueueTypeTaken = Refusal.Rule("iommufd_veventq_alloc.type_exists",
                                                          "the vIOMMU already has a vEVENTQ of this type")
    /// `iommufd_viommu_report_event`: `iommufd_viommu_find_veventq` finds no queue of the type.
    public static let noVEventQueue = Refusal.Rule("iommufd_viommu_report_event.no_veventq",
                                                   "the vIOMMU has no vEVENTQ of the event's type")
    /// `iommufd_test_trigger_vevent`: `!mdev->viommu || !mdev->vdev_id`.
    public static let mockWithoutVDevice = Refusal.Rule(
        "iommufd_test_trigger_vevent.no_viommu",
        "the mock device is not attached to a vIOMMU's nested HWPT through a vDEVICE with a virtual id")
}

extension Refusal {
    /// EBADF for a queue's file that was closed, or a descriptor never handed out.
    static func closedFile(_ fd: Int32, of queue: IOMMUFDObject? = nil) -> Refusal {
        Refusal(.EBADF, .closedFile, objects: queue.map { [InvolvedObject($0, .requested)] } ?? [],
                values: [InvolvedValue("fd", UInt64(UInt32(bitPattern: fd)), .requested)])
    }
}
