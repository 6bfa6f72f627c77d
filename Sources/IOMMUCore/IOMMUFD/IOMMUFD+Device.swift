/// Binding and attaching devices, as VFIO's cdev ioctls drive `drivers/iommu/iommufd/device.c`.
extension IOMMUFD {
    /// What refusals involve, by their short names.
    // MARK: VFIO_DEVICE_BIND_IOMMUFD

    /// Binds a platform device to this file (`iommufd_device_bind`); returns `out_devid`.
    public func bind(_ platform: PlatformDevice) throws(Refusal) -> ObjectID {
        beginMutation()
        // The VFIO device file is bound once (vfio_df_ioctl_bind_iommufd).
        if let bound = device(boundTo: platform) { throw Refusal(.EINVAL, .alreadyBound, objects: [InvolvedObject(bound, .existing)]) }
        // Claiming DMA ownership attaches the blocking domain, which a device that requires
        // its direct (identity) regions refuses (__iommu_device_set_domain).
        if platform.requiresDirect {
            throw Refusal(.EINVAL, .requiresDirect, ranges: platform.reservedRegions.filter { $0.type == .direct }.map {
                InvolvedRange($0.range, .reserved, note: $0.type.rawValue)
            })
        }
        let device = try allocate { id throws(Refusal) in Device(id: id, platform: platform) }
        // Claiming DMA ownership attaches the blocking domain.
        platform.iommu.install(platform, .blocked, pasid: noPASID, memory: machine.physical)
        return device.id
    }

    /// One DMA transaction by a bound device, walked by its IOMMU; nil where the
    /// architecture's walk is not modelled yet. `caches: .bypass` or `.lookupOnly` is a probe
    /// that leaves the IOMMU's caches as they were; `detail: .answer` builds no steps.
    public func translate(deviceID: UInt32, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy = .use,
                          detail: WalkDetail = .steps) throws(Refusal) -> Result<Translation, TranslationFault>? {
        var steps: [WalkStep] = []
        if let answer = routed(deviceID: deviceID, iova: iova, pasid: pasid, access: access, caches: caches, recording: detail == .steps,
                               steps: &steps) {
            return .success(Translation(answer, steps: steps))
        }
        return try walked(deviceID: deviceID, iova: iova, pasid: pasid, access: access, caches: caches, detail: detail)
    }

    /// `translate` with `detail: .answer`, answering with the translation's answer alone
    /// (a fault is reported whole): what a caller replaying many transactions asks for.
    public func answer(deviceID: UInt32, iova: UInt64, pasid: UInt32?, access: AccessRights,
                       caches: CachePolicy = .use) throws(Refusal) -> Result<TranslationAnswer, TranslationFault>? {
        var unrecorded: [WalkStep] = []
        if let answer = routed(deviceID: deviceID, iova: iova, pasid: pasid, access: access, caches: caches, recording: false,
                               steps: &unrecorded) {
            return .success(answer)
        }
        return try walked(deviceID: deviceID, iova: iova, pasid: pasid, access: access, caches: caches, detail: .answer)
            .map { $0.map(\.answer) }
    }

    /// A transaction's answer from the route the device's last transaction left: an IOTLB
    /// hit, or a miss the route walks (its steps appended to `steps` when `recording`), as the
    /// driver itself would answer under those caches; nil when the driver must.
    @inline(__always)
    private func routed(deviceID: UInt32, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy, recording: Bool,
                        steps: inout [WalkStep]) -> TranslationAnswer? {
        guard caches.looksUp else { return nil }
        // The memory lives as long as the machine this file holds: passed on unretained.
        return Unmanaged.passUnretained(machine.physical)._withUnsafeGuaranteedRef { memory in
            routes.probe.withValue(deviceID) { route in
                route.answer(iova, pasid: pasid, access: access, caches: caches, memory: memory, recording: recording, steps: &steps)
            }
        }
    }

