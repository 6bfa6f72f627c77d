/// A standalone SVG document written as a person would read it: one element per line,
/// indented by nesting, every text XML-escaped, the size in a `viewBox`, a `<title>`, styles
/// in one `<style>` element (classes, no inline clutter), and nothing external: no scripts,
/// no links, no fonts to fetch. The pictures `iommuscope export` draws are all written with it.
public struct SVGWriter {
    /// An element's attributes, in the order they are written.
    public typealias Attributes = KeyValuePairs<String, String>

    private var lines: [String] = []
    private var open: [String] = []

    /// A document of `width` × `height` user units titled `title`, with the CSS `style`.
    public init(width: Int, height: Int, title: String, style: String) {
        lines.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        lines.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">")
        open.append("svg")
        element("title", [:], text: title)
        lines.append("  <style>")
        for line in style.split(separator: "\n") { lines.append("    " + Self.escaped(String(line))) }
        lines.append("  </style>")
    }

    /// Text made safe for XML: control characters (which XML 1.0 does not allow) shown as
    /// `terminalSafe` escapes, then `&`, `<`, `>` and both quotes as entities.
    public static func escaped(_ text: String) -> String {
        var escaped = ""
        for character in terminalSafe(text) {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private var indent: String { String(repeating: "  ", count: open.count) }

    private static func attributes(_ attributes: Attributes) -> String {
        attributes.map { " \($0.key)=\"\(escaped($0.value))\"" }.joined()
    }

    /// `<name attributes>text</name>`, or `<name attributes/>` without text, on one line.
    public mutating func element(_ name: String, _ attributes: Attributes, text: String? = nil) {
        let head = indent + "<" + name + Self.attributes(attributes)
        lines.append(text.map { head + ">" + Self.escaped($0) + "</\(name)>" } ?? head + "/>")
    }

    /// Opens `<name attributes>`; the elements up to the matching `close()` are inside it.
    public mutating func begin(_ name: String, _ attributes: Attributes) {
        lines.append(indent + "<" + name + Self.attributes(attributes) + ">")
        open.append(name)
    }

    /// Closes the innermost element `begin` opened (the document itself stays open).
    public mutating func end() {
        guard open.count > 1, let name = open.popLast() else { return }
        lines.append(indent + "</\(name)>")
    }

    /// A group of elements: `<g class=...>` with an optional `<title>` (a tooltip in a browser).
    public mutating func group(class name: String, title: String? = nil, _ body: (inout SVGWriter) -> Void) {
        begin("g", ["class": name])
        if let title { element("title", [:], text: title) }
        body(&self)
        end()
    }

    public mutating func rect(x: Int, y: Int, width: Int, height: Int, class name: String) {
        element("rect", ["x": "\(x)", "y": "\(y)", "width": "\(max(0, width))", "height": "\(max(0, height))", "class": name])
    }

    /// A line of text; `anchor` is `start`, `middle` or `end`.
    public mutating func text(_ text: String, x: Int, y: Int, class name: String, anchor: String = "start") {
        if anchor == "start" {
            element("text", ["x": "\(x)", "y": "\(y)", "class": name], text: text)
        } else {
            element("text", ["x": "\(x)", "y": "\(y)", "class": name, "text-anchor": anchor], text: text)
        }
    }

    /// An SVG path (`d` in path syntax), e.g. an edge's curve.
    public mutating func path(_ d: String, class name: String) {
        element("path", ["d": d, "class": name])
    }

    /// The document, every open element closed.
    public var document: String {
        var copy = self
        while copy.open.count > 1 { copy.end() }
        return (copy.lines + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    /// The width of `text` in a monospace font of `size` units (0.6 em a character), for
    /// laying out columns without measuring glyphs.
    public static func monospaceWidth(_ text: String, size: Int) -> Int {
        (text.count * size * 6 + 9) / 10
    }
}
