import IPC

/// What DLP scans besides the bytes as sent: every encoding a server would undo, undone (README,
/// "What is scanned"). Each segment is percent-decoded, JSON-unescaped and searched for base64 and
/// hex runs of text, and a multipart body has its encoded parts decoded (``MultipartParts``); each
/// result is a view scanned like a segment and decoded again, to `maximumDepth` levels.
/// A finding in a view is mapped back through every level to the raw bytes that produced it, so
/// events, previews and redaction all speak of what was actually sent.
///
/// Bounded: views and their maps back may hold at most three times the raw bytes (plus a little),
/// and text still encoded below the last level is refused. Either bound refuses the traffic: what DLP cannot decode it
/// does not pass.
struct DecodedViews {
    struct View: Equatable {
        var decoded: Decoded
        /// The segment (raw, or an earlier view) it was decoded from.
        var parent: Int
        var depth: Int
    }

    enum Failure: Error, Equatable {
        case tooDeep(Int)
        case tooLarge(Int)
        /// A multipart part declares an encoding that cannot be undone (what, in words).
        case undecodablePart(String)

        var reason: String {
            switch self {
            case .tooDeep(let levels): "egress DLP: text encoded more than \(levels) levels deep"
            case .tooLarge(let bytes): "egress DLP: too much encoded text to decode (over \(bytes) bytes)"
            case .undecodablePart(let problem): "egress DLP: cannot decode \(problem) for scanning"
            }
        }
    }

    static let maximumDepth = 4
    /// Raw and decoded bytes together stay well inside one IPC frame.
    static let maximumTotalBytes = 72 << 20

    /// The raw segments, then every view, in the order scanned.
    private(set) var segments: [[UInt8]]
    let rawCount: Int
    private(set) var views: [View] = []

    /// The bytes all views together may hold: three times the raw bytes, plus a little — ten
    /// times inbound, because fetched pages nest HTML in JSON (Stack Exchange bodies are HTML
    /// inside JSON strings: each order of undoing the layers is a view of its own).
    static func budget(forRawBytes rawBytes: Int, inbound: Bool = false) -> Int {
        max(0, min((inbound ? 10 : 3) * rawBytes + (64 << 10), maximumTotalBytes - rawBytes))
    }

    /// - Parameters:
    ///   - syntax: what the raw segments' `Content-Type` says they are, where it says more than text.
    ///   - budget: the bytes all views may hold (``budget(forRawBytes:)`` unless a test says otherwise).
    ///   - inbound: decode what an agent reads rather than what a server would: the strings of a
    ///     JSON document unescaped, HTML character references undone — not percent-encoding, hex
    ///     or base64, which an agent reads as written (and which would only multiply the views of
    ///     every fetched page). Inbound scans then take ``leaves``.
    init(
        raw: [[UInt8]],
        syntax rawSyntax: [Int: SegmentSyntax] = [:],
        budget: Int? = nil,
        inbound: Bool = false
    ) throws(Failure) {
        segments = raw
        rawCount = raw.count
        let budget = budget ?? Self.budget(forRawBytes: raw.reduce(0) { $0 + $1.count }, inbound: inbound)
        var used = 0
        // Per raw segment: the same text reached twice from one segment is scanned once, but a
        // copy of it in another segment is scanned (and redacted) there too.
        var seen = Set<SeenView>()
        var root = Array(raw.indices)
        // A view keeps its segment's form syntax; only decoded multipart parts say more.
        var syntax = raw.indices.map { rawSyntax[$0] ?? .plain }
        var pending = Array(raw.indices.map { ($0, 0) })
        var next = 0
        while next < pending.count {
            let (index, depth) = pending[next]
            next += 1
            let source = segments[index]
            // Each decoder may build as many pieces as the budget has room for, and no more.
            let maxPieces = max(0, budget - used) / Decoded.pieceCost + 1
            let form = SegmentSyntax(formEncoded: syntax[index].formEncoded)
            var decodings: [(Decoded, SegmentSyntax)] = []
            let boundaries = syntax[index].multipartBoundaries
            if !boundaries.isEmpty {
                do {
                    decodings += try MultipartParts.decode(source, boundaries: boundaries, byteLimit: max(0, budget - used))
                } catch {
                    switch error {
                    case .undecodable(let problem): throw .undecodablePart(problem)
                    case .tooDeep: throw .tooDeep(Self.maximumDepth)
                    case .tooLarge: throw .tooLarge(budget)
                    }
                }
            }
            // One pass says which decoders can find anything; only those look at the bytes.
            let screen = DecoderScreen(source)
            // Inbound, JSON strings are unescaped in what holds JSON, and once more for JSON in
            // JSON strings; a JSON view's entities are undone in the view.
            let unescapesJSON = screen.hasBackslash && (!inbound || (depth <= 1 && Self.holdsJSON(source)))
            let decoders = [
                !inbound && screen.mayPercentDecode(plusIsSpace: form.formEncoded)
                    ? PercentDecoding.decode(source, plusIsSpace: form.formEncoded, maxPieces: maxPieces) : nil,
                unescapesJSON ? JSONUnescaping.decode(source, maxPieces: maxPieces) : nil,
                !inbound && screen.mayHoldBase64Run ? Base64Runs.decode(source, maxPieces: maxPieces) : nil,
                !inbound && screen.hasLongHexRun ? HexRuns.decode(source, maxPieces: maxPieces) : nil,
                // Entities are undone in a page or feed as fetched, in a JSON document's unescaped
                // strings, and once more (an Atom feed's escaped HTML); deeper, code samples that
                // spell entities would only multiply views.
                inbound && depth <= 1 && (depth > 0 || !unescapesJSON)
                    ? HTMLEntities.decode(source, maxPieces: maxPieces) : nil,
            ]
            for case let decoded? in decoders { decodings.append((decoded, form)) }
            for (decoded, viewSyntax) in decodings {
                guard !decoded.exceeded else { throw .tooLarge(budget) }
                // Two orders of decoding often reach the same text: it is scanned once.
                guard seen.insert(SeenView(root: root[index], bytes: decoded.bytes)).inserted else { continue }
                guard depth < Self.maximumDepth else { throw .tooDeep(Self.maximumDepth) }
                used += decoded.bytes.count + decoded.pieces.count * Decoded.pieceCost
                guard used <= budget else { throw .tooLarge(budget) }
                // Every view is a segment of the scan request, which has a bounded count.
                guard segments.count < WireProtocol.maxSegments else { throw .tooLarge(budget) }
                views.append(View(decoded: decoded, parent: index, depth: depth + 1))
                segments.append(decoded.bytes)
                root.append(root[index])
                syntax.append(viewSyntax)
                pending.append((segments.count - 1, depth + 1))
            }
        }
    }

