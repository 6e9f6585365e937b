import EgressTestSupport
import Testing

@testable import IPC

@Suite struct FrameDecoderIncrementalTests {
    private static func stream(seed: UInt64, count: Int) throws -> (messages: [WireMessage], bytes: [UInt8]) {
        var rng = SeededGenerator(seed: seed)
        let messages = (0..<count).map { _ in MessageGenerator.message(using: &rng) }
        var bytes: [UInt8] = []
        for message in messages {
            bytes += try message.encodedFrame()
        }
        return (messages, bytes)
    }

    @Test func byteByByte() throws {
        let (messages, bytes) = try Self.stream(seed: 1, count: 50)
        var decoder = FrameDecoder()
        var decoded: [WireMessage] = []
        for byte in bytes {
            decoder.append([byte])
            while let message = try decoder.nextMessage() {
                decoded.append(message)
            }
        }
        #expect(decoded == messages)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test(arguments: [UInt64(2), 3, 4, 5, 6])
    func randomSplits(seed: UInt64) throws {
        let (messages, bytes) = try Self.stream(seed: seed, count: 100)
        var rng = SeededGenerator(seed: seed &* 31)
        var decoder = FrameDecoder()
        var decoded: [WireMessage] = []
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, Int.random(in: 1...200, using: &rng))
            decoder.append(Array(bytes[offset..<offset + chunk]))
            offset += chunk
            // Sometimes leave messages buffered across appends.
            if Bool.random(using: &rng) {
                while let message = try decoder.nextMessage() {
                    decoded.append(message)
                }
            }
        }
        while let message = try decoder.nextMessage() {
            decoded.append(message)
        }
        #expect(decoded == messages)
    }

    @Test func nothingUntilTheLastByte() throws {
        let frame = try ScanReply(id: 3, status: .limitExceeded, message: "match limit exceeded in detector jwt")
            .encodedFrame()
        var decoder = FrameDecoder()
        decoder.append(Array(frame.dropLast()))
        #expect(try decoder.nextMessage() == nil)
        #expect(try decoder.nextMessage() == nil)
        decoder.append([frame.last!])
        #expect(try decoder.nextMessage() != nil)
        #expect(try decoder.nextMessage() == nil)
    }

    @Test func aLargeFrameInSocketSizedChunksKeepsCapacityNearTheFrame() throws {
        let segment = [UInt8](repeating: 0x41, count: 4 << 20)
        let frame = try ScanRequest(id: 1, direction: 0, detectorIDs: ["jwt"], redact: false, segments: [segment])
            .encodedFrame()
        var decoder = FrameDecoder()
        var offset = 0
        while offset < frame.count {
            let chunk = min(65536, frame.count - offset)
            frame[offset..<offset + chunk].withUnsafeBytes { decoder.append($0) }
            offset += chunk
            if offset < frame.count {
                #expect(try decoder.nextMessage() == nil)
            }
        }
        // Geometric growth is capped at the frame's end.
        #expect(decoder.bufferCapacity <= frame.count + 4096)
        guard case .scanRequest(let request) = try decoder.nextMessage() else {
            Issue.record("expected a scan request")
            return
        }
        #expect(request.segments == [segment])
        // A drained large buffer is released.
        #expect(decoder.bufferCapacity == 0)
    }
}
