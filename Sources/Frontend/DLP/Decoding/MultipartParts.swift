import Detectors
import NIOCore

/// The parts of a `multipart/*` body that a server would decode before reading them: a part may
/// declare a `Content-Transfer-Encoding` (Go decodes quoted-printable, Django base64,
/// python-multipart both) or a `Content-Encoding` of its own, and a token inside it is then
/// invisible in the raw body. Parts that declare neither are scanned where they are, in the raw
/// body, and add nothing here.
///
/// Servers split a body differently wherever it strays from RFC 2046: Go switches to bare-LF
/// delimiters when the first one ends that way, others take a delimiter after any LF, Django
/// finds the boundary anywhere and ends part headers at the first CRLF CRLF, and not all stop at
/// the closing delimiter. So only the framing they all read alike is decoded — the boundary
/// only on delimiter lines of its own, each begun and ended by CRLF (the first may open the body,
/// the last may end it) — and anything else is refused; parts after the closing delimiter are
/// decoded too.
enum MultipartParts {
    enum Failure: Error, Equatable {
        /// What a part declared that cannot be decoded, in words (never the part's content).
        case undecodable(String)
        case tooDeep(Int)
        case tooLarge
    }

    /// Multipart inside multipart, as far as real clients nest it (mixed inside form-data).
    static let maximumNesting = 4
    static let identityTransferEncodings: Set<String> = ["7bit", "8bit", "binary"]

    /// The decoded parts of `source` under each of `boundaries`, one after another in one view per
    /// boundary (a line break between parts), with the syntax of what was decoded (a decoded part
    /// can itself be multipart or a form). A body with no encoded part gives none.
    /// - Parameter byteLimit: what all results together (bytes and maps back) may hold.
    static func decode(_ source: [UInt8], boundaries: [[UInt8]], byteLimit: Int) throws(Failure) -> [(decoded: Decoded, syntax: SegmentSyntax)] {
        var context = Context(source: source)
        var remaining = byteLimit
        var results: [(decoded: Decoded, syntax: SegmentSyntax)] = []
        for boundary in boundaries {
            let delimiters = try context.delimiters(in: source.indices, boundary: boundary)
            var reading = Reading(byteLimit: remaining)
            try reading.decode(parts: Self.parts(between: delimiters, in: source.indices), nesting: 1, context: &context)
            guard let decoded = reading.builder.finish() else { continue }
            guard !decoded.exceeded else { throw .tooLarge }
            remaining -= decoded.bytes.count + decoded.pieces.count * Decoded.pieceCost
            guard remaining >= 0 else { throw .tooLarge }
            results.append((decoded, reading.syntax))
        }
        return results
    }

    /// A line that is `--boundary` or `--boundary--`.
    struct Delimiter: Equatable {
        /// Where the CRLF before it starts, or the line itself at the start.
        var breakStart: Int
        /// Where the line after it starts.
        var nextLine: Int
        /// `--boundary--`.
        var close: Bool
    }

    /// Text between delimiters.
    struct Part: Equatable {
        var range: Range<Int>
        /// Parts proper follow a delimiter. Loose text (the preamble, an epilogue) is not a part
        /// to most servers, but is to some (Django): it may not declare an encoding.
        var loose: Bool
    }

    /// The parts between delimiters; text before the first and after a closing delimiter is loose.
    static func parts(between delimiters: [Delimiter], in range: Range<Int>) -> [Part] {
        var parts: [Part] = []
        let preambleEnd = delimiters.first?.breakStart ?? range.upperBound
        if range.lowerBound < preambleEnd {
            parts.append(Part(range: range.lowerBound..<preambleEnd, loose: true))
        }
        for index in delimiters.indices {
            let start = delimiters[index].nextLine
            let end = index + 1 < delimiters.count ? delimiters[index + 1].breakStart : range.upperBound
            guard start < end else { continue }
            parts.append(Part(range: start..<end, loose: delimiters[index].close))
        }
        return parts
    }

