import IOMMUCore

// MARK: Dirty tracking (IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_TEST_OP_DIRTY)

let dirtyCommands: [CommandSpec] = [
    CommandSpec(name: "hwpt_set_dirty_tracking", arguments: [
        ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "flags", kind: .flags(["enable": UInt64(IOMMUFD.dirtyTrackingEnable)], bits: 32)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("hwpt_id"), flags = try args.u32("flags")
        return outcome { () throws(Refusal) in try session.iommufd.hwptSetDirtyTracking(flags: flags, hwptID: hwpt); return [] }
    },
    CommandSpec(name: "hwpt_get_dirty_bitmap", arguments: [
        ArgumentSpec(name: "hwpt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "flags", kind: .flags(["no_clear": UInt64(IOMMUFD.dirtyBitmapNoClear)], bits: 32)),
        ArgumentSpec(name: "__reserved", kind: .integer(bits: 32)),
        ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "page_size", kind: .integer(bits: 64), required: true),
    ], outputs: ["data"]) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("hwpt_id"), flags = try args.u32("flags"), reserved = try args.u32("__reserved")
        let iova = try args.integer("iova"), length = try args.integer("length"), pageSize = try args.integer("page_size")
        return outcome { () throws(Refusal) in
            let words = try session.iommufd.hwptGetDirtyBitmap(hwptID: hwpt, flags: flags, iova: iova, length: length,
                                                               pageSize: pageSize, reserved: reserved)
            return [("data", .words(words))]
        }
    },
    CommandSpec(name: "test_dirty", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "page_size", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "uptr", kind: .words),
    ], outputs: ["out_nr_dirty"]) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("id"), iova = try args.integer("iova"), length = try args.integer("length")
        let pageSize = try args.integer("page_size"), bitmap = try args.words("uptr")
        return outcome { () throws(Refusal) in
            let count = try session.iommufd.testDirty(hwptID: hwpt, iova: iova, length: length, pageSize: pageSize, bitmap: bitmap)
            return [("out_nr_dirty", .integer(count))]
        }
    },
]
