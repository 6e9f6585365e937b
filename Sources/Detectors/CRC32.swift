/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the one zlib computes.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1
        }
        return value
    }

    static func checksum<C: Collection<UInt8>>(_ bytes: C) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// GitHub's token checksum: `<prefix><30 random base62 chars><6 chars>` where the last six are
/// the CRC32 of the 30 random characters in base62 (`0-9A-Za-z`), left-padded with `0`.
enum GitHubChecksum {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// The six-character base62 encoding of `value`, left-padded with `0`.
    static func base62(_ value: UInt32) -> [UInt8] {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 6)
        var rest = value
        var position = 5
        while rest > 0 && position >= 0 {
            digits[position] = alphabet[Int(rest % 62)]
            rest /= 62
            position -= 1
        }
        return digits
    }

    /// The checksum characters for a token body (the characters after the prefix, without the
    /// checksum).
    static func checksumCharacters<C: Collection<UInt8>>(for body: C) -> [UInt8] {
        base62(CRC32.checksum(body))
    }

    /// Whether `token` (prefix included) carries a valid checksum.
    static func isValid(_ token: UnsafeBufferPointer<UInt8>, prefixLength: Int) -> Bool {
        guard token.count == prefixLength + 36 else {
            return false
        }
        let body = token[prefixLength..<(prefixLength + 30)]
        let expected = checksumCharacters(for: body)
        return token[(prefixLength + 30)...].elementsEqual(expected)
    }
}
