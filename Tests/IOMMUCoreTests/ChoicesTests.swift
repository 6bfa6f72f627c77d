import Testing
import IOMMUCore

/// How error messages list the valid choices: sorted and cut with `…+N`, the closest first.
struct ChoicesTests {
    @Test func aListIsSortedAndCutWithACount() {
        #expect(Choices.listed(["b", "a", "c", "a"]) == "a, b, c")
        #expect(Choices.listed([String]()) == "none")
        let names = (0..<20).map { "name\($0)" }
        let cut = Choices.listed(names, width: 30)
        #expect(cut.hasPrefix("name0, name1, name10") && cut.contains(", …+") && cut.count <= 36)
    }

    @Test func theClosestAreTyposAndPrefixes() {
        #expect(Choices.closest(to: "ioas_mapp", in: ["ioas_map", "ioas_unmap", "destroy"]) == ["ioas_map"])
        #expect(Choices.closest(to: "ioas", in: ["ioas_map", "ioas_alloc", "destroy"]) == ["ioas_alloc", "ioas_map"])
        #expect(Choices.closest(to: "zzz", in: ["ioas_map"]).isEmpty)
        #expect(Choices.closest(to: "", in: ["a", "bb"]) == ["a"])
    }

    @Test func aSuggestionListsAllThatFitElseTheClosest() {
        #expect(Choices.suggestion(for: "x", in: ["b", "a"], noun: "bound") == "(bound: a, b)")
        let many = (0..<30).map { "command\($0)" } + ["ioas_map"]
        #expect(Choices.suggestion(for: "ioas_mpa", in: many) == "(did you mean 'ioas_map'?)")
        #expect(Choices.suggestion(for: "qqqqqqqq", in: many).hasPrefix("(known: command0, command1, ") && Choices.suggestion(for: "qqqqqqqq", in: many).contains(", …+"))
        #expect(Choices.didYouMean(["a", "b", "c"]) == "(did you mean 'a', 'b' or 'c'?)")
    }
}
