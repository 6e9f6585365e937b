import Foundation
import Testing

@testable import Detectors

/// Prints scanning throughput for a mixed corpus; asserts correctness only, never speed.
/// Run `swift test -c release --filter DetectorsTests.Throughput` for a meaningful number.
@Suite("Throughput")
struct Throughput {
    #if DEBUG
    static let targetBytes = 4 << 20
    static let configuration = "debug"
    #else
    static let targetBytes = 64 << 20
    static let configuration = "release"
    #endif

    /// Source code, prose, JSON and a few planted secrets, repeated to `targetBytes`.
    static func corpus() -> (bytes: [UInt8], planted: [String: Int]) {
        var chunk: [UInt8] = []
        let sources = CleanCorpusTests.files(
            in: .init(
                directory: CleanCorpusTests.checkouts + "/swift-nio/Sources",
                extensions: ["swift"],
                byteBudget: 1 << 20
            )
        )
        for path in sources {
            if let data = FileManager.default.contents(atPath: path) {
                chunk += data
            }
        }
        let docs = CleanCorpusTests.files(
            in: .init(directory: "/usr/share/doc", extensions: ["", "txt"], byteBudget: 256 << 10)
        )
        for path in docs {
            if let data = FileManager.default.contents(atPath: path) {
                chunk += data
            }
        }
        var factory = SecretFactory(seed: 77)
        for index in 0..<2000 {
            let record =
                #"{"id":\#(index),"name":"\#(factory.random(Alphabet.letters, 12))","email":"user\#(index)@example.com","#
                + #""tags":["alpha","beta"],"score":\#(Int.random(in: 0..<10_000, using: &factory.generator)),"#
                + #""url":"https://example.com/items/\#(index)?ref=feed","note":"The quick brown fox jumps over the lazy dog."}"#
                + "\n"
            chunk += Array(record.utf8)
        }
        if chunk.count < 64 << 10 {
            // No corpus on this machine: synthetic prose and code.
            for _ in 0..<20_000 {
                chunk += Array(
                    "let value = compute(input: \"hello world\", count: 42) // a comment about nothing\n".utf8
                )
            }
        }
        // A few secrets per chunk.
        let secrets = [
            ("github_token_classic", factory.githubToken(prefix: "ghp_")),
            ("aws_access_key_id", "AKIA" + factory.random(Alphabet.base32AWS, 16)),
            ("stripe_secret_key", "sk_live_" + factory.random(Alphabet.alphanumeric, 24)),
            ("jwt", factory.jwt()),
        ]
        var planted: [String: Int] = [:]
        let step = chunk.count / (secrets.count + 1)
        var withSecrets: [UInt8] = []
        for (index, (id, secret)) in secrets.enumerated() {
            withSecrets += chunk[(index * step)..<((index + 1) * step)]
            withSecrets += Array("\nsecret = \"\(secret)\"\n".utf8)
            planted[id, default: 0] += 1
        }
        withSecrets += chunk[(secrets.count * step)...]

        var bytes: [UInt8] = []
        bytes.reserveCapacity(targetBytes + withSecrets.count)
        var repetitions = 0
        while bytes.count < targetBytes {
            bytes += withSecrets
            repetitions += 1
        }
        return (bytes, planted.mapValues { $0 * repetitions })
    }

    @Test("mixed corpus, full default outbound and inbound sets")
    func measure() throws {
        let (bytes, planted) = Self.corpus()
        let engine = try DetectionEngine()
        let outbound = DetectorCatalog.defaultIDs(for: .outbound)
        let inbound = DetectorCatalog.defaultIDs(for: .inbound)
        _ = try engine.scan(Array(bytes.prefix(1 << 16)), detectorIDs: outbound)  // warm-up

        let clock = ContinuousClock()
        var findings: [Finding] = []
        let outboundTime = try clock.measure {
            findings = try engine.scan(bytes, detectorIDs: outbound)
        }
        var inboundFindings: [Finding] = []
        let inboundTime = try clock.measure {
            inboundFindings = try engine.scan(bytes, detectorIDs: inbound)
        }
        let prefilterOnly = try clock.measure {
            _ = try engine.scan(bytes, detectorIDs: ["age_secret_key"])
        }

        func rate(_ duration: Duration) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return String(format: "%.0f MB/s", Double(bytes.count) / 1e6 / max(seconds, 1e-9))
        }
        print(
            "[throughput/\(Self.configuration)] \(bytes.count / 1_000_000) MB: outbound \(rate(outboundTime)), "
                + "inbound \(rate(inboundTime)), prefilter-only \(rate(prefilterOnly))"
        )

        var counts: [String: Int] = [:]
        for finding in findings {
            counts[finding.detectorID, default: 0] += 1
        }
        #expect(counts == planted)
        #expect(inboundFindings.isEmpty)
    }
}
