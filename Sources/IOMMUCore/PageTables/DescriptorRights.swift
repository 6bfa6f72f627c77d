extension IOMMUArchitecture {
    /// The rights a descriptor of `format` grants by this architecture's walk rules (the
    /// walker's own): a table descriptor's for the levels below (`leaf` false), or a leaf's.
    /// x86-64 paging serves two architectures with different rules (VT-d needs U/S, AMD-Vi's
    /// guest table does not), hence the architecture. The mock keeps no descriptors: read/write.
    public func rights(of descriptor: UInt64, level: Int, leaf: Bool, format: any PageTableFormat) -> AccessRights {
        let rules: any WalkRules
        switch self {
        case .armSMMUv3:
            let stage: TranslationStage = (format as? ArmLPAE)?.stage == .stage2 ? .stage2 : .stage1
            rules = SMMUv3WalkRules(stage: stage, outputBits: 64, event: SMMUv3Event(.F_TRANSLATION, streamID: 0))
        case .intelVTd:
            rules = VTdWalkRules(stage: format is VTdSecondStage ? .stage2 : .stage1, rootLevel: format.rootLevel, outputBits: 64)
        case .amdVi:
            rules = AMDViWalkRules(table: format is AMDv1 ? .host : .guest, deviceID: 0, domainID: 0, pasid: nil, address: 0)
        case .mock:
            return .readWrite
        }
        return leaf ? rules.leafRights(descriptor, level: level) : rules.tableRights(descriptor, level: level)
    }
}
