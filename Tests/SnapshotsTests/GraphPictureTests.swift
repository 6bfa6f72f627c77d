import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Snapshots
import Testing

/// `export graph`'s picture of every shipped scenario's final state: well-formed SVG with a
/// box per object and IOMMU unit and a curve per edge, the ranks left to right, and DOT whose
/// quoted strings survive any file name.
@Suite struct GraphPictureTests {
    /// The `rect` boxes (by their group's `<title>`) and the edge paths of an SVG.
    final class Reader: NSObject, XMLParserDelegate {
        var boxes: [(title: String, x: Int)] = []
        var edges = 0
        private var stack: [String] = []
        private var groupTitle: [String] = []
        private var text = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String]) {
            stack.append(name)
            text = ""
            if name == "g" { groupTitle.append("") }
            if name == "rect", attributes["class"] == "box" { boxes.append((groupTitle.last ?? "", Int(attributes["x"] ?? "") ?? -1)) }
            if name == "path", attributes["class"] == "edge" { edges += 1 }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
            // A group's <title> comes first in it.
            if name == "title", stack.last == "g", !groupTitle.isEmpty { groupTitle[groupTitle.count - 1] = text }
            if name == "g" { groupTitle.removeLast() }
        }

        static func read(_ svg: String) -> Reader? {
            let reader = Reader()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = reader
            return parser.parse() ? reader : nil
        }
    }

    @Test func everyShippedScenariosGraphIsWellFormedAndComplete() throws {
        #expect(Shipped.scenarios.count > 20)
        for path in Shipped.scenarios {
            let snapshot = try Shipped.snapshot(path)
            let picture = GraphPicture(snapshot: snapshot, title: path)
            let reader = try #require(Reader.read(picture.svg), "\(path): the SVG is not well-formed")
            #expect(reader.boxes.count == snapshot.objects.count + snapshot.platform.iommus.count, "\(path)")
            let dotEdges = picture.dot.split(separator: "\n").filter { $0.contains(" -> ") }.count
            let bound = snapshot.platform.devices.filter { $0.bound != nil }.count
            #expect(dotEdges == snapshot.edges.count + bound, "\(path)")
            #expect(reader.edges == dotEdges, "\(path)")
        }
    }

    @Test func ranksRunLeftToRightFromTheIOMMUToTheIOAS() throws {
        let reader = try #require(Reader.read(GraphPicture(snapshot: try Shipped.snapshot("Examples/arm_nested_guest.iommu"), title: "t").svg))
        func x(_ label: String) -> Int { reader.boxes.first { $0.title.hasPrefix(label + ":") || $0.title == label }?.x ?? -1 }
        let columns = ["IOMMU smmu0", "DEVICE 1", "VDEVICE 5", "VIOMMU 4", "HWPT_PAGING 3", "IOAS 2"].map(x)
        #expect(columns == columns.sorted() && Set(columns).count == columns.count && !columns.contains(-1), "\(reader.boxes)")
        #expect(x("HWPT_NESTED 6") == x("VIOMMU 4"))
    }

    @Test func dotQuotesTheTitleWhateverItHolds() throws {
        let picture = GraphPicture(snapshot: try Shipped.snapshot("Examples/quickstart.iommu"), title: "a\"b\\c\u{1}")
        // The control character as terminalSafe shows it (`\x01`), its backslash escaped for DOT.
        #expect(picture.dot.contains("label=\"a\\\"b\\\\c\\\\x01\"];"), "\(picture.dot)")
        #expect(Reader.read(picture.svg) != nil)
    }
}
