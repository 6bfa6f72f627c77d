import IOMMUCore

/// A plain-text picture of a session: the platform, the iommufd object tree and each IOAS's
/// address space. It is what `iommuscope` prints, so it reads top-down like `lspci -t`.
public struct SessionSummary {
    public let session: Session

    public init(session: Session) { self.session = session }

    public var text: String {
        var out: [String] = []
        let machine = session.machine, fd = session.iommufd
        out.append("Platform")
        for iommu in machine.iommus {
            out.append("  iommu \(iommu.name)  \(iommu.architecture.rawValue)")
            for device in machine.devices where device.iommu === iommu {
                let regions = device.reservedRegions.map { "\($0.type.rawValue) \($0.range)" }.joined(separator: ", ")
                out.append("    device \(device.name)  sid \(UInt64(device.streamID).hex)" + (regions.isEmpty ? "" : "  reserved: \(regions)"))
            }
        }
        out.append("")
        out.append("iommufd objects")
        let objects = fd.objects
        for ioas in objects.compactMap({ $0 as? IOAS }) {
            out.append("  IOAS \(ioas.id)  areas \(ioas.areas.count)  iova_alignment \(ioas.iovaAlignment.hex)  users \(fd.users(of: ioas))")
            for hwpt in objects.compactMap({ $0 as? HWPTPaging }) where hwpt.ioas === ioas {
                out.append("    HWPT_PAGING \(hwpt.id)  \(describe(hwpt))")
                out.append(contentsOf: attachmentLines(of: hwpt, indent: "      "))
                for nested in objects.compactMap({ $0 as? HWPTNested }) where nested.stage2 === hwpt {
                    if case .hwpt = nested.parent {
                        out.append("      HWPT_NESTED \(nested.id)  \(describe(nested.domain.configuration))")
                        out.append(contentsOf: attachmentLines(of: nested, indent: "        "))
                    }
                }
                for viommu in objects.compactMap({ $0 as? VIOMMU }) where viommu.parent === hwpt {
                    out.append("      VIOMMU \(viommu.id)  type \(UInt64(viommu.viommuType).hex) on \(viommu.driver.name)")
                    for vdevice in objects.compactMap({ $0 as? VDevice }) where vdevice.viommu === viommu {
                        out.append("        VDEVICE \(vdevice.id)  virt_id \(vdevice.virtualID.hex) -> DEVICE \(vdevice.device.id)")
                    }
                    for nested in objects.compactMap({ $0 as? HWPTNested }) {
                        if case .viommu(let parent) = nested.parent, parent === viommu {
                            out.append("        HWPT_NESTED \(nested.id)  \(describe(nested.domain.configuration))")
                            out.append(contentsOf: attachmentLines(of: nested, indent: "          "))
                        }
                    }
                }
            }
        }
        for device in fd.devices {
            let attached = device.attachments.keys.sorted().map { pasid in
                (pasid == noPASID ? "" : "pasid \(pasid) ") + "-> \(device.attachments[pasid]!.type) \(device.attachments[pasid]!.id)"
            }
            out.append("  DEVICE \(device.id)  \(device.platform.name)  " + (attached.isEmpty ? "blocked" : attached.joined(separator: ", ")))
        }
        for ioas in objects.compactMap({ $0 as? IOAS }) {
            out.append("")
            out.append("IOAS \(ioas.id) address space")
            for (range, area) in ioas.areas.entries {
                out.append("  area      \(range)  \(area.prot.shortDescription)  user_va \(area.userVA.hex)")
            }
            for reservation in ioas.reservations {
                out.append("  reserved  \(reservation.range)  \(describe(reservation.owner))")
            }
            for allowed in ioas.allowedRanges { out.append("  allowed   \(allowed)") }
            if let ranges = try? fd.ioasIOVARanges(ioasID: ioas.id.rawValue) {
                out.append("  usable    " + ranges.ranges.map(\.description).joined(separator: ", "))
            }
        }
        if !fd.swMSIMaps.isEmpty {
            out.append("")
            out.append("SW_MSI doorbells")
            for map in fd.swMSIMaps {
                let users = fd.devices.filter { $0.requiredSWMSI.contains(map.id) }.map { "DEVICE \($0.id)" }
                let hwpts = fd.objects.compactMap { $0 as? HWPTPaging }.filter { $0.presentSWMSI.contains(map.id) }.map { "HWPT \($0.id)" }
                out.append("  iova \(map.iova.hex) -> doorbell \(map.doorbell.hex)  used by \(users.joined(separator: ", "))"
                           + "  mapped in \(hwpts.joined(separator: ", "))")
            }
        }
        return out.joined(separator: "\n")
    }

    private func attachmentLines(of hwpt: HWPT, indent: String) -> [String] {
        session.iommufd.attachments(of: hwpt).map { attachment in
            "\(indent)<- DEVICE \(attachment.device.id) \(attachment.device.platform.name)"
                + (attachment.pasid == noPASID ? "" : " pasid \(attachment.pasid)")
        }
    }

    private func describe(_ hwpt: HWPTPaging) -> String {
        var words = [hwpt.isAutomatic ? "auto" : "user", hwpt.domain.stage.rawValue, "on \(hwpt.domain.driver.name)"]
        if hwpt.isNestParent { words.append("nest-parent") }
        if hwpt.domain.dirtyTracking { words.append("dirty-tracking") }
        words.append("aperture \(hwpt.domain.aperture)")
        words.append("mappings \(hwpt.domain.table.mappingCount)")
        return words.joined(separator: "  ")
    }

    private func describe(_ configuration: NestedConfiguration) -> String {
        switch configuration {
        case .selftest(let iotlb): "selftest iotlb " + iotlb.map { UInt64($0).hex }.joined(separator: ",")
        case .armSMMUv3(let ste): "vSTE " + ste.map(\.hex).joined(separator: ",")
        case .vtdS1(let flags, let root, let width): "vtd_s1 pgtbl_addr \(root.hex) addr_width \(width) flags \(flags.hex)"
        }
    }

    private func describe(_ owner: ReservationOwner) -> String {
        switch owner {
        case .device(let id, let type): "\(type.rawValue) of DEVICE \(id)"
        case .domain(let id): "outside the aperture of HWPT \(id)"
        case .test: "test_add_reserved"
        }
    }
}
