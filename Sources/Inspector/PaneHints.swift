/// Each pane's main keys in a word each: the status line shows them while the pane is
/// focused, before the global ones (the `?` overlay has every key in full).
extension ObjectTreePane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "open"), ("h", "collapse"), ("Space", "fold"), ("d", "details")] }
}

extension DetailsPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "follow"), ("j k", "move")] }
}

extension PageTablePane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "descend"), ("h", "up"), ("/", "address")] }
}

extension WalkPane {
    public var statusHints: [(key: String, action: String)] {
        [("i", "IOVA"), ("d D", "device"), ("w", "r/w"), ("p", "PASID"), ("c", "cold"), ("s", "step")]
    }
}

extension IOVAMapPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "zoom"), ("-", "out"), ("h l", "pan"), ("r", "reset")] }
}

extension FaultsPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "walk"), ("/", "find")] }
}

extension TimelinePane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "go"), ("m M", "marks"), ("#", "line")] }
}

extension ResultsPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "go"), ("/", "find")] }
}
