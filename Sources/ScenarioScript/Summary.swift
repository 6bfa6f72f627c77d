import IOMMUCore
import Presentation

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
        let graph = fd.graph
        for ioas in graph.ioases {
            out.append("  IOAS \(ioas.id)  areas \(ioas.areas.count)  iova_alignment \(ioas.iovaAlignment.hex)  users \(fd.users(of: ioas))")
            for case .hwptPaging(let hwpt) in graph.children(of: ioas.id) {
                out.append("    HWPT_PAGING \(hwpt.id)  \(describe(hwpt))")
                out.append(contentsOf: attachmentLines(of: hwpt, in: graph, indent: "      "))
                let children = graph.children(of: hwpt.id)
                for case .hwptNested(let nested) in children {
                    out.append("      HWPT_NESTED \(nested.id)  \(describe(nested.domain.configuration))")
                    out.append(contentsOf: attachmentLines(of: nested, in: graph, indent: "        "))
                }
                for case .viommu(let viommu) in children {
                    out.append("      VIOMMU \(viommu.id)  type \(ObjectText.uapiName(VIOMMUType.self, viommu.viommuType)) on \(viommu.driver.name)")
                    let onVIOMMU = graph.children(of: viommu.id)
                    for case .vdevice(let vdevice) in onVIOMMU {
                        out.append("        VDEVICE \(vdevice.id)  virt_id \(vdevice.virtualID.hex) -> DEVICE \(vdevice.device.id)")
                    }
                    for case .hwptNested(let nested) in onVIOMMU {
                        out.append("        HWPT_NESTED \(nested.id)  \(describe(nested.domain.configuration))")
                        out.append(contentsOf: attachmentLines(of: nested, in: graph, indent: "          "))
                    }
                    for case .veventq(let veventq) in onVIOMMU {
                        out.append("        VEVENTQ \(veventq.id)  " + ObjectText.queueState(veventq))
                    }
                }
            }
            for case .access(let access) in graph.children(of: ioas.id) {
                out.append("    ACCESS \(access.id)  " + ObjectText.accessState(access))
            }
        }
        for device in graph.devices {
            let attached = device.attachments.sorted { $0.key < $1.key }.map { ObjectText.attachment($0.value, pasid: $0.key, arrow: "->") }
            out.append("  DEVICE \(device.id)  \(device.platform.name)  " + (attached.isEmpty ? "blocked" : attached.joined(separator: ", ")))
        }
        for fault in graph.faultQueues { out.append("  FAULT \(fault.id)  " + ObjectText.queueState(fault)) }
        for ioas in graph.ioases {
            out.append("")
            out.append("IOAS \(ioas.id) address space")
            for (range, area) in ioas.areas.entries {
                out.append("  area      \(range)  \(area.prot.shortDescription)  user_va \(area.userVA.hex)")
            }
            for reservation in ioas.reservations {
                out.append("  reserved  \(reservation.range)  \(ObjectText.owner(reservation.owner))")
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
                let users = graph.devices.filter { $0.requiredSWMSI.contains(map.id) }.map { "DEVICE \($0.id)" }
                let hwpts = graph.pagingHWPTs.filter { $0.presentSWMSI.contains(map.id) }.map { "HWPT \($0.id)" }
                out.append("  iova \(map.iova.hex) -> doorbell \(map.doorbell.hex)  used by \(users.joined(separator: ", "))"
                           + "  mapped in \(hwpts.joined(separator: ", "))")
            }
        }
        return out.joined(separator: "\n")
    }

    private func attachmentLines(of hwpt: HWPT, in graph: ObjectGraph, indent: String) -> [String] {
        graph.attachments(of: hwpt.id).map { attachment in
            "\(indent)<- DEVICE \(attachment.device.id) \(attachment.device.platform.name)"
                + (attachment.pasid == noPASID ? "" : " pasid \(attachment.pasid)")
        }
    }

    private func describe(_ hwpt: HWPTPaging) -> String {
        var words = [hwpt.isAutomatic ? "auto" : "user", hwpt.domain.stage.rawValue, "on \(hwpt.domain.driver.name)"]
        if hwpt.isNestParent { words.append("nest-parent") }
        if hwpt.domain.dirtyTracking { words.append("dirty-tracking " + (hwpt.domain.dirtyTrackingEnabled ? "enabled" : "disabled")) }
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
}
