import EgressTestSupport
import Testing

@testable import IPC

/// Deterministic property tests: random bytes and mutated valid frames never crash the decoder, errors
/// are thrown (and stick), every accepted frame is canonical, and the buffer never grows past what was
/// received.
@Suite struct FrameDecoderFuzzTests {
    private enum Outcome {
        case messages([WireMessage], consumed: Int)
        case rejected(FrameError)
    }

    /// Feeds `bytes` in random chunks and checks the decoder's invariants on the way.
    private static func feed(
        _ bytes: [UInt8],
        maxFrameSize: Int,
        using rng: inout SeededGenerator
    ) -> Outcome {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var messages: [WireMessage] = []
        var appended = 0
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, Int.random(in: 1...64, using: &rng))
            decoder.append(Array(bytes[offset..<offset + chunk]))
            appended += chunk
            offset += chunk
            // Never allocates for more than it was given (a lying length field costs nothing).
            #expect(decoder.bufferCapacity <= 2 * appended + 64)
            do {
                while let message = try decoder.nextMessage() {
                    messages.append(message)
                }
            } catch {
                #expect(decoder.hasFailed)
                #expect(decoder.bufferedByteCount == 0)
                // Stays failed with the same error.
                decoder.append(bytes)
                #expect(throws: error) { try decoder.nextMessage() }
                return .rejected(error)
            }
        }
        return .messages(messages, consumed: bytes.count - decoder.bufferedByteCount)
    }

    /// Every accepted message re-encodes to exactly the bytes it came from.
    private static func expectCanonical(_ messages: [WireMessage], of bytes: [UInt8], consumed: Int) throws {
        var reencoded: [UInt8] = []
        for message in messages {
            reencoded += try message.encodedFrame()
        }
        #expect(reencoded == Array(bytes[0..<consumed]))
    }

    @Test func randomBytes() throws {
        var rng = SeededGenerator(seed: 0xF00D)
        var rejected = 0
        for iteration in 0..<5000 {
            var bytes = MessageGenerator.bytes(Int.random(in: 0...256, using: &rng), using: &rng)
            // Half the time start with a plausible header so the body parsers see garbage too.
            if iteration % 2 == 0, bytes.count >= 6 {
                bytes.replaceSubrange(0..<4, with: bigEndian(UInt32(bytes.count - 4)))
                bytes[4] = WireProtocol.version
                bytes[5] = UInt8.random(in: 1...3, using: &rng)
            }
            switch Self.feed(bytes, maxFrameSize: 1 << 16, using: &rng) {
            case .rejected: rejected += 1
            case .messages(let messages, let consumed):
                try Self.expectCanonical(messages, of: bytes, consumed: consumed)
            }
        }
        #expect(rejected > 4000)
    }

    @Test func mutatedValidFrames() throws {
        var rng = SeededGenerator(seed: 0xBEEF)
        var counts = (accepted: 0, rejected: 0)
        for _ in 0..<10_000 {
            let message = MessageGenerator.message(using: &rng)
            let frame = try message.encodedFrame()
            var mutated = frame
            switch Int.random(in: 0..<7, using: &rng) {
            case 0:  // flip a few bits anywhere
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let index = Int.random(in: 0..<mutated.count, using: &rng)
                    mutated[index] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                }
            case 1:  // truncate: must never be accepted as a different message
                mutated = Array(mutated[0..<Int.random(in: 0..<mutated.count, using: &rng)])
            case 2:  // corrupt the length field
                let lengths: [UInt32] = [
                    0, 1, 2, 0xffff_ffff, 0x8000_0000, UInt32(frame.count - 5), UInt32(frame.count - 3),
                    UInt32.random(in: 0...UInt32.max, using: &rng),
                ]
                mutated.replaceSubrange(0..<4, with: bigEndian(lengths.randomElement(using: &rng)!))
            case 3:  // overwrite a byte inside the payload
                let index = Int.random(in: 4..<mutated.count, using: &rng)
                mutated[index] = UInt8.random(in: 0...255, using: &rng)
            case 4:  // insert a byte, keeping the length field
                mutated.insert(
                    UInt8.random(in: 0...255, using: &rng),
                    at: Int.random(in: 6...mutated.count, using: &rng)
                )
            case 5:  // delete a payload byte, fixing the length field
                guard mutated.count > 6 else { continue }
                mutated.remove(at: Int.random(in: 6..<mutated.count, using: &rng))
                mutated.replaceSubrange(0..<4, with: bigEndian(UInt32(mutated.count - 4)))
            default:  // corrupt a count or length field inside the payload with a huge value
                guard mutated.count >= 10 else { continue }
                let index = Int.random(in: 6...(mutated.count - 4), using: &rng)
                mutated.replaceSubrange(
                    index..<index + 4,
                    with: bigEndian(0xffff_fff0 | UInt32.random(in: 0...15, using: &rng))
                )
            }
            switch Self.feed(mutated, maxFrameSize: WireProtocol.defaultMaxFrameSize, using: &rng) {
            case .rejected:
                counts.rejected += 1
            case .messages(let messages, let consumed):
                counts.accepted += 1
                try Self.expectCanonical(messages, of: mutated, consumed: consumed)
                if mutated.count < frame.count, Array(frame[0..<mutated.count]) == mutated {
                    #expect(messages.isEmpty, "a truncated frame must not decode")
                }
            }
        }
        #expect(counts.rejected > 3000)
        #expect(counts.accepted > 1000)
    }

    @Test func hugeLengthFieldsFailAfterFourBytes() {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<1000 {
            let length = UInt32.random(in: UInt32(WireProtocol.defaultMaxFrameSize + 1)...UInt32.max, using: &rng)
            var decoder = FrameDecoder()
            decoder.append(bigEndian(length))
            #expect(decoder.hasFailed)
            #expect(decoder.bufferCapacity == 0)
        }
    }
}