    /// One transaction walked by the device's driver, and the route refreshed. Out of line:
    /// inlined, it would make every routed answer's frame as large as its own.
    @inline(never)
    private func walked(deviceID: UInt32, iova: UInt64, pasid: UInt32?, access: AccessRights, caches: CachePolicy,
                        detail: WalkDetail) throws(Refusal) -> Result<Translation, TranslationFault>? {
        // The kind, not a cast: this runs for every transaction a trace replays.
        guard case .device(let device) = try kind(deviceID) else { throw .noSuchObject(deviceID, wrongType: try object(deviceID)) }
        let memory = machine.physical, platform = device.platform
        let writes = memory.writeCount
        let result = platform.iommu.translate(platform, iova: iova, pasid: pasid, access: access, caches: caches,
                                              memory: memory, detail: detail)
        // A hardware Access/Dirty update rewrote a descriptor: views keyed on the generation redraw.
        if memory.writeCount != writes { beginMutation() }
        // The route the next transaction takes, read again once the caches moved on.
        if caches.looksUp, !(routes.probe.withValue(deviceID, { $0.serves(pasid: pasid) }) ?? false) {
            routes[deviceID] = platform.iommu.route(for: platform, pasid: pasid)
        }
        return result
    }

    /// Unbinds a device (closing the VFIO device file): detaches it everywhere, force-destroys
    /// its vDEVICE (leaving a tombstone) and frees its id.
    public func unbind(deviceID: UInt32) throws(Refusal) {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        let holders = referrers(of: device.id, role: .device).filter { $0.type == .selftest }
        if !holders.isEmpty {
            throw Refusal(.EBUSY, .deviceInUse, objects: [InvolvedObject(device, .requested)] + holders.map { InvolvedObject($0, .user) })
        }
        try unbind(device)
    }

    func unbind(_ device: Device) throws(Refusal) {
        for pasid in device.attachments.keys.sorted(by: >) { detach(device, pasid: pasid) }
        if let vdevice = device.vdevice { tombstone(vdevice.id) }
        release(device.id)
    }

    // MARK: VFIO_DEVICE_ATTACH_IOMMUFD_PT

    /// Attaches a device (at a PASID) to an IOAS or HWPT; returns the HWPT actually attached.
    /// An attached device is replaced instead, as the VFIO cdev ioctl does.
    public func attach(deviceID: UInt32, ptID: UInt32, pasid: UInt32 = noPASID) throws(Refusal) -> ObjectID {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        try checkPASID(device, pasid, target: try? object(ptID))
        return try changePageTable(device, ptID: ptID, pasid: pasid, replacing: device.attachments[pasid] != nil)
    }

    /// `iommufd_device_replace`: moves an attached device to another IOAS or HWPT.
    public func replace(deviceID: UInt32, ptID: UInt32, pasid: UInt32 = noPASID) throws(Refusal) -> ObjectID {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        try checkPASID(device, pasid, target: try? object(ptID))
        return try changePageTable(device, ptID: ptID, pasid: pasid, replacing: true)
    }

    /// `iommufd_device_change_pt`: an HWPT directly, an IOAS through its automatic domain.
    private func changePageTable(_ device: Device, ptID: UInt32, pasid: UInt32, replacing: Bool) throws(Refusal) -> ObjectID {
        let hwpt: HWPT
        let pt = try kind(ptID)
        switch pt {
        case .hwptPaging(let paging): hwpt = paging
        case .hwptNested(let nested): hwpt = nested
        case .ioas(let ioas):
            do throws(Refusal) {
                return try attachAutomaticDomain(device, ioas: ioas, pasid: pasid, replacing: replacing)
            } catch {
                // The automatic HWPT the refused attach allocated is gone again: name the IOAS.
                var refusal = error.involving(attachContext(device, ioas, pasid: pasid))
                refusal.objects.removeAll { $0.type == .hwptPaging && (try? kind($0.id.rawValue)) == nil }
                throw refusal
            }
        case .device, .viommu, .vdevice, .selftest, .fault, .veventq, .access:
            throw Refusal(.EINVAL, .notPageTable, objects: attachContext(device, pt.object, pasid: pasid))
        }
        if replacing { try replace(device, with: hwpt, pasid: pasid) } else { try attach(device, to: hwpt, pasid: pasid) }
        return hwpt.id
    }

