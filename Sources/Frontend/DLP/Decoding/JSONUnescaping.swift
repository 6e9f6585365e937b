/// JSON string escapes (`\uXXXX` with surrogate pairs, `\n`, `\"`, `\\`, `\/`, …), applied to the whole
/// text: inside a JSON body a token can be spelled `ghp\u005f…`, and a paragraph break is the two
/// bytes `\n`. Applied again to its own output, it reaches JSON nested in JSON strings.
enum JSONUnescaping {
    static func decode(_ source: [UInt8], maxPieces: Int = .max) -> Decoded? {
        guard source.contains(UInt8(ascii: "\\")) else { return nil }
        var builder = DecodedBuilder(capacity: source.count, maxPieces: maxPieces)
        var runStart = 0
        var index = 0
        while index + 1 < source.count, !builder.exceeded {
            guard source[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            let simple: UInt8? =
                switch source[index + 1] {
                case UInt8(ascii: "n"): 0x0A
                case UInt8(ascii: "t"): 0x09
                case UInt8(ascii: "r"): 0x0D
                case UInt8(ascii: "b"): 0x08
                case UInt8(ascii: "f"): 0x0C
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): source[index + 1]
                default: nil
                }
            if let simple {
                builder.copy(source[runStart..<index])
                builder.decoded(CollectionOfOne(simple), from: index..<(index + 2))
                index += 2
                runStart = index
            } else if source[index + 1] == UInt8(ascii: "u"), let (scalar, length) = unicodeEscape(source, at: index) {
                builder.copy(source[runStart..<index])
                builder.decoded(Array(String(Character(scalar)).utf8), from: index..<(index + length))
                index += length
                runStart = index
            } else {
                index += 1
            }
        }
        builder.copy(source[runStart..<source.count])
        return builder.finish()
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`; a lone surrogate becomes U+FFFD.
    private static func unicodeEscape(_ source: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        guard let unit = hex4(source, at: index + 2) else { return nil }
        if (0xD800..<0xDC00).contains(unit) {
            if source.count >= index + 12,
                source[index + 6] == UInt8(ascii: "\\"), source[index + 7] == UInt8(ascii: "u"),
                let low = hex4(source, at: index + 8), (0xDC00..<0xE000).contains(low)
            {
                let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                return Unicode.Scalar(value).map { ($0, 12) }
            }
            return ("\u{FFFD}", 6)
        }
        if (0xDC00..<0xE000).contains(unit) { return ("\u{FFFD}", 6) }
        return Unicode.Scalar(unit).map { ($0, 6) }
    }

    private static func hex4(_ source: [UInt8], at index: Int) -> UInt32? {
        guard index + 4 <= source.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            guard let digit = PercentDecoding.hexValue(source[index + offset]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
