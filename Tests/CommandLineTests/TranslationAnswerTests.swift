@testable import Benchmarks
import IOMMUCore
import Testing

/// `IOMMUFD.answer`, the trivially copyable answer of a transaction: the same answer and the
/// same fault as `translate` gives, from a walk and from an IOTLB hit, the same caches left
/// behind, and no allocation.
@Suite struct TranslationAnswerTests {
    @Test func answersAsTranslateDoesColdAndWarm() throws {
        let rig = try NestedRig(pages: 64)
        for device in [rig.stage2Device, rig.nestedDevice] {
            for iova in rig.iovas(for: device) {
                // The walk, probed without filling, then answered (and filled).
                let probe = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read, caches: .lookupOnly)
                guard case .success(let walked)? = probe, case .success(let cold)? = try rig.fd.answer(
                    deviceID: device, iova: iova, pasid: nil, access: .read) else {
                    Issue.record("\(iova.hex) of device \(device) did not translate")
                    return
                }
                #expect(!walked.iotlbHit && cold == walked.answer, "cold \(iova.hex) of device \(device)")
                // The fill made a hit of the next one.
                guard case .success(let warm)? = try rig.fd.answer(deviceID: device, iova: iova | 0x10, pasid: nil, access: .read) else {
                    Issue.record("\(iova.hex) of device \(device) did not hit")
                    return
                }
                #expect(warm.iotlbHit && warm.output == walked.output | 0x10 && warm.pageSize == walked.pageSize
                        && warm.rights == walked.rights)
            }
            #expect(rig.smmu.iotlb.count > 0)
        }
        #expect(rig.smmu.iotlb.count == 2 * 64)
    }

    @Test func reportsTheFaultTranslateReports() throws {
        let rig = try NestedRig(pages: 64)
        // Past the guest RAM the stage 2 maps, and past what the guest's stage 1 maps.
        for (device, iova) in [(rig.stage2Device, UInt64(1) << 36), (rig.nestedDevice, UInt64(1) << 30)] {
            // Both under the same caches: the STE (and CD) cached by a first transaction.
            _ = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read)
            guard case .failure(let expected)? = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read,
                                                                      detail: .answer),
                  case .failure(let fault)? = try rig.fd.answer(deviceID: device, iova: iova, pasid: nil, access: .read) else {
                Issue.record("\(iova.hex) of device \(device) did not fault")
                continue
            }
            #expect(fault == expected)
            #expect(fault.smmuv3Event?.id == .F_TRANSLATION)
        }
        // A device that is not bound is refused as translate refuses it.
        #expect(throws: Refusal.self) { try rig.fd.answer(deviceID: 99, iova: 0, pasid: nil, access: .read) }
    }

    @Test func allocatesNothingWarmOrCold() throws {
        let rig = try NestedRig(pages: 64)
        for device in [rig.stage2Device, rig.nestedDevice] {
            let iovas = rig.iovas(for: device)
            // The configuration cached and the IOTLB grown to hold them all, then emptied
            // (keeping its room, as a global invalidation does): every answer walks and fills.
            for iova in iovas { _ = try rig.answer(device: device, iova: iova) }
            rig.smmu.iotlb.invalidateAll()
            let cold = try countingAllocations { for iova in iovas { _ = try rig.answer(device: device, iova: iova) } }
            let warm = try countingAllocations { for iova in iovas { _ = try rig.answer(device: device, iova: iova) } }
            #expect(cold.allocations <= AllocationCountTests.allowed * UInt64(iovas.count), "cold answers of device \(device)")
            #expect(warm.allocations <= AllocationCountTests.allowed * UInt64(iovas.count), "warm answers of device \(device)")
        }
    }
}
