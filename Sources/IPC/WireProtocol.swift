/// Constants both ends of the scanner socket agree on.
///
/// A frame on the socket is
///
/// ```
/// [UInt32 big-endian length N][N bytes: UInt8 version][UInt8 message type][payload]
/// ```
///
/// where `N` counts the version and type bytes and the payload, so `N >= 2`. Payload fields are
/// big-endian integers; strings and byte strings are a `UInt32` byte count followed by the bytes
/// (strings are UTF-8); arrays are a `UInt32` element count followed by the elements; booleans are one
/// byte, `0` or `1`. Every other value is rejected. Each message type documents its payload layout.
public enum WireProtocol {
    /// Bumped on any incompatible change; a frame of another version is rejected.
    public static let version: UInt8 = 1
    /// The file descriptor a worker finds its end of the socketpair on.
    public static let workerSocketDescriptor: Int32 = 3

    /// The size of the length field in front of every frame.
    public static let lengthFieldSize = 4
    /// The default hard maximum of a frame's length field (version, type and payload): 80 MiB.
    ///
    /// A scan request carries several segments (path and query, header values, the body) and the
    /// frontend's `--max-scan-bytes` defaults to 16 MiB, so this leaves room for a body at that limit,
    /// its redacted copy in the reply, and the findings.
    public static let defaultMaxFrameSize = 80 << 20

    /// At most this many segments in a request or redacted segments in a reply.
    public static let maxSegments = 4096
    /// At most this many detector ids in a request.
    public static let maxDetectorIDs = 1024
    /// At most this many findings in a reply (a body with more is answered with an error status).
    public static let maxFindings = 1 << 20
    /// At most this many bytes in any string field (detector ids, status messages).
    public static let maxStringLength = 4096
}
