/// Lenient base64url (and standard base64) decoding: structural checks (JWT headers) here, and the
/// base64 runs DLP decodes before scanning (Frontend's `Base64Runs`).
package enum Base64URL {
    private static let values: [Int8] = {
        var values = [Int8](repeating: -1, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        for (index, character) in alphabet.enumerated() {
            values[Int(character)] = Int8(index)
        }
        values[Int(UInt8(ascii: "-"))] = 62
        values[Int(UInt8(ascii: "_"))] = 63
        values[Int(UInt8(ascii: "+"))] = 62
        values[Int(UInt8(ascii: "/"))] = 63
        return values
    }()

    /// Whether `byte` is a character of either alphabet (padding excluded).
    ///
    /// Computed, not looked up: DLP calls it for every byte it searches for runs, and a lookup in
    /// the lazily built table costs a `swift_once` check per call from another module.
    @inlinable
    package static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"),
            UInt8(ascii: "_"):
            true
        default:
            false
        }
    }

    /// Decodes unpadded (or `=`-padded) base64url; nil on any other character.
    ///
    /// Every collection is decoded by one loop over contiguous bytes: a generic loop called from
    /// another module runs unspecialized, through witness tables per byte, and made DLP's base64
    /// views the costliest step of a scan (README, "Benchmarks").
    package static func decode<C: Collection<UInt8>>(_ text: C) -> [UInt8]? {
        if let decoded = text.withContiguousStorageIfAvailable({ decode(bytes: $0) }) { return decoded }
        return Array(text).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    private static func decode(bytes text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: text.count * 3 / 4 + 1)
        var written = 0
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        let valid = values.withUnsafeBufferPointer { values in
            output.withUnsafeMutableBufferPointer { out in
                for byte in text {
                    if byte == UInt8(ascii: "=") { break }
                    let value = values[Int(byte)]
                    guard value >= 0 else { return false }
                    accumulator = accumulator << 6 | UInt32(value)
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        out[written] = UInt8(truncatingIfNeeded: accumulator >> bits)
                        written += 1
                        accumulator &= (1 << bits) - 1
                    }
                }
                return true
            }
        }
        guard valid else { return nil }
        output.removeLast(output.count - written)
        return output
    }
}
