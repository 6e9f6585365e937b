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
