/// Any message that travels on the scanner socket.
///
/// Both ends decode every type; each rejects the types it does not expect (a worker only takes
/// ``ScanRequest``; a frontend only ``WorkerReady`` first and ``ScanReply`` after).
public enum WireMessage: Sendable, Hashable {
    case scanRequest(ScanRequest)
    case workerReady(WorkerReady)
    case scanReply(ScanReply)

    /// The message as one frame: length field, version, type and payload.
    ///
    /// Throws ``FrameError`` if the frame would exceed `maxFrameSize` or a count or string exceeds a
    /// protocol limit (see ``WireProtocol``): everything this returns, the other end's decoder accepts.
    /// Nothing is allocated for the frame before these checks pass.
    public func encodedFrame(maxFrameSize: Int = WireProtocol.defaultMaxFrameSize) throws(FrameError) -> [UInt8] {
        switch self {
        case .scanRequest(let request): try request.encodedFrame(maxFrameSize: maxFrameSize)
        case .workerReady(let ready): try Self.encode(ready, maxFrameSize: maxFrameSize)
        case .scanReply(let reply): try Self.encode(reply, maxFrameSize: maxFrameSize)
        }
    }

    static func encode(_ payload: some WireEncodable, maxFrameSize: Int) throws(FrameError) -> [UInt8] {
        try payload.validateForEncoding()
        let payloadSize = payload.payloadSize
        let length = 2 + payloadSize
        guard length <= min(maxFrameSize, Int(UInt32.max)) else {
            throw .frameTooLarge(length: UInt64(length), limit: maxFrameSize)
        }
        var writer = WireWriter(type: type(of: payload).messageType, payloadSize: payloadSize)
        payload.write(to: &writer)
        assert(writer.bytes.count == WireProtocol.lengthFieldSize + length, "payloadSize disagrees with write(to:)")
        return writer.bytes
    }

    /// Decodes the bytes after a frame's length field: version, type and payload.
    static func decode(frameBody: UnsafeRawBufferPointer) throws(FrameError) -> WireMessage {
        var noCache: DetectorIDCache?
        return try decode(frameBody: frameBody, detectorIDCache: &noCache)
    }

    /// ``decode(frameBody:)``, with a scan request's detector ids taken from `detectorIDCache` when
    /// they are the last ones.
    static func decode(
        frameBody: UnsafeRawBufferPointer,
        detectorIDCache: inout DetectorIDCache?
    ) throws(FrameError) -> WireMessage {
        var reader = WireReader(frameBody)
        let version = try reader.readUInt8("version")
        guard version == WireProtocol.version else { throw .unsupportedVersion(version) }
        let rawType = try reader.readUInt8("message type")
        guard let type = MessageType(rawValue: rawType) else { throw .unknownMessageType(rawType) }
        let message: WireMessage
        switch type {
        case .scanRequest: message = .scanRequest(try ScanRequest.read(from: &reader, detectorIDCache: &detectorIDCache))
        case .workerReady: message = .workerReady(try WorkerReady.read(from: &reader))
        case .scanReply: message = .scanReply(try ScanReply.read(from: &reader))
        }
        try reader.finish()
        return message
    }
}
