/// Bytes decoded from a source, with the map back: which source bytes each output byte came from,
/// so a finding in decoded text names (and redacts) the encoded span that produced it.
struct Decoded: Equatable {
    /// Output `output` came from source `source`. A `linear` piece maps byte for byte (text that
    /// needed no decoding); otherwise every output byte maps to the whole source range (an escape,
    /// a base64 run), so a finding inside it covers all of it.
    struct Piece: Equatable {
        var output: Range<Int>
        var source: Range<Int>
        var linear: Bool
    }

    var bytes: [UInt8]
    /// Sorted by output, contiguous, covering every output byte.
    var pieces: [Piece]
    /// The decoder stopped at its piece limit: the view is incomplete and must not be trusted.
    var exceeded = false

    /// What one piece costs in memory, counted against the views' budget.
    static let pieceCost = MemoryLayout<Piece>.stride

    /// The source range that produced output `range` (non-empty, within `bytes`).
    func sourceRange(of range: Range<Int>) -> Range<Int> {
        let first = pieces[piece(containing: range.lowerBound)]
        let last = pieces[piece(containing: range.upperBound - 1)]
        let start = first.linear ? first.source.lowerBound + (range.lowerBound - first.output.lowerBound) : first.source.lowerBound
        let end = last.linear ? last.source.lowerBound + (range.upperBound - last.output.lowerBound) : last.source.upperBound
        return start..<max(start, end)
    }

    private func piece(containing offset: Int) -> Int {
        var low = 0
        var high = pieces.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if pieces[middle].output.lowerBound <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }
}

/// Builds a ``Decoded`` while a decoder walks its source: copied runs become linear pieces,
/// decoded escapes become pieces of their own.
struct DecodedBuilder {
    private(set) var bytes: [UInt8] = []
    private(set) var pieces: [Decoded.Piece] = []
    private(set) var changed = false
    /// More pieces than `maxPieces` were needed; the decoder stops and the result is refused.
    private(set) var exceeded = false
    private let maxPieces: Int
    /// Reserved at the first output, not before: most segments a decoder looks at give nothing.
    private let capacity: Int

    init(capacity: Int, maxPieces: Int) {
        self.maxPieces = maxPieces
        self.capacity = capacity
    }

    private mutating func reserveOnFirstOutput() {
        if bytes.isEmpty { bytes.reserveCapacity(capacity) }
    }

    private mutating func append(_ piece: Decoded.Piece) {
        pieces.append(piece)
        if pieces.count > maxPieces { exceeded = true }
    }

    /// Source bytes kept as they are.
    mutating func copy(_ source: ArraySlice<UInt8>) {
        guard !source.isEmpty else { return }
        reserveOnFirstOutput()
        let start = bytes.count
        bytes.append(contentsOf: source)
        if let last = pieces.last, last.linear, last.source.upperBound == source.startIndex {
            pieces[pieces.count - 1].output = last.output.lowerBound..<bytes.count
            pieces[pieces.count - 1].source = last.source.lowerBound..<source.endIndex
        } else {
            append(.init(output: start..<bytes.count, source: source.startIndex..<source.endIndex, linear: true))
        }
    }

    /// `output` decoded from the source bytes in `source`.
    mutating func decoded(_ output: some Collection<UInt8>, from source: Range<Int>) {
        guard !output.isEmpty else { return }
        reserveOnFirstOutput()
        let start = bytes.count
        bytes.append(contentsOf: output)
        changed = true
        // Escapes back to back become one piece (a finding inside maps to the whole encoded run),
        // so a body of nothing but escapes costs pieces per run, not per escape.
        if let last = pieces.last, !last.linear, last.source.upperBound == source.lowerBound {
            pieces[pieces.count - 1].output = last.output.lowerBound..<bytes.count
            pieces[pieces.count - 1].source = last.source.lowerBound..<source.upperBound
        } else {
            append(.init(output: start..<bytes.count, source: source, linear: false))
        }
    }

    /// Source bytes a decoder removes without output (a soft line break): the output differs from
    /// the source even if nothing else was decoded.
    mutating func dropped() {
        changed = true
    }

    /// The result, or `nil` when nothing was decoded (the view would repeat its source).
    func finish() -> Decoded? {
        guard changed else { return nil }
        var decoded = Decoded(bytes: bytes, pieces: pieces)
        decoded.exceeded = exceeded
        return decoded
    }
}
