import ArgumentParser
import Foundation
import HostImport
import IOMMUCore
import Presentation
import ScenarioScript

/// An address option in the scenario language's integer syntax.
struct Address: ExpressibleByArgument {
    var value: UInt64
    init?(argument: String) {
        guard let value = parseScenarioInteger(argument) else { return nil }
        self.value = value
    }
}

/// Prints the descriptors of one walk as a table a person can follow, each with its decoded
/// fields when `decoded`, as a table of bits, values, meanings and spec sections when
/// `explained`.
func printSteps(_ steps: [WalkStep], decoded: Bool, explained: Bool = false) {
    var table = TextTable(columns: [.init("#", .right), .init("stg"), .init("lvl", .right), .init("table"), .init("idx"),
                                    .init("entry address"), .init("descriptor"), .init("kind")])
    for (number, step) in steps.enumerated() {
        table.append([String(number + 1), StepText.stage(step), String(step.level), step.table.hex, "0x" + String(step.index, radix: 16),
                      step.entryAddress.hex, step.descriptor.hex, step.kind.rawValue])
    }
    let rendered = table.render(indent: "  ")
    print(rendered.header)
    for (row, step) in zip(rendered.rows, steps) {
        print(row)
        let fields = step.format.fields(of: step.descriptor, level: step.level)
        if explained {
            print("      " + FieldTable.heading(fields))
            for line in FieldTable.table(fields).lines(indent: "      ") { print(line) }
        } else if decoded, step.kind != .invalid {
            print("      " + fields.map(StepText.field).joined(separator: " "))
        }
    }
}

/// "bound devices: 1 (nic0), 2 (nvme0)", the valid choices an error names in their order
/// (those that fit in `width` columns, then `…+N`), or "there are no bound devices".
func choices(_ what: String, _ items: [String], width: Int = 64) -> String {
    guard !items.isEmpty else { return "there are no \(what)" }
    return "\(what): " + Choices.listed(items, ordered: true, width: width)
}

