/// HTML and XML character references (`&lt;`, `&#39;`, `&#x200B;`, …) undone, for inbound scans
/// only: fetched pages, Atom feeds and HTML inside JSON (Stack Exchange bodies) spell the text an
/// agent reads through entities, and `&lt;|im_start|&gt;` must look like what it is. Requests are
/// not decoded this way: servers do not undo entities in what they are sent.
enum HTMLEntities {
    /// The named references that matter for what an agent reads: markup, quotes, spaces, and the
    /// invisible and directional characters.
    static let named: [String: Unicode.Scalar] = [
        "lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}",
        "zwsp": "\u{200B}", "zwnj": "\u{200C}", "zwj": "\u{200D}", "lrm": "\u{200E}", "rlm": "\u{200F}",
        "lre": "\u{202A}", "rle": "\u{202B}", "pdf": "\u{202C}", "lro": "\u{202D}", "rlo": "\u{202E}",
        "colon": ":", "sol": "/", "lpar": "(", "rpar": ")", "lsqb": "[", "rsqb": "]", "lbrack": "[",
        "rbrack": "]", "excl": "!", "num": "#", "period": ".", "comma": ",", "equals": "=", "quest": "?",
        "grave": "`", "bsol": "\\", "ndash": "\u{2013}", "mdash": "\u{2014}", "hellip": "\u{2026}",
        "lsquo": "\u{2018}", "rsquo": "\u{2019}", "ldquo": "\u{201C}", "rdquo": "\u{201D}",
        "zerowidthspace": "\u{200B}", "shy": "\u{00AD}", "tab": "\t", "newline": "\n", "nobreak": "\u{2060}",
        "thinsp": "\u{2009}", "ensp": "\u{2002}", "emsp": "\u{2003}",
    ]

    static func decode(_ source: [UInt8], maxPieces: Int = .max) -> Decoded? {
        guard source.contains(UInt8(ascii: "&")) else { return nil }
        var builder = DecodedBuilder(capacity: source.count, maxPieces: maxPieces)
        var runStart = 0
        var index = 0
        while index < source.count, !builder.exceeded {
            guard source[index] == UInt8(ascii: "&"), let (scalar, length) = reference(source, at: index) else {
                index += 1
                continue
            }
            builder.copy(source[runStart..<index])
            builder.decoded(Array(String(Character(scalar)).utf8), from: index..<(index + length))
            index += length
            runStart = index
        }
        builder.copy(source[runStart..<source.count])
        return builder.finish()
    }

    /// The reference starting at `index` (at its `&`) and its length through the `;` — or, for a
    /// numeric reference, through its last digit: browsers read `&#73gnore` as `Ignore`.
    private static func reference(_ source: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        var end = index + 1
        // The longest reference worth reading: `&#x0010FFFF;` or a name like `ZeroWidthSpace`.
        let limit = min(source.count, index + 18)
        let numeric = end < source.count && source[end] == UInt8(ascii: "#")
        while end < limit, source[end] != UInt8(ascii: ";") {
            if numeric, end > index + 2, PercentDecoding.hexValue(source[end]) == nil,
                !(end == index + 2 && (source[end] | 0x20) == UInt8(ascii: "x"))
            {
                break
            }
            end += 1
        }
        let terminated = end < source.count && source[end] == UInt8(ascii: ";")
        guard end > index + 1, terminated || numeric, end < limit || (numeric && end <= source.count) else { return nil }
        let body = source[(index + 1)..<end]
        let length = end - index + (terminated ? 1 : 0)
        if body.first == UInt8(ascii: "#") {
            let digits = body.dropFirst()
            let hex = digits.first == UInt8(ascii: "x") || digits.first == UInt8(ascii: "X")
            let number = hex ? digits.dropFirst() : digits
            guard !number.isEmpty else { return nil }
            var value: UInt32 = 0
            for byte in number {
                let digit: UInt32?
                if hex {
                    digit = PercentDecoding.hexValue(byte).map(UInt32.init)
                } else {
                    digit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? UInt32(byte - UInt8(ascii: "0")) : nil
                }
                guard let digit, value <= 0x10FFFF else { return nil }
                value = value * (hex ? 16 : 10) + digit
            }
            // A reference to nothing, a surrogate or beyond Unicode reads as U+FFFD, as browsers do.
            return (Unicode.Scalar(value).flatMap { value == 0 ? nil : $0 } ?? "\u{FFFD}", length)
        }
        guard body.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) }),
            let scalar = named[String(decoding: body, as: UTF8.self).lowercased()]
        else { return nil }
        return (scalar, length)
    }
}
