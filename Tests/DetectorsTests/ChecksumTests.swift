import Testing

@testable import Detectors

@Suite("Checksums")
struct ChecksumTests {
    @Test("CRC32 matches zlib's check value")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test("the SPEC's example tokens")
    func specExamples() {
        #expect(isValid(DetectorCases.specValidToken))
        #expect(!isValid(DetectorCases.specInvalidToken))
    }

    @Test("base62 is left-padded with zeros")
    func base62Padding() {
        #expect(GitHubChecksum.base62(0) == Array("000000".utf8))
        #expect(GitHubChecksum.base62(61) == Array("00000z".utf8))
        #expect(GitHubChecksum.base62(62) == Array("000010".utf8))
        #expect(GitHubChecksum.base62(UInt32.max) == Array("4gfFC3".utf8))
    }

    @Test("module and test-side implementations agree on generated tokens")
    func generated() {
        var factory = SecretFactory(seed: 99)
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            for _ in 0..<50 {
                let token = factory.githubToken(prefix: prefix)
                #expect(isValid(token))
                var broken = Array(token.utf8)
                broken[10] = broken[10] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
                #expect(!isValid(String(decoding: broken, as: UTF8.self)))
            }
        }
    }

    @Test("bech32 accepts BIP 173 valid strings and rejects invalid ones")
    func bech32() {
        let valid = [
            "A12UEL5L", "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        ]
        for string in valid {
            #expect(Bech32.isValid(Array(string.utf8)), "\(string)")
        }
        let invalid = [
            "A1G7SGD8", "10a06t8", "1qzzfhee", "a12UEL5L", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx", "li1dgmt3",
        ]
        for string in invalid {
            #expect(!Bech32.isValid(Array(string.utf8)), "\(string)")
        }
    }

    @Test("JWT structure: header must be JSON with alg")
    func jwtStructure() {
        var factory = SecretFactory(seed: 3)
        #expect(isJWT(factory.jwt()))
        #expect(isJWT(factory.jwt(header: #" { "typ" : "JWT", "alg" : "RS256" } "#)))
        #expect(!isJWT(factory.jwt(header: #"{"typ":"JWT"}"#)))
        #expect(!isJWT(factory.jwt(header: #"["alg"]"#)))
        #expect(!isJWT("eyJ!!!.abc.def"))
    }

    private func isValid(_ token: String) -> Bool {
        Array(token.utf8).withUnsafeBufferPointer { GitHubChecksum.isValid($0, prefixLength: 4) }
    }

    private func isJWT(_ token: String) -> Bool {
        Array(token.utf8).withUnsafeBufferPointer { Structure.isJWT($0) }
    }
}
