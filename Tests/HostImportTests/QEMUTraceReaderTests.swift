import Foundation
import Testing
@testable import HostImport
import TestSupport

/// The QEMU `log`-backend reader on the real samples, both prefix forms, pasted damage and
/// random bytes.
@Suite struct QEMUTraceReaderTests {
    static let mtty = "qemu-trace/iommufd-backend-mtty-mdev-x86-2024.txt"
    static let uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

    static func read(_ text: String) -> QEMUTraceReader { QEMUTraceReader.read(Array(text.utf8), file: "t") }

    /// The events of the mtty sample, typed, in order; the wrapped `qemu-kvm:` warning skipped.
    static let mttyEvents: [QEMUTraceEvent] = [
        .vfioMdev(name: uuid, isMdev: true),
        .cdevGetFD(path: "/dev/vfio/devices/vfio1", fd: 26),
        .backendConnect(fd: 15, owned: true, users: 1, ret: nil),
        .cdevBind(iommufd: 15, name: uuid, devfd: 26, devid: 1),
        .backendAllocIOAS(iommufd: 15, ioas: 2, ret: nil),
        .cdevAllocIOAS(iommufd: 15, ioas: 2),
        .cdevAttach(iommufd: 15, name: uuid, devfd: 26, pasid: nil, id: 2),
        .backendMapDMA(iommufd: 15, ioas: 2, iova: 0, size: 0xc0000, vaddr: 0x7fb8_0f60_0000, readonly: false, ret: 0),
        .backendMapDMA(iommufd: 15, ioas: 2, iova: 0xc0000, size: 0x20000, vaddr: 0x7fb8_0d40_0000, readonly: true, ret: 0),
        .backendMapDMA(iommufd: 15, ioas: 2, iova: 0x100000, size: 0xff00000, vaddr: 0x7fb8_0f70_0000, readonly: false, ret: 0),
        .other(name: "iommufd_cdev_device_info", arguments: "\(uuid) (26) num_irqs=5 num_regions=9 flags=2"),
    ]

    @Test func theMttySample() {
        let reader = Self.read(Samples.text(Self.mtty))
        #expect(reader.records.map(\.event) == Self.mttyEvents)
        #expect(reader.records.map(\.line) == Array(1...11))
        #expect(reader.warnings.isEmpty)
    }

    @Test func thePre60PrefixAndItsTrailingSpace() {
        let reader = Self.read(Samples.text("qemu-trace/vtd-switch-address-space-pid-timestamp-2020.txt"))
        #expect(reader.records.first?.name == "vtd_context_cache_reset")
        #expect(reader.records.first?.arguments == "")
        #expect(reader.records.contains { $0.name == "vtd_switch_address_space" })
        #expect(reader.warnings.isEmpty)
    }

