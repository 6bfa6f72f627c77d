import ArgumentParser
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import IOMMUCore
import Testing
@testable import Inspector
@testable import iommuscope

/// `iommuscope export graph|walk|iovamap`: each SVG parses as XML and carries the labels a
/// reader needs (IOVA, PA, fetch numbers, object ids); the nested 4×4 walk numbers its 24
/// fetches; a faulting walk marks the fetch that faulted; DOT has the graph's nodes and
/// edges; bad --dev, --iova, --ioas and --at are usage errors that say what is valid.
/// `UPDATE_GOLDEN=1 swift test --skip-build --filter PictureExportTests` rewrites `Pictures/`.
@Suite struct PictureExportTests {
    static let repository = EmbeddedResourceTests.repository
    static let pictures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Pictures")
    /// A 4-level stage 1 over a 4-level stage 2 (guest RAM in 4K pages): 4 fetches for the CD's
    /// IPA, then the 24 of the 4×4 walk.
    static let nested4K = "Tests/ScenarioScriptTests/Scenarios/pagetables/arm_nested_walk_4k.iommu"

    /// Runs `export ARGUMENTS -o TEMP` as the binary would; the picture written.
    static func export(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-export-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        // The scenario (the second argument) by its path in the repository unless absolute; the rest as given.
        var arguments = arguments
        if arguments.count > 1, !arguments[1].hasPrefix("/") { arguments[1] = repository.appendingPathComponent(arguments[1]).path }
        var command = try IOMMUScope.parseAsRoot(["export"] + arguments + ["-o", output])
        try command.run()
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    /// The usage error `export ARGUMENTS` fails with: its message and exit status.
    static func failure(_ arguments: [String]) -> (message: String, status: Int32)? {
        do {
            _ = try export(arguments)
            return nil
        } catch {
            return (IOMMUScope.message(for: error), IOMMUScope.exitCode(for: error).rawValue)
        }
    }

    /// An element of a parsed SVG: its name, attributes, text, its parent's index, and the
    /// classes of the groups around it, innermost last.
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
        var parent: Int?
        var groups: [String]
    }

    /// The SVG's elements, in document order; fails the test when it is not well-formed XML.
    final class SVGReader: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        private var open: [Int] = []