    /// What every attach refusal involves: the device, the IOAS or HWPT it was to go to, and
    /// what the device is attached to at the PASID now.
    private func attachContext(_ device: Device, _ target: IOMMUFDObject, pasid: UInt32) -> [InvolvedObject] {
        [InvolvedObject(device, .requested), InvolvedObject(target, .requested)]
            + (device.attachments[pasid].map { [InvolvedObject($0, .existing)] } ?? [])
    }

    /// `VFIO_DEVICE_DETACH_IOMMUFD_PT`: back to blocked DMA. Detaching a detached device is a no-op.
    public func detach(deviceID: UInt32, pasid: UInt32 = noPASID) throws(Refusal) {
        beginMutation()
        let device = try object(deviceID, as: Device.self)
        try checkPASID(device, pasid)
        detach(device, pasid: pasid)
    }

    /// The PASID is one the device has; `target` is the IOAS or HWPT an attach names.
    private func checkPASID(_ device: Device, _ pasid: UInt32, target: IOMMUFDObject? = nil) throws(Refusal) {
        guard pasid != noPASID else { return }
        let width = device.platform.maxPASIDLog2
        guard width > 0, UInt64(pasid) < (1 << UInt64(width)) else {
            var objects = [InvolvedObject(device, .requested)]
            if let target { objects.append(InvolvedObject(target, .requested)) }
            throw Refusal(.EINVAL, .pasidOutOfRange, objects: objects,
                          values: [.pasid(pasid), InvolvedValue("max_pasids", width > 0 ? 1 << UInt64(width) : 0, .limit)])
        }
    }

    // MARK: Attach internals

    /// `iommufd_device_auto_get_domain`: reuse a compatible automatic HWPT of the IOAS (an
    /// EINVAL from the driver means "incompatible, try the next"), else allocate a new one.
    private func attachAutomaticDomain(_ device: Device, ioas: IOAS, pasid: UInt32, replacing: Bool) throws(Refusal) -> ObjectID {
        for hwpt in ioas.hwpts where hwpt.isAutomatic {
            do {
                if replacing { try replace(device, with: hwpt, pasid: pasid) } else { try attach(device, to: hwpt, pasid: pasid) }
                return hwpt.id
            } catch where error.errno == .EINVAL {
                continue
            }
        }
        let hwpt = try allocate { id throws(Refusal) -> HWPTPaging in
            let driver = device.platform.iommu
            let domain = try driver.allocatePagingDomain(for: device.platform, flags: [], userData: nil, memory: machine.physical)
            // iommufd_hwpt_paging_enforce_cc, before the domain is attached or filled.
            domain.enforcesCacheCoherency = driver.canEnforceCacheCoherency(for: device.platform)
            let hwpt = HWPTPaging(id: id, ioas: ioas, domain: domain, isAutomatic: true, flags: [])
            if replacing {
                try addDomain(hwpt)
                do throws(Refusal) { try replace(device, with: hwpt, pasid: pasid) } catch { removeDomain(hwpt); throw error }
            } else {
                // immediate_attach: attach first, then add the domain to the IOAS.
                try attach(device, to: hwpt, pasid: pasid)
                do throws(Refusal) { try addDomain(hwpt) } catch { detach(device, pasid: pasid, destroyingAutomatic: false); throw error }
            }
            return hwpt
        }
        return hwpt.id
    }

