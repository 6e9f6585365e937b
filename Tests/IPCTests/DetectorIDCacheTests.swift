import Testing

@testable import IPC

/// A decoder reuses the last scan request's detector ids when the same bytes come again; whatever
/// comes, each request decodes to exactly what was sent, and bad bytes are refused as before.
@Suite struct DetectorIDCacheTests {
    private func request(_ id: UInt64, _ detectorIDs: [String]) -> ScanRequest {
        ScanRequest(id: id, direction: 0, detectorIDs: detectorIDs, redact: false, segments: [Array("x".utf8)])
    }

    private func decodeAll(_ requests: [ScanRequest]) throws -> [ScanRequest] {
        var decoder = FrameDecoder()
        var decoded: [ScanRequest] = []
        for request in requests {
            decoder.append(try request.encodedFrame())
            guard case .scanRequest(let got)? = try decoder.nextMessage() else {
                Issue.record("no request decoded")
                return decoded
            }
            decoded.append(got)
        }
        return decoded
    }

    @Test func everyRequestDecodesToWhatWasSentWhateverCameBefore() throws {
        let requests = [
            request(1, ["github_pat", "aws_access_key"]),
            request(2, ["github_pat", "aws_access_key"]),
            // Same count and lengths, other bytes.
            request(3, ["github_pot", "aws_access_key"]),
            request(4, ["github_pat"]),
            request(5, []),
            request(6, ["github_pat", "aws_access_key"]),
            request(7, ["é", "aws_access_key"]),
        ]
        #expect(try decodeAll(requests) == requests)
    }

    @Test func aRepeatedListIsTheSameArray() throws {
        let ids = (0..<80).map { "detector_number_\($0)" }
        let decoded = try decodeAll([request(1, ids), request(2, ids)])
        try #require(decoded.count == 2)
        // The second list is the first one's storage: no string was made again.
        decoded[0].detectorIDs.withUnsafeBufferPointer { first in
            decoded[1].detectorIDs.withUnsafeBufferPointer { second in
                #expect(first.baseAddress == second.baseAddress)
            }
        }
    }

    @Test func invalidUTF8AfterACachedListIsStillRefused() throws {
        var decoder = FrameDecoder()
        decoder.append(try request(1, ["jxt"]).encodedFrame())
        _ = try decoder.nextMessage()
        var bad = FrameBuilder()
        bad.u64(2)
        bad.u8(0)
        bad.u8(0)
        bad.u32(1)
        bad.bytes([0x6a, 0xff, 0x74])
        bad.u32(0)
        decoder.append(bad.frame(type: 1))
        #expect(throws: FrameError.invalidUTF8(field: "detector id")) { try decoder.nextMessage() }
    }

    @Test func aTruncatedListAfterACachedOneIsRefusedAsTruncated() throws {
        var decoder = FrameDecoder()
        decoder.append(try request(1, ["abc"]).encodedFrame())
        _ = try decoder.nextMessage()
        var short = FrameBuilder()
        short.u64(2)
        short.u8(0)
        short.u8(0)
        short.u32(1)
        short.u32(10)
        decoder.append(short.frame(type: 1))
        #expect(throws: FrameError.truncated(field: "detector id")) { try decoder.nextMessage() }
    }
}
