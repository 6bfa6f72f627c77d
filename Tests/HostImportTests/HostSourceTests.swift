import Foundation
import Testing
@testable import HostImport

@Suite struct DirectorySourceTests {
    let intel = DirectorySource(root: HostTrees.intel)

    @Test func readsListsAndLinks() throws {
        #expect(try intel.read("proc/sys/kernel/osrelease").get() == "6.8.0-45-generic\n")
        #expect(intel.list("sys/kernel/iommu_groups") == ["0", "1", "2", "3", "4", "5"])
        #expect(intel.link("sys/bus/pci/devices/0000:00:02.0/iommu_group") == "../../../kernel/iommu_groups/1")
        #expect(intel.link("sys/bus/pci/devices/0000:00:02.0/vendor") == nil)
        #expect(intel.exists("sys/class/iommu/dmar1"))
        #expect(!intel.exists("sys/class/iommu/dmar9"))
        #expect(intel.read("sys/class/iommu/dmar9/intel-iommu/cap") == .failure(.missing))
    }

    /// `bus/pci/devices/<bdf>/subsystem` leads back to `bus/pci`: a path through the cycle reads
    /// (the kernel's walk resolves it), and nothing lists its way into it.
    @Test func theSubsystemCycleIsHarmless() throws {
        let path = "sys/bus/pci/devices/0000:00:02.0/subsystem/devices/0000:00:02.0/subsystem/devices/0000:00:02.0/vendor"
        #expect(try intel.read(path).get() == "0x8086\n")
        #expect(intel.link("sys/bus/pci/devices/0000:00:02.0/subsystem") == "../../../bus/pci")
    }

    @Test func aFinalSymlinkIsNotRead() {
        #expect(intel.read("sys/bus/pci/devices/0000:00:02.0/driver") == .failure(.other("a symbolic link (not followed)")))
        #expect(intel.read("sys/bus/pci/devices/0000:00:02.0") == .failure(.other("a symbolic link (not followed)")))
        #expect(intel.read("sys/kernel/iommu_groups/1") == .failure(.other("not a regular file")))
        #expect(intel.read("../etc/passwd") == .failure(.other("path leaves the host root")))
    }

    @Test func unreadableBinaryHugeAndLoopingFiles() throws {
        let root = try HostTrees.copy(HostTrees.intel)
        defer { HostTrees.remove(root) }
        let source = DirectorySource(root: root + "/")
        let manager = FileManager.default
        try manager.setAttributes([.posixPermissions: 0], ofItemAtPath: root + "/sys/kernel/iommu_groups/1/type")
        try Data([0x44, 0x4d, 0x41, 0x00, 0xff]).write(to: URL(fileURLWithPath: root + "/sys/kernel/iommu_groups/2/type"))
        try Data([0xc3, 0x28]).write(to: URL(fileURLWithPath: root + "/sys/kernel/iommu_groups/3/type"))
        try Data(repeating: 0x41, count: HostFileLimit.attribute + 1).write(to: URL(fileURLWithPath: root + "/proc/cmdline"))
        try Data(repeating: 0x41, count: HostFileLimit.attribute).write(to: URL(fileURLWithPath: root + "/proc/sys/kernel/osrelease"))
        try manager.createSymbolicLink(atPath: root + "/sys/loop", withDestinationPath: "loop")
        // Root ignores file modes: only a non-root run sees the permission error.
        if getuid() != 0 { #expect(source.read("sys/kernel/iommu_groups/1/type") == .failure(.permissionDenied)) }
        #expect(source.read("sys/kernel/iommu_groups/2/type") == .failure(.notText))
        #expect(source.read("sys/kernel/iommu_groups/3/type") == .failure(.notText))
        #expect(source.read("proc/cmdline") == .failure(.tooLarge(limit: HostFileLimit.attribute)))
        #expect(try source.read("proc/sys/kernel/osrelease").get().utf8.count == HostFileLimit.attribute)
        #expect(source.read("sys/loop/x") == .failure(.other("a symbolic link (not followed)")))
        #expect(source.list("sys/loop").isEmpty)
        #expect(source.exists("sys/loop"))
        #expect(HostFileLimit.bytes(for: "sys/kernel/debug/iommu/intel/domain_translation_struct") == HostFileLimit.debugfs)
    }

    /// The `.gitkeep` that keeps amd-host's empty pre-v6.17 `iommu00/` in git is not the host's.
    @Test func dotFilesAreNotListed() {
        let amd = DirectorySource(root: HostTrees.amd)
        #expect(amd.exists("sys/kernel/debug/iommu/amd/iommu00"))
        #expect(amd.list("sys/kernel/debug/iommu/amd/iommu00").isEmpty)
    }
}

@Suite struct CaptureTests {
    /// What the recorder saw, read back through the capture, gives the same snapshot and the same warnings.
    @Test(arguments: HostTrees.all)
    func captureRoundTrip(_ tree: String) throws {
        let direct = HostReader.read(from: DirectorySource(root: tree))
        let (capture, snapshot, warnings) = HostReader.capture(from: DirectorySource(root: tree))
        #expect(snapshot == direct.snapshot)
        #expect(warnings == direct.warnings)
        let data = try capture.encoded()
        let decoded = try HostCapture.decode(data).get()
        #expect(decoded == capture)
        let replayed = HostReader.read(from: SnapshotSource(capture: decoded))
        #expect(replayed.snapshot == direct.snapshot)
        #expect(replayed.warnings == direct.warnings)
        #expect(replayed.snapshot.jsonText() == direct.snapshot.jsonText())
        #expect(try capture.encoded() == data, "deterministic bytes")
        #expect(capture.kernel == direct.snapshot.kernel)
        #expect(capture.files["proc/cmdline"] != nil)
    }

