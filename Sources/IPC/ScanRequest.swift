/// Frontend → worker: scan these segments with these detectors.
///
/// Each segment (the path and query, one header value, the decoded body, ...) is scanned on its own,
/// so a finding can be mapped back to where it was. Payload layout:
///
/// ```
/// UInt64 id | UInt8 direction (0 outbound, 1 inbound) | UInt8 redact (0/1)
/// UInt32 detector-id count | count × string
/// UInt32 segment count | count × bytes
/// ```
public struct ScanRequest: Sendable, Hashable {
    /// Echoed in the reply.
    public var id: UInt64
    /// `0` outbound, `1` inbound (the raw values of `Detectors.ScanDirection`); anything else is
    /// rejected on both ends.
    public var direction: UInt8
    /// The detectors to run, by catalog id.
    public var detectorIDs: [String]
    /// Whether the reply should carry each segment with every match replaced.
    public var redact: Bool
    /// The bytes to scan.
    public var segments: [[UInt8]]

    public init(id: UInt64, direction: UInt8, detectorIDs: [String], redact: Bool, segments: [[UInt8]]) {
        self.id = id
        self.direction = direction
        self.detectorIDs = detectorIDs
        self.redact = redact
        self.segments = segments
    }

    /// This request as a frame ready to write to the socket.
    public func encodedFrame(maxFrameSize: Int = WireProtocol.defaultMaxFrameSize) throws(FrameError) -> [UInt8] {
        try Self.encodedFrame(
            id: id,
            direction: direction,
            detectorIDs: EncodedDetectorIDs(detectorIDs),
            redact: redact,
            segments: segments,
            maxFrameSize: maxFrameSize
        )
    }

    /// A request's frame with its detector ids already encoded: the same bytes as
    /// ``encodedFrame(maxFrameSize:)`` of the request with `detectorIDs.ids`.
    public static func encodedFrame(
        id: UInt64,
        direction: UInt8,
        detectorIDs: EncodedDetectorIDs,
        redact: Bool,
        segments: [[UInt8]],
        maxFrameSize: Int = WireProtocol.defaultMaxFrameSize
    ) throws(FrameError) -> [UInt8] {
        let frame = Frame(id: id, direction: direction, detectorIDs: detectorIDs, redact: redact, segments: segments)
        return try WireMessage.encode(frame, maxFrameSize: maxFrameSize)
    }
}

extension ScanRequest {
    /// What is written: the request with its ids in wire form.
    private struct Frame: WireEncodable {
        var id: UInt64
        var direction: UInt8
        var detectorIDs: EncodedDetectorIDs
        var redact: Bool
        var segments: [[UInt8]]

        static var messageType: MessageType { .scanRequest }

        var payloadSize: Int {
            8 + 1 + 1 + detectorIDs.byteCount + 4 + segments.reduce(0) { $0 + encodedSize($1) }
        }

        func validateForEncoding() throws(FrameError) {
            guard direction <= 1 else { throw .invalidValue(field: "direction") }
            guard segments.count <= WireProtocol.maxSegments else {
                throw .countTooLarge(field: "segments", count: UInt32(clamping: segments.count))
            }
        }

        func write(to writer: inout WireWriter) {
            writer.write(id)
            writer.write(direction)
            writer.write(redact)
            writer.write(encoded: detectorIDs.section)
            writer.writeCount(segments.count)
            for segment in segments {
                writer.write(segment)
            }
        }
    }

    static func read(from reader: inout WireReader) throws(FrameError) -> ScanRequest {
        var noCache: DetectorIDCache?
        return try read(from: &reader, detectorIDCache: &noCache)
    }

    /// ``read(from:)``, reusing the last request's detector ids when they are the same bytes.
    static func read(from reader: inout WireReader, detectorIDCache: inout DetectorIDCache?) throws(FrameError)
        -> ScanRequest
    {
        let id = try reader.readUInt64("request id")
        let direction = try reader.readUInt8("direction")
        guard direction <= 1 else { throw .invalidValue(field: "direction") }
        let redact = try reader.readBool("redact")
        let sectionStart = reader.position
        let detectorIDs: [String]
        if let cache = detectorIDCache, let cached = try Self.cachedDetectorIDs(&reader, cache: cache) {
            detectorIDs = cached
        } else {
            reader.rewind(to: sectionStart)
            let count = try Self.readDetectorCount(&reader)
            var read: [String] = []
            read.reserveCapacity(count)
            for _ in 0..<count {
                read.append(try reader.readString("detector id"))
            }
            detectorIDCache?.remember(read, encodedAs: reader.bytes(from: sectionStart))
            detectorIDs = read
        }
        let segmentCount = try reader.readCount("segments", limit: WireProtocol.maxSegments, minimumElementSize: 4)
        var segments: [[UInt8]] = []
        segments.reserveCapacity(segmentCount)
        for _ in 0..<segmentCount {
            segments.append(try reader.readBytes("segment"))
        }
        return ScanRequest(id: id, direction: direction, detectorIDs: detectorIDs, redact: redact, segments: segments)
    }

    /// The cached ids if the id section at the reader is the cached one's bytes. Lengths are
    /// checked and strings not made: the cached section was read and validated in full, so equal
    /// bytes are the same valid ids, with no string allocated and freed again.
    private static func cachedDetectorIDs(_ reader: inout WireReader, cache: DetectorIDCache) throws(FrameError)
        -> [String]?
    {
        let start = reader.position
        let count = try readDetectorCount(&reader)
        for _ in 0..<count { try reader.skipString("detector id") }
        return cache.ids(encodedAs: reader.bytes(from: start))
    }

    private static func readDetectorCount(_ reader: inout WireReader) throws(FrameError) -> Int {
        try reader.readCount("detector ids", limit: WireProtocol.maxDetectorIDs, minimumElementSize: 4)
    }
}
