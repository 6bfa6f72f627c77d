/// SplitMix64 (Steele, Lea, Flood 2014): a tiny deterministic generator, so that every
/// randomised test replays exactly from its seed.
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound` (bound > 0); the modulo bias is irrelevant for test inputs.
    public mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }
    public mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
}