    /// The segments no view was decoded from: inbound, what an agent reads is the most decoded
    /// form, and each decoding here only undoes escapes, so a leaf holds all its parent's text.
    var leaves: [[UInt8]] {
        let parents = Set(views.map(\.parent))
        return segments.indices.filter { !parents.contains($0) }.map { segments[$0] }
    }

    /// What an inbound scan covers: the leaves, and each leaf as a reader sees it
    /// (``InvisibleText``) where that differs.
    var inboundSegments: [[UInt8]] {
        let leaves = leaves
        return leaves + leaves.compactMap(InvisibleText.normalised)
    }

    /// Inbound, JSON strings are unescaped only in what holds JSON: an agent's client decodes the
    /// JSON it fetched, and reads a README's `\n` as written. JSON is held by a document that
    /// starts like JSON (after a byte-order mark, an XSSI guard such as `)]}'`, or an SSE field
    /// name), or that has a `"key":` in its first 4 KiB (JSONP, event streams, JSON in a page).
    static func holdsJSON(_ bytes: [UInt8]) -> Bool {
        var index = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "'")].contains(bytes[index]) {
            index += 1
        }
        if index < bytes.count, [UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\"")].contains(bytes[index]) { return true }
        let head = bytes.prefix(4096)
        var position = head.startIndex
        while let quote = head[position...].firstIndex(of: UInt8(ascii: "\"")) {
            var after = quote + 1
            while after < head.endIndex, head[after] != UInt8(ascii: "\""), after - quote < 64 { after += 1 }
            guard after < head.endIndex, head[after] == UInt8(ascii: "\"") else { return false }
            var colon = after + 1
            while colon < head.endIndex, head[colon] == 0x20 { colon += 1 }
            if colon < head.endIndex, head[colon] == UInt8(ascii: ":"), after > quote + 1 { return true }
            position = after + 1
            if position >= head.endIndex { break }
        }
        return false
    }

    private struct SeenView: Hashable {
        var root: Int
        var bytes: [UInt8]

        // An array of bytes hashes element by element; the bytes as one block hash several
        // times faster, and every view of every scan is hashed.
        func hash(into hasher: inout Hasher) {
            hasher.combine(root)
            hasher.combine(bytes.count)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// Findings in any segment as findings in the raw segments, each raw span once per detector.
    func rawFindings(_ findings: [WireFinding]) -> [WireFinding] {
        var mapped: [WireFinding] = []
        var seen = Set<WireFinding>()
        for finding in findings {
            var segment = Int(finding.segment)
            var range = Int(finding.start)..<Int(finding.end)
            // Checked against the segments by ScanReplyCheck when the reply arrived.
            guard segment < segments.count, range.upperBound <= segments[segment].count, !range.isEmpty else { continue }
            while segment >= rawCount {
                let view = views[segment - rawCount]
                range = view.decoded.sourceRange(of: range)
                segment = view.parent
            }
            let raw = WireFinding(
                detectorID: finding.detectorID,
                segment: UInt32(segment),
                start: UInt64(range.lowerBound),
                end: UInt64(range.upperBound)
            )
            if seen.insert(raw).inserted { mapped.append(raw) }
        }
        return mapped
    }
}
