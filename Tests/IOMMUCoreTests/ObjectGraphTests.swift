import Testing
import TestSupport
@testable import IOMMUCore

/// The object graph of a file: users as the kernel counts them, edges both ways, children,
/// the IOAS behind an object, the lowest free id, tombstones, the diff, and a scale run that
/// would be quadratic if any lookup filtered all objects.
struct ObjectGraphTests {
    /// Every object's users, from the file and from the graph, agree; every edge is listed on
    /// both of its ends. (The inspector's tests hold users to a recount over every scenario.)
    static func checkConsistent(_ fd: IOMMUFD) {
        let graph = fd.graph
        let ids = graph.nodes.map(\.id)
        #expect(ids == ids.sorted())
        for node in graph.nodes {
            #expect(fd.users(of: node.kind.object) == node.users, "users of \(node.kind.object.type) \(node.id)")
            for reference in node.references {
                #expect(reference.from == node.id)
                #expect(graph.node(reference.to)?.referrers.contains(reference) == true, "\(reference) on its target")
            }
            for reference in node.referrers { #expect(graph.node(reference.from)?.references.contains(reference) == true) }
        }
    }

    /// An SMMU host with `count` bound devices, an IOAS, a nest-parent HWPT and a vIOMMU on it.
    static func rig(devices count: Int) throws -> (fd: IOMMUFD, devices: [ObjectID], ioas: ObjectID, parent: ObjectID, viommu: VIOMMU) {
        let machine = try Machine(platform: PlatformDescription(
            units: [IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(ArmSMMUv3.Configuration()))],
            groups: (0..<count).map { IOMMUGroup(id: UInt32($0)) },
            devices: (0..<count).map {
                DeviceDescription(name: "dev\($0)", requesterID: .streamID(UInt32($0 + 1)), unit: "smmu0", group: UInt32($0))
            }))
        let fd = IOMMUFD(machine: machine)
        var devices: [ObjectID] = []
        for platform in machine.devices { devices.append(try fd.bind(platform)) }
        let ioas = try fd.ioasAlloc()
        let parent = try fd.hwptAlloc(flags: HWPTAllocFlags.nestParent.rawValue, deviceID: devices[0].rawValue, ptID: ioas.rawValue,
                                      userData: UserData(type: HWPTDataType.none.rawValue, buffer: UserBuffer(length: 0)))
        let viommu = try fd.viommuAlloc(flags: 0, type: VIOMMUType.armSMMUv3.rawValue, deviceID: devices[0].rawValue, hwptID: parent.rawValue)
        return (fd, devices, ioas, parent, viommu)
    }

    @Test func edgesAndUsersFollowAttachAndDestroy() throws {
        let rig = try Self.rig(devices: 2)
        let fd = rig.fd
        let vdevice = try fd.vdeviceAlloc(viommuID: rig.viommu.id.rawValue, deviceID: rig.devices[1].rawValue, virtualID: 7)
        let automatic = try fd.attach(deviceID: rig.devices[0].rawValue, ptID: rig.ioas.rawValue)
        Self.checkConsistent(fd)
        let graph = fd.graph
        // IOAS: two HWPTs; nest parent: the vIOMMU; automatic: its device; device 1: table,
        // binding, attachment.
        #expect([rig.ioas, rig.parent, automatic, rig.devices[0], rig.devices[1]].map { graph.users(of: $0) } == [3, 2, 2, 3, 2])
        #expect(graph.children(of: rig.ioas).map(\.id) == [rig.parent, automatic])
        #expect(graph.children(of: rig.parent).map(\.id) == [rig.viommu.id])
        #expect(graph.children(of: rig.viommu.id).map(\.id) == [vdevice])
        #expect(graph.attachments(of: automatic).map(\.device.id) == [rig.devices[0]])
        #expect(graph.node(vdevice)?.references.map(\.role) == [.viommu, .device])
        #expect(graph.ioas(behind: vdevice) === graph.ioases.first)
        #expect(graph.ioas(behind: rig.devices[0]) === graph.ioases.first)
        #expect(graph.ioas(behind: rig.devices[1]) == nil)
        #expect(graph.users(of: rig.viommu.id) == 2)
        // Held objects are EBUSY; each destroy in dependency order frees one holder.
        #expect(refusal { try fd.destroy(id: rig.viommu.id.rawValue) }?.errno == .EBUSY)
        #expect(refusal { try fd.destroy(id: rig.ioas.rawValue) }?.errno == .EBUSY)
        try fd.destroy(id: vdevice.rawValue)
        #expect(rig.viommu.vdevices.isEmpty && fd.graph.users(of: rig.viommu.id) == 1)
        try fd.destroy(id: rig.viommu.id.rawValue)
        try fd.detach(deviceID: rig.devices[0].rawValue)
        // The automatic domain goes with its last device.
        #expect(fd.graph.node(automatic) == nil)
        try fd.destroy(id: rig.parent.rawValue)
        Self.checkConsistent(fd)
        try fd.destroy(id: rig.ioas.rawValue)
        #expect(fd.graph.nodes.map(\.id) == rig.devices)
    }