        static func read(_ svg: String) throws -> [Element] {
            let reader = SVGReader()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = reader
            let parsed = parser.parse()
            #expect(parsed, "not well-formed: \(parser.parserError.map(String.init(describing:)) ?? "?")")
            try #require(parsed)
            return reader.elements
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String]) {
            let groups = open.map { elements[$0] }.filter { $0.name == "g" }.compactMap { $0.attributes["class"] }
            elements.append(Element(name: name, attributes: attributes, parent: open.last, groups: groups))
            open.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let last = open.last { elements[last].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
        }
    }

    static func texts(_ elements: [Element]) -> [String] { elements.filter { $0.name == "text" }.map(\.text) }

    // MARK: Walks

    @Test func nestedWalkSVGNumbersTheTwentyFourFetchesOfAFourByFourWalk() throws {
        let svg = try Self.export(["walk", Self.nested4K, "--dev", "1", "--iova", "0x12345234", "--access", "write", "--svg"])
        let elements = try SVGReader.read(svg)
        let texts = Self.texts(elements)
        let title = try #require(elements.first { $0.name == "title" }?.text)
        #expect(title == "Nested walk: DEVICE 1 nic0, IOVA 0x12345234, write, no PASID")
        #expect(elements.first?.attributes["viewBox"]?.hasPrefix("0 0 ") == true)
        // Each fetch is a group numbered in hardware order: the CD's 4, then 4 × (4 + 1) + 4.
        let fetches = elements.filter { $0.name == "g" && ["fetch", "fetch faulting"].contains($0.attributes["class"] ?? "") }
        #expect(fetches.count == 28)
        let numbers = elements.filter { $0.name == "text" && $0.attributes["class"] == "number" }.map(\.text)
        #expect(numbers == (1...28).map(String.init))
        // Rows by name, each with the fetches in it: the 4×4 walk's 24 outside the CD pointer's row.
        var rows: [String: Int] = [:]
        for (index, row) in elements.enumerated() where row.name == "g" && row.attributes["class"] == "grid-row" {
            let name = elements.first { $0.name == "title" && $0.parent == index }?.text ?? "?"
            rows[name] = elements.filter { $0.parent == index && $0.attributes["class"] == "fetch" }.count
        }
        #expect(rows == ["CD ptr": 4, "S1 L0": 5, "S1 L1": 5, "S1 L2": 5, "S1 L3": 5, "output": 4])
        #expect(rows.filter { $0.key != "CD ptr" }.values.reduce(0, +) == 24)
        #expect(texts.contains("IPA 0x40001000"))   // the CD pointer row
        #expect(texts.contains { $0.hasPrefix("PA 0x") })
        #expect(texts.contains { $0.contains("28 fetches") && $0.contains("PA 0x") })
        #expect(!elements.contains { $0.attributes["class"] == "fetch faulting" })
        #expect(!svg.contains("<script") && !svg.contains("href"))
    }

    @Test func nestedWalkTextMatchesItsGoldenFile() throws {
        let text = try Self.export(["walk", Self.nested4K, "--dev", "1", "--iova", "0x12345234", "--access", "write", "--txt"])
        let file = Self.pictures.appendingPathComponent("arm_nested_walk_4k.txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try text.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        #expect(text == (try String(contentsOf: file, encoding: .utf8)), "differs from Pictures/arm_nested_walk_4k.txt (UPDATE_GOLDEN=1 rewrites it)")
        #expect(!text.split(separator: "\n").contains { $0.hasSuffix(" ") })
    }

    /// A stage-1 miss (no L3 descriptor at 0x12346000): the last fetch is the faulting one.
    @Test func aFaultingWalkMarksTheFetchThatFaulted() throws {
        let arguments = ["walk", Self.nested4K, "--dev", "1", "--iova", "0x12346000"]
        let elements = try SVGReader.read(try Self.export(arguments + ["--svg"]))
        let faulting = elements.filter { $0.attributes["class"] == "fetch faulting" }
        #expect(faulting.count == 1)
        let numbers = elements.filter { $0.name == "text" && $0.attributes["class"] == "number" }.map(\.text)
        let marked = elements.filter { $0.name == "text" && $0.groups.last == "fetch faulting" }.map(\.text)
        #expect(marked.contains("FAULT") && marked.contains(numbers.last ?? "?"))
        #expect(Self.texts(elements).contains { $0.contains("FAULT at stage 1") })
        let text = try Self.export(arguments)
        #expect(text.contains("\(numbers.last ?? "?")!"), "\(text)")
        #expect(text.contains("FAULT at stage 1"))
    }

    /// A stage-1 table at an IPA stage 2 does not map (0x80000000, for 0x12400000): the
    /// stage-2 fetch that found no descriptor is the one marked, not a stage-1 one.
    @Test func aStage2FaultMarksTheStage2Fetch() throws {
        let elements = try SVGReader.read(try Self.export(["walk", Self.nested4K, "--dev", "1", "--iova", "0x12400000", "--svg"]))
        let index = try #require(elements.firstIndex { $0.name == "g" && $0.attributes["class"] == "fetch faulting" })
        let tooltip = elements.first { $0.name == "title" && $0.parent == index }?.text ?? ""
        #expect(tooltip.hasPrefix("fetch 21: S2 L1 @ 0x104401010 = 0x0000000000000000 (invalid)"), "\(tooltip)")
        #expect(elements.filter { $0.attributes["class"] == "fetch faulting" }.count == 1)
    }

    /// A single-stage walk is one row of fetches ending in the PA.
    @Test func aSingleStageWalkIsOneRow() throws {
        // Line 9 attaches the device; line 14 unmaps everything.
        let elements = try SVGReader.read(try Self.export(["walk", "Examples/quickstart.iommu", "--at", "9", "--dev", "1", "--iova", "0x1000000", "--svg"]))
        let rows = elements.filter { $0.name == "g" && $0.attributes["class"] == "grid-row" }
        #expect(rows.count == 1)
        let title = try #require(elements.first { $0.name == "title" }?.text)
        #expect(title.hasPrefix("Walk: DEVICE 1 "))
        let fetches = elements.filter { $0.name == "g" && $0.attributes["class"] == "fetch" }
        #expect((3...5).contains(fetches.count))
        #expect(Self.texts(elements).contains { $0.hasPrefix("PA 0x") })
    }

    // MARK: Graph and IOVA map

    @Test func graphDOTHasTheNestedSetupsNodesAndEdges() throws {
        let dot = try Self.export(["graph", "Examples/arm_nested_guest.iommu"])
        #expect(dot.hasPrefix("digraph iommufd {\n"))
        for node in ["\"iommu:smmu0\" [label=\"IOMMU smmu0\\narm-smmu-v3\", shape=box3d];", "\"obj1\" [label=\"DEVICE 1\\ndev=nic0\"];",
                     "\"obj2\" [label=\"IOAS 2\\nareas=1\"];"] {
            #expect(dot.contains(node), "\(node)\n\(dot)")
        }
        for edge in ["\"obj1\" -> \"iommu:smmu0\" [label=\"iommu\"];", "\"obj3\" -> \"obj2\" [label=\"ioas\"];",
                     "\"obj4\" -> \"obj3\" [label=\"nest_parent\"];", "\"obj5\" -> \"obj4\" [label=\"viommu\"];",
                     "\"obj5\" -> \"obj1\" [label=\"device\"];"] {
            #expect(dot.contains(edge), "\(edge)\n\(dot)")
        }
        let nested = try #require(dot.split(separator: "\n").first { $0.contains("HWPT_NESTED") })
        let id = try #require(nested.split(separator: "\"").dropFirst().first)
        #expect(dot.contains("\"obj1\" -> \"\(id)\" [label=\"attach\"];"), "\(dot)")
        #expect(dot.contains("\"\(id)\" -> \"obj4\" [label=\"viommu\"];"), "\(dot)")
        #expect(dot.contains("\"obj3\" [label=\"HWPT_PAGING 3\\nstage=stage-2 nest_parent\"];"), "\(dot)")
        // Before the vIOMMU existed (line 10: the paging HWPT), no vIOMMU objects or edges.
        let early = try Self.export(["graph", "Examples/arm_nested_guest.iommu", "--at", "11"])
        #expect(early.contains("HWPT_PAGING 3") && !early.contains("VIOMMU") && !early.contains("viommu"))
    }

    @Test func graphSVGLabelsEveryObjectAndDrawsEveryEdge() throws {
        let dot = try Self.export(["graph", "Examples/arm_nested_guest.iommu"])
        let elements = try SVGReader.read(try Self.export(["graph", "Examples/arm_nested_guest.iommu", "--svg"]))
        let texts = Self.texts(elements)
        for label in ["IOMMU smmu0", "DEVICE 1", "IOAS 2", "HWPT_PAGING 3", "VIOMMU 4", "VDEVICE 5"] {
            #expect(texts.contains(label), "\(label)")
        }
        #expect(texts.contains { $0.hasPrefix("HWPT_NESTED ") })
        let edges = elements.filter { $0.name == "path" && $0.attributes["class"] == "edge" }
        #expect(edges.count == dot.split(separator: "\n").filter { $0.contains(" -> ") }.count)
        #expect(texts.contains("nest_parent") && texts.contains("attach"))
    }

    /// The quickstart's IOAS after the attach (line 9): its areas, the sw_msi window the
    /// attach reserved, the holes, labelled.
    @Test func iovaMapSVGShowsAreasReservedRangesAndHoles() throws {
        let scenario = "Examples/quickstart.iommu"
        let elements = try SVGReader.read(try Self.export(["iovamap", scenario, "--at", "9", "--ioas", "2", "--svg"]))
        let texts = Self.texts(elements)
        #expect(elements.first { $0.name == "title" }?.text.hasPrefix("IOVA map: IOAS 2 (") == true)
        #expect(texts.contains("sw_msi"))
        #expect(texts.contains { $0.hasPrefix("reserved 0x8000000-0x80fffff") && $0.contains("sw_msi of DEVICE 1") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("area ") })
        let rows = elements.filter { $0.name == "g" && $0.attributes["class"]?.hasPrefix("row ") == true }
        #expect(rows.contains { $0.attributes["class"] == "row swMSI" } && rows.contains { $0.attributes["class"] == "row hole" })
        let text = try Self.export(["iovamap", scenario, "--at", "9", "--ioas", "2"])
        #expect(text.contains("sw_msi of DEVICE 1"))
    }

    /// Every IOAS of every example, at every line: a well-formed map with a row per segment
    /// of the pane's zoom 0, and every reservation listed.
    @Test func everyExamplesIOVAMapsAreWellFormed() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("Examples").path)
            .filter { $0.hasSuffix(".iommu") }.sorted()
        #expect(examples.count >= 5)
        var maps = 0
        for name in examples {
            let timeline = try scenarioTimeline(Self.repository.appendingPathComponent("Examples/" + name).path, host: nil)
            for position in 0...timeline.count {
                timeline.move(to: position)
                for ioas in ModelReader(timeline.session.iommufd).graph.ioases {
                    let elements = try SVGReader.read(IOVAMapPicture(ioas: ioas, source: name).svg)
                    let rows = elements.filter { $0.name == "g" && $0.attributes["class"]?.hasPrefix("row ") == true }
                    #expect(rows.count == IOVAMap.segments(of: ioas).count, "\(name) at \(position)")
                    let reserved = Self.texts(elements).filter { $0.hasPrefix("reserved ") }
                    #expect(reserved.count == ioas.reservations.count, "\(name) at \(position)")
                    maps += 1
                }
            }
        }
        #expect(maps > 100)
    }

    /// Past 32 areas the list counts the rest instead of listing them.
    @Test func manyAreasAreCountedNotAllListed() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("iommuscope-areas-\(UUID().uuidString).iommu").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let maps = (0..<40).map { "ioas_map ioas_id=ioas user_va=buf length=4K iova=\(0x100000 + $0 * 0x2000) flags=fixed_iova|readable" }
        try (["buf = mmap length=4K", "ioas = ioas_alloc"] + maps).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let text = try Self.export(["iovamap", path, "--ioas", "1"])
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("  area ") }.count == 32)
        #expect(text.contains("\n  and 8 more areas\n"), "\(text)")
    }

    // MARK: Usage errors

    @Test(arguments: [
        (["walk", "Examples/quickstart.iommu", "--dev", "99", "--iova", "0"],
         "--dev 99: object 99 is not a bound device; bound devices: 1 (nic0)"),
        (["walk", "Examples/quickstart.iommu", "--dev", "2", "--iova", "0"], "--dev 2: object 2 is not a bound device"),
        (["walk", "Examples/quickstart.iommu", "--dev", "1", "--iova", "0xzz"], "The value '0xzz' is invalid for '--iova <iova>'"),
        (["walk", "Examples/quickstart.iommu", "--dev", "1", "--iova", "0", "--access", "exec"], "The value 'exec' is invalid for '--access <access>'"),
        (["iovamap", "Examples/quickstart.iommu", "--ioas", "1"], "--ioas 1: object 1 is not an IOAS; IOASes: 2"),
        (["graph", "Examples/quickstart.iommu", "--at", "999"], "Examples/quickstart.iommu: no line 999: the command lines are 1 to "),
    ])
    func badArgumentsAreUsageErrorsThatSayWhatIsValid(_ arguments: [String], _ message: String) throws {
        let failure = try #require(Self.failure(arguments))
        #expect(failure.status == 64)
        #expect(failure.message.contains(message), "\(failure.message)")
    }
}
