import Detectors
import NIOCore

/// The parts of a `multipart/*` body that a server would decode before reading them: a part may
/// declare a `Content-Transfer-Encoding` (base64, quoted-printable) or a `Content-Encoding` (gzip,
/// deflate) of its own, and a token inside it is then invisible in the raw body. Parts that declare
/// neither are scanned where they are, in the raw body, and add nothing here.
///
/// Servers split parts differently: some accept a delimiter after a bare LF, some only after CRLF
/// (RFC 2046 §5.1.1). Where the two readings differ, both are decoded, so a part hidden from one
/// reading is still seen in the other.
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

    /// The decoded parts of `source` under each of `boundaries` and both readings of line breaks,
    /// each result one after another in one view (a line break between parts), with the syntax of
    /// what was decoded (a decoded part can itself be multipart or a form). Readings that split the
    /// body the same way give one result; a body with no encoded part gives none.
    static func decode(
        _ source: [UInt8],
        boundaries: [[UInt8]],
        byteLimit: Int,
        maxPieces: Int
    ) throws(Failure) -> [(decoded: Decoded, syntax: SegmentSyntax)] {
        var results: [(decoded: Decoded, syntax: SegmentSyntax)] = []
        for boundary in boundaries {
            var readings: [[Range<Int>]] = []
            for bareLineFeeds in [false, true] {
                let parts = split(source, range: source.indices, boundary: boundary, bareLineFeeds: bareLineFeeds)
                guard !readings.contains(parts) else { continue }
                readings.append(parts)
                var decoder = Decoder(source: source, byteLimit: byteLimit, maxPieces: maxPieces, bareLineFeeds: bareLineFeeds)
                try decoder.decode(parts: parts, nesting: 1)
                if let decoded = decoder.builder.finish() { results.append((decoded, decoder.syntax)) }
            }
        }
        return results
    }

    /// The ranges of the parts (headers and content) between the delimiters of `boundary`.
    static func split(_ source: [UInt8], range: Range<Int>, boundary: [UInt8], bareLineFeeds: Bool) -> [Range<Int>] {
        let delimiter = Array("--".utf8) + boundary
        var parts: [Range<Int>] = []
        var partStart: Int?
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            let lineEnd = source[lineStart..<range.upperBound].firstIndex(of: UInt8(ascii: "\n")) ?? range.upperBound
            if let close = delimiterLine(source, line: lineStart..<lineEnd, delimiter: delimiter) {
                // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), and
                // the strict reading only takes CRLF as one.
                let precededByCR = lineStart - 2 >= range.lowerBound && source[lineStart - 2] == UInt8(ascii: "\r")
                if lineStart == range.lowerBound || bareLineFeeds || precededByCR {
                    if let start = partStart {
                        let breakLength = lineStart == range.lowerBound ? 0 : (precededByCR ? 2 : 1)
                        parts.append(start..<max(start, lineStart - breakLength))
                    }
                    if close { return parts }
                    partStart = min(lineEnd + 1, range.upperBound)
                }
            }
            lineStart = lineEnd + 1
        }
        if let start = partStart, start < range.upperBound { parts.append(start..<range.upperBound) }
        return parts
    }

    /// Whether `line` is a delimiter line (`--boundary`, then only spaces, tabs or a CR), and if so
    /// whether it closes the body (`--boundary--`).
    private static func delimiterLine(_ source: [UInt8], line: Range<Int>, delimiter: [UInt8]) -> Bool? {
        guard line.count >= delimiter.count, source[line].starts(with: delimiter) else { return nil }
        var rest = source[(line.lowerBound + delimiter.count)..<line.upperBound]
        let close = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
        if close { rest = rest.dropFirst(2) }
        guard rest.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) else { return nil }
        return close
    }

    /// One reading of one body: decodes its parts into one view.
    private struct Decoder {
        let source: [UInt8]
        let byteLimit: Int
        let bareLineFeeds: Bool
        var builder: DecodedBuilder
        var syntax = SegmentSyntax.plain

        init(source: [UInt8], byteLimit: Int, maxPieces: Int, bareLineFeeds: Bool) {
            self.source = source
            self.byteLimit = byteLimit
            self.bareLineFeeds = bareLineFeeds
            builder = DecodedBuilder(capacity: 0, maxPieces: maxPieces)
        }

        mutating func decode(parts: [Range<Int>], nesting: Int) throws(Failure) {
            guard nesting <= maximumNesting else { throw .tooDeep(maximumNesting) }
            for part in parts where !builder.exceeded {
                let (headers, body) = PartHeaders.parse(source, range: part)
                guard !body.isEmpty else { continue }
                let partSyntax: SegmentSyntax
                do {
                    partSyntax = try SegmentSyntax(contentTypes: headers.contentTypes)
                } catch {
                    throw .undecodable("a part with too many multipart boundaries")
                }
                let transfer = try transferEncoding(headers)
                let codings = headers.contentCodings
                if transfer == nil, codings.isEmpty {
                    for boundary in partSyntax.multipartBoundaries {
                        let nested = split(source, range: body, boundary: boundary, bareLineFeeds: bareLineFeeds)
                        try decode(parts: nested, nesting: nesting + 1)
                    }
                    continue
                }
                // Parts follow one another in the view, a line break (mapped to the one that ends
                // the part's headers) between them, so a token cannot straddle two parts.
                if !builder.bytes.isEmpty { builder.decoded(CollectionOfOne(UInt8(ascii: "\n")), from: (body.lowerBound - 1)..<body.lowerBound) }
                if transfer == "quoted-printable", codings.isEmpty {
                    QuotedPrintable.decode(source, range: body, into: &builder)
                } else {
                    let content = try decodedContent(body, transfer: transfer, codings: codings)
                    builder.decoded(content, from: body)
                }
                guard builder.bytes.count <= byteLimit else { throw .tooLarge }
                syntax.formEncoded = syntax.formEncoded || partSyntax.formEncoded
                for boundary in partSyntax.multipartBoundaries where !syntax.multipartBoundaries.contains(boundary) {
                    syntax.multipartBoundaries.append(boundary)
                }
                guard syntax.multipartBoundaries.count <= SegmentSyntax.maximumBoundaries else {
                    throw .undecodable("parts with too many multipart boundaries")
                }
            }
        }

        /// The one transfer encoding the part declares that changes its bytes, if any.
        private func transferEncoding(_ headers: PartHeaders) throws(Failure) -> String? {
            let declared = Set(headers.transferEncodings)
            guard declared.count <= 1 else { throw .undecodable("a part with conflicting Content-Transfer-Encoding headers") }
            guard let encoding = declared.first, !identityTransferEncodings.contains(encoding) else { return nil }
            guard encoding == "base64" || encoding == "quoted-printable" else {
                throw .undecodable("a part with Content-Transfer-Encoding \(encoding.prefix(40))")
            }
            return encoding
        }

        /// The part's content with its transfer encoding, then its content codings, removed.
        private func decodedContent(_ body: Range<Int>, transfer: String?, codings: [String]) throws(Failure) -> [UInt8] {
            var content: [UInt8]
            switch transfer {
            case "base64":
                let characters = source[body].filter { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A) }
                guard let decoded = Base64URL.decode(characters) else { throw .undecodable("a part that is not valid base64") }
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