    /// The work of splitting one body: bounded in total, and each range split once per boundary.
    private struct Context {
        let source: [UInt8]
        /// Bytes searched for delimiters, all nesting levels together, may be this many times the body.
        static let workFactor = 8
        /// Delimiters in one body, all nesting levels together (Go and Django stop at 1,000 parts).
        static let maximumDelimiters = 10_000
        var work = 0
        var delimiterCount = 0
        var cache: [CacheKey: [Delimiter]] = [:]

        struct CacheKey: Hashable {
            var range: Range<Int>
            var boundary: [UInt8]
        }

        init(source: [UInt8]) {
            self.source = source
        }

        /// Every occurrence of `--boundary` in `range`; each must start a delimiter line.
        mutating func delimiters(in range: Range<Int>, boundary: [UInt8]) throws(Failure) -> [Delimiter] {
            let key = CacheKey(range: range, boundary: boundary)
            if let cached = cache[key] { return cached }
            work += range.count
            guard work <= Self.workFactor * source.count + (1 << 20) else { throw .tooLarge }
            let marker = Array("--".utf8) + boundary
            let failure = Self.failureTable(marker)
            var found: [Delimiter] = []
            var from = range.lowerBound
            while let start = Self.find(marker, failure: failure, in: source, from: from, to: range.upperBound) {
                let lineEnd = source[start..<range.upperBound].firstIndex(of: UInt8(ascii: "\n")) ?? range.upperBound
                let atBodyStart = start == range.lowerBound
                let afterCRLF = start - 2 >= range.lowerBound && source[start - 1] == UInt8(ascii: "\n") && source[start - 2] == UInt8(ascii: "\r")
                var rest = source[(start + marker.count)..<lineEnd]
                let close = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                if close { rest = rest.dropFirst(2) }
                let hasLineFeed = lineEnd < range.upperBound
                // Nothing may follow the boundary but `--` and a CRLF (or the body's end).
                if hasLineFeed, rest.last == UInt8(ascii: "\r") { rest = rest.dropLast() }
                let endsWell = !hasLineFeed || source[lineEnd - 1] == UInt8(ascii: "\r")
                guard atBodyStart || afterCRLF, rest.isEmpty, endsWell else {
                    throw .undecodable("a multipart body that holds its boundary outside a delimiter line of its own between CRLFs")
                }
                delimiterCount += 1
                guard delimiterCount <= Self.maximumDelimiters else { throw .undecodable("a multipart body of more than \(Self.maximumDelimiters) parts") }
                found.append(
                    Delimiter(breakStart: atBodyStart ? start : start - 2, nextLine: min(lineEnd + 1, range.upperBound), close: close)
                )
                from = lineEnd
            }
            cache[key] = found
            return found
        }

        /// The first occurrence of `needle` in `source[from..<to]`, in linear time (Knuth–Morris–Pratt:
        /// a body of dashes must not cost its length times the boundary's).
        private static func find(_ needle: [UInt8], failure: [Int], in source: [UInt8], from: Int, to: Int) -> Int? {
            var matched = 0
            var index = from
            while index < to {
                while matched > 0, source[index] != needle[matched] { matched = failure[matched - 1] }
                if source[index] == needle[matched] { matched += 1 }
                if matched == needle.count { return index + 1 - needle.count }
                index += 1
            }
            return nil
        }

        /// For each prefix of `needle`, the length of its longest proper prefix that is also a suffix.
        private static func failureTable(_ needle: [UInt8]) -> [Int] {
            var table = [Int](repeating: 0, count: needle.count)
            var length = 0
            for index in needle.indices.dropFirst() {
                while length > 0, needle[index] != needle[length] { length = table[length - 1] }
                if needle[index] == needle[length] { length += 1 }
                table[index] = length
            }
            return table
        }
    }

    /// One body under one boundary: decodes its encoded parts into one view.
    private struct Reading {
        let byteLimit: Int
        var builder: DecodedBuilder
        var syntax = SegmentSyntax.plain

