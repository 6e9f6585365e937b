/// Reads payload fields out of one frame, checking every length against the bytes left.
///
/// Counts are checked against both their protocol limit and the bytes left (each element needs at
/// least a known number of bytes) before anything is allocated, so a lying count cannot make the
/// reader reserve memory the frame does not back.
struct WireReader: ~Copyable {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    /// Where the next field starts.
    var position: Int { offset }

    /// The bytes from `start` up to the next field.
    func bytes(from start: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
    }

    /// Reads again from `position`, an earlier ``position``.
    mutating func rewind(to position: Int) {
        precondition(position <= offset)
        offset = position
    }

    /// Passes over a string with the length checks of ``readString(_:)``, but not its UTF-8 check.
    mutating func skipString(_ field: String) throws(FrameError) {
        _ = try takeString(field)
    }

    mutating func readUInt8(_ field: String) throws(FrameError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(field: field) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt32(_ field: String) throws(FrameError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(field: field) }
        defer { offset += 4 }
        return Self.bigEndianUInt32(bytes, at: offset)
    }

    mutating func readUInt64(_ field: String) throws(FrameError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(field: field) }
        var value: UInt64 = 0
        for index in offset..<offset + 8 {
            value = value << 8 | UInt64(bytes[index])
        }
        offset += 8
        return value
    }

    mutating func readBool(_ field: String) throws(FrameError) -> Bool {
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        default: throw .invalidValue(field: field)
        }
    }

    /// A `UInt32` element count, at most `limit`, for elements of at least `minimumElementSize` bytes.
    mutating func readCount(_ field: String, limit: Int, minimumElementSize: Int) throws(FrameError) -> Int {
        let count = try readUInt32(field)
        guard Int(count) <= limit, Int(count) * minimumElementSize <= remaining else {
            throw .countTooLarge(field: field, count: count)
        }
        return Int(count)
    }

    mutating func readBytes(_ field: String, limit: Int = .max) throws(FrameError) -> [UInt8] {
        let length = try readUInt32(field)
        guard Int(length) <= limit else { throw .countTooLarge(field: field, count: length) }
        guard Int(length) <= remaining else { throw .truncated(field: field) }
        defer { offset += Int(length) }
        return [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)]))
    }

    /// A string's bytes, its length checked against the protocol limit and the bytes left.
    private mutating func takeString(_ field: String) throws(FrameError) -> UnsafeRawBufferPointer {
        let length = try readUInt32(field)
        guard Int(length) <= WireProtocol.maxStringLength else { throw .countTooLarge(field: field, count: length) }
        guard Int(length) <= remaining else { throw .truncated(field: field) }
        defer { offset += Int(length) }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)])
    }

    mutating func readString(_ field: String) throws(FrameError) -> String {
        let raw = try takeString(field)
        // ASCII is valid UTF-8 as it is; detector ids are ASCII, and every scan request carries
        // dozens of them, so they skip the general validation (generic code, and slow).
        var ascii = true
        for byte in raw where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: raw.bindMemory(to: UInt8.self), as: UTF8.self) }
        guard let string = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return string
    }

    /// Throws unless every byte of the frame was read.
    consuming func finish() throws(FrameError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }

    static func bigEndianUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}
