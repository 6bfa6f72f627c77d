import IOMMUCore

extension HostDomainTable {
    /// Whether the dumps showed what maps `address` in this table: everywhere for a complete
    /// dump, outside the unknown ranges of a partial one, nowhere when only the root is known.
    public func covers(_ address: UInt64) -> Bool { covers(IOVARange(start: address, last: address)) }

    /// Whether the dumps showed all of `range` (a walk's piece: a leaf or a hole).
    public func covers(_ range: IOVARange) -> Bool {
        switch coverage {
        case .complete: true
        case .partial(let unknown): !unknown.contains { $0.intersects(range) }
        case .rootOnly: false
        }
    }

    /// The stage a walk of this table is labelled with: the VT-d second-stage and AMD-Vi v1
    /// formats translate as stage 2 (as the core's drivers allocate them), x86 first-stage
    /// paging and Arm stage-1 tables as stage 1.
    public var stage: TranslationStage {
        if format is VTdSecondStage || format is AMDv1 { return .stage2 }
        if let arm = format as? ArmLPAE, arm.stage == .stage2 { return .stage2 }
        return .stage1
    }
}

extension TableRebuildReport {
    /// Whether the dumps showed what maps `address` for a DMA of `device` at `pasid` (nil:
    /// the RID's requests): false without a rebuilt table, so an unknown range is never
    /// taken for an unmapped one.
    public func knows(_ address: UInt64, device: String, pasid: UInt32?) -> Bool {
        table(device: device, pasid: pasid)?.covers(address) ?? false
    }
}