    /// `iommufd_hw_pagetable_attach`.
    func attach(_ device: Device, to hwpt: HWPT, pasid: UInt32) throws(Refusal) {
        do throws(Refusal) {
            if let existing = device.attachments[pasid] {
                throw Refusal(.EBUSY, .alreadyAttached, objects: [InvolvedObject(existing, .existing)], values: [.pasid(pasid)])
            }
            try checkPASIDCompatibility(device, hwpt, pasid)
            let paging = stage2(of: hwpt)
            let reservesRegions = pasid == noPASID
            if reservesRegions { try reserveRegions(of: device, in: paging.ioas) }
            do throws(Refusal) {
                // A fault-capable domain's attach enables IOPF in the driver (iopf_for_domain_set).
                if hwpt.fault != nil { try checkIOPF(device) }
                if reservesRegions { try setupSWMSI(for: device, in: paging) }
                try driverAttach(device, hwpt, pasid: pasid)
            } catch {
                if reservesRegions { removeReservations(paging.ioas) { Self.isOwned($0, by: device) } }
                throw error
            }
        } catch {
            throw error.involving(attachContext(device, hwpt, pasid: pasid))
        }
        link(device, to: hwpt, pasid: pasid)
        installConfiguration(device, pasid: pasid)
    }

    /// Has the driver write the device's STE / PASID entry / DTE for the attachment at `pasid`.
    func installConfiguration(_ device: Device, pasid: UInt32) {
        let attachment: DeviceAttachment = switch device.attachments[pasid] {
        case let paging as HWPTPaging: .paging(paging.domain)
        case let nested as HWPTNested: .nested(nested.domain)
        default: .blocked
        }
        device.platform.iommu.install(device.platform, attachment, pasid: pasid, memory: machine.physical)
    }

    /// `iommufd_device_do_replace`.
    private func replace(_ device: Device, with hwpt: HWPT, pasid: UInt32) throws(Refusal) {
        guard let old = device.attachments[pasid] else {
            throw Refusal(.EINVAL, .notAttached, objects: attachContext(device, hwpt, pasid: pasid), values: [.pasid(pasid)])
        }
        if old === hwpt { return }
        let newIOAS = stage2(of: hwpt).ioas, oldIOAS = stage2(of: old).ioas
        let movesIOAS = pasid == noPASID && newIOAS !== oldIOAS
        do throws(Refusal) {
            try checkPASIDCompatibility(device, hwpt, pasid, replacing: true)
            if movesIOAS { try reserveRegions(of: device, in: newIOAS) }
            do throws(Refusal) {
                if hwpt.fault != nil { try checkIOPF(device) }
                if pasid == noPASID { try setupSWMSI(for: device, in: stage2(of: hwpt)) }
                try driverAttach(device, hwpt, pasid: pasid)
            } catch {
                if movesIOAS { removeReservations(newIOAS) { Self.isOwned($0, by: device) } }
                throw error
            }
        } catch {
            throw error.involving(attachContext(device, hwpt, pasid: pasid))
        }
        if movesIOAS { removeReservations(oldIOAS) { Self.isOwned($0, by: device) } }
        link(device, to: hwpt, pasid: pasid)
        installConfiguration(device, pasid: pasid)
        destroyIfUnusedAutomatic(old)
    }

    func detach(_ device: Device, pasid: UInt32, destroyingAutomatic: Bool = true) {
        guard let hwpt = link(device, to: nil, pasid: pasid) else { return }
        if pasid == noPASID { removeReservations(stage2(of: hwpt).ioas) { Self.isOwned($0, by: device) } }
        installConfiguration(device, pasid: pasid)
        if destroyingAutomatic { destroyIfUnusedAutomatic(hwpt) }
    }

    /// An automatic HWPT lives only while a device uses it.
    private func destroyIfUnusedAutomatic(_ hwpt: HWPT) {
        guard let paging = hwpt as? HWPTPaging, paging.isAutomatic, users(of: paging) == 1 else { return }
        removeDomain(paging)
        release(paging.id)
    }

