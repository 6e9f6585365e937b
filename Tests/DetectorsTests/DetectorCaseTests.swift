import Testing

@testable import Detectors

@Suite("Detector cases")
struct DetectorCaseTests {
    @Test("each case, alone and within the full default set", arguments: DetectorCases.all)
    func detectorCase(_ testCase: DetectorCase) throws {
        let engine = try DetectionEngine()
        let definition = try #require(DetectorCatalog.definition(id: testCase.detectorID))
        let alone = try engine.scan(testCase.text, detectorIDs: [testCase.detectorID])
        let everything = try engine.scan(
            testCase.text,
            detectorIDs: DetectorCatalog.defaultIDs(for: definition.direction)
        )
        if testCase.secret != nil {
            let range = try #require(testCase.expectedRange)
            let expected = Finding(detectorID: testCase.detectorID, start: range.lowerBound, end: range.upperBound)
            #expect(alone.contains(expected), "got \(alone)")
            #expect(alone.allSatisfy { $0.detectorID == testCase.detectorID })
            #expect(everything.contains(expected), "got \(everything)")
        } else {
            #expect(alone.isEmpty, "got \(alone)")
            #expect(!everything.contains { $0.detectorID == testCase.detectorID }, "got \(everything)")
        }
    }

    @Test("every detector has a positive and a negative case")
    func coverage() {
        for definition in DetectorCatalog.all {
            let cases = DetectorCases.all.filter { $0.detectorID == definition.id }
            #expect(cases.contains { $0.secret != nil }, "\(definition.id) has no positive case")
            #expect(cases.contains { $0.secret == nil }, "\(definition.id) has no negative case")
        }
        let unknown = Set(DetectorCases.all.map(\.detectorID)).subtracting(DetectorCatalog.knownIDs)
        #expect(unknown.isEmpty, "cases for unknown detectors: \(unknown)")
    }

    @Test("findings cover the secret, not the keyword context")
    func secretOnly() throws {
        let engine = try DetectionEngine()
        let text = Array("aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK3u9qW1vN\"\n".utf8)
        let findings = try engine.scan(text, detectorIDs: ["aws_secret_access_key"])
        #expect(findings == [Finding(detectorID: "aws_secret_access_key", start: 25, end: 65)])
        #expect(String(decoding: text[25..<65], as: UTF8.self) == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK3u9qW1vN")
    }

    @Test("several secrets in one buffer come back sorted by offset")
    func sortedFindings() throws {
        var factory = SecretFactory(seed: 7)
        let stripe = "sk_live_" + factory.random(Alphabet.alphanumeric, 24)
        let aws = "AKIA" + factory.random(Alphabet.base32AWS, 16)
        let text = Array("a=\(stripe)\nb=\(DetectorCases.specValidToken)\nc=\(aws)\n".utf8)
        let engine = try DetectionEngine()
        let findings = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .outbound))
        #expect(findings.map(\.detectorID) == ["stripe_secret_key", "github_token_classic", "aws_access_key_id"])
        #expect(findings.map(\.start) == findings.map(\.start).sorted())
    }
}
