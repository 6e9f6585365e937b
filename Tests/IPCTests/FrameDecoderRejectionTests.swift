import Testing

@testable import IPC

/// One test per rule the decoder enforces; each also checks the decoder stays failed.
@Suite struct FrameDecoderRejectionTests {
    /// Decodes `bytes`, expecting exactly `expected`, then checks the decoder is stuck failed.
    private func expectRejected(
        _ bytes: [UInt8],
        maxFrameSize: Int = WireProtocol.defaultMaxFrameSize,
        with expected: FrameError,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        decoder.append(bytes)
        #expect(throws: expected, sourceLocation: sourceLocation) {
            while try decoder.nextMessage() != nil {}
        }
        #expect(decoder.hasFailed, sourceLocation: sourceLocation)
        #expect(decoder.bufferedByteCount == 0, sourceLocation: sourceLocation)
        // Stays failed, even when handed a valid frame.
        decoder.append(try! WorkerReady(detectorCount: 1, faultInjection: false, pid: 1).encodedFrame())
        #expect(decoder.bufferedByteCount == 0, sourceLocation: sourceLocation)
        #expect(throws: expected, sourceLocation: sourceLocation) { try decoder.nextMessage() }
    }

    private func workerReadyPayload() -> FrameBuilder {
        var builder = FrameBuilder()
        builder.u8(WireProtocol.version)
        builder.u32(5)
        builder.u8(0)
        builder.u32(1234)
        return builder
    }

    @Test func rejectsAnotherVersion() {
        expectRejected(workerReadyPayload().frame(type: 2, version: 2), with: .unsupportedVersion(2))
        expectRejected(workerReadyPayload().frame(type: 2, version: 0), with: .unsupportedVersion(0))
    }

    @Test(arguments: [UInt8(0), 4, 99, 255])
    func rejectsUnknownMessageTypes(_ type: UInt8) {
        expectRejected(workerReadyPayload().frame(type: type), with: .unknownMessageType(type))
    }

    @Test func rejectsLengthsBelowTwo() {
        expectRejected([0, 0, 0, 0], with: .frameTooShort(length: 0))
        expectRejected([0, 0, 0, 1, WireProtocol.version], with: .frameTooShort(length: 1))
    }

    @Test func rejectsLengthsAboveTheMaximum() {
        expectRejected([0, 0, 0, 101], maxFrameSize: 100, with: .frameTooLarge(length: 101, limit: 100))
        expectRejected(
            [0xff, 0xff, 0xff, 0xff],
            with: .frameTooLarge(length: 0xffff_ffff, limit: WireProtocol.defaultMaxFrameSize)
        )
        expectRejected(
            bigEndian(UInt32(WireProtocol.defaultMaxFrameSize + 1)),
            with: .frameTooLarge(
                length: UInt64(WireProtocol.defaultMaxFrameSize + 1),
                limit: WireProtocol.defaultMaxFrameSize
            )
        )
    }

    @Test func acceptsAFrameOfExactlyTheMaximum() throws {
        let frame = try WorkerReady(detectorCount: 1, faultInjection: false, pid: 1).encodedFrame()
        #expect(try decodeAll(frame, maxFrameSize: frame.count - 4).count == 1)
        #expect(throws: FrameError.frameTooLarge(length: UInt64(frame.count - 4), limit: frame.count - 5)) {
            try decodeAll(frame, maxFrameSize: frame.count - 5)
        }
    }

    @Test func rejectsAHugeLengthRightAfterTheLengthField() {
        var decoder = FrameDecoder()
        decoder.append([0xff, 0xff, 0xff])
        #expect(!decoder.hasFailed)
        decoder.append([0xff])
        // Failed on the fourth byte, before nextMessage() and before any body byte: nothing allocated.
        #expect(decoder.hasFailed)
        #expect(decoder.bufferCapacity == 0)
        decoder.append([UInt8](repeating: 0, count: 1 << 16))
        #expect(decoder.bufferCapacity == 0)
        #expect(throws: FrameError.frameTooLarge(length: 0xffff_ffff, limit: WireProtocol.defaultMaxFrameSize)) {
            try decoder.nextMessage()
        }
    }

    @Test func aValidHeaderClaimingTheMaximumAllocatesOnlyWhatArrives() throws {
        var decoder = FrameDecoder()
        decoder.append(bigEndian(UInt32(WireProtocol.defaultMaxFrameSize)) + [WireProtocol.version, 1])
        for _ in 0..<16 {
            decoder.append([UInt8](repeating: 0, count: 1024))
            #expect(try decoder.nextMessage() == nil)
        }
        #expect(decoder.bufferedByteCount == 6 + 16 * 1024)
        #expect(decoder.bufferCapacity <= 2 * decoder.bufferedByteCount + 64)
    }

    @Test func rejectsTruncatedFields() {
        var builder = FrameBuilder()
        builder.u8(WireProtocol.version)
        builder.u32(5)
        builder.u8(0)
        builder.u8(0)  // pid cut short
        expectRejected(builder.frame(type: 2), with: .truncated(field: "pid"))

        var request = FrameBuilder()
        request.u64(1)
        request.u8(0)
        request.u8(0)
        request.u32(0)
        request.u32(1)
        request.u32(10)  // segment of 10 bytes...
        request.payload += [1, 2, 3]  // ...with only 3
        expectRejected(request.frame(type: 1), with: .truncated(field: "segment"))

        expectRejected(FrameBuilder().frame(type: 1), with: .truncated(field: "request id"))
        expectRejected(FrameBuilder().frame(type: 3), with: .truncated(field: "reply id"))
    }

    @Test func rejectsTrailingBytesInsideAFrame() {
        var builder = workerReadyPayload()
        builder.u8(0)
        expectRejected(builder.frame(type: 2), with: .trailingBytes(count: 1))

        var reply = FrameBuilder()
        reply.u64(1)
        reply.u8(0)
        reply.string("")
        reply.u32(0)
        reply.u8(0)
        reply.payload += [9, 9, 9]
        expectRejected(reply.frame(type: 3), with: .trailingBytes(count: 3))
    }

    @Test func rejectsInvalidUTF8() {
        var request = FrameBuilder()
        request.u64(1)
        request.u8(0)
        request.u8(0)
        request.u32(1)
        request.bytes([0x6a, 0xff, 0x74])
        request.u32(0)
        expectRejected(request.frame(type: 1), with: .invalidUTF8(field: "detector id"))

        var reply = FrameBuilder()
        reply.u64(1)
        reply.u8(2)
        reply.bytes([0xc3])  // a lone lead byte
        reply.u32(0)
        reply.u8(0)
        expectRejected(reply.frame(type: 3), with: .invalidUTF8(field: "message"))

        var finding = FrameBuilder()
        finding.u64(1)
        finding.u8(0)
        finding.string("")
        finding.u32(1)
        finding.bytes([0xed, 0xa0, 0x80])  // an encoded surrogate
        finding.u32(0)
        finding.u64(0)
        finding.u64(1)
        finding.u8(0)
        expectRejected(finding.frame(type: 3), with: .invalidUTF8(field: "finding detector id"))
    }

    @Test func rejectsCountsTheFrameCannotHold() {
        var request = FrameBuilder()
        request.u64(1)
        request.u8(0)
        request.u8(0)
        request.u32(0)
        request.u32(1000)  // 1000 segments need at least 4000 bytes
        request.payload += [UInt8](repeating: 0, count: 3996)
        expectRejected(request.frame(type: 1), with: .countTooLarge(field: "segments", count: 1000))

        var reply = FrameBuilder()
        reply.u64(1)
        reply.u8(0)
        reply.string("")
        reply.u32(0xffff_ffff)
        expectRejected(reply.frame(type: 3), with: .countTooLarge(field: "findings", count: 0xffff_ffff))

        var tooManyIDs = FrameBuilder()
        tooManyIDs.u64(1)
        tooManyIDs.u8(0)
        tooManyIDs.u8(0)
        tooManyIDs.u32(UInt32(WireProtocol.maxDetectorIDs + 1))
        for _ in 0...WireProtocol.maxDetectorIDs { tooManyIDs.string("jwt") }
        tooManyIDs.u32(0)
        expectRejected(
            tooManyIDs.frame(type: 1),
            with: .countTooLarge(field: "detector ids", count: UInt32(WireProtocol.maxDetectorIDs + 1))
        )

        var longString = FrameBuilder()
        longString.u64(1)
        longString.u8(2)
        longString.string(String(repeating: "x", count: WireProtocol.maxStringLength + 1))
        longString.u32(0)
        longString.u8(0)
        expectRejected(
            longString.frame(type: 3),
            with: .countTooLarge(field: "message", count: UInt32(WireProtocol.maxStringLength + 1))
        )
    }

    @Test func rejectsValuesOutsideTheirDomain() {
        func request(direction: UInt8, redact: UInt8) -> [UInt8] {
            var builder = FrameBuilder()
            builder.u64(1)
            builder.u8(direction)
            builder.u8(redact)
            builder.u32(0)
            builder.u32(0)
            return builder.frame(type: 1)
        }
        expectRejected(request(direction: 2, redact: 0), with: .invalidValue(field: "direction"))
        expectRejected(request(direction: 0, redact: 2), with: .invalidValue(field: "redact"))

        func reply(
            status: UInt8,
            message: String = "",
            findingRange: (UInt64, UInt64)? = nil,
            redacted: UInt8 = 0
        )
            -> [UInt8]
        {
            var builder = FrameBuilder()
            builder.u64(1)
            builder.u8(status)
            builder.string(message)
            if let (start, end) = findingRange {
                builder.u32(1)
                builder.string("jwt")
                builder.u32(0)
                builder.u64(start)
                builder.u64(end)
            } else {
                builder.u32(0)
            }
            builder.u8(redacted)
            if redacted == 1 { builder.u32(0) }
            return builder.frame(type: 3)
        }
        expectRejected(reply(status: 3), with: .invalidValue(field: "status"))
        expectRejected(reply(status: 0, message: "secret?"), with: .invalidValue(field: "message"))
        expectRejected(reply(status: 2, message: "x", redacted: 1), with: .invalidValue(field: "redacted segments"))
        expectRejected(reply(status: 0, redacted: 2), with: .invalidValue(field: "has redacted segments"))
        expectRejected(reply(status: 0, findingRange: (5, 4)), with: .invalidValue(field: "finding range"))
        #expect(throws: Never.self) { try decodeAll(reply(status: 0, findingRange: (5, 5), redacted: 1)) }

        var ready = workerReadyPayload()
        ready.payload[5] = 7  // fault injection flag
        expectRejected(ready.frame(type: 2), with: .invalidValue(field: "fault injection"))
    }

    @Test func aBadFrameAfterGoodOnesFailsOnlyWhenReached() throws {
        let good = try WorkerReady(detectorCount: 1, faultInjection: false, pid: 1).encodedFrame()
        var decoder = FrameDecoder(maxFrameSize: 100)
        decoder.append(good + good + [0, 0, 1, 0])
        #expect(try decoder.nextMessage() != nil)
        #expect(try decoder.nextMessage() != nil)
        #expect(throws: FrameError.frameTooLarge(length: 256, limit: 100)) { try decoder.nextMessage() }
    }
}
