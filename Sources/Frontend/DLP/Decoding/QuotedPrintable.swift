/// Quoted-printable (RFC 2045 §6.7), the transfer encoding a multipart part may declare: `=XX`
/// escapes and `=` soft line breaks, which split a token across lines invisibly to a scanner.
/// Decoded as lenient decoders do: hex in either case, whitespace before a soft break, and an `=`
/// that starts neither kept as it is.
enum QuotedPrintable {
    /// Decodes `range` of `source` into `builder`, mapping every output byte back into `source`.
    static func decode(_ source: [UInt8], range: Range<Int>, into builder: inout DecodedBuilder) {
        var runStart = range.lowerBound
        var index = range.lowerBound
        while index < range.upperBound, !builder.exceeded {
            guard source[index] == UInt8(ascii: "=") else {
                index += 1
                continue
            }
            if index + 2 < range.upperBound,
                let high = PercentDecoding.hexValue(source[index + 1]),
                let low = PercentDecoding.hexValue(source[index + 2])
            {
                builder.copy(source[runStart..<index])
                builder.decoded(CollectionOfOne(high << 4 | low), from: index..<(index + 3))
                index += 3
                runStart = index
            } else if let end = softBreakEnd(source, after: index, limit: range.upperBound) {
                builder.copy(source[runStart..<index])
                builder.dropped()
                index = end
                runStart = index
            } else {
                index += 1
            }
        }
        builder.copy(source[runStart..<range.upperBound])
    }

    /// Where a soft line break that starts with the `=` at `equals` ends: `=`, optional spaces or
    /// tabs, then CRLF or LF. After `=` and a CR that no LF follows, Python's decoder drops the
    /// rest of the line, so the break runs to the next LF (or the end).
    private static func softBreakEnd(_ source: [UInt8], after equals: Int, limit: Int) -> Int? {
        var index = equals + 1
        while index < limit, source[index] == UInt8(ascii: " ") || source[index] == UInt8(ascii: "\t") { index += 1 }
        if index < limit, source[index] == UInt8(ascii: "\r") {
            index += 1
            guard index < limit, source[index] == UInt8(ascii: "\n") else {
                return (source[index..<limit].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? limit
            }
        }
        guard index < limit, source[index] == UInt8(ascii: "\n") else { return nil }
        return index + 1
    }
}
