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
    /// tabs, then CRLF or LF.
    private static func softBreakEnd(_ source: [UInt8], after equals: Int, limit: Int) -> Int? {
        var index = equals + 1
        while index < limit, source[index] == UInt8(ascii: " ") || source[index] == UInt8(ascii: "\t") { index += 1 }
        if index < limit, source[index] == UInt8(ascii: "\r") { index += 1 }
        guard index < limit, source[index] == UInt8(ascii: "\n") else { return nil }
        return index + 1
    }

    /// What in `range` decoders read differently, if anything: `==` (Python's decoder takes the
    /// second `=` with the first), and `=` with optional spaces and a CR that no LF follows (Python
    /// drops the rest of that line, or of its input chunk; Go fails). A part that holds either is
    /// refused rather than decoded one way.
    static func ambiguity(in source: [UInt8], range: Range<Int>) -> String? {
        var index = range.lowerBound
        while let equals = source[index..<range.upperBound].firstIndex(of: UInt8(ascii: "=")) {
            var next = equals + 1
            if next < range.upperBound, source[next] == UInt8(ascii: "=") { return "\"==\"" }
            while next < range.upperBound, source[next] == UInt8(ascii: " ") || source[next] == UInt8(ascii: "\t") { next += 1 }
            if next < range.upperBound, source[next] == UInt8(ascii: "\r"),
                next + 1 >= range.upperBound || source[next + 1] != UInt8(ascii: "\n")
            {
                return "\"=\" before a CR without LF"
            }
            index = equals + 1
        }
        return nil
    }
}