        init(byteLimit: Int) {
            self.byteLimit = byteLimit
            builder = DecodedBuilder(capacity: 0, maxPieces: max(0, byteLimit) / Decoded.pieceCost + 1)
        }

        mutating func decode(parts: [Part], nesting: Int, context: inout Context) throws(Failure) {
            guard nesting <= maximumNesting else { throw .tooDeep(maximumNesting) }
            let source = context.source
            for part in parts where !builder.exceeded {
                if part.loose {
                    try PartHeaders.refuseDeclaredEncodings(source, range: part.range)
                    continue
                }
                let (headers, body) = try PartHeaders.parse(source, range: part.range)
                guard !body.isEmpty else { continue }
                let partSyntax: SegmentSyntax
                do {
                    partSyntax = try SegmentSyntax(contentTypes: headers.contentTypes)
                } catch {
                    throw .undecodable(error.problem)
                }
                let transfer = try Self.transferEncoding(headers)
                let codings = headers.contentCodings
                if transfer == nil, codings.isEmpty {
                    for boundary in partSyntax.multipartBoundaries {
                        let delimiters = try context.delimiters(in: body, boundary: boundary)
                        let nested = MultipartParts.parts(between: delimiters, in: body)
                        try decode(parts: nested, nesting: nesting + 1, context: &context)
                    }
                    continue
                }
                // Parts follow one another in the view, a line break (mapped to the one that ends
                // the part's headers) between them, so a token cannot straddle two parts.
                if !builder.bytes.isEmpty { builder.decoded(CollectionOfOne(UInt8(ascii: "\n")), from: (body.lowerBound - 1)..<body.lowerBound) }
                if transfer == "quoted-printable", let problem = QuotedPrintable.ambiguity(in: source, range: body) {
                    throw .undecodable("a quoted-printable part with \(problem)")
                }
                if transfer == "quoted-printable", codings.isEmpty {
                    QuotedPrintable.decode(source, range: body, into: &builder)
                } else {
                    let content = try decodedContent(body, of: source, transfer: transfer, codings: codings)
                    builder.decoded(content, from: body)
                }
                guard builder.bytes.count <= byteLimit else { throw .tooLarge }
                do {
                    try syntax.absorb(partSyntax)
                } catch {
                    throw .undecodable(error.problem)
                }
            }
        }

        /// The one transfer encoding the part declares that changes its bytes, if any.
        private static func transferEncoding(_ headers: PartHeaders) throws(Failure) -> String? {
            let declared = Set(headers.transferEncodings)
            guard declared.count <= 1 else { throw .undecodable("a part with conflicting Content-Transfer-Encoding headers") }
            guard let encoding = declared.first, !identityTransferEncodings.contains(encoding) else { return nil }
            guard encoding == "base64" || encoding == "quoted-printable" else {
                throw .undecodable("a part with Content-Transfer-Encoding \(encoding.prefix(40))")
            }
            return encoding
        }

        /// The part's content with its transfer encoding, then its content codings, removed.
        private func decodedContent(_ body: Range<Int>, of source: [UInt8], transfer: String?, codings: [String]) throws(Failure) -> [UInt8] {
            var content: [UInt8]
            switch transfer {
            case "base64":
                guard let decoded = StrictBase64.decode(source[body]) else { throw .undecodable("a part that is not valid base64") }
                content = decoded
            case "quoted-printable":
                var inner = DecodedBuilder(capacity: body.count, maxPieces: .max)
                QuotedPrintable.decode(source, range: body, into: &inner)
                content = inner.bytes
            default:
                content = Array(source[body])
            }
            guard !codings.isEmpty else { return content }
            let limit = max(0, byteLimit - builder.bytes.count)
            do {
                let decoded = try BodyDecoding.decode(ByteBuffer(bytes: content), codings: codings, limit: limit)
                content = Array(decoded.readableBytesView)
            } catch {
                if case .tooLarge = error { throw .tooLarge }
                throw .undecodable("a part whose Content-Encoding cannot be decoded")
            }
            return content
        }
    }
}
