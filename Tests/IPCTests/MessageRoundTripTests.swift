import EgressTestSupport
import Testing

@testable import IPC

@Suite struct MessageRoundTripTests {
    static let requests: [ScanRequest] = [
        ScanRequest(id: 0, direction: 0, detectorIDs: [], redact: false, segments: []),
        ScanRequest(id: 1, direction: 1, detectorIDs: ["jwt"], redact: true, segments: [[]]),
        ScanRequest(
            id: .max,
            direction: 0,
            detectorIDs: ["github_token_classic", "aws_access_key_id", "é→✓", ""],
            redact: true,
            segments: [
                Array("/repos/x?q=1".utf8), [], Array("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".utf8), [0, 255, 0],
            ]
        ),
        ScanRequest(
            id: 42,
            direction: 1,
            detectorIDs: Array(repeating: "jwt", count: WireProtocol.maxDetectorIDs),
            redact: false,
            segments: Array(repeating: [7], count: WireProtocol.maxSegments)
        ),
    ]

    static let replies: [ScanReply] = [
        ScanReply(id: 0, status: .ok),
        ScanReply(id: 9, status: .ok, redactedSegments: []),
        ScanReply(id: 9, status: .ok, redactedSegments: [[], Array("[REDACTED:jwt]".utf8)]),
        ScanReply(id: 3, status: .limitExceeded, message: "match limit exceeded in detector jwt"),
        ScanReply(id: 4, status: .error, message: "unknown detector nope"),
        ScanReply(
            id: .max,
            status: .ok,
            findings: [
                WireFinding(detectorID: "github_token_classic", segment: 2, start: 0, end: 40),
                WireFinding(detectorID: "", segment: .max, start: .max, end: .max),
                WireFinding(detectorID: "jwt", segment: 0, start: 5, end: 5),
            ]
        ),
    ]

    @Test(arguments: requests)
    func scanRequestRoundTrips(_ request: ScanRequest) throws {
        let frame = try request.encodedFrame()
        #expect(try decodeAll(frame) == [.scanRequest(request)])
    }

    @Test(arguments: replies)
    func scanReplyRoundTrips(_ reply: ScanReply) throws {
        let frame = try reply.encodedFrame()
        #expect(try decodeAll(frame) == [.scanReply(reply)])
    }

    @Test(arguments: [
        WorkerReady(detectorCount: 0, faultInjection: false, pid: 1),
        WorkerReady(detectorCount: 87, faultInjection: true, pid: .max),
        WorkerReady(protocolVersion: 200, detectorCount: .max, faultInjection: false, pid: -1),
    ])
    func workerReadyRoundTrips(_ ready: WorkerReady) throws {
        let frame = try ready.encodedFrame()
        #expect(frame.count == 4 + 2 + 10)
        #expect(try decodeAll(frame) == [.workerReady(ready)])
    }

    @Test func frameLayoutIsLengthVersionTypePayload() throws {
        let frame = try WorkerReady(detectorCount: 0x0102_0304, faultInjection: true, pid: -2).encodedFrame()
        #expect(
            frame == [
                0, 0, 0, 12, WireProtocol.version, 2, WireProtocol.version, 1, 2, 3, 4, 1, 0xff, 0xff, 0xff, 0xfe,
            ]
        )
    }

    @Test func scanRequestLayoutWithItsIDsEncodedOnce() throws {
        let ids = try EncodedDetectorIDs(["ab"])
        let frame = try ScanRequest.encodedFrame(id: 1, direction: 1, detectorIDs: ids, redact: true, segments: [[9]])
        #expect(
            frame == [
                0, 0, 0, 31, WireProtocol.version, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1,
                0, 0, 0, 1, 0, 0, 0, 2, UInt8(ascii: "a"), UInt8(ascii: "b"), 0, 0, 0, 1, 0, 0, 0, 1, 9,
            ]
        )
        let request = ScanRequest(id: 1, direction: 1, detectorIDs: ["ab"], redact: true, segments: [[9]])
        #expect(try request.encodedFrame() == frame)
        // Lengths are UTF-8 bytes, not characters.
        #expect(try EncodedDetectorIDs(["é→✓"]).byteCount == 4 + 4 + 8)
    }

    @Test func largeSegmentsRoundTrip() throws {
        var rng = SeededGenerator(seed: 7)
        let body = MessageGenerator.bytes(16 << 20, using: &rng)
        let request = ScanRequest(
            id: 5,
            direction: 0,
            detectorIDs: ["jwt"],
            redact: true,
            segments: [Array("/upload".utf8), body, Array(body[0..<1000])]
        )
        let frame = try request.encodedFrame()
        let header = 4 + 2 + 8 + 1 + 1
        let detectors = 4 + (4 + 3)
        let segments: Int = 4 + (4 + 7) + (4 + (16 << 20)) + (4 + 1000)
        #expect(frame.count == header + detectors + segments)
        #expect(try decodeAll(frame) == [.scanRequest(request)])

        let reply = ScanReply(id: 5, status: .ok, redactedSegments: request.segments)
        #expect(try decodeAll(try reply.encodedFrame()) == [.scanReply(reply)])
    }

    @Test func manyFindingsRoundTrip() throws {
        let findings = (0..<100_000).map { (index: Int) -> WireFinding in
            let detectorID = index % 2 == 0 ? "github_token_classic" : "jwt"
            return WireFinding(
                detectorID: detectorID,
                segment: UInt32(index % 7),
                start: UInt64(index),
                end: UInt64(index) * 2
            )
        }
        let reply = ScanReply(id: 77, status: .ok, findings: findings)
        #expect(try decodeAll(try reply.encodedFrame()) == [.scanReply(reply)])
    }

    @Test func severalFramesInOneBuffer() throws {
        var rng = SeededGenerator(seed: 11)
        let messages = (0..<200).map { _ in MessageGenerator.message(using: &rng) }
        var stream: [UInt8] = []
        for message in messages {
            stream += try message.encodedFrame()
        }
        #expect(try decodeAll(stream) == messages)
    }

    @Test func randomMessagesRoundTrip() throws {
        var rng = SeededGenerator(seed: 12)
        for _ in 0..<2000 {
            let message = MessageGenerator.message(using: &rng)
            #expect(try decodeAll(try message.encodedFrame()) == [message])
        }
    }
}

