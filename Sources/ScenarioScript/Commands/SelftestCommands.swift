import IOMMUCore

// MARK: Selftest ops (IOMMU_TEST_OP_*)

let selftestCommands: [CommandSpec] = [
    CommandSpec(name: "test_add_reserved", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "start", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), start = try args.integer("start"), length = try args.integer("length")
        return outcome { () throws(Refusal) in try session.iommufd.testAddReserved(ioasID: ioas, start: start, length: length); return [] }
    },
    CommandSpec(name: "test_mock_domain", arguments: [
        ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "dev_flags", kind: .flags(mockDeviceFlagNames, bits: 32)),
    ], outputs: ["out_stdev_id", "out_hwpt_id", "out_idev_id"]) { session, args throws(ScenarioError) in
        let pt = try args.u32("pt_id"), flags = try args.u32("dev_flags")
        return outcome { () throws(Refusal) in
            let mock = try session.iommufd.testMockDomain(ptID: pt, deviceFlags: flags, iommu: session.mockIOMMU())
            return [("out_stdev_id", id(mock.stdevID)), ("out_hwpt_id", id(mock.hwptID)), ("out_idev_id", id(mock.idevID))]
        }
    },
    CommandSpec(name: "test_mock_domain_replace", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "pt_id", kind: .integer(bits: 32), required: true),
    ], outputs: ["pt_id"]) { session, args throws(ScenarioError) in
        let stdev = try args.u32("id"), pt = try args.u32("pt_id")
        return outcome { () throws(Refusal) in [("pt_id", id(try session.iommufd.testMockDomainReplace(stdevID: stdev, ptID: pt)))] }
    },
    CommandSpec(name: "test_md_check_iotlb", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iotlb_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "iotlb", kind: .integer(bits: 32), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("id"), entry = try args.u32("iotlb_id"), value = try args.u32("iotlb")
        return outcome { () throws(Refusal) in try session.iommufd.testCheckIOTLB(hwptID: hwpt, iotlbID: entry, value: value); return [] }
    },
    CommandSpec(name: "test_dev_check_cache", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "cache_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "cache", kind: .integer(bits: 32), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let device = try args.u32("id"), entry = try args.u32("cache_id"), value = try args.u32("cache")
        return outcome { () throws(Refusal) in try session.iommufd.testCheckDeviceCache(deviceID: device, cacheID: entry, value: value); return [] }
    },
    CommandSpec(name: "test_md_check_map", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true), ArgumentSpec(name: "uptr", kind: .integer(bits: 64)),
    ], outputs: []) { session, args throws(ScenarioError) in
        let hwpt = try args.u32("id"), iova = try args.integer("iova"), length = try args.integer("length")
        let uptr: UInt64? = args.has("uptr") ? try args.integer("uptr") : nil
        return outcome { () throws(Refusal) in
            try session.iommufd.testCheckMap(hwptID: hwpt, iova: iova, length: length, userVA: uptr)
            return []
        }
    },
]
