import EgressTestSupport

@testable import IPC

/// Builds hand-made frames for rejection tests.
struct FrameBuilder {
    var payload: [UInt8] = []

    mutating func u8(_ value: UInt8) {
        payload.append(value)
    }

    mutating func u32(_ value: UInt32) {
        payload += bigEndian(value)
    }

    mutating func u64(_ value: UInt64) {
        u32(UInt32(truncatingIfNeeded: value >> 32))
        u32(UInt32(truncatingIfNeeded: value))
    }

    mutating func bytes(_ value: [UInt8]) {
        u32(UInt32(value.count))
        payload += value
    }

    mutating func string(_ value: String) {
        bytes(Array(value.utf8))
    }

    /// The frame: length field, version, type, payload.
    func frame(type: UInt8, version: UInt8 = WireProtocol.version) -> [UInt8] {
        bigEndian(UInt32(2 + payload.count)) + [version, type] + payload
    }
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
}

/// Feeds `bytes` in one piece and returns every complete message.
func decodeAll(
    _ bytes: [UInt8],
    maxFrameSize: Int = WireProtocol.defaultMaxFrameSize
) throws(FrameError) -> [WireMessage] {
    var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    decoder.append(bytes)
    var messages: [WireMessage] = []
    while let message = try decoder.nextMessage() {
        messages.append(message)
    }
    return messages
}

/// Random but valid messages for round-trip and fuzz tests.
enum MessageGenerator {
    static let detectorIDs = [
        "github_token_classic", "aws_access_key_id", "jwt", "prompt_injection_override", "", "é→✓",
    ]

    static func bytes(_ count: Int, using rng: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func message(using rng: inout SeededGenerator) -> WireMessage {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            return .scanRequest(
                ScanRequest(
                    id: rng.next(),
                    direction: UInt8.random(in: 0...1, using: &rng),
                    detectorIDs: (0..<Int.random(in: 0..<4, using: &rng)).map { _ in
                        detectorIDs.randomElement(using: &rng)!
                    },
                    redact: Bool.random(using: &rng),
                    segments: (0..<Int.random(in: 0..<4, using: &rng)).map { _ in
                        bytes(Int.random(in: 0..<40, using: &rng), using: &rng)
                    }
                )
            )
        case 1:
            return .workerReady(
                WorkerReady(
                    detectorCount: UInt32.random(in: 0...200, using: &rng),
                    faultInjection: Bool.random(using: &rng),
                    pid: Int32.random(in: .min ... .max, using: &rng)
                )
            )
        default:
            let status = ScanStatus.allCases.randomElement(using: &rng)!
            let findings = (0..<Int.random(in: 0..<4, using: &rng)).map { _ in
                let start = UInt64.random(in: 0...1000, using: &rng)
                return WireFinding(
                    detectorID: detectorIDs.randomElement(using: &rng)!,
                    segment: UInt32.random(in: 0...5, using: &rng),
                    start: start,
                    end: start + UInt64.random(in: 0...100, using: &rng)
                )
            }
            let redacted: [[UInt8]]? =
                status == .ok && Bool.random(using: &rng)
                ? (0..<Int.random(in: 0..<3, using: &rng)).map { _ in
                    bytes(Int.random(in: 0..<30, using: &rng), using: &rng)
                } : nil
            return .scanReply(
                ScanReply(
                    id: rng.next(),
                    status: status,
                    message: status == .ok ? "" : "match limit exceeded in detector jwt",
                    findings: findings,
                    redactedSegments: redacted
                )
            )
        }
    }
}
