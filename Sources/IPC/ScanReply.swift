/// Worker → frontend: the answer to one ``ScanRequest``. Payload layout:
///
/// ```
/// UInt64 id | UInt8 status | string message
/// UInt32 finding count | count × (string detector id | UInt32 segment | UInt64 start | UInt64 end)
/// UInt8 has redacted segments (0/1) | [UInt32 segment count | count × bytes]
/// ```
///
/// Rules both ends enforce: the message is empty when the status is ``ScanStatus/ok``; redacted
/// segments are present only with status ``ScanStatus/ok``; a finding's `end` is not before its `start`.
public struct ScanReply: Sendable, Hashable {
    /// The request's id.
    public var id: UInt64
    public var status: ScanStatus
    /// Why the scan failed; empty when `status` is `.ok`. Names a detector id at most, never scanned
    /// content.
    public var message: String
    public var findings: [WireFinding]
    /// Every request segment with its matches redacted, in request order; present iff the request
    /// asked for redaction and `status` is `.ok`.
    public var redactedSegments: [[UInt8]]?

    public init(
        id: UInt64,
        status: ScanStatus,
        message: String = "",
        findings: [WireFinding] = [],
        redactedSegments: [[UInt8]]? = nil
    ) {
        self.id = id
        self.status = status
        self.message = message
        self.findings = findings
        self.redactedSegments = redactedSegments
    }

    /// This reply as a frame ready to write to the socket.
    public func encodedFrame(maxFrameSize: Int = WireProtocol.defaultMaxFrameSize) throws(FrameError) -> [UInt8] {
        try WireMessage.scanReply(self).encodedFrame(maxFrameSize: maxFrameSize)
    }
}

extension ScanReply: WirePayload {
    static var messageType: MessageType { .scanReply }

    var payloadSize: Int {
        var size = 8 + 1 + encodedSize(message) + 4 + 1
        size += findings.reduce(0) { $0 + $1.encodedSize }
        if let redactedSegments {
            size += 4 + redactedSegments.reduce(0) { $0 + encodedSize($1) }
        }
        return size
    }

    func validateForEncoding() throws(FrameError) {
        guard message.utf8.count <= WireProtocol.maxStringLength else {
            throw .countTooLarge(field: "message", count: UInt32(clamping: message.utf8.count))
        }
        guard status != .ok || message.isEmpty else { throw .invalidValue(field: "message") }
        guard findings.count <= WireProtocol.maxFindings else {
            throw .countTooLarge(field: "findings", count: UInt32(clamping: findings.count))
        }
        for finding in findings {
            guard finding.detectorID.utf8.count <= WireProtocol.maxStringLength else {
                throw .countTooLarge(
                    field: "finding detector id",
                    count: UInt32(clamping: finding.detectorID.utf8.count)
                )
            }
            guard finding.start <= finding.end else { throw .invalidValue(field: "finding range") }
        }
        if let redactedSegments {
            guard status == .ok else { throw .invalidValue(field: "redacted segments") }
            guard redactedSegments.count <= WireProtocol.maxSegments else {
                throw .countTooLarge(field: "redacted segments", count: UInt32(clamping: redactedSegments.count))
            }
        }
    }

    func write(to writer: inout WireWriter) {
        writer.write(id)
        writer.write(status.rawValue)
        writer.write(message)
        writer.writeCount(findings.count)
        for finding in findings {
            writer.write(finding.detectorID)
            writer.write(finding.segment)
            writer.write(finding.start)
            writer.write(finding.end)
        }
        writer.write(redactedSegments != nil)
        if let redactedSegments {
            writer.writeCount(redactedSegments.count)
            for segment in redactedSegments {
                writer.write(segment)
            }
        }
    }

    static func read(from reader: inout WireReader) throws(FrameError) -> ScanReply {
        let id = try reader.readUInt64("reply id")
        guard let status = ScanStatus(rawValue: try reader.readUInt8("status")) else {
            throw .invalidValue(field: "status")
        }
        let message = try reader.readString("message")
        guard status != .ok || message.isEmpty else { throw .invalidValue(field: "message") }
        let findingCount = try reader.readCount(
            "findings",
            limit: WireProtocol.maxFindings,
            minimumElementSize: WireFinding.minimumEncodedSize
        )
        var findings: [WireFinding] = []
        findings.reserveCapacity(findingCount)
        for _ in 0..<findingCount {
            let finding = WireFinding(
                detectorID: try reader.readString("finding detector id"),
                segment: try reader.readUInt32("finding segment"),
                start: try reader.readUInt64("finding start"),
                end: try reader.readUInt64("finding end")
            )
            guard finding.start <= finding.end else { throw .invalidValue(field: "finding range") }
            findings.append(finding)
        }
        var redactedSegments: [[UInt8]]?
        if try reader.readBool("has redacted segments") {
            guard status == .ok else { throw .invalidValue(field: "redacted segments") }
            let count = try reader.readCount(
                "redacted segments",
                limit: WireProtocol.maxSegments,
                minimumElementSize: 4
            )
            var segments: [[UInt8]] = []
            segments.reserveCapacity(count)
            for _ in 0..<count {
                segments.append(try reader.readBytes("redacted segment"))
            }
            redactedSegments = segments
        }
        return ScanReply(
            id: id,
            status: status,
            message: message,
            findings: findings,
            redactedSegments: redactedSegments
        )
    }
}
