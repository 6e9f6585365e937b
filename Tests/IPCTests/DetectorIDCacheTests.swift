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

    /// A decoder that has just read a request with `ids`, so its cache holds them.
    private func decoderHolding(_ ids: [String]) throws -> FrameDecoder {
        var decoder = FrameDecoder()
        decoder.append(try request(1, ids).encodedFrame())
        _ = try decoder.nextMessage()
        return decoder
    }

    /// A hand-made scan request whose detector id section is one string field of `length` and
    /// `bytes`, followed by no segments when `segments` is set.
    private func requestFrame(idLength length: UInt32, bytes: [UInt8], segments: Bool) -> [UInt8] {
        var frame = FrameBuilder()
        frame.u64(2)
        frame.u8(0)
        frame.u8(0)
        frame.u32(1)
        frame.u32(length)
        frame.payload += bytes
        if segments { frame.u32(0) }
        return frame.frame(type: 1)
    }

    @Test func invalidUTF8AfterACachedListIsStillRefused() throws {
        var decoder = try decoderHolding(["jxt"])
        decoder.append(requestFrame(idLength: 3, bytes: [0x6a, 0xff, 0x74], segments: true))
        #expect(throws: FrameError.invalidUTF8(field: "detector id")) { try decoder.nextMessage() }
    }

    @Test func aTruncatedListAfterACachedOneIsRefusedAsTruncated() throws {
        var decoder = try decoderHolding(["abc"])
        decoder.append(requestFrame(idLength: 10, bytes: [], segments: false))
        #expect(throws: FrameError.truncated(field: "detector id")) { try decoder.nextMessage() }
    }
}
