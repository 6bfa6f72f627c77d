/// The storage of one touched 4K frame: its 512 little-endian words.
final class Frame {
    static let wordCount = Int(PhysicalMemory.frameSize / 8)
    let words: UnsafeMutablePointer<UInt64>

    /// A zeroed frame.
    init() {
        words = .allocate(capacity: Self.wordCount)
        words.initialize(repeating: 0, count: Self.wordCount)
    }

    /// A frame with `other`'s words, for the first write to a frame a fork shares.
    init(copying other: Frame) {
        words = .allocate(capacity: Self.wordCount)
        words.initialize(from: other.words, count: Self.wordCount)
    }

    deinit { words.deallocate() }
}

/// The touched frames of a `PhysicalMemory`, by frame number. A copy (a fork) shares the
/// table until either side changes it, and the `Frame`s themselves until either side writes
/// one (`wordsForWriting`).
///
/// Each frame is filed twice: its `Frame` (which owns the words and says whether a fork
/// shares them) and its words' address. A read looks up only the address, a plain value, so
/// finding a word takes no reference count; the two tables change together.
struct FrameTable {
    private var frames = WordTable<UInt64, Frame>()
    private var words = WordTable<UInt64, UnsafeMutablePointer<UInt64>>()

    /// Frames held.
    var count: Int { frames.count }

    /// Each frame's words (for the frames with storage) as they are now: valid until the
    /// table next changes.
    var wordsProbe: WordTable<UInt64, UnsafeMutablePointer<UInt64>>.Probe { words.probe }

    /// The words of the frame, writable by this table alone: a frame shared with a copy of
    /// the table is copied first. Nil when the frame has no storage.
    @inline(__always)
    mutating func wordsForWriting(ofFrame frameNumber: UInt64) -> UnsafeMutablePointer<UInt64>? {
        guard let (pointer, copied) = frames.modify(frameNumber, { frame -> (UnsafeMutablePointer<UInt64>, Bool) in
            if isKnownUniquelyReferenced(&frame) { return (frame.words, false) }
            frame = Frame(copying: frame)
            return (frame.words, true)
        }) else { return nil }
        if copied { words[frameNumber] = pointer }
        return pointer
    }

    /// Gives the frame zeroed storage (it must have none yet); its words.
    mutating func insert(frame frameNumber: UInt64) -> UnsafeMutablePointer<UInt64> {
        let frame = Frame()
        frames[frameNumber] = frame
        words[frameNumber] = frame.words
        return frame.words
    }

    /// Drops the frame's storage, if it has any.
    mutating func remove(frame frameNumber: UInt64) {
        words[frameNumber] = nil
        frames[frameNumber] = nil
    }

    /// The numbers of the frames with storage, ascending.
    var frameNumbers: [UInt64] { frames.entries.map(\.key).sorted() }
}
