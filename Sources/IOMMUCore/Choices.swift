/// The valid choices for a word an input got wrong, as error messages list them: the closest
/// ones as a "did you mean", or all of them, sorted and cut short so a message stays readable
/// at 80 columns.
public enum Choices {
    /// `names` sorted (or in their own order, `ordered`: ids, devices in probe order) and
    /// joined with ", ", cut after the names that fit in about `width` columns with `…+N`
    /// for the N left out; "none" when there are none.
    public static func listed(_ names: some Sequence<String>, ordered: Bool = false, width: Int = 48) -> String {
        cut(names, ordered: ordered, width: width).text
    }

    private static func cut(_ names: some Sequence<String>, ordered: Bool = false, width: Int) -> (text: String, omitted: Int) {
        var seen = Set<String>()
        let sorted = ordered ? names.filter { seen.insert($0).inserted } : Array(Set(names)).sorted()
        guard !sorted.isEmpty else { return ("none", 0) }
        var text = ""
        for (index, name) in sorted.enumerated() {
            let next = text.isEmpty ? name : text + ", " + name
            // The last name needs no room for the `…+N` that would follow it.
            let reserve = index == sorted.count - 1 ? 0 : 6
            if !text.isEmpty && next.count + reserve > width { return (text + ", …+\(sorted.count - index)", sorted.count - index) }
            text = next
        }
        return (text, 0)
    }

    /// Up to `limit` of `names` close enough to `word` to be what was meant: those a few edits
    /// away (at most a quarter of the word's length, at least 1; a swap of neighbours is one edit) and those the word
    /// begins, closest first, then in name order.
    public static func closest(to word: String, in names: some Sequence<String>, limit: Int = 5) -> [String] {
        let typed = Array(word)
        let allowed = max(1, (typed.count + 2) / 4)
        var found: [(distance: Int, name: String)] = []
        for name in Set(names) {
            let distance = editDistance(typed, Array(name), bound: allowed)
            if distance <= allowed {
                found.append((distance, name))
            } else if typed.count >= 2 && name.hasPrefix(word) {
                found.append((allowed + 1, name))
            }
        }
        return found.sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }.prefix(limit).map(\.name)
    }

    /// The choices for `word` in parentheses: all of `names` when they fit in `width` columns
    /// (`(known: a, b)`, `noun` naming them), else the closest as `(did you mean 'a' or 'b'?)`,
    /// else as many as fit.
    public static func suggestion(for word: String, in names: some Collection<String>, noun: String = "known", width: Int = 32) -> String {
        let all = cut(names, width: width)
        let close = all.omitted > 0 ? closest(to: word, in: names) : []
        guard !close.isEmpty else { return "(\(noun): \(all.text))" }
        return didYouMean(close, width: width)
    }

    /// `(did you mean 'a' or 'b'?)`, the names that fit in about `width` columns, then `…`.
    public static func didYouMean(_ names: [String], width: Int = 32) -> String {
        var quoted: [String] = []
        for name in names.map({ "'\($0)'" }) {
            guard quoted.isEmpty || (quoted + [name]).joined(separator: ", ").count <= width else {
                return "(did you mean \(quoted.joined(separator: ", ")), …?)"
            }
            quoted.append(name)
        }
        let alternatives = quoted.count <= 1 ? quoted.joined() : quoted.dropLast().joined(separator: ", ") + " or " + quoted[quoted.count - 1]
        return "(did you mean \(alternatives)?)"
    }

    /// The edit distance of `a` and `b` counting a swap of neighbours as one edit (optimal
    /// string alignment), or any value above `bound` once it must pass it.
    private static func editDistance(_ a: [Character], _ b: [Character], bound: Int) -> Int {
        guard abs(a.count - b.count) <= bound else { return bound + 1 }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var beforePrevious = Array(repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > bound { return bound + 1 }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
