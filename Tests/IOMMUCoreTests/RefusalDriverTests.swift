import Testing
import TestSupport
@testable import IOMMUCore

/// The refusals of the SMMUv3, VT-d and AMD-Vi drivers and of the page tables name the kernel
/// check that made them and what it looked at: the vSTE field, the guest command's opcode or
/// vSID, the ECAP bit, the page sizes. Each test drives a real call (through iommufd where a
/// user reaches the check that way) and asserts the errno, the rule and the involved values.
struct RefusalDriverTests {
    typealias Value = Refusal.InvolvedValue

    static let noData = UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 0))

    /// A bound device behind an SMMU, a nest parent on an IOAS and, when the SMMU allows one,
    /// an SMMUv3 vIOMMU on it.
    struct SMMUNest {
        let fd = IOMMUFD(machine: Machine())
        let smmu: ArmSMMUv3
        let platform: PlatformDevice
        let device: ObjectID
        let parent: ObjectID

        init(_ configuration: ArmSMMUv3.Configuration = ArmSMMUv3.Configuration(), canWBS: Bool = true) throws(Refusal) {
            smmu = ArmSMMUv3(name: "smmu0", configuration: configuration)
            platform = PlatformDevice(name: "d", iommu: smmu, streamID: 0x10, maxPASIDLog2: 4, canWBS: canWBS)
            device = try fd.bind(platform)
            let ioas = try fd.ioasAlloc()
            parent = try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: device.rawValue, ptID: ioas.rawValue,
                                      userData: RefusalDriverTests.noData)
        }

        func viommu() throws(Refusal) -> VIOMMU {
            try fd.viommuAlloc(flags: 0, type: VIOMMUType.armSMMUv3.rawValue, deviceID: device.rawValue, hwptID: parent.rawValue)
        }

        func nested(_ ste: [UInt64], on viommu: VIOMMU, flags: HWPTAllocFlags = []) throws(Refusal) -> ObjectID {
            try fd.hwptAlloc(flags: flags.rawValue, deviceID: device.rawValue, ptID: viommu.id.rawValue,
                             userData: UserData(IOMMUHWPTArmSMMUv3(ste: ste)))
        }

        func invalidate(_ viommu: VIOMMU, _ commands: [(UInt64, UInt64)]) -> InvalidationOutcome {
            let entries = commands.map { command in
                let entry = IOMMUVIOMMUArmSMMUv3Invalidate([(IOMMUVIOMMUArmSMMUv3Invalidate.cmd, [command.0, command.1])])
                return UserBuffer(length: 16, bytes: entry.raw.bytes)
            }
            return fd.hwptInvalidate(hwptID: viommu.id.rawValue, dataType: InvalidateDataType.armSMMUv3.rawValue, entryLength: 16,
                                     entryCount: UInt32(entries.count), entries: entries)
        }
    }

    /// V = 1 with STE.Config = `config`.
    static func vSTE(config: UInt64) -> UInt64 { 1 | config << 1 }

    // MARK: arm_smmu_validate_vste

    @Test func vSTEBitsOutsideNestingAllowed() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        let error = refusal { try nest.nested([Self.vSTE(config: 5), 1 << 8], on: viommu) }
        #expect(error?.errno == .EIO)
        #expect(error?.rule == .armSMMUVSTEBits)
        #expect(error?.values == [Value("STE[1]", 0x100, .flag)])
    }

    @Test func vSTEConfigStage2IsRefusedWithTheField() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        let error = refusal { try nest.nested([Self.vSTE(config: 6), 0], on: viommu) }
        #expect(error?.errno == .EIO)
        #expect(error?.rule == .armSMMUVSTEConfig)
        #expect(error?.description == "EIO (the vSTE's Config is neither abort, bypass nor stage-1 translate: STE.Config=6)")
    }

    @Test func vSTEEATSSplitTranslation() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        let error = refusal { try nest.nested([Self.vSTE(config: 5), 2 << 28], on: viommu) }
        #expect(error?.errno == .EIO)
        #expect(error?.rule == .armSMMUVSTEEATS)
        #expect(error?.values == [Value("STE.EATS", 2, .flag)])
    }

    @Test func nestedOnAVIOMMUTakesNoPASIDFlag() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        let error = refusal { try nest.nested([Self.vSTE(config: 5), 0], on: viommu, flags: .pasid) }
        #expect(error?.errno == .EOPNOTSUPP)
        #expect(error?.rule == .unsupportedFlags)
        #expect(error?.values == [Value("flags", UInt64(HWPTAllocFlags.pasid.rawValue), .flag)])
    }

    /// A translating vSTE attaches only once the device has its vDEVICE (its vSID).
    @Test func translatingVSTEWithoutVDevice() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        let nested = try nest.nested([Self.vSTE(config: 5), 0], on: viommu)
        let error = refusal { try nest.fd.attach(deviceID: nest.device.rawValue, ptID: nested.rawValue) }
        #expect(error?.errno == .ENOENT)
        #expect(error?.rule == .armSMMUNoVMaster)
        // The vIOMMU with no vDEVICE for it, then the attach's device and nested HWPT.
        #expect(error?.objects == [Refusal.InvolvedObject(viommu, .parent), Refusal.InvolvedObject(nest.device, .device, .requested),
                                   Refusal.InvolvedObject(nested, .hwptNested, .requested)])
        #expect(error?.values == [Value("STE.Config", 5, .flag)])
        // A bypass vSTE attaches without one.
        let bypass = try nest.nested([Self.vSTE(config: 4), 0], on: viommu)
        _ = try nest.fd.attach(deviceID: nest.device.rawValue, ptID: bypass.rawValue)
    }

    // MARK: arm_vsmmu_cache_invalidate

    @Test func guestCommandOpcodeNotAllowed() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        // TLBI_NH_ASID is converted; TLBI_S12_VMALL (0x28) is the host's.
        let outcome = nest.invalidate(viommu, [(0x11, 0), (0x28, 0)])
        #expect(outcome.handled == 1)
        #expect(outcome.error?.errno == .EIO)
        #expect(outcome.error?.rule == .armSMMUCommandOpcode)
        #expect(outcome.error?.values == [Value("CMDQ_0_OP", 0x28, .requested)])
    }

    @Test func guestCommandVSIDWithoutVDevice() throws {
        let nest = try SMMUNest()
        let viommu = try nest.viommu()
        _ = try nest.fd.vdeviceAlloc(viommuID: viommu.id.rawValue, deviceID: nest.device.rawValue, virtualID: 3)
        // CFGI_CD of vSID 3 converts; of vSID 7 no vDEVICE answers.
        let outcome = nest.invalidate(viommu, [(0x05 | 3 << 32, 0), (0x05 | 7 << 32, 0)])
        #expect(outcome.handled == 1)
        #expect(outcome.error?.errno == .EIO)
        #expect(outcome.error?.rule == .armSMMUCommandVSID)
        #expect(outcome.error?.objects == [Refusal.InvolvedObject(viommu, .parent)])
        #expect(outcome.error?.values == [Value("CMDQ_0_OP", 0x05, .requested), Value("vSID", 7, .requested)])
    }

    // MARK: vIOMMU and paging allocation

    @Test func vIOMMUNeedsCANWBSOrS2FWB() throws {
        let nest = try SMMUNest(canWBS: false)
        let error = refusal { try nest.viommu() }
        #expect(error?.errno == .EOPNOTSUPP)
        #expect(error?.rule == .armSMMUVIOMMUCoherency)
        #expect(error?.values == [Value("CANWBS", 0, .flag), Value("IDR3.FWB", 0, .flag)])
        var fwb = ArmSMMUv3.Configuration()
        fwb.s2fwb = true
        _ = try SMMUNest(fwb, canWBS: false).viommu()
    }

    @Test func hardwareInfoOfAnotherDriversType() throws {
        let nest = try SMMUNest()
        let error = refusal {
            try nest.fd.getHWInfo(flags: HWInfoFlags.inputType.rawValue, deviceID: nest.device.rawValue, dataLength: 0,
                                  inDataType: HWInfoType.intelVTd.rawValue)
        }
        #expect(error?.errno == .EOPNOTSUPP)
        #expect(error?.rule == .hardwareInfoType)
        #expect(error?.values == [Value("in_data_type", UInt64(HWInfoType.intelVTd.rawValue), .requested)])
    }

    @Test func nestParentOnAStage1OnlySMMU() throws {
        var configuration = ArmSMMUv3.Configuration()
        configuration.stage2 = false
        let error = refusal { try SMMUNest(configuration) }
        #expect(error?.errno == .EOPNOTSUPP)
        #expect(error?.rule == .armSMMUNestParentWithoutNesting)
        #expect(error?.values == [Value("IOMMU_HWPT_ALLOC_NEST_PARENT", nil, .flag), Value("IDR0.S2P", 0, .flag)])
    }

    @Test func pasidAttachChecks() throws {
        let smmu = ArmSMMUv3(name: "smmu0"), memory = PhysicalMemory()
        let device = PlatformDevice(name: "d", iommu: smmu, streamID: 1, maxPASIDLog2: 4)
        let stage2 = try smmu.allocatePagingDomain(for: device, flags: .nestParent, userData: nil, memory: memory)
        let tooWide = refusal { try smmu.checkAttach(device, to: stage2, pasid: 16) }
        #expect(tooWide?.errno == .EINVAL)
        #expect(tooWide?.rule == .armSMMUSubstreamRange)
        #expect(tooWide?.values == [Value("pasid", 16, .requested), Value("ssid_bits", 4, .limit)])
        let notStage1 = refusal { try smmu.checkAttach(device, to: stage2, pasid: 15) }
        #expect(notStage1?.errno == .EINVAL)
        #expect(notStage1?.rule == .armSMMUPASIDNeedsStage1)
    }

    /// A domain of another SMMU instance, and one of another driver.
    @Test func attachOfAnotherIOMMUsDomain() throws {
        let smmu0 = ArmSMMUv3(name: "smmu0"), smmu1 = ArmSMMUv3(name: "smmu1"), memory = PhysicalMemory()
        let device = PlatformDevice(name: "d", iommu: smmu0, streamID: 1)
        let other = try smmu1.allocatePagingDomain(for: PlatformDevice(name: "e", iommu: smmu1, streamID: 2), flags: [],
                                                   userData: nil, memory: memory)
        let error = refusal { try smmu0.checkAttach(device, to: other) }
        #expect(error?.errno == .EINVAL)
        #expect(error?.rule == .armSMMUOtherInstance)
        #expect(error?.values == [Value("domain's IOMMU smmu1", nil, .owner), Value("device's IOMMU smmu0", nil, .requested)])
        let amd = AMDVi(name: "ivhd0")
        let foreign = refusal { try amd.checkAttach(PlatformDevice(name: "f", iommu: amd, streamID: 3), to: other) }
        #expect(foreign?.errno == .EINVAL)
        #expect(foreign?.rule == .domainOfOtherDriver)
        #expect(foreign?.values == [Value("domain's IOMMU smmu1", nil, .owner), Value("device's IOMMU ivhd0", nil, .requested)])
    }

    // MARK: VT-d

    /// A bound device behind a VT-d unit with a nest parent on an IOAS.
    struct VTdNest {
        let fd = IOMMUFD(machine: Machine())
        let vtd: IntelVTd
        let device: ObjectID
        let parent: ObjectID

        init(_ configuration: IntelVTd.Configuration = IntelVTd.Configuration()) throws {
            vtd = IntelVTd(name: "dmar0", configuration: configuration)
            device = try fd.bind(PlatformDevice(name: "d", iommu: vtd, streamID: 0x100))
            let ioas = try fd.ioasAlloc()
            parent = try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: device.rawValue, ptID: ioas.rawValue,
                                      userData: RefusalDriverTests.noData)
        }

        func nested(_ userData: UserData) throws(Refusal) -> ObjectID {
            try fd.hwptAlloc(flags: 0, deviceID: device.rawValue, ptID: parent.rawValue, userData: userData)
        }

        func nested(addressWidth: UInt64) throws(Refusal) -> ObjectID {
            try nested(UserData(IOMMUHWPTVTdS1([(IOMMUHWPTVTdS1.pgtblAddr, [0x10_0000]), (IOMMUHWPTVTdS1.addrWidth, [addressWidth])])))
        }
    }

    @Test func vtdNestedDataOfAnotherType() throws {
        let nest = try VTdNest()
        let error = refusal { try nest.nested(UserData(IOMMUHWPTArmSMMUv3(ste: [0, 0]))) }
        #expect(error?.errno == .EOPNOTSUPP)
        #expect(error?.rule == .nestedDataType)
        #expect(error?.values == [Value("data_type", UInt64(HWPTDataType.armSMMUv3.rawValue), .requested)])
    }

    @Test func vtdStage1AddressWidthAtAttach() throws {
        let nest = try VTdNest()
        let fiveLevel = try nest.nested(addressWidth: 57)
        let error = refusal { try nest.fd.attach(deviceID: nest.device.rawValue, ptID: fiveLevel.rawValue) }
        #expect(error?.errno == .EINVAL)
        #expect(error?.rule == .vtdNestedFiveLevel)
        #expect(error?.values == [Value("addr_width", 57, .requested), Value("CAP.FL5LP", 0, .flag)])
        let odd = try nest.nested(addressWidth: 39)
        let width = refusal { try nest.fd.attach(deviceID: nest.device.rawValue, ptID: odd.rawValue) }
        #expect(width?.rule == .vtdNestedAddressWidth)
        #expect(width?.values == [Value("addr_width", 39, .requested)])
    }

    @Test func vtdInvalidationEntries() throws {
        let nest = try VTdNest()
        let nested = try nest.nested(addressWidth: 48)
        func invalidate(_ entries: [(addr: UInt64, npages: UInt64, flags: UInt64)]) -> InvalidationOutcome {
            let buffers = entries.map { entry in
                UserBuffer(length: 24, bytes: IOMMUHWPTVTdS1Invalidate([(IOMMUHWPTVTdS1Invalidate.addr, [entry.addr]),
                                                                         (IOMMUHWPTVTdS1Invalidate.npages, [entry.npages]),
                                                                         (IOMMUHWPTVTdS1Invalidate.flags, [entry.flags])]).raw.bytes)
            }
            return nest.fd.hwptInvalidate(hwptID: nested.rawValue, dataType: InvalidateDataType.vtdS1.rawValue, entryLength: 24,
                                          entryCount: UInt32(buffers.count), entries: buffers)
        }
        let unaligned = invalidate([(0x1000, 1, 0), (0x1234, 1, 0)])
        #expect(unaligned.handled == 1)
        #expect(unaligned.error?.errno == .EINVAL)
        #expect(unaligned.error?.rule == .vtdInvalidateUnaligned)
        #expect(unaligned.error?.values == [Value("addr", 0x1234, .requested), Value("VTD_PAGE_SIZE", 4096, .limit)])
        let everything = invalidate([(0x1000, .max, 0)])
        #expect(everything.error?.rule == .vtdInvalidateAllWithAddress)
        let flags = invalidate([(0, 1, 1), (0, 1, 2)])
        #expect(flags.handled == 1)
        #expect(flags.error?.errno == .EOPNOTSUPP)
        #expect(flags.error?.rule == .unsupportedFlags)
        #expect(flags.error?.values == [Value("flags", 2, .flag)])
    }

    @Test func vtdSecondStageAllocationNamesTheECAPBit() throws {
        var configuration = IntelVTd.Configuration()
        configuration.firstStage = false
        configuration.dirtyTracking = false
        let vtd = IntelVTd(name: "dmar0", configuration: configuration)
        let device = PlatformDevice(name: "d", iommu: vtd, streamID: 0x100)
        let error = refusal { try vtd.allocatePagingDomain(for: device, flags: .dirtyTracking, userData: nil, memory: PhysicalMemory()) }
        #expect(error?.errno == .EOPNOTSUPP)
        #expect(error?.rule == .vtdDirtyWithoutSSADS)
        #expect(error?.values == [Value("IOMMU_HWPT_ALLOC_DIRTY_TRACKING", nil, .flag), Value("ECAP.SLADS", 0, .flag)])
        let nesting = refusal { try vtd.allocatePagingDomain(for: device, flags: .nestParent, userData: nil, memory: PhysicalMemory()) }
        #expect(nesting?.rule == .vtdNestParentWithoutNesting)
    }

    /// ERRATA_772415_SPR17: a nest parent's table takes no read-only mapping.
    @Test func vtdNestParentRefusesReadOnly() throws {
        let vtd = IntelVTd(name: "dmar0")
        let domain = try vtd.allocatePagingDomain(for: PlatformDevice(name: "d", iommu: vtd, streamID: 0x100), flags: .nestParent,
                                                  userData: nil, memory: PhysicalMemory())
        let readOnly = refusal { try domain.table.map(iova: 0, output: 0x10_0000, length: 4096, prot: .read) }
        #expect(readOnly?.errno == .EINVAL)
        #expect(readOnly?.rule == .pageTableReadOnlyNestParent)
        let none = refusal { try domain.table.map(iova: 0, output: 0x10_0000, length: 4096, prot: []) }
        #expect(none?.errno == .EINVAL)
        #expect(none?.rule == .pageTableNoAccess)
        try domain.table.map(iova: 0, output: 0x10_0000, length: 4096, prot: [.read, .write])
    }

    // MARK: AMD-Vi

    @Test func amdPagingAllocation() throws {
        var configuration = AMDVi.Configuration()
        configuration.dirtyTracking = false
        let amd = AMDVi(name: "ivhd0", configuration: configuration)
        let device = PlatformDevice(name: "d", iommu: amd, streamID: 0x300)
        let dirty = refusal { try amd.allocatePagingDomain(for: device, flags: .dirtyTracking, userData: nil, memory: PhysicalMemory()) }
        #expect(dirty?.errno == .EOPNOTSUPP)
        #expect(dirty?.rule == .amdViDirtyWithoutHD)
        #expect(dirty?.values.last == Value("EFR.HDSUP", 0, .flag))
        let both = refusal { try amd.allocatePagingDomain(for: device, flags: [.dirtyTracking, .pasid], userData: nil, memory: PhysicalMemory()) }
        #expect(both?.rule == .amdViFlagCombination)
        let data = UserData(IOMMUHWPTVTdS1([(IOMMUHWPTVTdS1.addrWidth, [48])]))
        let withData = refusal { try amd.allocatePagingDomain(for: device, flags: [], userData: data, memory: PhysicalMemory()) }
        #expect(withData?.errno == .EOPNOTSUPP)
        #expect(withData?.rule == .pagingDomainData)
        #expect(withData?.values == [Value("data_type", 1, .requested), Value("data_len", 24, .requested)])
    }

    // MARK: Page tables (iommu_map_nosync, map_pages)

    static func lpaeTable() throws -> DescriptorPageTable {
        try DescriptorPageTable(format: ArmLPAE(stage: .stage1, granule: 4096, ias: 48, oas: 48), memory: PhysicalMemory())
    }

    @Test func unalignedMapNamesThePageSizes() throws {
        let table = try Self.lpaeTable()
        let error = refusal { try table.map(iova: 0x1800, output: 0x10_0000, length: 0x1000, prot: .read) }
        #expect(error?.errno == .EINVAL)
        #expect(error?.rule == .pageTableUnaligned)
        #expect(error?.values == [Value("iova", 0x1800, .requested), Value("paddr", 0x10_0000, .requested),
                                  Value("size", 0x1000, .requested), Value("min_pagesz", 0x1000, .limit),
                                  Value("pgsize_bitmap", 0x4020_1000, .limit)])
    }

    @Test func mapOverAMappingNamesIt() throws {
        let table = try Self.lpaeTable()
        try table.map(iova: 0, output: 0x10_0000, length: 0x2000, prot: .read)
        let error = refusal { try table.map(iova: 0x1000, output: 0x20_0000, length: 0x2000, prot: .read) }
        #expect(error?.errno == .EEXIST)
        #expect(error?.rule == .pageTableMapped)
        #expect(error?.ranges == [Refusal.InvolvedRange(IOVARange(start: 0x1000, last: 0x2fff), .requested),
                                  Refusal.InvolvedRange(IOVARange(start: 0, last: 0x1fff), .existing)])
    }

    @Test func mapBeyondTheTopAndPastTwoToTheSixtyFour() throws {
        let table = try Self.lpaeTable()
        let beyond = refusal { try table.map(iova: 1 << 48, output: 0, length: 0x1000, prot: .read) }
        #expect(beyond?.errno == .ERANGE)
        #expect(beyond?.rule == .pageTableBeyondTop)
        #expect(beyond?.ranges.last == Refusal.InvolvedRange(IOVARange(start: 0, last: 0xffff_ffff_ffff), .aperture))
        let wraps = refusal { try table.map(iova: 0, output: .max - 0xfff, length: 0x2000, prot: .read) }
        #expect(wraps?.errno == .EOVERFLOW)
        #expect(wraps?.rule == .addressOverflow)
        #expect(wraps?.values == [Value("address", UInt64.max - 0xfff, .requested), Value("length", 0x2000, .requested)])
        let empty = refusal { try table.map(iova: 0, output: 0, length: 0, prot: .read) }
        #expect(empty?.errno == .EOVERFLOW)
        #expect(empty?.rule == .pageTableEmptyMap)
    }
}
