import ArgumentParser
import Foundation
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

/// Runs a scenario and hands back its session (reporting failed expectations on stderr).
func runScenario(_ path: String) throws -> Session {
    let session = Session()
    for report in session.run(try loadScenario(path)) where !report.passed {
        FileHandle.standardError.write(Data((terminalSafe("\(path):\(report.line): \(report.command) ended \(report.result.status)") + "\n").utf8))
    }
    return session
}

/// Prints the descriptors of one walk as a table a person can follow, each with its decoded
/// fields when `decoded`.
func printSteps(_ steps: [WalkStep], decoded: Bool) {
    print("  #  stg lvl  table               idx    entry address       descriptor          kind")
    for (number, step) in steps.enumerated() {
        let row = [String(number + 1).leftPadded(to: 3), StepText.stage(step).leftPadded(to: 3), String(step.level).leftPadded(to: 3),
                   step.table.hex.rightPadded(to: 19), ("0x" + String(step.index, radix: 16)).rightPadded(to: 6),
                   step.entryAddress.hex.rightPadded(to: 19), step.descriptor.hex.rightPadded(to: 19), step.kind.rawValue]
        print("  " + row.joined(separator: " "))
        if decoded, step.kind != .invalid {
            let fields = step.format.fields(of: step.descriptor, level: step.level)
                .map(StepText.field).joined(separator: " ")
            print("       " + fields)
        }
    }
}

struct Walk: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario, then print a paging HWPT's descriptors for a range of IOVAs.")

    @Argument(help: "A scenario file (.iommu).") var file: String
    @Option(help: "The paging HWPT id.") var hwpt: UInt32
    @Option(help: "The first IOVA.") var iova: Address
    @Option(help: "How many pages (leaves or holes) to show, 1 to \(Walk.maximumCount).") var count: Int = 8

    static let maximumCount = 4096

    func validate() throws {
        guard (1...Self.maximumCount).contains(count) else {
            throw ValidationError("--count must be 1 to \(Self.maximumCount), not \(count)")
        }
    }

    func run() throws {
        let session = try runScenario(file)
        guard let paging = try? session.iommufd.object(hwpt) as? HWPTPaging,
              let table = paging.domain.table as? DescriptorPageTable else {
            throw ValidationError("object \(hwpt) is not a paging HWPT with descriptors")
        }
        let cursor = table.cursor(stage: paging.domain.stage.translationStage)
        guard table.format.translates(iova.value) else {
            throw ValidationError("--iova \(iova.value.hex) is outside the \(table.format.inputBits)-bit input range of HWPT \(hwpt)'s table: no descriptor translates it")
        }
        print("HWPT \(hwpt): \(table.format.name), root \(table.root.hex)")
        for path in cursor.pieces(from: iova.value, count: count) {
            guard let last = path.last else { continue }
            let what = last.kind == .invalid ? "unmapped" : "-> \(table.format.outputAddress(of: last.descriptor, level: last.step.level).hex)"
            print("\nIOVA \(last.range.start.hex)-\(last.range.last.hex)  \(what)")
            printSteps(path.map(\.step), decoded: true)
        }
    }
}

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario, then issue one DMA from a device and print every descriptor fetch.")

    @Argument(help: "A scenario file (.iommu).") var file: String
    @Option(help: "The device id (device_bind's out_devid).") var dev: UInt32
    @Option(help: "The IOVA.") var iova: Address
    @Flag(help: "A write (default: a read).") var write = false
    @Flag(help: "Walk past the IOMMU's caches (a probe that leaves them as they are).") var cold = false

    func run() throws {
        let session = try runScenario(file)
        let result: Result<Translation, TranslationFault>?
        do {
            result = try session.iommufd.translate(deviceID: dev, iova: iova.value, pasid: nil, access: write ? .write : .read,
                                                   caches: cold ? .bypass : .use)
        } catch {
            throw ValidationError("object \(dev) is not a bound device (\(error.name))")
        }
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
            print("fault: stage \(fault.stage.number) level \(fault.level) \(FaultText.reason(fault)) \(FaultText.details(fault))")
            let client = (try? session.iommufd.object(dev) as? Device)?.platform.name ?? "(unassigned sid)"
            for line in FaultText.kernelLogBeyondDetails(fault, client: client) { print(line) }
            throw ExitCode(1)
        }
    }
}
