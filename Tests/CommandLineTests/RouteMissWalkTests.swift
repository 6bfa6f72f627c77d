@testable import Benchmarks
import IOMMUCore
import Testing

/// A route walks an IOTLB miss as the Arm SMMUv3 driver walks it: the same translation and
/// steps as the driver's own walk, the same IOTLB fill, and a fault left to the driver, which
/// reports it whole.
@Suite struct RouteMissWalkTests {
    @Test func walksAMissAsTheDriverDoes() throws {
        let rig = try NestedRig(pages: 64)
        for device in [rig.stage2Device, rig.nestedDevice] {
            let iovas = rig.iovas(for: device)
            // The first transaction caches the STE (and CD) and leaves the route; the IOTLB
            // then starts empty, so every translation below misses under a route.
            _ = try rig.translate(device: device, iova: iovas[0])
            rig.smmu.iotlb.invalidateAll()
            for iova in iovas {
                // The driver's walk (a probe that fills nothing), then the route's (which fills).
                let driven = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read, caches: .lookupOnly)
                let routed = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read)
                guard case .success(let expected)? = driven, case .success(let translation)? = routed else {
                    Issue.record("\(iova.hex) of device \(device) did not translate")
                    return
                }
                #expect(translation == expected && !translation.iotlbHit && translation.steps.count == (device == rig.stage2Device ? 4 : 24),
                        "\(iova.hex) of device \(device)")
                // The fill is the driver's: the page, the output and the rights of its walk.
                let hit = rig.smmu.iotlb.allEntries.first { $0.covers(iova) }
                #expect(hit?.output == expected.output.alignedDown(to: expected.pageSize) && hit?.size == expected.pageSize
                        && hit?.rights == expected.rights)
            }
            // One entry per page, each filed once.
            #expect(rig.smmu.iotlb.count == iovas.count)
        }
    }

    @Test func leavesAFaultToTheDriver() throws {
        let rig = try NestedRig(pages: 64)
        for (device, iova) in [(rig.stage2Device, UInt64(1) << 36), (rig.nestedDevice, UInt64(1) << 30)] {
            let mapped = try #require(rig.iovas(for: device).first)
            _ = try rig.translate(device: device, iova: mapped)
            // A probe of the unmapped IOVA from the driver, then the transaction under the route.
            guard case .failure(let expected)? = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read,
                                                                      caches: .lookupOnly),
                  case .failure(let fault)? = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read) else {
                Issue.record("\(iova.hex) of device \(device) did not fault")
                continue
            }
            #expect(fault == expected && fault.smmuv3Event?.id == .F_TRANSLATION && !fault.steps.isEmpty)
            // The mapped IOVA still walks through the route afterwards.
            rig.smmu.iotlb.invalidateAll()
            guard case .success(let translation)? = try rig.fd.translate(deviceID: device, iova: mapped, pasid: nil, access: .read) else {
                Issue.record("\(mapped.hex) of device \(device) did not translate after the fault")
                continue
            }
            #expect(!translation.iotlbHit)
        }
    }
}
