/// `%XX` escapes (URLs, `application/x-www-form-urlencoded`), and `+` as a space where forms use it.
/// Servers decode these before they read a value, so DLP does too.
enum PercentDecoding {
    static func decode(_ source: [UInt8], plusIsSpace: Bool, maxPieces: Int = .max) -> Decoded? {
        guard source.contains(UInt8(ascii: "%")) || (plusIsSpace && source.contains(UInt8(ascii: "+"))) else { return nil }
        var builder = DecodedBuilder(capacity: source.count, maxPieces: maxPieces)
        var runStart = 0
        var index = 0
        while index < source.count, !builder.exceeded {
            let byte = source[index]
            if byte == UInt8(ascii: "%"), index + 2 < source.count,
                let high = hexValue(source[index + 1]), let low = hexValue(source[index + 2])
            {
                builder.copy(source[runStart..<index])
                builder.decoded(CollectionOfOne(high << 4 | low), from: index..<(index + 3))
                index += 3
                runStart = index
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                builder.copy(source[runStart..<index])
                builder.decoded(CollectionOfOne(UInt8(ascii: " ")), from: index..<(index + 1))
                index += 1
                runStart = index
            } else {
                index += 1
            }
        }
        builder.copy(source[runStart..<source.count])
        return builder.finish()
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
