/// Appends big-endian fields to a frame under construction.
///
/// The caller computes the payload size first (see `WireMessage.payloadSize`) and checks it against
/// the limits, so the writer only ever appends into exactly reserved storage.
struct WireWriter {
    private(set) var bytes: [UInt8]

    /// Starts a frame: length field, version and type, with room for `payloadSize` more bytes.
    init(type: MessageType, payloadSize: Int) {
        let length = 2 + payloadSize
        bytes = []
        bytes.reserveCapacity(WireProtocol.lengthFieldSize + length)
        write(UInt32(length))
        write(WireProtocol.version)
        write(type.rawValue)
    }

    /// A writer for a part of a payload encoded on its own (``EncodedDetectorIDs``).
    init(reservingCapacity capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Bytes already in wire form, without a length field.
    mutating func write(encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func write(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    mutating func write(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func write(_ value: UInt64) {
        write(UInt32(truncatingIfNeeded: value >> 32))
        write(UInt32(truncatingIfNeeded: value))
    }

    mutating func writeCount(_ count: Int) {
        write(UInt32(count))
    }

    mutating func write(_ value: [UInt8]) {
        writeCount(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func write(_ value: String) {
        writeCount(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }
}

/// The encoded size of a length-prefixed byte string or string.
@inline(__always)
func encodedSize(_ bytes: [UInt8]) -> Int { 4 + bytes.count }

@inline(__always)
func encodedSize(_ string: String) -> Int { 4 + string.utf8.count }
