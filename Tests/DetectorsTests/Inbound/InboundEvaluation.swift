import Foundation
import IPC
import Testing

@testable import Detectors
@testable import Frontend

/// Inbound prompt-injection detection measured as the proxy applies it (README, "Inbound
/// evaluation"): each document decoded into its views (JSON strings unescaped, HTML entities
/// undone, …), scanned with the default inbound catalog, and judged by ``InjectionAssessment``
/// against the default threshold. Injected documents are the phrasings of
/// ``InjectionPhrasings`` inside real markdown from the package's dependency checkouts, each in two
/// of the fourteen carriers; benign documents are every markdown file of the checkouts in a
/// carrier, plus ``InboundHardNegatives``. Held-out phrasings are reported apart and hold the targets.
/// `scripts/dlp-eval.sh --inbound` prints the table.
@Suite("Inbound evaluation")
struct InboundEvaluation {
    struct Document {
        var name: String
        var kind: InjectionKind?
        var carrier: String
        var bytes: [UInt8]
    }

    struct Judgement {
        var score: InjectionSeverity?
        var detectors: [String]
    }

    static let threshold = InjectionSeverity.medium

    /// Real markdown: the documentation, READMEs and changelogs of the package's dependencies.
    static func markdownFiles() -> [String] {
        let root = CleanCorpusTests.checkouts
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".md"), !relative.contains("/.build/") else { continue }
            files.append(root + "/" + relative)
        }
        // Sorted before any cut, so the sample does not depend on the file system's order.
        return Array(files.sorted().prefix(2000))
    }

    /// A markdown body cut to `limit` characters and split at the paragraph break nearest its middle.
    static func halves(_ text: String, limit: Int) -> (title: String, before: String, after: String) {
        let body = String(text.prefix(limit))
        let title = body.split(separator: "\n").first { $0.hasPrefix("#") }.map { $0.drop { $0 == "#" || $0 == " " } }
            .map(String.init) ?? "Notes"
        let breaks = body.ranges(of: "\n\n")
        let middle = body.index(body.startIndex, offsetBy: body.count / 2)
        guard let split = breaks.min(by: {
            abs(body.distance(from: middle, to: $0.lowerBound)) < abs(body.distance(from: middle, to: $1.lowerBound))
        }) else { return (title, body, "") }
        return (title, String(body[..<split.lowerBound]), String(body[split.upperBound...]))
    }

    static func injected(_ phrasings: [Phrasing], fillers: [String]) -> [Document] {
        let carriers = InboundCarrier.all
        var documents: [Document] = []
        for (index, phrasing) in phrasings.enumerated() {
            for choice in 0..<2 {
                let carrier = carriers[(index * 5 + choice * 7) % carriers.count]
                let filler = fillers.isEmpty ? "# Notes\n\nSome text.\n\nMore text." : fillers[(index * 11 + choice) % fillers.count]
                let (title, before, after) = halves(filler, limit: 4000)
                let payload = InboundCarrier.Payload(text: InjectionText.render(phrasing.text), markup: phrasing.markup)
                documents.append(
                    Document(
                        name: "\(phrasing.kind.rawValue)#\(index) in \(carrier.name) «\(phrasing.text.prefix(70))»",
                        kind: phrasing.kind,
                        carrier: carrier.name,
                        bytes: Array(carrier.wrap(title, before, payload, after).utf8)
                    )
                )
            }
        }
        return documents
    }

    static func benign(_ files: [String]) -> [Document] {
        let carriers = InboundCarrier.all
        var documents: [Document] = []
        for (index, path) in files.enumerated() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let carrier = carriers[index % carriers.count]
            let (title, before, after) = halves(String(decoding: data, as: UTF8.self), limit: 100_000)
            documents.append(
                Document(name: path, kind: nil, carrier: carrier.name, bytes: Array(carrier.wrap(title, before, nil, after).utf8))
            )
        }
        for (name, text) in InboundHardNegatives.documents {
            documents.append(Document(name: "hard: " + name, kind: nil, carrier: "as fetched", bytes: Array(text.utf8)))
        }
        return documents
    }

    /// What the proxy would conclude about one fetched document.
    static func judge(_ engine: DetectionEngine, _ bytes: [UInt8]) throws -> Judgement {
        do {
            let (detectors, severity) = try InboundDocument.judge(bytes, engine: engine)
            return Judgement(score: severity, detectors: detectors)
        } catch let error as InboundDocumentError {
            // Too encoded to decode: the proxy refuses it under block.
            return Judgement(score: .high, detectors: ["undecodable: \(error.reason)"])
        }
    }

    struct Figures {
        var found: [InjectionKind: Int] = [:]
        var total: [InjectionKind: Int] = [:]
        var missed: [String] = []
        var benignDocuments = 0
        var benignBytes = 0
        var falsePositives: [String] = []
        var belowThreshold = 0
        var benignSeconds = 0.0

        var recall: Double { Double(found.values.reduce(0, +)) / Double(max(1, total.values.reduce(0, +))) }
        var falsePositiveRate: Double { Double(falsePositives.count) / Double(max(1, benignDocuments)) }
        var millisecondsPer100KB: Double { benignSeconds * 1000 / (Double(benignBytes) / 100_000) }
    }

    static func evaluate(_ phrasings: [Phrasing], benignToo: Bool = true) throws -> Figures {
        let engine = try DetectionEngine()
        let fillers = markdownFiles().compactMap { FileManager.default.contents(atPath: $0).map { String(decoding: $0, as: UTF8.self) } }
            .filter { $0.count > 1500 }
        var figures = Figures()
        for document in injected(phrasings, fillers: fillers) {
            guard let kind = document.kind else { continue }
            figures.total[kind, default: 0] += 1
            let judgement = try judge(engine, document.bytes)
            if let score = judgement.score, score >= threshold {
                figures.found[kind, default: 0] += 1
            } else {
                figures.missed.append("\(document.name): \(judgement.detectors) \(judgement.score.map(String.init(describing:)) ?? "-")")
            }
        }
        guard benignToo else { return figures }
        let documents = benign(markdownFiles())
        let clock = ContinuousClock()
        let start = clock.now
        var judgements: [Judgement] = []
        for document in documents { judgements.append(try judge(engine, document.bytes)) }
        let elapsed = clock.now - start
        figures.benignSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        for (document, judgement) in zip(documents, judgements) {
            figures.benignDocuments += 1
            figures.benignBytes += document.bytes.count
            if let score = judgement.score {
                if score >= threshold {
                    figures.falsePositives.append("\(document.name) (\(document.carrier)): \(judgement.detectors) \(score)")
                } else {
                    figures.belowThreshold += 1
                }
            }
        }
        return figures
    }

    static func table(tuning: Figures, heldOut: Figures, blind: Figures) -> String {
        var lines = ["kind                     tuning   held-out blind"]
        for kind in InjectionKind.allCases {
            func cell(_ figures: Figures) -> String {
                "\(figures.found[kind] ?? 0)/\(figures.total[kind] ?? 0)".padding(toLength: 8, withPad: " ", startingAt: 0)
            }
            lines.append(
                kind.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0) + " " + cell(tuning) + " " + cell(heldOut) + " "
                    + cell(blind)
            )
        }
        lines.append(
            String(
                format: "inbound-eval: threshold %@; recall %.3f tuning (%d docs), %.3f held-out (%d docs), %.3f blind (%d docs); %d benign documents (%.1f MB), %d false positives (%.2f %%), %d more below the threshold; %.2f ms per 100 KB (debug build)",
                threshold.description,
                tuning.recall, tuning.total.values.reduce(0, +),
                heldOut.recall, heldOut.total.values.reduce(0, +),
                blind.recall, blind.total.values.reduce(0, +),
                tuning.benignDocuments, Double(tuning.benignBytes) / 1_048_576,
                tuning.falsePositives.count, tuning.falsePositiveRate * 100, tuning.belowThreshold,
                tuning.millisecondsPer100KB
            )
        )
        return lines.joined(separator: "\n")
    }

    @Test("held-out recall and false-positive documents meet the targets")
    func targets() throws {
        let files = Self.markdownFiles()
        try #require(files.count >= 300, "the dependency checkouts' markdown is missing: build the package first")
        let tuning = try Self.evaluate(InjectionPhrasings.tuning)
        let heldOut = try Self.evaluate(InjectionPhrasings.heldOut, benignToo: false)
        let blind = try Self.evaluate(InjectionPhrasings.blind, benignToo: false)
        print(Self.table(tuning: tuning, heldOut: heldOut, blind: blind))
        if ProcessInfo.processInfo.environment["INBOUND_EVAL_DETAILS"] != nil {
            print("missed (tuning):\n" + tuning.missed.joined(separator: "\n"))
            print("false positives:\n" + tuning.falsePositives.joined(separator: "\n"))
        }
        #expect(InjectionKind.allCases.allSatisfy { (heldOut.total[$0] ?? 0) > 0 }, "every kind is held out")
        // Which held-out documents were missed is not printed: the detectors are never tuned on them.
        // Both floors guard against regressions; they are not the issue's target (0.9 on a blind
        // set), which the blind set does not reach yet (README, "Inbound evaluation").
        #expect(InjectionKind.allCases.allSatisfy { (blind.total[$0] ?? 0) > 0 }, "every kind is in the blind set")
        #expect(heldOut.recall >= 0.9, "held-out recall \(heldOut.recall)")
        #expect(blind.recall >= 0.55, "blind recall \(blind.recall)")
        #expect(tuning.falsePositiveRate <= 0.01, "\(tuning.falsePositives.prefix(10).joined(separator: "\n"))")
    }
}
