import Testing

@testable import Detectors

@Suite("Detection engine")
struct DetectionEngineTests {
    @Test("unknown detector ids are rejected")
    func unknownDetector() throws {
        let engine = try DetectionEngine()
        #expect(throws: DetectionError.unknownDetector("no_such_detector")) {
            try engine.scan(Array("hello".utf8), detectorIDs: ["github_token_classic", "no_such_detector"])
        }
        // Also for an empty buffer: the id list is validated first.
        #expect(throws: DetectionError.unknownDetector("nope")) {
            try engine.scan([UInt8](), detectorIDs: ["nope"])
        }
    }

    @Test("empty buffers and empty detector lists find nothing")
    func empty() throws {
        let engine = try DetectionEngine()
        #expect(try engine.scan([UInt8](), detectorIDs: DetectorCatalog.defaultIDs(for: .outbound)).isEmpty)
        #expect(try engine.scan(Array(DetectorCases.specValidToken.utf8), detectorIDs: []).isEmpty)
    }

    @Test("duplicate ids in a request report each finding once")
    func duplicateRequest() throws {
        let engine = try DetectionEngine()
        let text = Array("t=\(DetectorCases.specValidToken)".utf8)
        let findings = try engine.scan(text, detectorIDs: ["github_token_classic", "github_token_classic"])
        #expect(findings == [Finding(detectorID: "github_token_classic", start: 2, end: 42)])
    }

    @Test("only the requested detectors run")
    func requestedOnly() throws {
        let engine = try DetectionEngine()
        let text = Array("t=\(DetectorCases.specValidToken)".utf8)
        #expect(try engine.scan(text, detectorIDs: ["aws_access_key_id", "jwt"]).isEmpty)
        #expect(try engine.scan(text, detectorIDs: DetectorCatalog.defaultIDs(for: .inbound)).isEmpty)
    }

    @Test("the raw-buffer and array entry points agree")
    func rawBuffer() throws {
        let engine = try DetectionEngine()
        let text = Array("x \(DetectorCases.specValidToken) y".utf8)
        let viaArray = try engine.scan(text, detectorIDs: ["github_token_classic"])
        let viaPointer = try text.withUnsafeBytes { try engine.scan($0, detectorIDs: ["github_token_classic"]) }
        #expect(viaArray == viaPointer)
        #expect(viaArray.count == 1)
    }

    @Test("a pattern that does not compile is reported with its id")
    func compileError() {
        let broken = DetectorDefinition(
            id: "broken",
            label: "broken",
            direction: .outbound,
            summary: "x",
            pattern: "(unclosed"
        )
        do {
            _ = try DetectionEngine(definitions: [broken])
            Issue.record("expected a compile error")
        } catch {
            #expect(error.detectorID == "broken")
            #expect(error.description.contains("broken"))
        }
    }

    @Test("duplicate ids and out-of-range secret groups are rejected at init")
    func inconsistentDefinitions() {
        let one = DetectorDefinition(id: "dup", label: "a", direction: .outbound, summary: "x", pattern: "a")
        #expect(throws: DetectorCompileError.self) { try DetectionEngine(definitions: [one, one]) }
        let badGroup = DetectorDefinition(
            id: "group",
            label: "g",
            direction: .outbound,
            summary: "x",
            pattern: "(a)b",
            secretGroup: 2
        )
        #expect(throws: DetectorCompileError.self) { try DetectionEngine(definitions: [badGroup]) }
    }

    @Test("adjacent matches are all found, after a rejected overlap too")
    func adjacentMatches() throws {
        let engine = try DetectionEngine()
        // An invalid-checksum token immediately followed by a valid one in the same run of text.
        let text = Array(
            "\(DetectorCases.specInvalidToken) \(DetectorCases.specValidToken),\(DetectorCases.specValidToken)".utf8
        )
        let findings = try engine.scan(text, detectorIDs: ["github_token_classic"])
        #expect(findings.map(\.start) == [41, 82])
    }

    @Test("scanning stays correct across the prefilter cache bound")
    func manyDetectorSets() throws {
        let engine = try DetectionEngine()
        let text = Array("t=\(DetectorCases.specValidToken)".utf8)
        let others = DetectorCatalog.defaultIDs(for: .outbound).filter { $0 != "github_token_classic" }
        for count in 0..<others.count {
            let ids = Array(others.prefix(count)) + ["github_token_classic"]
            #expect(try engine.scan(text, detectorIDs: ids).count == 1)
        }
    }
}
