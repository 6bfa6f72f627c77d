import ArgumentParser
import Foundation
import IOMMUCore
import Inspector
import Presentation
import ScenarioScript
import Snapshots

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a scenario's state as a picture: the object graph (DOT or SVG), a walk (text or SVG), an IOVA map (text or SVG).",
        discussion: """
            Each picture is of the state after source line LINE (--at; the end without it), to standard output unless \
            -o. The SVGs are standalone (no scripts, no external references) and laid out by iommuscope itself: no \
            Graphviz is needed. See docs/pictures.md.
            """,
        subcommands: [ExportGraph.self, ExportWalk.self, ExportIOVAMap.self])
}

/// What every picture is of: a scenario's state after a line, and where it goes.
struct ExportState: ParsableArguments {
    @Argument(help: "A scenario file (.iommu).") var file: String
    @Option(help: "The source line after which to draw the state (default: the end; 0 is before the first line).") var at: Int?
    @Option(name: [.customShort("o"), .long], help: "Write the picture to this file instead of standard output.") var output: String?

    /// The scenario replayed up to the state after --at; "FILE after line N" names it.
    func timeline() throws -> (timeline: Timeline, source: String) {
        let timeline = try scenarioTimeline(file, host: nil)
        let position: Int
        do {
            position = try at.map { line throws(LinePositionError) in try timeline.position(afterLine: line) } ?? timeline.count
        } catch {
            throw ValidationError(terminalSafe("--at \(at ?? 0): \(file): \(error)"))
        }
        timeline.move(to: position)
        return (timeline, file + (at.map { " after line \($0)" } ?? ""))
    }
}

struct ExportGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "The iommufd object graph (IOAS, HWPTs, devices, vIOMMU objects, IOMMU units and their edges) as DOT or SVG.")

    @OptionGroup var state: ExportState
    @Flag(help: "Draw an SVG (laid out by rank) instead of writing Graphviz DOT.") var svg = false

    func run() throws {
        let (timeline, source) = try state.timeline()
        let snapshot = ModelSnapshot(session: timeline.session)
        let picture = GraphPicture(snapshot: snapshot, title: "iommufd objects: " + source)
        try write(svg ? picture.svg : picture.dot, to: state.output)
    }
}

/// The two ways a picture is written.
enum PictureFormat: String, EnumerableFlag {
    case txt, svg

    static func help(for value: PictureFormat) -> ArgumentHelp? {
        switch value {
        case .txt: "Write text, for a bug report."
        case .svg: "Draw a standalone SVG, for a slide."
        }
    }
}

/// `--access read|write`.
enum AccessOption: String, ExpressibleByArgument, CaseIterable {
    case read, write
}

struct ExportWalk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "walk",
        abstract: "One DMA's walk past the IOMMU's caches: the grid of descriptor fetches in hardware order and the fetch list.",
        discussion: """
            A nested walk's grid has the stage-1 levels (and the CD pointer, and the output) down and the stage-2 \
            levels that serve each across; a single-stage walk is one row. The faulting fetch of a walk that faults is \
            marked (! in text, red in SVG).
            """)

    @OptionGroup var state: ExportState
    @Option(help: "The device id (device_bind's out_devid).") var dev: UInt32
    @Option(help: "The PASID of the request (default: none).") var pasid: UInt32?
    @Option(help: "The IOVA.") var iova: Address
    @Option(help: "The access: read or write.") var access: AccessOption = .read
    @Flag var format: PictureFormat = .txt

    func run() throws {
        let (timeline, _) = try state.timeline()
        let reader = ModelReader(timeline.session.iommufd)
        guard case .device(let device)? = reader.object(ObjectID(dev)) else {
            throw ValidationError("--dev \(dev): object \(dev) is not a bound device; "
                                  + choices("bound devices", reader.graph.devices.map { "\($0.id) (\(terminalSafe($0.platform.name)))" }))
        }
        let picture = WalkPicture(device: device, reader: reader, iova: iova.value, pasid: pasid, write: access == .write)
        if let failure = picture.failure { throw ValidationError("--dev \(dev) --iova \(iova.value.hex): \(failure)") }
        try write(format == .svg ? picture.svg : picture.text, to: state.output)
    }
}

struct ExportIOVAMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iovamap",
        abstract: "One IOAS's IOVA map: areas, reserved ranges (SW_MSI and MSI windows, outside apertures), allowed ranges, holes.")

    @OptionGroup var state: ExportState
    @Option(help: "The IOAS id (ioas_alloc's out_ioas_id).") var ioas: UInt32
    @Flag var format: PictureFormat = .txt

    func run() throws {
        let (timeline, source) = try state.timeline()
        let reader = ModelReader(timeline.session.iommufd)
        guard case .ioas(let found)? = reader.object(ObjectID(ioas)) else {
            throw ValidationError("--ioas \(ioas): object \(ioas) is not an IOAS; " + choices("IOASes", reader.graph.ioases.map { "\($0.id)" }))
        }
        let picture = IOVAMapPicture(ioas: found, source: source)
        try write(format == .svg ? picture.svg : picture.text, to: state.output)
    }
}
