import Foundation
import IOMMUCore
import Inspector
import ScenarioScript
import TerminalUI

/// Renders every view of the inspector headless (no terminal) and prints frame times: the
/// first frame of the bundled default scenario, then each view over an IOAS of `--areas`
/// 4K areas mirrored page by page into an Arm SMMUv3 stage-1 domain, so the domain holds as
/// many mapped 4K pages. Per view: the median and max of `--frames` frames, and of a key
/// press (Down) handled and rendered.
public struct TUIBenchmark {
    /// Each area is its own 4K page of one mmap: the process's 1 TiB of mmap space would take
    /// 2^28, memory runs out long before; 4 million is well past the million measured.
    public static let areaRange = 1...4_000_000
    /// Medians and maxima need at least one sample.
    public static let sampleRange = 1...100_000
    /// The inspector's smallest usable screen, up to a very large terminal.
    public static let widthRange = 40...1000
    public static let heightRange = 12...500

    public let areas: Int
    public let frames: Int
    public let keys: Int
    public let width: Int
    public let height: Int

    public init(areas: Int, frames: Int, keys: Int, width: Int, height: Int) throws(BenchmarkError) {
        self.areas = try Self.areaRange.check(areas, option: "--areas")
        self.frames = try Self.sampleRange.check(frames, option: "--frames")
        self.keys = try Self.sampleRange.check(keys, option: "--keys")
        self.width = try Self.widthRange.check(width, option: "--width")
        self.height = try Self.heightRange.check(height, option: "--height")
    }

    static let base: UInt64 = 1 << 32

    /// Runs every view; `defaultScenario` is the source of the bundled scenario, whose first
    /// frame is measured first.
    public func run(defaultScenario source: String, _ print: BenchmarkOutput) throws {
        let theme = try InspectorThemes.load("dark")

        // The first frame of the default scenario: parse, run, build the app, render.
        let start = ContinuousClock.now
        let defaultApp = InspectorApp(model: try InspectorModel(scenario: source, title: "default"), theme: theme, symbols: .unicode)
        _ = defaultApp.render(width: width, height: height)
        print("tui.default.first_frame: \(format(ContinuousClock.now - start)) ms")
        measureCommandLine(defaultApp, print)

        let building = ContinuousClock.now
        let model = try InspectorModel(title: "bench") { try Self.rig(areas: areas) }
        guard let ioas = model.graph.ioases.first else {
            throw RigFailure(description: "the rig has no IOAS")
        }
        let mapped = ioas.hwpts.first?.domain.table.mappingCount ?? 0
        print("tui.rig.areas: \(ioas.areas.count) areas")
        print("tui.rig.domain_mapped_pages: \(mapped) pages")
        print("tui.rig.build: \(format(ContinuousClock.now - building, scale: 1e-3)) s")

        let app = InspectorApp(model: model, theme: theme, symbols: .unicode)
        _ = app.render(width: width, height: height)
        // Select the paging HWPT in the tree: every pane follows it (the map to its IOAS).
        type(app, [.character("/")] + "HWPT_PAGING".map { .character($0) } + [.enter])

        // Each registered view, opened for the first time (nothing cached): its number key
        // to the frame showing it.
        var views: [(name: String, setup: [Key], key: Key)] = []
        for kind in PaneKind.allCases where kind != .tree {
            let number = Key.character(Character(String(kind.rawValue)))
            let clock = ContinuousClock.now
            _ = app.handle(.key(number))
            _ = app.render(width: width, height: height)
            let elapsed = ContinuousClock.now - clock
            guard app.main == kind else { continue }
            print("tui.\(Self.name(kind)).first_frame: \(format(elapsed)) ms")
            views.append((Self.name(kind), [number], .down))
        }
        let map = [Key.character(Character(String(PaneKind.iovaMap.rawValue)))]
        if views.contains(where: { $0.name == "iova_map" }) {
            let cluster = map + [.character("r"), .character("/")] + "areas".map { .character($0) } + [.enter]
            // Zoom 1 into the cluster of areas: rows of 256M, thousands of areas each.
            views.append(("iova_map.zoom1", cluster + [.enter], .down))
            // Zoom 2, panned: every press shows 32 rows never drawn before (8M each, a
            // thousand areas each), so this is the uncached cost of a whole new screen.
            views.append(("iova_map.zoom2_pan", cluster + [.enter, .enter], .character("l")))
            // A jump to one page: rows of single pages, half of them mapped.
            views.append(("iova_map.pages", map + [.character("/")] + (Self.base + 0x1000 * 2 * 1000).hex.map { .character($0) } + [.enter], .down))
        }
        views.append(("tree", [.character("1")], .down))

        for view in views {
            type(app, view.setup)
            measure(app, view.name, key: view.key, print)
        }
    }