@Suite struct EncoderLimitTests {
    @Test func encoderRefusesFramesOverTheMaximum() {
        let request = ScanRequest(
            id: 1,
            direction: 0,
            detectorIDs: [],
            redact: false,
            segments: [[UInt8](repeating: 0, count: 100)]
        )
        // 2 + 8 + 1 + 1 + 4 + 4 + 4 + 100 = 124
        #expect(throws: FrameError.frameTooLarge(length: 124, limit: 123)) {
            try request.encodedFrame(maxFrameSize: 123)
        }
        #expect(throws: Never.self) { try request.encodedFrame(maxFrameSize: 124) }
    }

    @Test func encoderRefusesWhatTheDecoderWouldReject() {
        #expect(throws: FrameError.invalidValue(field: "direction")) {
            try ScanRequest(id: 1, direction: 2, detectorIDs: [], redact: false, segments: []).encodedFrame()
        }
        #expect(throws: FrameError.countTooLarge(field: "segments", count: UInt32(WireProtocol.maxSegments + 1))) {
            try ScanRequest(
                id: 1,
                direction: 0,
                detectorIDs: [],
                redact: false,
                segments: Array(repeating: [], count: WireProtocol.maxSegments + 1)
            ).encodedFrame()
        }
        #expect(throws: FrameError.countTooLarge(field: "detector ids", count: UInt32(WireProtocol.maxDetectorIDs + 1)))
        {
            try ScanRequest(
                id: 1,
                direction: 0,
                detectorIDs: Array(repeating: "a", count: WireProtocol.maxDetectorIDs + 1),
                redact: false,
                segments: []
            ).encodedFrame()
        }
        #expect(throws: FrameError.countTooLarge(field: "detector id", count: UInt32(WireProtocol.maxStringLength + 1)))
        {
            try ScanRequest(
                id: 1,
                direction: 0,
                detectorIDs: [String(repeating: "a", count: WireProtocol.maxStringLength + 1)],
                redact: false,
                segments: []
            ).encodedFrame()
        }
        #expect(throws: FrameError.invalidValue(field: "message")) {
            try ScanReply(id: 1, status: .ok, message: "not empty").encodedFrame()
        }
        #expect(throws: FrameError.invalidValue(field: "redacted segments")) {
            try ScanReply(id: 1, status: .error, message: "x", redactedSegments: [[]]).encodedFrame()
        }
        #expect(throws: FrameError.invalidValue(field: "finding range")) {
            try ScanReply(id: 1, status: .ok, findings: [WireFinding(detectorID: "jwt", segment: 0, start: 2, end: 1)])
                .encodedFrame()
        }
        #expect(throws: FrameError.countTooLarge(field: "findings", count: UInt32(WireProtocol.maxFindings + 1))) {
            try ScanReply(
                id: 1,
                status: .ok,
                findings: Array(
                    repeating: WireFinding(detectorID: "", segment: 0, start: 0, end: 0),
                    count: WireProtocol.maxFindings + 1
                )
            ).encodedFrame()
        }
    }
}
