/// The SMMUv3 driver's uAPI structs (`include/uapi/linux/iommufd.h`).

/// `struct iommu_hwpt_arm_smmuv3 { __aligned_le64 ste[2]; }`: the guest's STE for a nested
/// HWPT on a vIOMMU (`arm_vsmmu_alloc_domain_nested`).
public struct IOMMUHWPTArmSMMUv3: UAPIPayload {
    public static let dataType = UAPIDataType.hwpt(.armSMMUv3)
    public static let cName = "struct iommu_hwpt_arm_smmuv3"
    public static let ste = UAPIField("ste", offset: 0, size: 8, count: 2)
    public static let fields = [ste]
    public static let minimumSize = ste.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    /// A vSTE as a VMM passes it.
    public init(ste: [UInt64]) { self.init([(Self.ste, ste)]) }

    public var ste: [UInt64] { (0..<Self.ste.count).map { raw[Self.ste, $0] } }
}

/// `struct iommu_viommu_arm_smmuv3_invalidate { __aligned_le64 cmd[2]; }`: one guest command
/// queue entry (`arm_vsmmu_cache_invalidate`).
public struct IOMMUVIOMMUArmSMMUv3Invalidate: UAPIPayload {
    public static let dataType = UAPIDataType.viommuInvalidate(.armSMMUv3)
    public static let cName = "struct iommu_viommu_arm_smmuv3_invalidate"
    public static let cmd = UAPIField("cmd", offset: 0, size: 8, count: 2)
    public static let fields = [cmd]
    public static let minimumSize = cmd.end
    public let raw: UAPIStructBytes
    public init(raw: UAPIStructBytes) { self.raw = raw }

    public var cmd: (UInt64, UInt64) { (raw[Self.cmd, 0], raw[Self.cmd, 1]) }
}

extension ArmSMMUv3 {
    /// `CMDQ_BATCH_ENTRIES` (`arm-smmu-v3.h`): `BITS_PER_LONG`, 64 on arm64.
    public static let commandBatchEntries = 64

    /// `arm_vsmmu_convert_user_cmd`: the opcodes a guest may issue, with the vSMMU's VMID
    /// forced into the TLBIs (NSNH_ALL becomes NH_ALL of that VMID) and the vSID of a
    /// CFGI_CD/ATC_INV turned into the physical StreamID of its vDEVICE; anything else, or
    /// a vSID without a vDEVICE, is EIO.
    func convertUserCommand(_ command: SMMUv3Command, on viommu: VIOMMU) throws(Refusal) -> SMMUv3Command {
        var converted = command
        let vmid = tag(for: viommu.parent.domain)
        switch command.opcode {
        case .tlbiNSNHAll?:
            converted = SMMUv3Command(SMMUv3Command.Opcode.tlbiNHAll.rawValue, 0)
            converted.setVMID(vmid)
        case .tlbiNHVA?, .tlbiNHVAA?, .tlbiNHAll?, .tlbiNHASID?:
            converted.setVMID(vmid)
        case .atcInv?, .cfgiCD?, .cfgiCDAll?:
            guard let vdevice = viommu.vdevices[UInt64(command.streamID)] else {
                throw Refusal(.EIO, .armSMMUCommandVSID, objects: [Refusal.InvolvedObject(viommu, .parent)],
                              values: [.opcode(command), Refusal.InvolvedValue("vSID", UInt64(command.streamID), .requested)])
            }
            converted.streamID = vdevice.device.platform.streamID
        case nil:
            throw Refusal(.EIO, .armSMMUCommandOpcode, values: [.opcode(command)])
        }
        return converted
    }

    /// `arm_vsmmu_cache_invalidate`: the whole array is copied, then each command is
    /// converted and queued, and the queue is issued every `CMDQ_BATCH_ENTRIES - 1`
    /// commands (the kernel's `cur - last != CMDQ_BATCH_ENTRIES - 1` test) and at the end.
    /// A command that fails conversion ends the call: the commands converted since the last
    /// issue are dropped unissued, and `entry_num` is the failing command's index.
    public func invalidate(_ viommu: VIOMMU, _ request: InvalidationArray) -> InvalidationOutcome {
        var pending: [SMMUv3Command] = []
        let outcome = request.handleAll(as: IOMMUVIOMMUArmSMMUv3Invalidate.self) { entry in
            let (word0, word1) = entry.cmd
            do throws(Refusal) {
                pending.append(try convertUserCommand(SMMUv3Command(word0, word1), on: viommu))
            } catch {
                return error
            }
            if pending.count == Self.commandBatchEntries - 1 {
                issue(pending)
                pending = []
            }
            return nil
        }
        if outcome.error == nil { issue(pending) }
        return outcome
    }
}