    /// Frames rendered back to back, then key presses each followed by a frame.
    private func measure(_ app: InspectorApp, _ name: String, key: Key, _ print: BenchmarkOutput) {
        var times: [Duration] = []
        for _ in 0..<frames {
            let clock = ContinuousClock.now
            _ = app.render(width: width, height: height)
            times.append(ContinuousClock.now - clock)
        }
        times.sort()
        print("tui.\(name).frame.median: \(format(times[times.count / 2])) ms")
        print("tui.\(name).frame.max: \(format(times[times.count - 1])) ms")
        var presses: [Duration] = []
        for _ in 0..<keys {
            let clock = ContinuousClock.now
            _ = app.handle(.key(key))
            _ = app.render(width: width, height: height)
            presses.append(ContinuousClock.now - clock)
        }
        presses.sort()
        print("tui.\(name).key_to_frame.median: \(format(presses[presses.count / 2])) ms")
        print("tui.\(name).key_to_frame.max: \(format(presses[presses.count - 1])) ms")
    }

    /// The `:` line at 10 000 and 100 000 characters: a bracketed paste and its frame; the
    /// same length typed ahead, key by key, then one frame (what the event loop draws for a
    /// burst); then key presses at the end of the long line, each with its frame.
    private func measureCommandLine(_ app: InspectorApp, _ print: BenchmarkOutput) {
        for length in [10_000, 100_000] {
            let name = "tui.command_line.\(length / 1000)k"
            _ = app.handle(.key(.character(":")))
            var clock = ContinuousClock.now
            _ = app.handle(.paste(String(repeating: "a", count: length)))
            _ = app.render(width: width, height: height)
            print("\(name).paste: \(format(ContinuousClock.now - clock)) ms")
            _ = app.handle(.key(.escape))
            _ = app.handle(.key(.character(":")))
            clock = ContinuousClock.now
            for _ in 0..<length { _ = app.handle(.key(.character("a"))) }
            _ = app.render(width: width, height: height)
            print("\(name).typed_ahead: \(format(ContinuousClock.now - clock)) ms")
            var presses: [Duration] = []
            for _ in 0..<keys {
                let press = ContinuousClock.now
                _ = app.handle(.key(.character("b")))
                _ = app.render(width: width, height: height)
                presses.append(ContinuousClock.now - press)
            }
            presses.sort()
            print("\(name).key_to_frame.median: \(format(presses[presses.count / 2])) ms")
            _ = app.handle(.key(.escape))
        }
    }

    private func type(_ app: InspectorApp, _ keys: [Key]) {
        for key in keys {
            _ = app.handle(.key(key))
            _ = app.render(width: width, height: height)
        }
    }

    private static func name(_ kind: PaneKind) -> String {
        switch kind {
        case .tree: "tree"
        case .details: "details"
        case .pageTable: "page_table"
        case .walk: "walk"
        case .iovaMap: "iova_map"
        case .faults: "faults"
        case .timeline: "timeline"
        case .results: "results"
        case .diff: "diff"
        case .lesson: "lesson"
        }
    }

    /// Milliseconds (or `scale` of them) with three decimals.
    private func format(_ duration: Duration, scale: Double = 1) -> String {
        String(format: "%.3f", seconds(duration) * 1e3 * scale)
    }

    /// An Arm SMMUv3 device attached to an IOAS (an automatic stage-1 domain), and `areas`
    /// fixed maps of one 4K page each, every other page from 4G up, each its own page of
    /// user memory: the domain mirrors each as one 4K leaf.
    static func rig(areas count: Int) throws -> Session {
        let platform = PlatformDescription(
            units: [IOMMUUnit(name: "smmu0", configuration: .armSMMUv3(ArmSMMUv3.Configuration()))], groups: [IOMMUGroup(id: 0)],
            devices: [DeviceDescription(name: "dev0", requesterID: .streamID(1), unit: "smmu0", group: 0)])
        let session = try Session(platform: platform, limits: .unlimited)
        let machine = session.machine, fd = session.iommufd
        guard let device = machine.device(named: "dev0") else { throw RigFailure(description: "the Arm platform is incomplete") }
        let deviceID = try fd.bind(device).rawValue
        let ioas = try fd.ioasAlloc().rawValue
        _ = try fd.attach(deviceID: deviceID, ptID: ioas)
        let memory = try machine.mmap(length: UInt64(count) * pageSize, alignment: pageSize)
        let flags = IOASMapFlags([.fixedIOVA, .readable, .writeable]).rawValue
        for index in 0..<count {
            _ = try fd.ioasMap(flags: flags, ioasID: ioas, userVA: memory + UInt64(index) * pageSize, length: pageSize,
                               iova: base + UInt64(index) * 2 * pageSize)
        }
        return session
    }
}
