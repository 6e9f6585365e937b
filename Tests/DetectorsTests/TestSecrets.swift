import EgressTestSupport

// Fake secrets, built at run time from a seeded generator so that no credential-shaped
// literal sits in the repository. Checksummed formats are built with test-side
// implementations (bitwise CRC32, a small bech32 encoder) independent of the module's.

enum Alphabet {
    static let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    static let lower = "abcdefghijklmnopqrstuvwxyz"
    static let digits = "0123456789"
    static let letters = upper + lower
    static let alphanumeric = digits + upper + lower
    static let base64 = alphanumeric + "+/"
    static let base64URL = alphanumeric + "-_"
    static let hexLower = "0123456789abcdef"
    static let hexUpper = "0123456789ABCDEF"
    static let base32AWS = upper + "234567"
}

struct SecretFactory {
    var generator: SeededGenerator

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    mutating func random(_ alphabet: String, _ count: Int) -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters[Int.random(in: 0..<characters.count, using: &generator)] })
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// A GitHub token with a valid checksum: prefix + 30 random base62 + 6 checksum chars.
    mutating func githubToken(prefix: String) -> String {
        let body = random(Alphabet.alphanumeric, 30)
        return prefix + body + TestChecksums.githubChecksum(body)
    }

    /// A valid age secret key for 32 random bytes.
    mutating func ageSecretKey() -> String {
        TestChecksums.bech32Encode(hrp: "age-secret-key-", data: bytes(32)).uppercased()
    }

    /// A JWT with the given header JSON and a random payload and signature.
    mutating func jwt(header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        let payload = #"{"sub":"\#(random(Alphabet.digits, 10))","name":"Test User","iat":1516239022}"#
        return TestChecksums.base64URL(Array(header.utf8)) + "." + TestChecksums.base64URL(Array(payload.utf8)) + "."
            + random(Alphabet.base64URL, 43)
    }

    /// PEM body lines (base64 of random bytes, 64 per line).
    mutating func pemBody(bytes count: Int, newline: String = "\n") -> String {
        let encoded = TestChecksums.base64(bytes(count))
        var lines: [String] = []
        var rest = Substring(encoded)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        return lines.joined(separator: newline)
    }
}

enum TestChecksums {
    /// Bitwise CRC-32 (IEEE), deliberately not table-driven like the module's.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                let mask = UInt32(0) &- (crc & 1)
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask)
            }
        }
        return ~crc
    }

    static func githubChecksum(_ body: String) -> String {
        let alphabet = Array(Alphabet.alphanumeric)
        var value = crc32(Array(body.utf8))
        var digits = ""
        while value > 0 {
            digits = String(alphabet[Int(value % 62)]) + digits
            value /= 62
        }
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func base64(_ bytes: [UInt8]) -> String {
        bytes.base64Encoded
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        String(
            base64(bytes).compactMap { character -> Character? in
                switch character {
                case "+": "-"
                case "/": "_"
                case "=": nil
                default: character
                }
            }
        )
    }

    // BIP 173 reference encoder.
    private static let bech32Charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = ((checksum & 0x1ff_ffff) << 5) ^ UInt32(value)
            for index in 0..<5 where (top >> UInt32(index)) & 1 == 1 {
                checksum ^= generator[index]
            }
        }
        return checksum
    }

    static func bech32Encode(hrp: String, data: [UInt8]) -> String {
        // 8-bit to 5-bit groups, padded.
        var groups: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in data {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                groups.append(UInt8((accumulator >> UInt32(bits)) & 31))
            }
        }
        if bits > 0 {
            groups.append(UInt8((accumulator << UInt32(5 - bits)) & 31))
        }
        let hrpBytes = Array(hrp.utf8)
        let expanded = hrpBytes.map { $0 >> 5 } + [0] + hrpBytes.map { $0 & 31 }
        let mod = polymod(expanded + groups + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksum = (0..<6).map { UInt8((mod >> UInt32(5 * (5 - $0))) & 31) }
        return hrp + "1" + String((groups + checksum).map { bech32Charset[Int($0)] })
    }
}
