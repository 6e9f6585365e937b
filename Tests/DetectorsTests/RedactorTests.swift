import Testing

@testable import Detectors

@Suite("Redaction")
struct RedactorTests {
    @Test("a detected token is replaced by its marker and never survives")
    func detectedToken() throws {
        let engine = try DetectionEngine()
        let secret = DetectorCases.specValidToken
        let text = Array("curl -H 'Authorization: token \(secret)' https://api.github.com/user\n".utf8)
        let findings = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .outbound))
        let redacted = Redactor.redact(text, findings: findings)
        let expected = "curl -H 'Authorization: token [REDACTED:github_token_classic]' https://api.github.com/user\n"
        #expect(String(decoding: redacted, as: UTF8.self) == expected)
        #expect(!TestBytes.contains(secret, in: redacted))
        #expect(redacted.count == text.count - secret.utf8.count + "[REDACTED:github_token_classic]".utf8.count)
    }

    @Test("lengths: every byte outside findings is kept, in order")
    func lengths() {
        let text = Array("0123456789abcdefghij".utf8)
        let findings = [Finding(detectorID: "a", start: 2, end: 5), Finding(detectorID: "b", start: 10, end: 12)]
        let redacted = Redactor.redact(text, findings: findings)
        #expect(String(decoding: redacted, as: UTF8.self) == "01[REDACTED:a]56789[REDACTED:b]cdefghij")
        #expect(redacted.count == text.count - 3 - 2 + "[REDACTED:a]".utf8.count + "[REDACTED:b]".utf8.count)
    }

    @Test("overlapping and adjacent findings merge under the earliest-starting id")
    func merging() {
        let text = Array("0123456789abcdefghij".utf8)
        let overlapping = [
            Finding(detectorID: "late", start: 4, end: 9), Finding(detectorID: "early", start: 2, end: 6),
            Finding(detectorID: "adjacent", start: 9, end: 11), Finding(detectorID: "inner", start: 5, end: 7),
        ]
        #expect(
            String(decoding: Redactor.redact(text, findings: overlapping), as: UTF8.self)
                == "01[REDACTED:early]bcdefghij"
        )
        // Same start: the longer finding labels the range.
        let sameStart = [Finding(detectorID: "short", start: 0, end: 3), Finding(detectorID: "long", start: 0, end: 5)]
        #expect(
            String(decoding: Redactor.redact(text, findings: sameStart), as: UTF8.self)
                == "[REDACTED:long]56789abcdefghij"
        )
    }

    @Test("several detectors in one body")
    func multipleDetectors() throws {
        var factory = SecretFactory(seed: 21)
        let stripe = "sk_live_" + factory.random(Alphabet.alphanumeric, 30)
        let aws = "AKIA" + factory.random(Alphabet.base32AWS, 16)
        let jwt = factory.jwt()
        let text = Array(#"{"stripe":"\#(stripe)","aws":"\#(aws)","session":"\#(jwt)"}"#.utf8)
        let engine = try DetectionEngine()
        let findings = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .outbound))
        let redacted = String(decoding: Redactor.redact(text, findings: findings), as: UTF8.self)
        #expect(
            redacted
                == #"{"stripe":"[REDACTED:stripe_secret_key]","aws":"[REDACTED:aws_access_key_id]","session":"[REDACTED:jwt]"}"#
        )
        for secret in [stripe, aws, jwt] {
            #expect(!redacted.contains(secret))
        }
    }

    @Test("out-of-range and empty findings are clamped or ignored")
    func clamping() {
        let text = Array("abcdef".utf8)
        let findings = [
            Finding(detectorID: "x", start: 4, end: 100), Finding(detectorID: "y", start: 3, end: 3),
            Finding(detectorID: "z", start: -5, end: 1),
        ]
        #expect(
            String(decoding: Redactor.redact(text, findings: findings), as: UTF8.self) == "[REDACTED:z]bcd[REDACTED:x]"
        )
        #expect(Redactor.redact(text, findings: []) == text)
    }
}