    /// The capture holds only what the readers used: no unrelated file of the tree.
    @Test func captureHoldsOnlyWhatWasRead() {
        let (capture, _, _) = HostReader.capture(from: DirectorySource(root: HostTrees.intel))
        #expect(capture.files["sys/class/iommu/dmar0/intel-iommu/cap"] == "d2008c40660462\n")
        #expect(capture.files.keys.allSatisfy { !$0.hasSuffix("domains_supported") })
        #expect(capture.links["sys/bus/pci/devices/0000:00:02.0/driver"] == "../../../bus/pci/drivers/i915")
        #expect(capture.dirs["sys/kernel/iommu_groups/5/devices"]?.count == 4)
    }

    @Test func failuresRoundTrip() {
        for failure in [HostReadFailure.missing, .permissionDenied, .notText, .tooLarge(limit: 65536), .other("a directory")] {
            #expect(HostReadFailure(captureCode: failure.captureCode) == failure)
        }
        var capture = HostCapture()
        capture.failures["sys/kernel/debug/iommu/intel/iommu_regset"] = HostReadFailure.permissionDenied.captureCode
        let source = SnapshotSource(capture: capture)
        #expect(source.read("sys/kernel/debug/iommu/intel/iommu_regset") == .failure(.permissionDenied))
        #expect(source.exists("sys/kernel/debug/iommu"))
        #expect(!source.exists("sys/kernel/debug/iommu/amd"))
        #expect(source.read("proc/cmdline") == .failure(.missing))
    }

    @Test func badCapturesAreLocatedErrors() {
        func reason(_ json: String) -> String? {
            if case .failure(let error) = HostCapture.decode(Data(json.utf8)) { return error.reason }
            return nil
        }
        #expect(reason(#"{"format":"iommuscope-host","version":0}"#)?.contains("not \"iommuscope-capture\"") == true)
        #expect(reason(#"{"format":"iommuscope-capture","version":7}"#)?.contains("version 7") == true)
        #expect(reason(#"{"format":"iommuscope-capture","version":0,"files":{"a":1}}"#)?.contains("files") == true)
        #expect(reason(#"{"format":"iommuscope-capture""#) != nil)
        let huge = String(repeating: "A", count: HostFileLimit.attribute + 1)
        #expect(reason(#"{"format":"iommuscope-capture","version":0,"files":{"proc/cmdline":"\#(huge)"}}"#)?.contains("proc/cmdline") == true)
        #expect(reason(#"{"format":"iommuscope-capture","version":0}"#) == nil)
    }

    @Test func hostInputTellsDirectoriesCapturesAndOtherFilesApart() throws {
        #expect(try HostInput.kind(of: HostTrees.intel) == .directory)
        #expect(try HostInput.open(HostTrees.intel) is DirectorySource)
        #expect(throws: HostInputError.self) { try HostInput.open("/nonexistent/iommuscope") }
        let sample = HostTrees.fixtures.appendingPathComponent("samples/sysfs/reserved-regions-arm-smmuv3-iort-rmr.txt").path
        do {
            _ = try HostInput.open(sample)
            Issue.record("a text file opened as a capture")
        } catch {
            #expect(error.reason.contains("neither a directory nor an iommuscope capture"))
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("capture-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try HostReader.capture(from: DirectorySource(root: HostTrees.arm)).capture.encoded().write(to: file)
        let source = try HostInput.open(file.path)
        #expect(source is SnapshotSource)
        #expect(HostReader.read(from: source).snapshot.kernel == "6.14.0-rk3588")
    }
}
