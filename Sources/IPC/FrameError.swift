/// Why a frame was rejected, by the decoder (garbage from the peer) or the encoder (a message too
/// large for the wire).
///
/// A decoder that threw one stays failed: the connection carrying the frame is to be dropped. The
/// description never contains bytes of the frame beyond the numbers named below, so it is safe to log.
public struct FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case unsupportedVersion(UInt8)
        case unknownMessageType(UInt8)
        case frameTooShort(length: UInt32)
        case frameTooLarge(length: UInt64, limit: Int)
        case truncated(field: String)
        case countTooLarge(field: String, count: UInt32)
        case trailingBytes(count: Int)
        case invalidUTF8(field: String)
        case invalidValue(field: String)
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// The frame's version byte is not ``WireProtocol/version``.
    public static func unsupportedVersion(_ version: UInt8) -> Self { Self(.unsupportedVersion(version)) }

    /// The frame's type byte names no message.
    public static func unknownMessageType(_ type: UInt8) -> Self { Self(.unknownMessageType(type)) }

    /// The length field is below 2, too short for the version and type bytes.
    public static func frameTooShort(length: UInt32) -> Self { Self(.frameTooShort(length: length)) }

    /// The length field (or an encoded message) exceeds the maximum frame size.
    public static func frameTooLarge(length: UInt64, limit: Int) -> Self {
        Self(.frameTooLarge(length: length, limit: limit))
    }

    /// A field runs past the end of the frame.
    public static func truncated(field: String) -> Self { Self(.truncated(field: field)) }

    /// A count or length field is larger than its limit or than the bytes left in the frame could hold.
    public static func countTooLarge(field: String, count: UInt32) -> Self {
        Self(.countTooLarge(field: field, count: count))
    }

    /// The message ended before the frame did.
    public static func trailingBytes(count: Int) -> Self { Self(.trailingBytes(count: count)) }

    /// A string field is not valid UTF-8.
    public static func invalidUTF8(field: String) -> Self { Self(.invalidUTF8(field: field)) }

    /// A field holds a value outside its domain (a boolean that is not 0 or 1, an unknown status, a
    /// finding whose end is before its start, ...).
    public static func invalidValue(field: String) -> Self { Self(.invalidValue(field: field)) }

    public var description: String {
        switch base {
        case .unsupportedVersion(let version):
            "unsupported protocol version \(version) (expected \(WireProtocol.version))"
        case .unknownMessageType(let type):
            "unknown message type \(type)"
        case .frameTooShort(let length):
            "frame length \(length) is too short for a version and a message type"
        case .frameTooLarge(let length, let limit):
            "frame length \(length) exceeds the maximum of \(limit) bytes"
        case .truncated(let field):
            "frame ends inside \(field)"
        case .countTooLarge(let field, let count):
            "\(field) count \(count) exceeds its limit or the bytes left in the frame"
        case .trailingBytes(let count):
            "\(count) unexpected bytes after the message"
        case .invalidUTF8(let field):
            "\(field) is not valid UTF-8"
        case .invalidValue(let field):
            "\(field) holds an invalid value"
        }
    }
}