    /// `iommufd_hwpt_pasid_compat`, plus the PASID flag of the HWPT itself.
    private func checkPASIDCompatibility(_ device: Device, _ hwpt: HWPT, _ pasid: UInt32, replacing: Bool = false) throws(Refusal) {
        let flag = InvolvedValue.flag(.pasid)
        if pasid == noPASID {
            let otherPASIDs = device.attachments.filter { $0.key != noPASID }
            if !hwpt.pasidCompatible && !otherPASIDs.isEmpty {
                throw Refusal(.EINVAL, .ridWithoutPASIDCompat,
                              objects: [InvolvedObject(hwpt, .requested)]
                                + otherPASIDs.sorted { $0.key < $1.key }.map { InvolvedObject($0.value, .existing) },
                              values: [flag] + otherPASIDs.keys.sorted().map { InvolvedValue("attached pasid", UInt64($0), .existing) })
            }
        } else {
            guard hwpt.pasidCompatible else {
                throw Refusal(.EINVAL, .pasidWithoutPASIDCompat, objects: [InvolvedObject(hwpt, .requested)], values: [.pasid(pasid), flag])
            }
            if let rid = device.attachments[noPASID], !rid.pasidCompatible {
                throw Refusal(.EINVAL, .ridHWPTWithoutPASIDCompat, objects: [InvolvedObject(rid, .existing)], values: [.pasid(pasid), flag])
            }
        }
    }

    /// The paging HWPT whose IOAS a device's reserved regions go into (`find_hwpt_paging`).
    func stage2(of hwpt: HWPT) -> HWPTPaging {
        switch hwpt {
        case let paging as HWPTPaging: paging
        case let nested as HWPTNested: nested.stage2
        default: preconditionFailure("HWPT of unknown kind")
        }
    }

    /// `iopt_table_enforce_dev_resv_regions`: every region but DIRECT_RELAXABLE becomes a
    /// reservation owned by the device; all of them or none.
    private func reserveRegions(of device: Device, in ioas: IOAS) throws(Refusal) {
        let regions = device.platform.reservedRegions.filter { $0.type != .directRelaxable }
        do throws(Refusal) {
            for region in regions {
                try reserve(ioas, region.range, owner: .device(device.id, region.type))
            }
            // Drivers must offer sane combinations of regions.
            let softwareMSI = regions.filter { $0.type == .swMSI }.count
            let hardwareMSI = regions.filter { $0.type == .msi }.count
            if (softwareMSI > 0 && hardwareMSI > 0) || softwareMSI > 1 {
                throw Refusal(.EINVAL, .msiRegionMix, objects: [InvolvedObject(device, .owner)],
                              ranges: regions.filter { $0.type == .swMSI || $0.type == .msi }.map {
                                  InvolvedRange($0.range, .reserved, note: $0.type.rawValue)
                              })
            }
        } catch {
            removeReservations(ioas) { Self.isOwned($0, by: device) }
            throw error
        }
    }

    static func isOwned(_ owner: ReservationOwner, by device: Device) -> Bool {
        if case .device(let id, _) = owner { return id == device.id }
        return false
    }

    /// The driver's `attach_dev`, or `set_dev_pasid` at a PASID.
    private func driverAttach(_ device: Device, _ hwpt: HWPT, pasid: UInt32) throws(Refusal) {
        switch hwpt {
        case let paging as HWPTPaging:
            try device.platform.iommu.checkAttach(device.platform, to: paging.domain, pasid: pasid)
        case let nested as HWPTNested:
            var viommu: VIOMMU?
            if case .viommu(let parent) = nested.parent { viommu = parent }
            let vdevice = device.vdevice.flatMap { $0.viommu === viommu ? $0 : nil }
            try device.platform.iommu.checkAttach(device.platform, to: nested.domain, viommu: viommu, vdevice: vdevice)
        default:
            throw Refusal(.EINVAL, .notPageTable, objects: [InvolvedObject(hwpt, .requested)])
        }
    }
}
