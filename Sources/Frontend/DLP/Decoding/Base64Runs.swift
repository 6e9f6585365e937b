import Detectors

/// Runs of base64 or base64url that decode to text: a token base64-encoded into a JSON value or a
/// header reaches a server that decodes it, so DLP decodes it too (as gitleaks does). Each decoded
/// run maps back to the whole run, so `redact` replaces all of it.
///
/// Lenient the way decoders are: lines wrapped at any width (MIME, PEM, `base64` at 76 columns) are
/// joined, the two alphabets may mix, padding is optional, a dangling last character is dropped, and
/// a run glued to a prefix is tried at each of the four alignments. Runs that decode to binary
/// (images, hashes, compressed data) are left alone: text is what is typed, pasted and leaked.
enum Base64Runs {
    /// Shorter runs are words and identifiers, and too short to hide a token.
    static let minimumRunLength = 20
    /// Decoded runs at least this much text (printable ASCII or valid UTF-8) are text.
    static let minimumTextShare = 0.75

    static func decode(_ source: [UInt8], maxPieces: Int = .max) -> Decoded? {
        var builder = DecodedBuilder(capacity: source.count / 2, maxPieces: maxPieces)
        var index = 0
        while index < source.count, !builder.exceeded {
            guard Base64URL.isAlphabet(source[index]) else {
                index += 1
                continue
            }
            // Most runs are words: too short, and not the first line of wrapped base64. They are
            // skipped without collecting their characters.
            var lineEnd = index + 1
            while lineEnd < source.count, Base64URL.isAlphabet(source[lineEnd]) { lineEnd += 1 }
            let lineLength = lineEnd - index
            let mayWrap =
                lineLength % 4 == 0 && lineEnd < source.count
                && (source[lineEnd] == UInt8(ascii: "\r") || source[lineEnd] == UInt8(ascii: "\n"))
            if lineLength < minimumRunLength && !mayWrap {
                index = lineEnd
                continue
            }
            let (characters, end) = run(source, from: index)
            if characters.count >= minimumRunLength, let text = decodeText(characters) {
                builder.decoded(text + [0x0A], from: index..<end)
            }
            index = max(end, index + 1)
        }
        return builder.finish()
    }

    /// The alphabet characters of the run starting at `start`, and where it ends: a run goes on
    /// across a line break (and the indentation after it) when the line before it is a whole
    /// number of 4-character groups, as wrapped base64 is.
    private static func run(_ source: [UInt8], from start: Int) -> (characters: [UInt8], end: Int) {
        var characters: [UInt8] = []
        characters.reserveCapacity(64)
        var index = start
        while true {
            let lineStart = characters.count
            while index < source.count, Base64URL.isAlphabet(source[index]) {
                characters.append(source[index])
                index += 1
            }
            let lineLength = characters.count - lineStart
            var padded = index
            while padded < source.count, padded - index < 2, source[padded] == UInt8(ascii: "=") { padded += 1 }
            guard padded == index, lineLength > 0, lineLength % 4 == 0 else { return (characters, padded) }
            var next = index
            if next < source.count, source[next] == UInt8(ascii: "\r") { next += 1 }
            guard next < source.count, source[next] == UInt8(ascii: "\n") else { return (characters, index) }
            next += 1
            while next < source.count, source[next] == UInt8(ascii: " ") || source[next] == UInt8(ascii: "\t") { next += 1 }
            guard next < source.count, Base64URL.isAlphabet(source[next]) else { return (characters, index) }
            index = next
        }
    }

    /// The run decoded at the first of its four alignments that gives text.
    private static func decodeText(_ characters: [UInt8]) -> [UInt8]? {
        for offset in 0..<4 where characters.count - offset >= minimumRunLength {
            let decoded = decodeAligned(characters[offset...])
            if isText(decoded) { return decoded }
        }
        return nil
    }

    private static func decodeAligned(_ run: ArraySlice<UInt8>) -> [UInt8] {
        // A dangling sixth-bit group cannot make a byte. Runs hold alphabet characters only.
        Base64URL.decode(run.count % 4 == 1 ? run.dropLast() : run) ?? []
    }

    /// Printable ASCII, whitespace and well-formed UTF-8 count as text.
    static func isText(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        var text = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if (byte >= 0x20 && byte < 0x7F) || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                text += 1
                index += 1
                continue
            }
            let length =
                switch byte {
                case 0xC2...0xDF: 2
                case 0xE0...0xEF: 3
                case 0xF0...0xF4: 4
                default: 0
                }
            if length > 0, index + length <= bytes.count,
                bytes[(index + 1)..<(index + length)].allSatisfy({ $0 & 0xC0 == 0x80 })
            {
                text += length
                index += length
            } else {
                index += 1
            }
        }
        return Double(text) >= Double(bytes.count) * minimumTextShare
    }
}
