import EgressTestSupport
import Foundation
import IPC
import Testing

@testable import Detectors
@testable import Frontend

/// The DLP the proxy applies (decoded views, then the default outbound catalog), measured on a
/// labelled corpus: every positive detector case's text placed in nine carriers an agent sends
/// (an `.env` line, shell history, a JSON body to an LLM API, a git diff, a traceback, YAML, a
/// percent-encoded form, base64 in JSON, a quoted-printable multipart upload), and the clean corpus
/// of real files as hard negatives.
/// `scripts/dlp-eval.sh` prints the table; the test holds the targets (README, "Detectors").
@Suite("DLP evaluation")
struct DLPEvaluation {
    struct Carrier: Sendable {
        let name: String
        /// What the body's `Content-Type` would say.
        var syntax = SegmentSyntax.plain
        let wrap: @Sendable (String) -> String
    }

    static let boundary = "----bottle-eval-7MA4YWxkTrZu0gW"

    static let carriers: [Carrier] = [
        Carrier(name: "env") { $0 },
        Carrier(name: "shell") { "$ cd app\n$ export " + $0.replacingOccurrences(of: "\n", with: " ") + "\n$ make test\n" },
        Carrier(name: "llm-json") { #"{"model":"m","messages":[{"role":"user","content":"\#(JSONValue.escaped($0))"}]}"# },
        Carrier(name: "git-diff") {
            "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -1,2 +1,3 @@\n DEBUG=1\n"
                + $0.split(separator: "\n", omittingEmptySubsequences: false).map { "+" + $0 }.joined(separator: "\n")
        },
        Carrier(name: "traceback") {
            "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\n    \($0)\nKeyError: 'x'\n"
        },
        Carrier(name: "yaml") { "services:\n  app:\n    environment:\n      - " + $0.replacingOccurrences(of: "\n", with: "\n        ") },
        Carrier(name: "form", syntax: .form) { "comment=" + $0.utf8.map { String(format: "%%%02X", $0) }.joined() + "&submit=1" },
        Carrier(name: "base64-json") { #"{"name":"notes.txt","content":"\#(Array($0.utf8).base64Encoded)"}"# },
        Carrier(name: "multipart-qp", syntax: SegmentSyntax(multipartBoundaries: [Array(boundary.utf8)])) {
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nnotes\r\n--\(boundary)\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n\(QuotedPrintableEncoding.encode($0))\r\n--\(boundary)--\r\n"
        },
    ]

    struct Figures {
        var found: [String: Int] = [:]
        var total: [String: Int] = [:]
        var foundByCarrier: [String: Int] = [:]
        var totalByCarrier: [String: Int] = [:]
        var negativeBytes = 0
        var falsePositives: [String] = []

        var recall: Double { Double(found.values.reduce(0, +)) / Double(max(1, total.values.reduce(0, +))) }
        var falsePositivesPerMB: Double { Double(falsePositives.count) / (Double(negativeBytes) / 1_048_576) }
    }

    /// Detector findings after decoding, mapped back to the raw text: what the proxy would see.
    static func findings(_ engine: DetectionEngine, _ text: [UInt8], syntax: SegmentSyntax = .plain) throws -> [WireFinding] {
        let views = try DecodedViews(raw: [text], syntax: [0: syntax])
        var wire: [WireFinding] = []
        for (index, segment) in views.segments.enumerated() {
            for finding in try engine.scan(segment, detectorIDs: DetectorCatalog.defaultIDs(for: .outbound)) {
                wire.append(
                    WireFinding(detectorID: finding.detectorID, segment: UInt32(index), start: UInt64(finding.start), end: UInt64(finding.end))
                )
            }
        }
        return views.rawFindings(wire)
    }

    static func evaluate() throws -> Figures {
        let engine = try DetectionEngine()
        var figures = Figures()
        let outboundIDs = Set(DetectorCatalog.defaultIDs(for: .outbound))
        for testCase in DetectorCases.all where testCase.secret != nil && outboundIDs.contains(testCase.detectorID) {
            let text = String(decoding: testCase.text, as: UTF8.self)
            for carrier in carriers {
                let document = Array(carrier.wrap(text).utf8)
                figures.total[testCase.detectorID, default: 0] += 1
                figures.totalByCarrier[carrier.name, default: 0] += 1
                let hit = try findings(engine, document, syntax: carrier.syntax).contains { $0.detectorID == testCase.detectorID }
                if hit {
                    figures.found[testCase.detectorID, default: 0] += 1
                    figures.foundByCarrier[carrier.name, default: 0] += 1
                }
            }
        }
        for source in CleanCorpusTests.sources {
            for path in CleanCorpusTests.files(in: source) {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let bytes = [UInt8](data)
                figures.negativeBytes += bytes.count
                // A file too encoded to decode would be refused by the proxy: that counts as a false positive.
                do {
                    for finding in try findings(engine, bytes) {
                        figures.falsePositives.append("\(path): \(finding.detectorID)")
                    }
                } catch {
                    figures.falsePositives.append("\(path): \(error)")
                }
            }
        }
        return figures
    }

    static func table(_ figures: Figures) -> String {
        var lines = ["kind                                   found/total  recall"]
        for id in figures.total.keys.sorted() {
            let found = figures.found[id] ?? 0
            let total = figures.total[id] ?? 0
            lines.append(
                id.padding(toLength: 38, withPad: " ", startingAt: 0) + " "
                    + "\(found)/\(total)".padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(format: " %.2f", Double(found) / Double(total))
            )
        }
        lines.append("")
        lines.append("carrier        found/total")
        for carrier in carriers {
            let found = figures.foundByCarrier[carrier.name] ?? 0
            lines.append(carrier.name.padding(toLength: 14, withPad: " ", startingAt: 0) + " \(found)/\(figures.totalByCarrier[carrier.name] ?? 0)")
        }
        lines.append(
            String(
                format: "dlp-eval: %d kinds, %d positives in %d carriers, recall %.3f; %.1f MB of real text, %d false positives (%.3f per MB)",
                figures.total.count,
                figures.total.values.reduce(0, +),
                carriers.count,
                figures.recall,
                Double(figures.negativeBytes) / 1_048_576,
                figures.falsePositives.count,
                figures.falsePositivesPerMB
            )
        )
        return lines.joined(separator: "\n")
    }

    @Test("recall over every kind and carrier, and false positives per MB of real text, meet the targets")
    func targets() throws {
        let figures = try Self.evaluate()
        print(Self.table(figures))
        #expect(figures.total.count >= 70, "\(figures.total.count) kinds")
        #expect(figures.negativeBytes >= 5 << 20, "\(figures.negativeBytes) bytes of negatives")
        #expect(figures.recall >= 0.97, "recall \(figures.recall)")
        #expect(figures.falsePositivesPerMB <= 0.1, "\(figures.falsePositives.prefix(20).joined(separator: "\n"))")
    }
}
