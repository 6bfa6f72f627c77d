import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Presentation

/// The writer every exported picture uses: text from a scenario (a file or device name with
/// markup characters or control characters) cannot break the XML or inject elements, each
/// element is on its own line indented by nesting, and the document closes what is open.
struct SVGWriterTests {
    @Test func markupAndControlCharactersAreEscaped() {
        #expect(SVGWriter.escaped("<a href='x'> & \"b\"") == "&lt;a href=&apos;x&apos;&gt; &amp; &quot;b&quot;")
        // XML 1.0 allows no C0 control character but tab, LF and CR: they are shown as escapes.
        #expect(SVGWriter.escaped("nic\u{1}\u{1b}[2J") == "nic\\x01\\x1b[2J")
    }

    @Test func aHostileTitleStillParsesAndSaysWhatItSaid() throws {
        let hostile = "</title><script>alert(1)</script>\u{7}"
        var svg = SVGWriter(width: 100, height: 50, title: hostile, style: "text { fill: #000; }")
        svg.group(class: "a\"b", title: hostile) { svg in
            svg.text(hostile, x: 1, y: 2, class: "label", anchor: "middle")
        }
        let document = svg.document
        #expect(!document.contains("<script"))
        final class Reader: NSObject, XMLParserDelegate {
            var names: [String] = []
            var titles: [String] = []
            private var text = ""
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String]) {
                names.append(name)
                text = ""
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "title" { titles.append(text) }
            }
        }
        let reader = Reader()
        let parser = XMLParser(data: Data(document.utf8))
        parser.delegate = reader
        #expect(parser.parse(), "\(parser.parserError.map(String.init(describing:)) ?? "")")
        #expect(reader.names == ["svg", "title", "style", "g", "title", "text"])
        #expect(reader.titles == ["</title><script>alert(1)</script>\\x07", "</title><script>alert(1)</script>\\x07"])
    }

    @Test func oneElementPerLineIndentedByNesting() {
        var svg = SVGWriter(width: 10, height: 20, title: "t", style: "")
        svg.begin("g", ["class": "outer"])
        svg.rect(x: 1, y: 2, width: 3, height: -4, class: "box")
        svg.path("M 0 0 L 5 5", class: "edge")
        // Left open: the document closes it.
        let lines = svg.document.split(separator: "\n").map(String.init)
        #expect(lines == [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"20\" viewBox=\"0 0 10 20\">",
            "  <title>t</title>",
            "  <style>",
            "  </style>",
            "  <g class=\"outer\">",
            "    <rect x=\"1\" y=\"2\" width=\"3\" height=\"0\" class=\"box\"/>",
            "    <path d=\"M 0 0 L 5 5\" class=\"edge\"/>",
            "  </g>",
            "</svg>",
        ])
    }
}
