import IPC
import Testing

@testable import Frontend

/// What a worker replies is checked against the scan it answers, before anything indexes with it.
@Suite("scan reply checks")
struct ScanReplyCheckTests {
    static let job = ScanJob(direction: .outbound, detectorIDs: ["a"], redact: false, segments: [[1, 2, 3], [4]])

    static func reply(_ findings: [WireFinding], redacted: [[UInt8]]? = nil) -> ScanReply {
        ScanReply(id: 1, status: .ok, findings: findings, redactedSegments: redacted)
    }

    @Test func consistentRepliesPass() {
        #expect(ScanReplyCheck.problem(with: Self.reply([]), for: Self.job) == nil)
        let findings = [
            WireFinding(detectorID: "a", segment: 0, start: 0, end: 3), WireFinding(detectorID: "a", segment: 1, start: 1, end: 1),
        ]
        #expect(ScanReplyCheck.problem(with: Self.reply(findings), for: Self.job) == nil)
    }

    @Test(arguments: [
        WireFinding(detectorID: "a", segment: 2, start: 0, end: 1),
        WireFinding(detectorID: "a", segment: UInt32.max, start: 0, end: 1),
        WireFinding(detectorID: "a", segment: 0, start: 0, end: 4),
        WireFinding(detectorID: "a", segment: 0, start: 3, end: 2),
        WireFinding(detectorID: "a", segment: 1, start: UInt64.max, end: UInt64.max),
        WireFinding(detectorID: "b", segment: 0, start: 0, end: 1),
    ])
    func lyingFindingsAreCaught(finding: WireFinding) {
        #expect(ScanReplyCheck.problem(with: Self.reply([finding]), for: Self.job) != nil)
    }

    @Test func redactedSegmentsMustMatchTheRequest() {
        var redacting = Self.job
        redacting.redact = true
        let finding = WireFinding(detectorID: "a", segment: 0, start: 0, end: 1)
        #expect(ScanReplyCheck.problem(with: Self.reply([finding], redacted: [[0], [4]]), for: redacting) == nil)
        #expect(ScanReplyCheck.problem(with: Self.reply([finding], redacted: [[0]]), for: redacting) != nil)
        #expect(ScanReplyCheck.problem(with: Self.reply([finding]), for: redacting) != nil)
        #expect(ScanReplyCheck.problem(with: Self.reply([], redacted: [[1, 2, 3], [4]]), for: Self.job) != nil)
    }
}