struct Walk: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a table's descriptors for a range of IOVAs: a scenario's paging HWPT, or a host device's rebuilt kernel table.",
        discussion: """
            With a scenario, --hwpt names a paging HWPT after the run. With --host DIR|FILE (a host root or a capture), \
            --dev names a device by its sysfs name or BDF and the walk reads the table the kernel's domain has it in, \
            as rebuilt from the debugfs dumps; ranges the dumps did not show print as unknown, not unmapped.
            """)

    @Argument(help: "A scenario file (.iommu); optional with --host.") var file: String?
    @Option(help: "A host root directory or a capture file whose devices and tables are the platform.") var host: String?
    @Option(help: "The paging HWPT id (with a scenario).") var hwpt: UInt32?
    @Option(help: "A host device's sysfs name or BDF (with --host).") var dev: String?
    @Option(help: "The PASID whose table to walk (with --dev; default: the RID's).") var pasid: UInt32?
    @Option(help: "The first IOVA.") var iova: Address
    @Option(help: "How many pages (leaves or holes) to show, 1 to \(Walk.maximumCount).") var count: Int = 8
    @Flag(help: "Explain the bits: each piece's IOVA split into its per-level indices and page offset, and every descriptor field with its bits, value, meaning and spec section.")
    var explain = false

    static let maximumCount = 4096

    func validate() throws {
        guard (1...Self.maximumCount).contains(count) else {
            throw ValidationError("--count must be 1 to \(Self.maximumCount), not \(count)")
        }
        guard file != nil || host != nil else { throw ValidationError("give a scenario FILE, --host, or both") }
        guard (hwpt == nil) != (dev == nil) else { throw ValidationError("give one of --hwpt (a scenario's HWPT) or --dev (a host device)") }
        if hwpt != nil && file == nil { throw ValidationError("--hwpt names a scenario's HWPT: give the scenario FILE") }
        if dev != nil && host == nil { throw ValidationError("--dev walks a host device's kernel table: give --host") }
        if pasid != nil && dev == nil { throw ValidationError("--pasid goes with --dev") }
    }

    func run() throws {
        let host = try self.host.map(HostModel.open)
        let session = host?.session ?? Session()
        if let file { try runScenario(.file(file), on: session) }
        if let hwpt {
            try walkHWPT(hwpt, session: session)
        } else if let dev, let host {
            try walkHostTable(dev, host: host)
        }
    }

    private func walkHWPT(_ hwpt: UInt32, session: Session) throws {
        guard let paging = try? session.iommufd.object(hwpt) as? HWPTPaging,
              let table = paging.domain.table as? DescriptorPageTable else {
            let tables = session.iommufd.graph.pagingHWPTs.filter { $0.domain.table is DescriptorPageTable }
            throw ValidationError("object \(hwpt) is not a paging HWPT with descriptors; " + choices("paging HWPTs", tables.map { "\($0.id)" }))
        }
        guard table.format.translates(iova.value) else {
            throw ValidationError("--iova \(iova.value.hex) is outside the \(table.format.inputBits)-bit input range of HWPT \(hwpt)'s table: no descriptor translates it")
        }
        print("HWPT \(hwpt): \(table.format.name), root \(table.root.hex)")
        printPieces(table.cursor(stage: paging.domain.stage.translationStage))
    }

    /// The kernel's table of a host device as the dumps showed it: a hole the dumps did not
    /// cover is unknown, not unmapped.
    private func walkHostTable(_ name: String, host: HostModel) throws {
        guard let device = HostModel.device(named: name, in: host.session.machine) else {
            throw ValidationError("the host has no device named \(terminalSafe(name)); "
                                  + choices("host devices", host.session.machine.devices.map { terminalSafe($0.name) }))
        }
        let label = terminalSafe(device.name) + (pasid.map { " pasid \($0)" } ?? "")
        guard let table = host.tables.table(device: device.name, pasid: pasid) else {
            print("\(label): no table was rebuilt from the dumps: its tables are unknown")
            throw ExitCode(1)
        }
        guard table.format.translates(iova.value) else {
            throw ValidationError("--iova \(iova.value.hex) is outside the \(table.format.inputBits)-bit input range of \(label)'s table")
        }
        print("\(label) on \(terminalSafe(table.unit)): \(table.format.name), root \(table.root.hex)")
        let cursor = TableCursor(format: table.format, root: table.root, stage: table.stage, memory: host.session.machine.physical)
        if cursor.path(to: iova.value).isEmpty {
            print("\nIOVA \(iova.value.hex)  unknown (the dumps hold no descriptor at the root)")
        }
        printPieces(cursor) { !table.covers($0) }
    }

    /// Up to `count` pieces from `iova`, each with its descriptors; a hole is "unknown"
    /// where `unknown` says the dumps did not show it.
    private func printPieces(_ cursor: TableCursor, unknown: (IOVARange) -> Bool = { _ in false }) {
        for path in cursor.pieces(from: iova.value, count: count) {
            guard let last = path.last else { continue }
            let what = last.kind != .invalid ? "-> \(cursor.format.outputAddress(of: last.descriptor, level: last.step.level).hex)"
                : unknown(last.range) ? "unknown (not in the dumps)" : "unmapped"
            print("\nIOVA \(last.range.start.hex)-\(last.range.last.hex)  \(what)")
            if explain { print("  index: " + FieldTable.indexStrip(cursor.format, address: last.range.start)) }
            printSteps(path.map(\.step), decoded: true, explained: explain)
        }
    }
}

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue one DMA from a device and print every descriptor fetch: in a scenario, on a host, or both.",
        discussion: """
            With a scenario, --dev is a device id (device_bind's out_devid). With --host DIR|FILE (a host root or a \
            capture), --dev may name a device by its sysfs name or BDF: the DMA goes through the domain the host has it \
            in (the kernel's DMA or identity domain as the dumps show it, or what a scenario run on the host attached), \
            walked past the caches. --json prints the scenario language's translate result.
            """)

    @Argument(help: "A scenario file (.iommu); optional with --host.") var file: String?
    @Option(help: "A host root directory or a capture file whose devices and tables are the platform.") var host: String?
    @Option(help: "The device: a scenario's device id, or a device's sysfs name or BDF (0000:00:02.0).") var dev: String
    @Option(help: "The IOVA.") var iova: Address
    @Option(help: "The PASID of the request (default: none).") var pasid: UInt32?
    @Flag(help: "A write (default: a read).") var write = false
    @Flag(help: "Walk past the IOMMU's caches (a probe that leaves them as they are).") var cold = false
    @Flag(help: "Print the result as one JSON object (status, output_address, steps, fault).") var json = false

    func validate() throws {
        guard file != nil || host != nil else { throw ValidationError("give a scenario FILE, --host, or both") }
    }

    func run() throws {
        let host = try self.host.map(HostModel.open)
        let session = host?.session ?? Session()
        if let file { try runScenario(.file(file), on: session) }
        let access: AccessRights = write ? .write : .read
        let result: Result<Translation, TranslationFault>?
        let client: String
        var unknown = false
        if file != nil, let id = UInt32(dev) {
            do {
                result = try session.iommufd.translate(deviceID: id, iova: iova.value, pasid: pasid, access: access,
                                                       caches: cold ? .bypass : .use)
            } catch {
                throw ValidationError("object \(id) is not a bound device (\(error.errno.name)); "
                                      + choices("bound devices", session.iommufd.devices.map { "\($0.id) (\(terminalSafe($0.platform.name)))" }))
            }
            client = (try? session.iommufd.object(id) as? Device)?.platform.name ?? "(unassigned sid)"
        } else {
            guard let device = HostModel.device(named: dev, in: session.machine) else {
                throw ValidationError("no device named \(terminalSafe(dev)) (a scenario's device is named by its device id); "
                                      + choices("platform devices", session.machine.devices.map { terminalSafe($0.name) }))
            }
            result = device.iommu.translate(device, iova: iova.value, pasid: pasid, access: access, caches: .bypass,
                                            memory: session.machine.physical)
            client = device.name
            // A fault where the dumps showed nothing says nothing about the host's tables.
            if case .failure? = result, let host { unknown = !host.tables.knows(iova.value, device: device.name, pasid: pasid) }
        }
        if json {
            var report = translationResult(iova: iova.value, result)
            if unknown { report.fields.append(("tables", .text("unknown"))) }
            print(report.json)
        } else {
            printTranslation(result, client: client)
            if unknown { print("note: the dumps do not show \(terminalSafe(client))'s tables at \(iova.value.hex): unknown, not unmapped") }
        }
        if case .failure? = result { throw ExitCode(1) }
    }

    private func printTranslation(_ result: Result<Translation, TranslationFault>?, client: String) {
        switch result {
        case nil:
            print("translate is not modelled yet for this device's IOMMU")
        case .success(let translation)?:
            for fetch in translation.configurationFetches { print("  " + StepText.configurationFetch(fetch)) }
            printSteps(translation.steps, decoded: false)
            print("\n\(iova.value.hex) -> \(translation.output.hex)  page \(translation.pageSize.hex)  \(translation.rights.shortDescription)"
                  + (translation.iotlbHit ? "  (IOTLB hit)" : "  (\(translation.steps.count) descriptor reads)"))
        case .failure(let fault)?:
            for fetch in fault.configurationFetches { print("  " + StepText.configurationFetch(fetch)) }
            // The descriptors the hardware read before it faulted, as `run` lists them.
            if !fault.steps.isEmpty { printSteps(fault.steps, decoded: false); print() }
            print("fault: stage \(fault.stage.number) level \(fault.level) \(FaultText.reason(fault)) \(FaultText.details(fault, quoted: true))")
            for line in FaultText.kernelLogBeyondDetails(fault, client: terminalSafe(client)) { print(line) }
        }
    }
}
