import Testing

@testable import Detectors

@Suite("Masked previews")
struct MaskedPreviewTests {
    @Test("the SPEC example shows first and last four characters")
    func example() {
        #expect(MaskedPreview.of(Array(DetectorCases.specValidToken.utf8)) == "ghp_\u{2026}T4V4")
    }

    @Test("never more than a third of the secret is revealed", arguments: Array(0...200))
    func atMostAThird(length: Int) {
        // Distinct characters so that every revealed character can be counted.
        let secret = (0..<length).map { UInt8(0x21 + $0 % 94) }
        let preview = MaskedPreview.of(secret)
        let revealed = preview.unicodeScalars.filter { $0 != "\u{2026}" && $0 != "*" }.count
        #expect(revealed * 3 <= length, "length \(length): \(preview)")
        #expect(!preview.isEmpty)
    }

    @Test("short secrets are fully masked")
    func shortSecrets() {
        for secret in ["a", "hunter2", "abcde", "elevenchars"] {
            let preview = MaskedPreview.of(Array(secret.utf8))
            #expect(preview.allSatisfy { $0 == "*" }, "\(preview)")
        }
    }

    @Test("twelve characters show two at each end")
    func twelve() {
        #expect(MaskedPreview.of(Array("abcdefghijkl".utf8)) == "ab\u{2026}kl")
    }

    @Test("non-printable bytes never leak raw")
    func nonPrintable() {
        let secret: [UInt8] = [0x00, 0x0A, 0xFF, 0x41] + Array(repeating: 0x42, count: 20) + [0x7F, 0xC3, 0xA9, 0x20]
        #expect(MaskedPreview.of(secret) == "???A\u{2026}????")
    }
}
