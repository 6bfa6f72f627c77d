/// The checks of `arm-smmu-v3.c` and `arm-smmu-v3-iommufd.c` that refuse an allocation, an
/// attach, a vIOMMU or a guest command.
extension Refusal.Rule {
    // MARK: arm_smmu_domain_alloc_paging_flags

    /// `arm_smmu_domain_alloc_paging_flags`, `case 0`: the SMMU implements neither stage
    /// (IDR0.S1P and IDR0.S2P clear), so there is no table to build.
    public static let armSMMUNoStage = Refusal.Rule("arm_smmu_domain_alloc_paging_flags.no_stage",
                                                    "the SMMU implements neither translation stage")
    /// `arm_smmu_domain_alloc_paging_flags`, `case IOMMU_HWPT_ALLOC_NEST_PARENT`:
    /// `!(smmu->features & ARM_SMMU_FEAT_NESTING)`.
    public static let armSMMUNestParentWithoutNesting = Refusal.Rule(
        "arm_smmu_domain_alloc_paging_flags.nesting",
        "a nest parent needs an SMMU with both translation stages (ARM_SMMU_FEAT_NESTING)")
    /// `arm_smmu_domain_alloc_paging_flags`, the dirty-tracking and PASID cases:
    /// `!(smmu->features & ARM_SMMU_FEAT_TRANS_S1)`.
    public static let armSMMUStage1Required = Refusal.Rule(
        "arm_smmu_domain_alloc_paging_flags.trans_s1",
        "dirty tracking and PASID domains are stage-1 domains, which the SMMU does not implement")
    /// `arm_smmu_domain_alloc_paging_flags`, `default:`: a nest parent with dirty tracking or
    /// a PASID, which no case of the switch allocates.
    public static let armSMMUFlagCombination = Refusal.Rule(
        "arm_smmu_domain_alloc_paging_flags.combination",
        "a nest parent cannot also be allocated for dirty tracking or PASIDs")
    /// The SMMUv3 ops have no `domain_alloc_nested`: nested domains come from
    /// `arm_vsmmu_alloc_domain_nested`, on a vIOMMU.
    public static let armSMMUNestsOnVIOMMU = Refusal.Rule(
        "arm_smmu_ops.domain_alloc_nested",
        "SMMUv3 allocates nested domains only on a vIOMMU, not on a paging HWPT")

    // MARK: Attach

    /// `arm_smmu_attach_dev` (and `arm_smmu_s1_set_dev_pasid`, `arm_smmu_set_pasid`):
    /// `smmu_domain->smmu != master->smmu`.
    public static let armSMMUOtherInstance = Refusal.Rule("arm_smmu_attach_dev.smmu",
                                                          "the domain belongs to another SMMU instance than the device's")
    /// `arm_smmu_attach_dev_nested`: `nested_domain->vsmmu->smmu != master->smmu`.
    public static let armSMMUNestedOtherInstance = Refusal.Rule(
        "arm_smmu_attach_dev_nested.smmu", "the nested domain's vIOMMU is on another SMMU instance than the device's")
    /// `arm_smmu_attach_prepare`: `smmu_domain->enforce_cache_coherency &&
    /// !arm_smmu_master_canwbs(master)`.
    public static let armSMMUCoherency = Refusal.Rule(
        "arm_smmu_attach_prepare.canwbs",
        "the domain enforces cache coherency and the IORT does not mark the master CANWBS")
    /// `arm_smmu_attach_prepare_vmaster`: `iommufd_viommu_get_vdev_id` finds no vDEVICE of the
    /// master and the vSTE translates (Config neither abort nor bypass).
    public static let armSMMUNoVMaster = Refusal.Rule(
        "arm_smmu_attach_prepare_vmaster.no_vdevice",
        "a translating vSTE needs the device's vDEVICE on the vIOMMU (its vSID)")
    /// `iommu_attach_device_pasid`: `pasid >= dev->iommu->max_pasids`, the master's `ssid_bits`.
    public static let armSMMUSubstreamRange = Refusal.Rule(
        "arm_smmu_set_pasid.ssid_bits", "the PASID does not fit the master's SubstreamID width (ssid_bits)")
    /// `arm_smmu_s1_set_dev_pasid`: `smmu_domain->stage != ARM_SMMU_DOMAIN_S1`.
    public static let armSMMUPASIDNeedsStage1 = Refusal.Rule(
        "arm_smmu_s1_set_dev_pasid.stage", "only a stage-1 domain attaches to a PASID")
    /// `arm_smmu_set_pasid`: `!master->cd_table.in_ste` and the RID's domain is neither
    /// identity nor blocked: the STE does not point at the CD table the PASID's CD would join.
    public static let armSMMUPASIDWithoutCDTable = Refusal.Rule(
        "arm_smmu_set_pasid.cd_table",
        "the RID's domain does not use the CD table (a stage-2 or nested domain), so no PASID can be added")
    /// `arm_smmu_alloc_cd_ptr`: the leaf CD table (or its L1 descriptor) could not be set up.
    public static let armSMMUContextTableMemory = Refusal.Rule(
        "arm_smmu_alloc_cd_ptr.no_memory", "the CD table's leaf could not be allocated and linked")
    /// Nested SMMUv3 domains have no `cache_invalidate_user` (`iommufd_hwpt_invalidate` is
    /// EOPNOTSUPP): a guest's TLBIs go to the vIOMMU (`arm_vsmmu_cache_invalidate`).
    public static let armSMMUNestedInvalidation = Refusal.Rule(
        "arm_smmu_nested_ops.cache_invalidate_user",
        "an SMMUv3 nested HWPT is invalidated through its vIOMMU, not the HWPT")

