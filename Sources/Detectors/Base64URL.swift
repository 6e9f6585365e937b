/// Lenient base64url (and standard base64) decoding for structural checks (JWT headers).
enum Base64URL {
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

    /// Decodes unpadded (or `=`-padded) base64url; nil on any other character.
    static func decode<C: Collection<UInt8>>(_ text: C) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            if byte == UInt8(ascii: "=") {
                break
            }
            let value = values[Int(byte)]
            guard value >= 0 else {
                return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return output
    }
}
