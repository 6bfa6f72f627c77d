/// Each pane's main keys in a word each: the status line shows them while the pane is
/// focused, before the global ones (the `?` overlay has every key in full). A pane that is
/// in a state of its own (typing a number, stepping a walk) shows that state's keys.
extension ObjectTreePane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "open"), ("h", "collapse"), ("Space", "fold"), ("d", "details")] }
}

extension DetailsPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "follow"), ("j k", "move")] }
}

extension PageTablePane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "descend"), ("h", "up"), ("/", "address"), ("b", "bits")] }
}

/// The walk's hints follow its state: the IOVA being typed, step mode's keys, else its toggles.
extension WalkPane {
    public var statusHints: [(key: String, action: String)] {
        if editing != nil { return [("0-9 a-f", "hex IOVA"), ("Enter", "walk it"), ("Esc", "cancel")] }
        if stepMode { return [("Space l", "next access"), ("h", "previous"), ("g G", "first last"), ("s", "leave step")] }
        return [("i", "IOVA"), ("d D", "device"), ("w", "r/w"), ("p", "PASID"), ("c", "cold"), ("s", "step"), ("b", "bits")]
    }
}

extension IOVAMapPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "zoom"), ("-", "out"), ("h l", "pan"), ("r", "reset"), ("g", "guest")] }
}

extension FaultsPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "walk"), ("/", "find")] }
}

extension TimelinePane {
    public var statusHints: [(key: String, action: String)] {
        if jumping != nil { return [("0-9", "line number"), ("Enter", "jump"), ("Esc", "cancel")] }
        return [("Enter", "go"), ("e E", "flagged"), ("#", "line")]
    }
}

extension ResultsPane {
    public var statusHints: [(key: String, action: String)] { [("Enter", "go"), ("/", "find")] }
}

/// The lesson's step keys, and Enter while the step's answer is hidden.
extension LessonPane {
    public var statusHints: [(key: String, action: String)] {
        [("n", "next"), ("N", "previous")] + (step?.predict != nil && !revealed ? [("Enter", "answer")] : [])
    }
}