    /// The old `PID@SEC.USEC:` and the 2025 `ISO-time (PID) ` prefixes, and the 8.2–9.0 `(ret)`.
    @Test func bothPrefixFormsAndOldResults() {
        let reader = Self.read("""
            480969@1594894035.927040:iommufd_backend_connect fd=15 owned=1 users=1 (0)
            2025-07-01T10:00:00.000000Z (4242) iommufd_backend_alloc_ioas  iommufd=15 ioas=2 (0)
            2025-07-01T10:00:00.000001Z (4242) iommufd_backend_free_id  iommufd=15 id=2 (-22)
            """)
        #expect(reader.records.map(\.event) == [
            .backendConnect(fd: 15, owned: true, users: 1, ret: 0),
            .backendAllocIOAS(iommufd: 15, ioas: 2, ret: 0),
            .backendFreeID(iommufd: 15, id: 2, ret: -22),
        ])
    }

    /// The merged alloc_viommu prints the dev_id under `type=`; an early revision in label
    /// order is recognised by the bound device id.
    @Test func allocVIOMMUByPosition() {
        let bind = "iommufd_cdev_connect_and_bind  [iommufd=3] Successfully bound device 0000:01:00.0 (fd=9): output devid=4\n"
        let merged = Self.read(bind + "iommufd_backend_alloc_viommu  iommufd=3 type=4 dev_id=1 hwpt_id=5 viommu_id=6 (0)\n")
        #expect(merged.records.last?.event == .backendAllocVIOMMU(iommufd: 3, devID: 4, type: 1, hwptID: 5, viommuID: 6, ret: 0, labelsSwapped: true))
        let early = Self.read(bind + "iommufd_backend_alloc_viommu  iommufd=3 type=1 dev_id=4 hwpt_id=5 viommu_id=6 (0)\n")
        #expect(early.records.last?.event == .backendAllocVIOMMU(iommufd: 3, devID: 4, type: 1, hwptID: 5, viommuID: 6, ret: 0, labelsSwapped: false))
    }

    @Test func pasidAttachAndDetach() {
        let reader = Self.read("""
            iommufd_cdev_pasid_attach_ioas_hwpt  [iommufd=3] Successfully attached device 0000:01:00.0 (9) pasid 5 to id=7
            iommufd_cdev_pasid_detach_ioas_hwpt  [iommufd=3] Successfully detached 0000:01:00.0 pasid 5
            """)
        #expect(reader.records.map(\.event) == [
            .cdevAttach(iommufd: 3, name: "0000:01:00.0", devfd: 9, pasid: 5, id: 7),
            .cdevDetach(iommufd: 3, name: "0000:01:00.0", pasid: 5),
        ])
    }

    /// Mail quoting, CRLF, dmesg-style stamps, tabs and hard wraps at 72 columns all read as
    /// the clean sample.
    @Test(arguments: ["quote", "crlf", "stamps", "tabs", "wrap", "quoted-wrap"])
    func mangledCopies(_ damage: String) {
        let text = Samples.text(Self.mtty)
        let mangled: String
        switch damage {
        case "quote": mangled = Mangle.quote(text)
        case "crlf": mangled = Mangle.crlf(text)
        case "stamps": mangled = Mangle.stamps(text)
        case "tabs": mangled = Mangle.tabs(text)
        case "wrap": mangled = Mangle.wrap(text)
        default: mangled = Mangle.quote(Mangle.wrap(text))
        }
        let reader = Self.read(mangled)
        #expect(reader.records.map(\.event) == Self.mttyEvents)
    }

    /// A line cut short is kept as a comment with a located warning.
    @Test func aTruncatedLineIsLocated() {
        let reader = Self.read("iommufd_backend_map_dma  iommufd=15 ioas=2 iova=0x0 size=0xc0000\n")
        #expect(reader.records.count == 1)
        #expect(reader.records.first?.event == .other(name: "iommufd_backend_map_dma", arguments: "iommufd=15 ioas=2 iova=0x0 size=0xc0000"))
        #expect(reader.warnings.map(\.line) == [1])
    }

    /// Random bytes, and the sample with random bytes flipped or cut: no trap, every warning
    /// located inside the input.
    @Test func seededFuzz() {
        var random = SplitMix64(seed: 0x9e3779b97f4a7c15)
        let sample = Array(Samples.text(Self.mtty).utf8)
        for round in 0..<200 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<random.below(600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = Array(sample.prefix(random.below(sample.count + 1)))
                for _ in 0..<random.below(8) where !bytes.isEmpty {
                    bytes[random.below(bytes.count)] = random.pick([0x20, 0x28, 0x29, 0x3d, 0x0a, 0x00, 0xff, 0x5f])
                }
            }
            let lineCount = bytes.filter { $0 == 0x0a || $0 == 0x0d }.count + 1
            let reader = QEMUTraceReader.read(bytes, file: "fuzz")
            for warning in reader.warnings {
                #expect(warning.line.map { (1...lineCount).contains($0) } == true)
            }
            _ = QEMUTraceScenario.make(reader.records, file: "fuzz")
        }
    }
}
