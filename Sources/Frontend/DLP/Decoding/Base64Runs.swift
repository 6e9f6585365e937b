/// Runs of base64 or base64url that decode to text: a token base64-encoded into a JSON value or a
/// header reaches a server that decodes it, so DLP decodes it too (as gitleaks does). Each decoded
/// run maps back to the whole run, so `redact` replaces all of it. Runs that decode to binary (images,
/// hashes, compressed data) are left alone: that is not where a secret is typed.
enum Base64Runs {
    /// Shorter runs are words and identifiers, and too short to hide a token.
    static let minimumRunLength = 20
    /// Decoded runs this printable (or more) are text.
    static let minimumPrintableShare = 0.9

    static func decode(_ source: [UInt8]) -> Decoded? {
        var builder = DecodedBuilder(capacity: source.count / 2)
        var index = 0
        while index < source.count {
            guard isAlphabet(source[index]) else {
                index += 1
                continue
            }
            var end = index
            while end < source.count, isAlphabet(source[end]) { end += 1 }
            var padded = end
            while padded < source.count, padded - end < 2, source[padded] == UInt8(ascii: "=") { padded += 1 }
            if end - index >= minimumRunLength, let text = decodeRun(source[index..<end]), isText(text) {
                builder.decoded(text + [0x0A], from: index..<padded)
            }
            index = padded
        }
        return builder.finish()
    }

    private static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    private static func value(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
        default: 63  // "/" and "_"
        }
    }

    /// Standard or URL-safe alphabet (not mixed), padding optional.
    private static func decodeRun(_ run: ArraySlice<UInt8>) -> [UInt8]? {
        let standard = run.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") }
        let urlSafe = run.contains { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        guard !(standard && urlSafe), run.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(run.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in run {
            accumulator = accumulator << 6 | UInt32(value(byte))
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    private static func isText(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        let printable = bytes.filter { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }.count
        return Double(printable) >= Double(bytes.count) * minimumPrintableShare
    }
}
