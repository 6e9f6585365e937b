import Testing

@testable import Detectors

@Suite("Match limits")
struct MatchLimitTests {
    /// Nested quantifiers on a near-miss input: exponential backtracking.
    static let catastrophic = DetectorDefinition(
        id: "catastrophic",
        label: "catastrophic pattern",
        direction: .outbound,
        summary: "test only",
        pattern: "(?:a|aa)+(?:a|aa)+$"
    )

    static let input = Array(String(repeating: "a", count: 4096).utf8) + Array("!".utf8)

    @Test("a catastrophic pattern throws limitExceeded, never 'no match'")
    func catastrophicPattern() throws {
        let engine = try DetectionEngine(definitions: [Self.catastrophic])
        #expect(throws: DetectionError.limitExceeded(detectorID: "catastrophic")) {
            try engine.scan(Self.input, detectorIDs: ["catastrophic"])
        }
    }

    @Test("a limit hit fails the whole scan even when other detectors are clean or find things")
    func limitFailsTheScan() throws {
        let definitions = DetectorCatalog.all + [Self.catastrophic]
        let engine = try DetectionEngine(definitions: definitions)
        let text = Array("t=\(DetectorCases.specValidToken) ".utf8) + Self.input
        #expect(throws: DetectionError.limitExceeded(detectorID: "catastrophic")) {
            try engine.scan(text, detectorIDs: ["github_token_classic", "catastrophic"])
        }
        // The same engine keeps working for other requests afterwards.
        #expect(try engine.scan(text, detectorIDs: ["github_token_classic"]).count == 1)
    }

    @Test("a tiny JIT stack is a limit too")
    func jitStackLimit() throws {
        // Each iteration of a capturing group with alternatives keeps a backtracking frame.
        let deep = DetectorDefinition(
            id: "deep",
            label: "deep",
            direction: .outbound,
            summary: "test only",
            pattern: "^(a|ab)*$"
        )
        let limits = MatchLimits(
            matchLimit: 100_000_000,
            depthLimit: 100_000_000,
            heapLimitKiB: 1 << 20,
            jitStackKiB: 32
        )
        let engine = try DetectionEngine(definitions: [deep], limits: limits)
        let text = Array(String(repeating: "ab", count: 200_000).utf8)
        #expect(throws: DetectionError.limitExceeded(detectorID: "deep")) {
            try engine.scan(text, detectorIDs: ["deep"])
        }
    }

    @Test("standard limits do not trip on large ordinary buffers")
    func standardLimitsAreEnough() throws {
        let engine = try DetectionEngine()
        var factory = SecretFactory(seed: 11)
        // 4 MiB of base64-ish noise and prose: long runs of token characters stress the
        // patterns' bounded repetitions.
        var text: [UInt8] = []
        while text.count < 4 << 20 {
            text += Array(factory.random(Alphabet.base64, 4000).utf8)
            text += Array(
                " eyJ sk-ant-api03- AKIA ghp_ -----BEGIN PRIVATE KEY----- https://a:b@c ignore previous instructions "
                    .utf8
            )
        }
        _ = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .outbound))
        _ = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .inbound))
    }

    @Test("the standard limits bound every match")
    func standardValues() {
        let limits = MatchLimits.standard
        #expect(limits.matchLimit > 0 && limits.matchLimit <= 10_000_000)
        #expect(limits.depthLimit > 0 && limits.heapLimitKiB > 0 && limits.jitStackKiB > 0)
    }

    @Test("huge invisible-character runs are reported in chunks, without hitting a limit")
    func longInvisibleRuns() throws {
        let engine = try DetectionEngine()
        for (id, scalar) in [("zero_width_run", "\u{200B}"), ("bidi_override", "\u{202E}"), ("invisible_unicode_tags", "\u{E0041}")] {
            let run = Array(String(repeating: scalar, count: 100_000).utf8)
            let text = Array("start ".utf8) + run + Array(" end".utf8)
            let findings = try engine.scan(text, detectorIDs: [id])
            #expect(!findings.isEmpty, "\(id)")
            #expect(findings.first?.start == 6, "\(id)")
            #expect(findings.allSatisfy { $0.end <= 6 + run.count }, "\(id)")
        }
    }

    @Test("inputs made of repeated keywords finish without limits, and without secrets")
    func repeatedKeywords() throws {
        let engine = try DetectionEngine()
        var keywords: Set<[UInt8]> = []
        for definition in DetectorCatalog.all {
            for group in definition.keywordGroups {
                for keyword in group {
                    keywords.insert(keyword.bytes)
                }
            }
        }
        for keyword in keywords.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            var text: [UInt8] = []
            while text.count < 64 << 10 {
                text += keyword
            }
            // Some inbound keywords are whole matches themselves (`<<SYS>>`, invisible characters);
            // repeated secret prefixes never make a secret.
            _ = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .inbound))
            let findings = try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .outbound))
            #expect(findings.isEmpty, "\(String(decoding: keyword, as: UTF8.self)): \(findings.count) findings")
        }
    }
}