    @Test func idsAreTheLowestFreeAndTombstonesStay() throws {
        let rig = try Self.rig(devices: 3)
        let fd = rig.fd
        // devices 1-3, IOAS 4, HWPT 5, vIOMMU 6.
        let first = try fd.vdeviceAlloc(viommuID: 6, deviceID: 1, virtualID: 1)
        let second = try fd.vdeviceAlloc(viommuID: 6, deviceID: 2, virtualID: 2)
        #expect([first, second] == [ObjectID(7), ObjectID(8)])
        #expect(refusal { try fd.vdeviceAlloc(viommuID: 6, deviceID: 3, virtualID: 2) }?.errno == .EEXIST)
        // Unbinding a device force-destroys its vDEVICE and leaves the id taken.
        try fd.unbind(deviceID: 1)
        #expect(fd.tombstones == [first])
        #expect(fd.graph.users(of: ObjectID(6)) == 2)
        let extra = try fd.ioasAlloc()
        #expect(extra == ObjectID(1))
        try fd.destroy(id: second.rawValue)
        try fd.destroy(id: extra.rawValue)
        #expect(try fd.ioasAlloc() == ObjectID(1))
        #expect(try fd.ioasAlloc() == ObjectID(8))
        #expect(try fd.ioasAlloc() == ObjectID(9))
        Self.checkConsistent(fd)
    }

    @Test func generationMovesWithEveryMutatingIoctl() throws {
        let rig = try Self.rig(devices: 1)
        let fd = rig.fd
        let before = fd.graph
        #expect(fd.graph.generation == before.generation)
        _ = try? fd.ioasMap(flags: 0, ioasID: rig.ioas.rawValue, userVA: 0, length: 0, iova: 0)
        #expect(fd.generation != before.generation)
        // A failed ioctl changed nothing: the diff is empty.
        #expect(fd.graph.changes(since: before) == ObjectGraph.Changes())
        try fd.destroy(id: rig.viommu.id.rawValue)
        let changes = fd.graph.changes(since: before)
        #expect(changes.disappeared == [rig.viommu.id])
        #expect(changes.changed == [rig.parent])
        #expect(changes.appeared.isEmpty)
    }

    /// 5 000 vDEVICEs on one vIOMMU, then every one destroyed: every step is a hashed lookup.
    @Test func thousandsOfVDevices() throws {
        let count = 5_000
        let rig = try Self.rig(devices: count)
        let fd = rig.fd
        var vdevices: [ObjectID] = []
        for (index, device) in rig.devices.enumerated() {
            vdevices.append(try fd.vdeviceAlloc(viommuID: rig.viommu.id.rawValue, deviceID: device.rawValue, virtualID: UInt64(index)))
        }
        #expect(fd.users(of: rig.viommu) == 1 + count)
        #expect(fd.graph.children(of: rig.viommu.id).count == count)
        for vdevice in vdevices { try fd.destroy(id: vdevice.rawValue) }
        #expect(fd.users(of: rig.viommu) == 1)
        #expect(try fd.vdeviceAlloc(viommuID: rig.viommu.id.rawValue, deviceID: 1, virtualID: 0) == vdevices[0])
    }
}
