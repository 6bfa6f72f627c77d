@testable import Benchmarks
import IOMMUCore
import Testing

/// Issue 13's allocation bar: a translation that hits the IOTLB, and one that walks without
/// building a step list, make no heap allocation; the counter itself sees an allocation
/// when one is made, so a zero is not a counter that never counts.
///
/// Unoptimised code allocates where the optimiser does not: each step of a `for` loop over
/// an array allocates its iterator's accessor frame at -Onone (the test's own loop, the
/// IOTLB's), and the walk's temporaries are not promoted to the stack. So a debug build
/// (`swift test`) allows a few per translation (a step list alone is more: one per walk
/// for its storage), and an optimised one (`swift test -c
/// release`, `bench translate`'s `allocations_per_op`) must reach zero.
@Suite struct AllocationCountTests {
    /// The allocations allowed per translation: the -Onone loop frames, or none.
    static let allowed: UInt64 = _isDebugAssertConfiguration() ? 4 : 0

    @Test func theCounterCountsThisThreadsAllocations() {
        let (allocations, kept) = countingAllocations { (0..<3).map { [$0] } }
        #expect(allocations >= 3)
        #expect(kept.count == 3)
        #expect(countingAllocations { 1 + 1 }.allocations == 0)
    }

    @Test func warmAndStepFreeColdTranslationsAllocateNothing() throws {
        let rig = try NestedRig(pages: 64)
        for device in [rig.stage2Device, rig.nestedDevice] {
            let iovas = rig.iovas(for: device)
            // Fill the configuration cache and the IOTLB.
            for iova in iovas { _ = try rig.translate(device: device, iova: iova) }
            let warm = try countingAllocations {
                for iova in iovas { _ = try rig.translate(device: device, iova: iova, detail: .answer) }
            }
            #expect(warm.allocations <= Self.allowed * UInt64(iovas.count), "warm translations of device \(device)")
            // Every IOVA walks: the IOTLB is empty, and `lookupOnly` leaves it so.
            rig.smmu.iotlb.invalidateAll()
            let cold = try countingAllocations {
                for iova in iovas {
                    let result = try rig.fd.translate(deviceID: device, iova: iova, pasid: nil, access: .read, caches: .lookupOnly,
                                                      detail: .answer)
                    guard case .success(let translation)? = result, !translation.iotlbHit, translation.steps.isEmpty else {
                        Issue.record("\(iova.hex) of device \(device) did not walk without steps")
                        return
                    }
                }
            }
            #expect(cold.allocations <= Self.allowed * UInt64(iovas.count), "cold translations of device \(device)")
            // With the steps asked for, the walk records them (and allocates for them).
            let recorded = try countingAllocations { try rig.translate(device: device, iova: iovas[0], detail: .steps) }
            #expect(recorded.allocations > 0 && !recorded.result.steps.isEmpty)
        }
    }
}
