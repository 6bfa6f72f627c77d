@testable import Benchmarks
import IOMMUCore
import Testing

/// The C reference the benchmarks compare against does the same work as the model: its walks
/// over a copy of the model's descriptors, its IOTLB and its map loop give the model's output
/// addresses, and fault where the model faults. Correctness only; no timings.
@Suite struct CReferenceTests {
    /// A rig of two leaf tables of the guest's stage 1, the C copy of its memory, and the C
    /// walk of each of its devices.
    static func rig() throws -> (NestedRig, ReferenceMemory, [(UInt32, ReferenceWalk)]) {
        let rig = try NestedRig(pages: 600)
        let stage2Root = try rig.stage2Root()
        return (rig, try ReferenceMemory(copying: rig.fd.machine.physical), [
            (rig.stage2Device, .stage2(root: stage2Root)),
            (rig.nestedDevice, .nested(stage1Root: NestedRig.stage1Root, stage2Root: stage2Root)),
        ])
    }

    @Test func walksGiveTheModelsOutputs() throws {
        let (rig, reference, walks) = try Self.rig()
        for (device, walk) in walks {
            let iovas = rig.iovas(for: device).map { $0 + 0x2a8 }
            var outputs: [UInt64] = []
            for iova in iovas {
                let model = try rig.translate(device: device, iova: iova).output
                #expect(reference.translate(iova, walk) == model, "\(iova.hex) on device \(device)")
                outputs.append(model)
            }
            #expect(reference.translateAll(iovas, walk) == outputs.reduce(0, &+))
            // The page after the last is mapped by neither.
            let unmapped = iovas[iovas.count - 1] + pageSize
            guard case .failure? = try rig.fd.translate(deviceID: device, iova: unmapped, pasid: nil, access: .read) else {
                Issue.record("the model translates \(unmapped.hex)")
                continue
            }
            #expect(reference.translate(unmapped, walk) == nil)
            #expect(reference.translateAll(iovas + [unmapped], walk) == nil)
            let iotlb = try ReferenceIOTLB(translations: Array(zip(iovas, outputs)))
            #expect(iovas.map(iotlb.lookup) == outputs)
            #expect(iotlb.lookupAll(iovas) == outputs.reduce(0, &+))
            #expect(iotlb.lookup(unmapped) == nil)
        }
    }

    /// The C translations through the configuration cache and the IOTLB give the model's
    /// outputs, cold (walking and filling) and then warm (hitting what they filled), and
    /// fault where the model faults.
    @Test func translationsThroughTheCachesGiveTheModelsOutputs() throws {
        let (rig, reference, walks) = try Self.rig()
        for (device, walk) in walks {
            let iovas = rig.iovas(for: device).map { $0 + 0x2a8 }
            let sum = try iovas.map { try rig.translate(device: device, iova: $0).output }.reduce(0, &+)
            let translator = try ReferenceTranslator(memory: reference, walk: walk, entries: iovas.count + 1)
            #expect(translator.translateAll(iovas) == sum)
            #expect(translator.translateAll(iovas) == sum)
            translator.invalidateAll()
            #expect(translator.translateAll(iovas) == sum)
            #expect(translator.translateAll([iovas[iovas.count - 1] + pageSize]) == nil)
        }
    }

    /// The serial loops (each operation waiting for the output before it) translate the same
    /// IOVAs to the same outputs as the overlapping ones, cold and warm, and fault alike.
    @Test func serialLoopsGiveTheSameOutputs() throws {
        let (rig, reference, walks) = try Self.rig()
        for (device, walk) in walks {
            let iovas = rig.iovas(for: device).map { $0 + 0x2a8 }
            let outputs = try iovas.map { try rig.translate(device: device, iova: $0).output }
            let translator = try ReferenceTranslator(memory: reference, walk: walk, entries: iovas.count + 1)
            #expect(translator.translateAll(iovas, serial: true) == outputs.reduce(0, &+))
            #expect(translator.translateAll(iovas, serial: true) == outputs.reduce(0, &+))
            #expect(translator.translateAll([iovas[iovas.count - 1] + pageSize], serial: true) == nil)
            let iotlb = try ReferenceIOTLB(translations: Array(zip(iovas, outputs)))
            #expect(iotlb.lookupAll(iovas, serial: true) == outputs.reduce(0, &+))
            #expect(iotlb.lookupAll(iovas + [iovas[iovas.count - 1] + pageSize], serial: true) == nil)
        }
    }

    /// The map loop allocates the tables it needs (across a 1 GiB boundary here) and writes
    /// leaves its walk reads back; a pool too small for the tables is a failure, not a trap.
    @Test func mapLoopWritesWalkableLeaves() throws {
        let reference = try ReferenceMemory(base: PhysicalMemory.base, frames: 16, poolFrames: 16)
        let root = try #require(reference.allocateFrame())
        let iova: UInt64 = (1 << 30) - 300 * pageSize, output: UInt64 = 0x8_0000_0000
        #expect(reference.map4K(root: root, iova: iova, output: output, pages: 600, attributes: 0x743))
        for page in 0..<600 as Range<UInt64> {
            #expect(reference.translate(iova + page * pageSize + 8, .stage2(root: root)) == output + page * pageSize + 8)
        }
        #expect(reference.translate(iova + 600 * pageSize, .stage2(root: root)) == nil)
        // Root, L1, two L2 and two leaf tables.
        #expect(reference.residentBytes == 6 * PhysicalMemory.frameSize)
        let small = try ReferenceMemory(base: PhysicalMemory.base, frames: 3, poolFrames: 3)
        let smallRoot = try #require(small.allocateFrame())
        #expect(!small.map4K(root: smallRoot, iova: iova, output: output, pages: 1, attributes: 0x743))
    }
}