    // MARK: vIOMMU (arm_smmu_get_viommu_size, arm_vsmmu_init)

    /// `arm_smmu_get_viommu_size`: `!(smmu->features & ARM_SMMU_FEAT_NESTING)` returns 0.
    public static let armSMMUVIOMMUWithoutNesting = Refusal.Rule(
        "arm_smmu_get_viommu_size.nesting", "a vIOMMU needs an SMMU with both translation stages (ARM_SMMU_FEAT_NESTING)")
    /// `arm_smmu_get_viommu_size`: `!arm_smmu_master_canwbs(master) && !(smmu->features &
    /// ARM_SMMU_FEAT_S2FWB)` returns 0: nothing would stop the guest making DMA non-coherent.
    public static let armSMMUVIOMMUCoherency = Refusal.Rule(
        "arm_smmu_get_viommu_size.canwbs",
        "a vIOMMU needs a CANWBS master or stage-2 forced write-back (IDR3.FWB)")
    /// `arm_vsmmu_init`: `s2_parent->smmu != smmu`.
    public static let armSMMUVIOMMUParentOtherInstance = Refusal.Rule(
        "arm_vsmmu_init.smmu", "the nest parent belongs to another SMMU instance than the vIOMMU")

    // MARK: arm_vsmmu_alloc_domain_nested, arm_smmu_validate_vste

    /// `arm_smmu_validate_vste`: `(ste[0] & ~STRTAB_STE_0_NESTING_ALLOWED) ||
    /// (ste[1] & ~STRTAB_STE_1_NESTING_ALLOWED)` ("EIO is reserved for invalid STE data").
    public static let armSMMUVSTEBits = Refusal.Rule(
        "arm_smmu_validate_vste.nesting_allowed",
        "the vSTE sets bits a guest may not (outside STRTAB_STE_0/1_NESTING_ALLOWED)")
    /// `arm_smmu_validate_vste`: Config is not `STRTAB_STE_0_CFG_ABORT`, `_BYPASS` or `_S1_TRANS`.
    public static let armSMMUVSTEConfig = Refusal.Rule(
        "arm_smmu_validate_vste.config", "the vSTE's Config is neither abort, bypass nor stage-1 translate")
    /// `arm_smmu_validate_vste`: EATS is neither `STRTAB_STE_1_EATS_ABT` nor `_TRANS`.
    public static let armSMMUVSTEEATS = Refusal.Rule(
        "arm_smmu_validate_vste.eats", "the vSTE's EATS is neither 0 (ATS aborted) nor 1 (full ATS)")

    // MARK: arm_vsmmu_cache_invalidate

    /// `arm_vsmmu_convert_user_cmd`: `default: return -EIO` for an opcode a guest may not issue.
    public static let armSMMUCommandOpcode = Refusal.Rule(
        "arm_vsmmu_convert_user_cmd.opcode",
        "the guest may not issue this command (only TLBI_NH_*, TLBI_NSNH_ALL, ATC_INV and CFGI_CD*)")
    /// `arm_vsmmu_vsid_to_sid`: `iommufd_viommu_find_dev` finds no vDEVICE with the vSID.
    public static let armSMMUCommandVSID = Refusal.Rule(
        "arm_vsmmu_vsid_to_sid.no_vdevice", "the command's vSID names no vDEVICE of the vIOMMU")
}

extension Refusal {
    /// A domain (or nest parent, `holder`) `owner` made, used through `smmu`: another
    /// instance's (`rule`), or another driver's.
    static func otherSMMU(_ rule: Rule, owner: any IOMMUDriver, of holder: String = "domain", device smmu: ArmSMMUv3) -> Refusal {
        guard owner is ArmSMMUv3 else { return .otherDriversDomain(owner, device: smmu) }
        return Refusal(.EINVAL, rule, values: [.iommu(owner, of: holder, .owner), .iommu(smmu, of: "device", .requested)])
    }
}

extension Refusal {
    /// ENOMEM for the CD of `substream` without a slot in the master's CD table.
    static func contextTableMemory(substream: UInt32) -> Refusal {
        Refusal(.ENOMEM, .armSMMUContextTableMemory, values: [InvolvedValue("SSID", UInt64(substream), .requested)])
    }
}

extension Refusal.InvolvedValue {
    /// `CMDQ_0_OP` of a guest command.
    static func opcode(_ command: SMMUv3Command) -> Self { Self("CMDQ_0_OP", command.opcodeField, .requested) }
}
