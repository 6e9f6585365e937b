import NIOCore

extension ByteBuffer {
    /// Appends `chunk` unless the result would exceed `limit` bytes; returns whether it did.
    mutating func append(_ chunk: ByteBuffer, within limit: Int) -> Bool {
        guard readableBytes + chunk.readableBytes <= limit else { return false }
        var chunk = chunk
        writeBuffer(&chunk)
        return true
    }
}
