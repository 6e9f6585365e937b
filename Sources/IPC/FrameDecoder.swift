/// Turns a byte stream from the scanner socket into messages, incrementally.
///
/// Feed whatever `read(2)` returned to ``append(_:)``, then call ``nextMessage()`` until it returns
/// `nil` (more bytes needed). The decoder never crashes on garbage and never allocates for a frame
/// past what the peer actually sent: a length field above `maxFrameSize` (or below 2) is rejected as
/// soon as its four bytes arrive, before any of the body is buffered; the buffer grows only with
/// received bytes, and never beyond the end of the frame being received plus the last appended chunk.
///
/// After any error the decoder stays failed: later calls to ``nextMessage()`` throw the same error and
/// appended bytes are dropped. The connection is to be closed.
public struct FrameDecoder: Sendable {
    /// The largest length field accepted (version, type and payload).
    public let maxFrameSize: Int

    private var buffer: [UInt8] = []
    /// The start of the first unconsumed byte in `buffer`.
    private var readIndex = 0
    /// The length field of the frame at `readIndex`, once its four bytes are buffered and valid.
    private var pendingLength: Int?
    private var failure: FrameError?
    /// A worker gets the same detector list with every scan (``DetectorIDCache``).
    private var detectorIDCache: DetectorIDCache? = DetectorIDCache()

    /// Buffers larger than this are released rather than kept for reuse once drained. A released
    /// buffer is grown again for the next large frame, on fresh pages the kernel must fault in and
    /// zero, which cost a worker more than its scan of a 1 MiB body.
    private static let retainedCapacity = 4 << 20

    /// - Parameter maxFrameSize: the largest length field to accept, at least 2 and at most `UInt32.max`.
    public init(maxFrameSize: Int = WireProtocol.defaultMaxFrameSize) {
        precondition(maxFrameSize >= 2 && maxFrameSize <= Int(UInt32.max), "maxFrameSize out of range")
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as messages.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Whether the decoder rejected the stream; if so, the connection is to be dropped.
    public var hasFailed: Bool { failure != nil }

    /// The buffer's allocated capacity, for tests that check the decoder never allocates past the cap.
    var bufferCapacity: Int { buffer.capacity }

    /// Adds received bytes. A bad length field among them fails the decoder right away (reported by the
    /// next ``nextMessage()``); nothing is buffered after a failure.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        if readIndex > 0 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        let needed = buffer.count + bytes.count
        if needed > buffer.capacity {
            var target = max(needed, buffer.capacity * 2)
            if let pendingLength {
                // Grow geometrically, but never past the end of the frame being received unless the
                // appended chunk itself goes further.
                target = min(target, max(needed, WireProtocol.lengthFieldSize + pendingLength))
            }
            buffer.reserveCapacity(target)
        }
        buffer.append(contentsOf: bytes)
        checkPendingHeader()
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete message, or `nil` if more bytes are needed.
    ///
    /// - Throws: ``FrameError`` for a bad length field, version, type or payload; the decoder stays
    ///   failed.
    public mutating func nextMessage() throws(FrameError) -> WireMessage? {
        if let failure { throw failure }
        checkPendingHeader()
        if let failure { throw failure }
        guard let length = pendingLength,
            bufferedByteCount >= WireProtocol.lengthFieldSize + length
        else { return nil }

        let bodyStart = readIndex + WireProtocol.lengthFieldSize
        var cache = detectorIDCache
        detectorIDCache = nil
        let result = buffer.withUnsafeBytes { storage in
            Result { () throws(FrameError) -> WireMessage in
                try WireMessage.decode(
                    frameBody: UnsafeRawBufferPointer(rebasing: storage[bodyStart..<bodyStart + length]),
                    detectorIDCache: &cache
                )
            }
        }
        detectorIDCache = cache
        switch result {
        case .success(let message):
            readIndex = bodyStart + length
            pendingLength = nil
            if readIndex == buffer.count {
                if buffer.capacity > Self.retainedCapacity {
                    buffer = []
                } else {
                    buffer.removeAll(keepingCapacity: true)
                }
                readIndex = 0
            }
            checkPendingHeader()
            return message
        case .failure(let error):
            fail(error)
            throw error
        }
    }

    /// Validates the length field of the frame at `readIndex` as soon as its four bytes are here.
    private mutating func checkPendingHeader() {
        guard failure == nil, pendingLength == nil, bufferedByteCount >= WireProtocol.lengthFieldSize else { return }
        let length = buffer.withUnsafeBytes { WireReader.bigEndianUInt32($0, at: readIndex) }
        if length < 2 {
            fail(.frameTooShort(length: length))
        } else if UInt64(length) > UInt64(maxFrameSize) {
            fail(.frameTooLarge(length: UInt64(length), limit: maxFrameSize))
        } else {
            pendingLength = Int(length)
        }
    }

    private mutating func fail(_ error: FrameError) {
        failure = error
        buffer = []
        readIndex = 0
        pendingLength = nil
    }
}
